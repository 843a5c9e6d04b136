package ingest_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
)

// uploadDir copies every file under dir to s3://bucket/prefix/<relative path>.
func uploadDir(tb testing.TB, ctx context.Context, client *s3.Client, bucket, prefix, dir string) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + filepath.ToSlash(rel)), Body: f})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestIngestFromS3 uploads an export to moto_server's S3 (under another
// prefix than the manifest names, as when an export is copied) and ingests
// it through the S3 API: same data as from the directory, then unchanged.
func TestIngestFromS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "crossbill-cur-ingest-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	root := exportFixture(t)
	uploadDir(t, ctx, client, bucket, "billing", root)
	s3Store, dirStore := openStore(t), openStore(t)
	src := "s3://" + bucket + "/billing/cur/exp"
	res, err := ingest.Ingest(ctx, s3Store, ingest.Options{Source: src, Tenant: "acme", AWS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "2026-01=loaded 2026-02=loaded" {
		t.Fatalf("S3 ingest: %s", got)
	}
	if _, err := ingest.Ingest(ctx, dirStore, ingest.Options{Source: filepath.Join(root, "cur", "exp"), Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2026-01", "2026-02"} {
		if a, b := periodTotal(t, s3Store, "acme", p), periodTotal(t, dirStore, "acme", p); a != b || a == 0 {
			t.Errorf("%s: S3 total %v, directory total %v", p, a, b)
		}
	}
	res, err = ingest.Ingest(ctx, s3Store, ingest.Options{Source: src, Tenant: "acme", AWS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "2026-01=unchanged 2026-02=unchanged" {
		t.Fatalf("second S3 ingest: %s", got)
	}

	_, err = ingest.Ingest(ctx, s3Store, ingest.Options{Source: "s3://no-such-bucket-crossbill/x/y", Tenant: "acme", AWS: cfg})
	if code := crossbill.ErrorCode(err); code != crossbill.CodeNotFound {
		t.Errorf("missing bucket: %v (code %q), want not_found", err, code)
	}
}
