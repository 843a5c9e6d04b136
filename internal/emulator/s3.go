package emulator

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// UploadDir copies every file under dir to s3://bucket/prefix/<relative
// path> (prefix may be empty), as a customer's export lands in their bucket.
func UploadDir(tb testing.TB, ctx context.Context, client *s3.Client, bucket, prefix, dir string) {
	tb.Helper()
	if err := Upload(ctx, client, bucket, prefix, dir); err != nil {
		tb.Fatalf("uploading %s to s3://%s/%s: %v", dir, bucket, prefix, err)
	}
}

// Upload is UploadDir for callers outside a test's goroutine.
func Upload(ctx context.Context, client *s3.Client, bucket, prefix, dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		// Read whole: a seekable in-memory body keeps the SDK's request
		// signing simple, which moto's checks follow.
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(path.Join(prefix, filepath.ToSlash(rel))), Body: bytes.NewReader(b)})
		return err
	})
}
