package cluster_test

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costs/cluster"
)

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://bucket/prefix", "s3://bucket", "s3://b/a/b/c/", "http://x/y", "s3:///p", "s3://b/p?x=1", "s3://b/p#f", "", "s3://b//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		bucket, prefix, err := cluster.ParseURL(raw)
		if err != nil {
			return
		}
		if bucket == "" || strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
			t.Fatalf("%q -> bucket %q prefix %q", raw, bucket, prefix)
		}
		b2, p2, err := cluster.ParseURL("s3://" + bucket + "/" + prefix)
		if err != nil || b2 != bucket || p2 != prefix {
			t.Fatalf("%q -> %q %q, which parses back as %q %q %v", raw, bucket, prefix, b2, p2, err)
		}
	})
}

func TestParseURL(t *testing.T) {
	b, p, err := cluster.ParseURL("s3://costs/prod/eu/")
	if err != nil || b != "costs" || p != "prod/eu" {
		t.Fatalf("%q %q %v", b, p, err)
	}
	for _, bad := range []string{"http://costs/prod", "s3:///prod", "costs/prod", "s3://costs/p?versionId=1"} {
		if _, _, err := cluster.ParseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
