package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
)

// Location is where an export lives: an S3 bucket and prefix
// (s3://bucket/prefix/export) or a local directory in the same layout. It
// is the export's root, the folder that holds data/ and metadata/.
type Location struct {
	Bucket string // empty for a local directory
	Prefix string // S3: key prefix without a trailing slash; local: absolute directory
}

// String is the canonical form, recorded in the ingest ledger.
func (l Location) String() string {
	if l.Bucket != "" {
		return "s3://" + l.Bucket + "/" + l.Prefix
	}
	return l.Prefix
}

// ParseLocation parses --source: s3://bucket/prefix/export or a directory.
func ParseLocation(s string) (Location, error) {
	const op = "cur source"
	if rest, ok := strings.CutPrefix(s, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		prefix = strings.Trim(prefix, "/")
		if !validBucket(bucket) {
			return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: %q is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')", s, bucket)
		}
		if prefix == "" {
			return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q names no export; use s3://BUCKET/PREFIX/EXPORT, the folder holding data/ and metadata/", s)
		}
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q has an empty, . or .. path segment", s)
			}
		}
		if len(prefix) > 900 || strings.ContainsFunc(prefix, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: the prefix is too long or has control characters", s)
		}
		return Location{Bucket: bucket, Prefix: prefix}, nil
	}
	if strings.Contains(s, "://") {
		return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: only s3:// URIs and local directories are supported", s)
	}
	if s == "" {
		return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no source given; use --source s3://BUCKET/PREFIX/EXPORT or a directory")
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return Location{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: %w", s, err)
	}
	return Location{Prefix: abs}, nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, r := range b {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (r == '.' || r == '-') && i > 0 && i < len(b)-1
		if !ok {
			return false
		}
	}
	return true
}

// object is one file of an export, by its key relative to the export root
// (e.g. "metadata/BILLING_PERIOD=2026-01/x-Manifest.json").
type object struct {
	Key  string
	ETag string // S3 ETag; local: size and modification time
	Size int64
}

// exportFiles is the subset of storage an ingest needs.
type exportFiles interface {
	// list returns every object under the export root.
	list(ctx context.Context) ([]object, error)
	// read returns an object's content (manifests: small).
	read(ctx context.Context, key string) ([]byte, error)
	// fetch copies the object's content to the local file dst and returns dst.
	fetch(ctx context.Context, key, dst string) (string, error)
}

// dirFiles is an export in a local directory; only, when set, keeps one
// file of it (a FOCUS file given as --source).
type dirFiles struct{ root, only string }

func (d dirFiles) list(ctx context.Context) ([]object, error) {
	var out []object
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e.IsDir() {
			if d.only != "" && p != d.root {
				return filepath.SkipDir
			}
			return nil
		}
		if d.only != "" && e.Name() != d.only {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		out = append(out, object{Key: filepath.ToSlash(rel), Size: info.Size(),
			ETag: fmt.Sprintf("%d-%d", info.Size(), info.ModTime().UnixNano())})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, "cur source", "directory %s does not exist", d.root)
	}
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "cur source", "listing %s: %w", d.root, err)
	}
	return out, nil
}

func (d dirFiles) read(_ context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(key)))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "cur source", "reading %s: %w", key, err)
	}
	return b, nil
}

func (d dirFiles) fetch(_ context.Context, key, dst string) (string, error) {
	src, err := os.Open(filepath.Join(d.root, filepath.FromSlash(key)))
	if err != nil {
		return "", crossbill.Errorf(crossbill.CodeUnavailable, "cur source", "reading %s: %w", key, err)
	}
	defer src.Close()
	return dst, writeFile(dst, src, key)
}

// writeFile copies r to a new file dst (os.File to os.File copies stay in
// the kernel: copy_file_range on Linux).
func writeFile(dst string, r io.Reader, key string) error {
	file, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "cur fetch", "creating %s: %w", dst, err)
	}
	if _, err := io.Copy(file, r); err != nil {
		return errors.Join(crossbill.Errorf(crossbill.CodeUnavailable, "cur fetch", "copying %s: %w", key, err), file.Close())
	}
	if err := file.Close(); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "cur fetch", "writing %s: %w", dst, err)
	}
	return nil
}

// s3API is the subset of *s3.Client an ingest calls.
type s3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// s3Files is an export in S3.
type s3Files struct {
	client s3API
	loc    Location
}

func (f s3Files) list(ctx context.Context) ([]object, error) {
	var out []object
	p := s3.NewListObjectsV2Paginator(f.client, &s3.ListObjectsV2Input{Bucket: aws.String(f.loc.Bucket), Prefix: aws.String(f.loc.Prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3Error("listing "+f.loc.String(), err)
		}
		for _, o := range page.Contents {
			out = append(out, object{Key: strings.TrimPrefix(aws.ToString(o.Key), f.loc.Prefix+"/"),
				ETag: strings.Trim(aws.ToString(o.ETag), `"`), Size: aws.ToInt64(o.Size)})
		}
	}
	return out, nil
}

func (f s3Files) get(ctx context.Context, key string) (io.ReadCloser, error) {
	full := path.Join(f.loc.Prefix, key)
	out, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.loc.Bucket), Key: aws.String(full)})
	if err != nil {
		return nil, s3Error("downloading s3://"+f.loc.Bucket+"/"+full, err)
	}
	return out.Body, nil
}

// maxManifest bounds a manifest read into memory.
const maxManifest = 64 << 20

func (f s3Files) read(ctx context.Context, key string) ([]byte, error) {
	body, err := f.get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxManifest+1))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "cur source", "reading %s: %w", key, err)
	}
	if len(b) > maxManifest {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "cur source", "%s is larger than %d MB; it is not a manifest", key, maxManifest>>20)
	}
	return b, nil
}

func (f s3Files) fetch(ctx context.Context, key, dst string) (string, error) {
	body, err := f.get(ctx, key)
	if err != nil {
		return "", err
	}
	defer body.Close()
	return dst, writeFile(dst, body, key)
}
