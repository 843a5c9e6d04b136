package costs_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// TestConcurrentBatches loads two tenants at once, as two ingest jobs do:
// the second batch waits for the first, where it would fail its commit on
// a write-write conflict over the views both rebuild.
func TestConcurrentBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := costs.OpenWith(ctx, t.TempDir(), costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	load := func(tenant string, opened chan<- struct{}, hold time.Duration) error {
		d, err := s.StageDir()
		if err != nil {
			return err
		}
		f := filepath.Join(d, "part.parquet")
		costtest.WriteParquet(t, f, cur.Columns(), commitmentScenario()[:3])
		b, err := s.Begin(ctx)
		if err != nil {
			return err
		}
		if opened != nil {
			close(opened)
		}
		if _, err := b.Replace(ctx, costs.Load{Tenant: tenant, Source: "fixture", Period: "2026-01", Format: costs.FormatCUR2,
			Dir: d, Files: []string{f}, ExecutionID: tenant, Fingerprint: tenant}); err != nil {
			return err
		}
		time.Sleep(hold)
		return b.Commit(ctx)
	}
	opened := make(chan struct{})
	first := make(chan error, 1)
	go func() { first <- load("acme", opened, 300*time.Millisecond) }()
	<-opened
	if err := load("beta", nil, 0); err != nil {
		t.Errorf("the second batch: %v", err)
	}
	if err := <-first; err != nil {
		t.Errorf("the first batch: %v", err)
	}
	for _, tenant := range []string{"acme", "beta"} {
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM cur WHERE tenant = ?`, tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("%s: %d line items through the views, want 3", tenant, n)
		}
	}
}
