package ingest_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// FuzzParseLocation checks that any --source is refused with CodeInvalid or
// parses into a bucket and a clean prefix whose canonical form parses back
// to the same location.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"s3://bucket/prefix/export", "s3://b/x", "s3://my.bucket-1/a/b/c/", "s3:///x", "s3://Bucket/x",
		"s3://bucket/../x", "s3://bucket//x", "gs://x/y", "./out/cur/exp", "/tmp/x", "", "s3://bucket/a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ingest.ParseLocation(s)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("%q: code %q", s, crossbill.ErrorCode(err))
			}
			return
		}
		if loc.Bucket == "" {
			if !filepath.IsAbs(loc.Prefix) {
				t.Fatalf("%q: local prefix %q is not absolute", s, loc.Prefix)
			}
			return
		}
		for _, seg := range strings.Split(loc.Prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("%q: prefix %q has segment %q", s, loc.Prefix, seg)
			}
		}
		again, err := ingest.ParseLocation(loc.String())
		if err != nil || again != loc {
			t.Fatalf("%q: %+v does not round-trip: %+v, %v", s, loc, again, err)
		}
	})
}
