package server_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/server"
)

// TestClusterCostStore: two servers sharing a PostgreSQL database and a
// cost store in moto's S3 (--cost-store). A load ingested and published by
// one is answered by the other's costs API, and a restatement replaces the
// other's cached answer at once (answers are keyed by committed versions).
func TestClusterCostStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Shared(t)
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := root.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "crossbill-cluster-costs"
	if _, err := s3.NewFromConfig(root, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Database(t)
	replica := func(m *server.Main) {
		m.Database = db
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: creds.AccessKeyID, Secret: creds.SecretAccessKey}}
		m.CostStore = "s3://" + bucket + "/costs"
		m.CostCacheBytes = 1 << 30
	}
	a := startServer(t, replica)
	b := &server.Main{Addr: "127.0.0.1:0", DataDir: t.TempDir()}
	replica(b)
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	tb := &testServer{Main: b, op: a.op}

	tenant, read, _ := a.tenantWithTokens(t, "acme")
	dir := t.TempDir()
	load := func(seed uint64) {
		t.Helper()
		gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: dir, Seed: seed, Accounts: 1, Months: 1,
			Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.SharedCosts().Ingest(ctx, a.Costs(), ingest.Options{Source: filepath.Join(gen.Dir, gen.Prefix, gen.Export), Tenant: crossbill.TenantID(tenant.ID)}); err != nil {
			t.Fatal(err)
		}
	}
	total := func(ts *testServer) float64 {
		t.Helper()
		var res struct {
			Total float64 `json:"total"`
		}
		if code := ts.do(t, "GET", "/api/v1/tenants/acme/costs?group_by=service&from=2026-06&to=2026-07", read, nil, &res); code != 200 {
			t.Fatalf("costs: %d", code)
		}
		return res.Total
	}
	if got := total(tb); got != 0 {
		t.Fatalf("before any load replica b answers %v", got)
	}
	load(1)
	first := total(a)
	if first <= 0 {
		t.Fatalf("replica a answers %v after its load", first)
	}
	if got := total(tb); math.Abs(got-first) > 1e-6 {
		t.Fatalf("replica b answers %v, a %v", got, first)
	}
	load(2)
	second := total(a)
	if math.Abs(second-first) < 1e-6 {
		t.Fatal("the restatement has the same total: the test cannot tell versions apart")
	}
	if got := total(tb); math.Abs(got-second) > 1e-6 {
		t.Fatalf("replica b answers %v after the restatement, want %v (its cached %v)", got, second, first)
	}
}
