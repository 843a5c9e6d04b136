// Package cluster is the cost store of cluster mode (--cost-store
// s3://BUCKET/PREFIX): every replica answers any tenant's cost queries from
// one copy of the cost data in S3-compatible object storage.
//
// A load is ingested into a local staging store (costs.Store) as on a
// single node, then published: its Parquet files and rollups are uploaded
// as immutable objects under a new version,
//
//	PREFIX/<tenant>/<billing period>/<version>/data/NNNN.parquet
//	PREFIX/<tenant>/<billing period>/<version>/cost_daily.parquet
//	PREFIX/<tenant>/<billing period>/<version>/cost_daily_dim.parquet
//
// and the version is committed in the metadata database (store.CostVersion)
// with one transaction that swaps the period's pointer: a reader sees the
// old version whole or the new one whole, never part of a load.
//
// A replica answers a tenant from a local DuckDB store holding that
// tenant's committed versions: rollups loaded from the rollup objects,
// views over the data objects. Objects are fetched into a local cache
// bounded in bytes (least recently used first out), keyed by object key:
// the objects never change, so the cache is never stale. DuckDB's httpfs
// extension would read S3 directly, but the DuckDB bundled with
// duckdb-go does not include it and installing it downloads it from
// extensions.duckdb.org at run time, which servers often cannot reach; the
// AWS SDK download keeps the binary self-contained.
//
// Replaced versions are retired in the same transaction and their objects
// deleted by GC once a grace period has passed: longer than any query,
// so a replica that read the old pointer has finished with its objects.
// GC also deletes stray objects, those of versions never committed (a
// publisher killed between upload and commit), once older than the grace.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// Versions is the metadata store's side of the cluster cost store.
type Versions interface {
	CommitCostVersion(ctx context.Context, v store.CostVersion, replaces []string) error
	SwapCostVersion(ctx context.Context, v store.CostVersion, expected string) error
	CostVersions(ctx context.Context, tenant crossbill.TenantID) ([]store.CostVersion, error)
	RetiredCostVersions(ctx context.Context, before time.Time) ([]store.CostVersion, error)
	ForgetCostVersion(ctx context.Context, version string) error
	CostVersionNames(ctx context.Context) (map[string]bool, error)
}

// Config configures a cluster cost store.
type Config struct {
	URL        string     // s3://BUCKET/PREFIX
	S3         *s3.Client // for S3-compatible stores, built with their endpoint and path-style addressing
	Versions   Versions
	CacheDir   string        // local object cache, emptied at start
	CacheBytes int64         // the cache's bound, default 10 GiB
	MaxTenants int           // tenant stores kept open, default 8
	Grace      time.Duration // how long a retired version's objects outlive it, default 1 h
	Store      costs.Options // tuning of each tenant store's DuckDB
}

// Cluster is one replica's handle on the cluster cost store.
type Cluster struct {
	cfg            Config
	bucket, prefix string
	cache          *objectCache

	mu      sync.Mutex
	tenants map[crossbill.TenantID]*tenantStore
	clock   uint64 // orders tenant store use, for eviction

	// beforeCommit, when set (tests only), runs after a publish's uploads,
	// before its commit.
	beforeCommit func()
}

// ParseURL splits s3://BUCKET/PREFIX.
func ParseURL(raw string) (bucket, prefix string, err error) {
	const op = "cost store"
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not s3://BUCKET/PREFIX", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// New opens a replica's handle; nothing is fetched until a tenant is asked for.
func New(cfg Config) (*Cluster, error) {
	const op = "cost store"
	bucket, prefix, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.S3 == nil || cfg.Versions == nil || cfg.CacheDir == "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "an S3 client, the metadata store and a cache directory are required")
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 10 << 30
	}
	if cfg.MaxTenants <= 0 {
		cfg.MaxTenants = 8
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Hour
	}
	if cfg.Store.MemoryLimit == "" {
		// Several tenant stores are open at once.
		cfg.Store.MemoryLimit = "256MB"
	}
	// Tenant stores a previous process left are rebuilt on demand.
	if err := os.RemoveAll(filepath.Join(cfg.CacheDir, "tenants")); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "clearing the cache in %s: %w", cfg.CacheDir, err)
	}
	cache, err := newObjectCache(filepath.Join(cfg.CacheDir, "objects"), cfg.CacheBytes)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "preparing the cache in %s: %w", cfg.CacheDir, err)
	}
	return &Cluster{cfg: cfg, bucket: bucket, prefix: prefix, cache: cache, tenants: map[crossbill.TenantID]*tenantStore{}}, nil
}

// manifest is what a committed version records: the load's ledger fields
// and its objects.
type manifest struct {
	costs.PeriodFiles
	Data  []object `json:"data"`
	Daily object   `json:"daily"`
	Dim   object   `json:"dim"`
}

type object struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

func (m manifest) objects() []object { return append([]object{m.Daily, m.Dim}, m.Data...) }

