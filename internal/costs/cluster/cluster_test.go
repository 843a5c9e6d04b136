package cluster_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/cluster"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/store"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// env is one deployment: a bucket in moto's S3, a metadata database shared
// by the replicas, and a staging store that ingests exports.
type env struct {
	t       *testing.T
	s3      *s3.Client
	bucket  string
	meta    *store.Store
	staging *costs.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The operator's set-up, not the cost store's calls: not recorded.
	setup := s3.NewFromConfig(cfg.Copy(), func(o *s3.Options) { o.UsePathStyle = true })
	rec := awsclient.NewRecorder()
	rec.Attach(&cfg)
	t.Cleanup(func() {
		// Every call the cost store made is declared (hub permissions).
		if undeclared := rec.Undeclared(); len(undeclared) > 0 {
			t.Errorf("calls missing from the permission manifest: %v", undeclared)
		}
		if rec.Count("s3:PutObject") == 0 || rec.Count("s3:GetObject") == 0 {
			t.Errorf("the recorder saw no uploads or downloads: %+v", rec.Operations())
		}
	})
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "costs-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if _, err := setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	meta, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	staging, err := costs.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { staging.Close() })
	return &env{t: t, s3: client, bucket: bucket, meta: meta, staging: staging}
}

// replica opens another replica's handle on the same bucket and database.
func (e *env) replica(cacheBytes int64, maxTenants int) *cluster.Cluster {
	e.t.Helper()
	c, err := cluster.New(cluster.Config{URL: "s3://" + e.bucket + "/crossbill", S3: e.s3, Versions: e.meta,
		CacheDir: e.t.TempDir(), CacheBytes: cacheBytes, MaxTenants: maxTenants})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// load generates an export (seed decides its costs) into dir, ingests it
// into the staging store and publishes its periods through c.
func (e *env) load(c *cluster.Cluster, tenant crossbill.TenantID, dir string, seed uint64) {
	e.t.Helper()
	ctx := context.Background()
	os.RemoveAll(dir)
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: dir, Seed: seed, Accounts: 1, Months: 2, ResourcesPerAccount: 4,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		e.t.Fatal(err)
	}
	_ = gen
	source := filepath.Join(dir, "cur", "crossbill-cur2")
	res, err := ingest.Ingest(ctx, e.staging, ingest.Options{Source: source, Tenant: tenant})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range res.Periods {
		if err := c.Publish(ctx, e.staging, tenant, res.Source, p.Period); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) tenant(name string) crossbill.TenantID {
	e.t.Helper()
	tn, err := e.meta.CreateTenant(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return tn.ID
}

// totals is what a store answers for a tenant: the rollups' total, the
// line items' total (read from the data objects) and their count.
type totals struct {
	rollup, lineItems float64
	rows              int64
}

func totalsOf(t *testing.T, s *costs.Store, tenant crossbill.TenantID) totals {
	t.Helper()
	ctx := context.Background()
	var got totals
	if err := s.DB().QueryRowContext(ctx, `SELECT coalesce(sum(unblended), 0) FROM cost_daily WHERE tenant = ?`, string(tenant)).Scan(&got.rollup); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRowContext(ctx, `SELECT coalesce(sum(unblended), 0), count(*) FROM line_items WHERE tenant = ?`, string(tenant)).Scan(&got.lineItems, &got.rows); err != nil {
		t.Fatal(err)
	}
	return got
}

func (a totals) equal(b totals) bool {
	return a.rows == b.rows && math.Abs(a.rollup-b.rollup) < 1e-6 && math.Abs(a.lineItems-b.lineItems) < 1e-6
}

// read asks replica c for the tenant's totals.
func read(t *testing.T, c *cluster.Cluster, tenant crossbill.TenantID) totals {
	t.Helper()
	s, release, err := c.Tenant(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	return totalsOf(t, s, tenant)
}

// Two replicas over one bucket and database: what one publishes the other
// answers once committed, a reader during a load sees the old version
// whole, and the replaced version's objects are collected after the grace.
func TestTwoReplicas(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, b := e.replica(1<<30, 4), e.replica(1<<30, 4)
	acme := e.tenant("acme")
	dir := t.TempDir()

	if got := read(t, b, acme); got.rows != 0 {
		t.Fatalf("before any load replica b sees %+v", got)
	}
	e.load(a, acme, dir, 1)
	first := totalsOf(t, e.staging, acme)
	if first.rows == 0 || first.rollup == 0 {
		t.Fatalf("the staging store loaded nothing: %+v", first)
	}
	if got := read(t, b, acme); !got.equal(first) {
		t.Fatalf("replica b after a's load: %+v, want %+v", got, first)
	}
	// Through the cost query use case too, not only SQL.
	s, release, err := b.Tenant(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, costs.Query{Tenant: acme, Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimService},
		Granularity: costs.Monthly, From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	release()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, r := range res.Rows {
		sum += r.Value
	}
	if math.Abs(sum-first.rollup) > 1e-6 {
		t.Fatalf("Query on replica b totals %v, want %v", sum, first.rollup)
	}

	// A restatement: while a's uploads are done but not committed, b
	// answers the old version whole.
	// (The first period's commit is the one watched: after it, the
	// tenant rightly reads the restated first month.)
	var during totals
	hooked := false
	a.SetBeforeCommit(func() {
		if !hooked {
			hooked, during = true, read(t, b, acme)
		}
	})
	held, releaseHeld, err := b.Tenant(ctx, acme) // a query in flight across the whole load
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan totals)
	go func() {
		e.load(a, acme, dir, 2)
		done <- totalsOf(t, e.staging, acme)
	}()
	// b's reads inside the hook wait for the held query (its sync needs
	// the store exclusively), so release it only after checking it.
	time.Sleep(100 * time.Millisecond)
	if got := totalsOf(t, held, acme); !got.equal(first) {
		t.Fatalf("a query in flight during the load saw %+v, want the old version %+v", got, first)
	}
	releaseHeld()
	second := <-done
	a.SetBeforeCommit(nil)
	if second.equal(first) {
		t.Fatal("the restated export has the same totals: the test cannot tell versions apart")
	}
	if !during.equal(first) {
		t.Fatalf("replica b during the load: %+v, want the old version %+v", during, first)
	}
	if got := read(t, b, acme); !got.equal(second) {
		t.Fatalf("replica b after the restatement: %+v, want %+v", got, second)
	}

	// GC: nothing is collected within the grace period; past it, the
	// replaced versions' objects go and the current ones stay readable.
	if n, err := b.GC(ctx); err != nil || n != 0 {
		t.Fatalf("GC within the grace period collected %d, %v", n, err)
	}
	before := countObjects(t, e)
	past, err := cluster.New(cluster.Config{URL: "s3://" + e.bucket + "/crossbill", S3: e.s3, Versions: e.meta, CacheDir: t.TempDir(), Grace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer past.Close()
	n, err := past.GC(ctx)
	if err != nil || n != 2 { // two periods restated
		t.Fatalf("GC collected %d versions, %v; want 2", n, err)
	}
	if after := countObjects(t, e); after >= before || after == 0 {
		t.Fatalf("objects before GC %d, after %d", before, after)
	}
	fresh := e.replica(1<<30, 4)
	if got := read(t, fresh, acme); !got.equal(second) {
		t.Fatalf("a new replica after GC: %+v, want %+v", got, second)
	}
}

func countObjects(t *testing.T, e *env) int {
	t.Helper()
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents)
}

// The cache never holds more than its bound: a replica serving two tenants
// whose data do not fit together evicts one's objects for the other's and
// fetches them again when asked; a bound below one tenant's data is an
// error that says what to raise.
func TestCacheBound(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	writer := e.replica(1<<30, 4)
	acme, beta := e.tenant("acme"), e.tenant("beta")
	e.load(writer, acme, t.TempDir(), 1)
	e.load(writer, beta, t.TempDir(), 3)
	want := map[crossbill.TenantID]totals{acme: totalsOf(t, e.staging, acme), beta: totalsOf(t, e.staging, beta)}

	// One tenant's objects: what the writer's replica cached for acme.
	probe := e.replica(1<<30, 4)
	read(t, probe, acme)
	one, _ := probe.CacheStats()
	if one == 0 {
		t.Fatal("nothing cached")
	}
	bound := one * 3 / 2 // room for one tenant, not two
	r := e.replica(bound, 4)
	for _, tn := range []crossbill.TenantID{acme, beta, acme, beta} {
		if got := read(t, r, tn); !got.equal(want[tn]) {
			t.Fatalf("%s: %+v, want %+v", tn, got, want[tn])
		}
		if size, _ := r.CacheStats(); size > bound {
			t.Fatalf("cache holds %d bytes, bound %d", size, bound)
		}
	}

	small := e.replica(one/2, 4)
	_, _, err := small.Tenant(ctx, acme)
	if crossbill.ErrorCode(err) != crossbill.CodeUnavailable || !strings.Contains(err.Error(), "--cost-cache-mb") {
		t.Fatalf("a cache too small for one tenant: %v", err)
	}
}

// A publisher killed between its uploads and its commit leaves objects no
// version names: GC keeps them while they are younger than the grace (a
// publish may be in progress) and deletes them after it, leaving the
// committed version's objects and keys outside the cost store's layout.
func TestGCStrayObjects(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	writer := e.replica(1<<30, 4)
	acme := e.tenant("acme")
	dir := t.TempDir()
	e.load(writer, acme, dir, 1)
	committed := countObjects(t, e)
	want := totalsOf(t, e.staging, acme)

	// Restate, and kill the publisher after its uploads: runtime.Goexit
	// runs no error path, as a kill -9 would not.
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: dir, Seed: 2, Accounts: 1, Months: 1, ResourcesPerAccount: 4,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	_ = gen
	res, err := ingest.Ingest(ctx, e.staging, ingest.Options{Source: filepath.Join(dir, "cur", "crossbill-cur2"), Tenant: acme})
	if err != nil || len(res.Periods) == 0 {
		t.Fatalf("restating: %+v, %v", res, err)
	}
	killed := e.replica(1<<30, 4)
	killed.SetBeforeCommit(runtime.Goexit)
	done := make(chan struct{})
	go func() {
		defer close(done)
		killed.Publish(ctx, e.staging, acme, res.Source, res.Periods[0].Period)
	}()
	<-done
	strays := countObjects(t, e) - committed
	if strays <= 0 {
		t.Fatalf("the killed publisher left no objects (%d before, %d after)", committed, committed+strays)
	}
	foreign := []string{"crossbill/notes.txt", "elsewhere/acme/2026-01/v/data.parquet"}
	for _, k := range foreign {
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}

	if n, err := writer.GC(ctx); err != nil || n != 0 {
		t.Fatalf("GC within the grace period collected %d, %v", n, err)
	}
	if got := countObjects(t, e); got != committed+strays+len(foreign) {
		t.Fatalf("GC within the grace deleted objects: %d left, want %d", got, committed+strays+len(foreign))
	}
	past, err := cluster.New(cluster.Config{URL: "s3://" + e.bucket + "/crossbill", S3: e.s3, Versions: e.meta, CacheDir: t.TempDir(), Grace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer past.Close()
	if n, err := past.GC(ctx); err != nil || n != 1 {
		t.Fatalf("GC past the grace collected %d versions, %v; want the one stray", n, err)
	}
	if got := countObjects(t, e); got != committed+len(foreign) {
		t.Fatalf("after GC %d objects, want the committed %d and %d foreign", got, committed, len(foreign))
	}
	if got := read(t, e.replica(1<<30, 4), acme); !got.equal(want) {
		t.Fatalf("a new replica after GC: %+v, want the committed %+v", got, want)
	}
}