// Publish uploads the load of (tenant, source, period) that the staging
// store holds as a new version and commits it, replacing the period's
// previous version and the versions of the same export loaded for the
// tenant from another source (as the staging store's load replaced them).
func (c *Cluster) Publish(ctx context.Context, staging *costs.Store, tenant crossbill.TenantID, source, period string) (err error) {
	op := "cost publish " + period
	tmp, err := os.MkdirTemp(c.cfg.CacheDir, "publish-")
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer os.RemoveAll(tmp)
	pf, err := staging.ExportPeriod(ctx, string(tenant), source, period, tmp)
	if err != nil {
		return err
	}
	version := uuid.NewString()
	base := path.Join(c.prefix, string(tenant), period, version)
	m := manifest{PeriodFiles: pf}
	var uploaded []string
	defer func() {
		if err != nil { // never committed: nobody reads these
			c.deleteObjects(context.WithoutCancel(ctx), uploaded)
		}
	}()
	put := func(file, key string) (object, error) {
		o, err := c.upload(ctx, file, key)
		if err == nil {
			uploaded = append(uploaded, key)
		}
		return o, err
	}
	for i, f := range pf.Files {
		o, err := put(f, fmt.Sprintf("%s/data/%04d.parquet", base, i))
		if err != nil {
			return crossbill.Errorf(crossbill.CodeUnavailable, op, "uploading: %w", err)
		}
		m.Data = append(m.Data, o)
	}
	if m.Daily, err = put(pf.Daily, base+"/cost_daily.parquet"); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "uploading: %w", err)
	}
	if m.Dim, err = put(pf.Dim, base+"/cost_daily_dim.parquet"); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "uploading: %w", err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	current, err := c.cfg.Versions.CostVersions(ctx, tenant)
	if err != nil {
		return err
	}
	var replaces []string
	for _, v := range current {
		if v.Period != period || v.Source == source {
			continue
		}
		var old manifest
		if err := json.Unmarshal([]byte(v.Manifest), &old); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "reading version %s: %w", v.Version, err)
		}
		if old.ExecutionID == pf.ExecutionID || (pf.Export != "" && old.Export == pf.Export) {
			replaces = append(replaces, v.Source)
		}
	}
	if c.beforeCommit != nil {
		c.beforeCommit()
	}
	return c.cfg.Versions.CommitCostVersion(ctx, store.CostVersion{TenantID: tenant, Source: source, Period: period, Version: version, Manifest: string(body)}, replaces)
}

func (c *Cluster) upload(ctx context.Context, file, key string) (object, error) {
	f, err := os.Open(file)
	if err != nil {
		return object{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return object{}, err
	}
	if _, err := c.cfg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key), Body: f}); err != nil {
		return object{}, fmt.Errorf("s3://%s/%s: %w", c.bucket, key, err)
	}
	return object{Key: key, Size: info.Size()}, nil
}

func (c *Cluster) download(ctx context.Context, key, file string) error {
	// Objects are uploaded by Publish without checksums (S3-compatible
	// stores differ in their support); the SDK would log that on each read.
	out, err := c.cfg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "cost store", "reading s3://%s/%s: %w", c.bucket, key, err)
	}
	defer out.Body.Close()
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return crossbill.Errorf(crossbill.CodeUnavailable, "cost store", "reading s3://%s/%s: %w", c.bucket, key, err)
	}
	return f.Close()
}

// deleteObjects deletes keys, returning the first error.
func (c *Cluster) deleteObjects(ctx context.Context, keys []string) error {
	var first error
	for _, k := range keys {
		if _, err := c.cfg.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(k)}); err != nil && first == nil {
			first = crossbill.Errorf(crossbill.CodeUnavailable, "cost store gc", "deleting s3://%s/%s: %w", c.bucket, k, err)
		}
	}
	return first
}

// GC deletes the objects of versions retired more than the grace period
// ago and forgets them, then the stray objects under the prefix (see
// collectStrays); it returns how many versions it collected, retired or
// stray. Any replica may run it: deleting an object twice is harmless.
func (c *Cluster) GC(ctx context.Context) (int, error) {
	retired, err := c.cfg.Versions.RetiredCostVersions(ctx, time.Now().Add(-c.cfg.Grace))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range retired {
		var m manifest
		if err := json.Unmarshal([]byte(v.Manifest), &m); err != nil {
			return n, crossbill.Errorf(crossbill.CodeInternal, "cost store gc", "reading version %s: %w", v.Version, err)
		}
		keys := []string{}
		for _, o := range m.objects() {
			keys = append(keys, o.Key)
		}
		if err := c.deleteObjects(ctx, keys); err != nil {
			return n, err
		}
		if err := c.cfg.Versions.ForgetCostVersion(ctx, v.Version); err != nil {
			return n, err
		}
		n++
	}
	strays, err := c.collectStrays(ctx)
	return n + strays, err
}

// collectStrays deletes the objects under the prefix that belong to no
// version the database names (committed, or retired and not yet
// collected) and were uploaded more than the grace period ago: what a
// publisher killed between upload and commit left. A publish in progress
// is younger than the grace (it takes minutes, the grace an hour), so its
// uploads are kept. The listing comes before the names: a version
// committed in between is among the names. Keys not laid out as
// TENANT/PERIOD/VERSION/... are not the cost store's and are left alone.
func (c *Cluster) collectStrays(ctx context.Context) (int, error) {
	const op = "cost store gc"
	cutoff := time.Now().Add(-c.cfg.Grace)
	root := c.prefix + "/"
	if c.prefix == "" {
		root = ""
	}
	old := map[string][]string{} // version -> its objects older than the grace
	p := s3.NewListObjectsV2Paginator(c.cfg.S3, &s3.ListObjectsV2Input{Bucket: aws.String(c.bucket), Prefix: aws.String(root)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, crossbill.Errorf(crossbill.CodeUnavailable, op, "listing s3://%s/%s: %w", c.bucket, root, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			parts := strings.SplitN(strings.TrimPrefix(key, root), "/", 4)
			if len(parts) < 4 || o.LastModified == nil || !o.LastModified.Before(cutoff) {
				continue
			}
			old[parts[2]] = append(old[parts[2]], key)
		}
	}
	if len(old) == 0 {
		return 0, nil
	}
	named, err := c.cfg.Versions.CostVersionNames(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for version, keys := range old {
		if named[version] {
			continue
		}
		if err := c.deleteObjects(ctx, keys); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
