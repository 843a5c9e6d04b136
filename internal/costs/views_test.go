package costs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// TestViewsOpenOnlyTheFilesAQueryReads: a commit repoints the views without
// opening a loaded file, and a tenant's query opens only its own files.
// Another tenant's file, ruined on disk, breaks neither; before the views
// bound their files by name, every commit parsed every loaded file (the
// store's memory followed the number of files) and failed here.
func TestViewsOpenOnlyTheFilesAQueryReads(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	s, err := costs.OpenWith(ctx, dataDir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rows := commitmentScenario()
	loadRows(t, s, "bob", "2026-01", "e-bob", rows)
	loadRows(t, s, "ann", "2026-01", "e-ann1", rows)

	// Ruin bob's file.
	var paths string
	if err := s.DB().QueryRowContext(ctx, `SELECT paths[1] FROM ingest_ledger WHERE tenant = 'bob'`).Scan(&paths); err != nil {
		t.Fatal(err)
	}
	bobFile := filepath.Join(dataDir, "costs", "files", filepath.FromSlash(paths))
	if err := os.WriteFile(bobFile, []byte("not a parquet file"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Ann loads another month: the commit rebuilds the views over bob's file too.
	loadRows(t, s, "ann", "2026-02", "e-ann2", rows)

	sum := func(tenant string) (float64, error) {
		var v float64
		err := s.DB().QueryRowContext(ctx, `SELECT sum(unblended) FROM line_items WHERE tenant = ?`, tenant).Scan(&v)
		return v, err
	}
	ann, err := sum("ann")
	if err != nil {
		t.Fatalf("ann's query read another tenant's file: %v", err)
	}
	var want float64
	if err := s.DB().QueryRowContext(ctx, `SELECT 2 * sum(unblended) FROM cost_daily WHERE tenant = 'ann'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if want == 0 || ann*2 != want {
		t.Fatalf("ann's two months: line items %v, rollups %v", ann, want/2)
	}
	// Bob's own query does open his file: the ruin is real.
	if _, err := sum("bob"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "parquet") {
		t.Fatalf("bob's query over a ruined file: %v", err)
	}
}

// TestLoadFilesWithDifferentColumns: the files of one load need not hold
// the same columns; a column one file lacks reads as NULL in its rows.
func TestLoadFilesWithDifferentColumns(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	dir, err := s.StageDir()
	if err != nil {
		t.Fatal(err)
	}
	tagged := lineItem(1, "Usage", "AmazonEC2", "us-east-1", 5, costtest.Row{cur.ColResourceTags: "MAP {'user_team': 'web'}"})
	first, second := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	costtest.WriteParquet(t, first, cur.Columns(), []costtest.Row{tagged})
	costtest.WriteParquet(t, second, cur.Columns(), []costtest.Row{lineItem(2, "Usage", "AmazonS3", "us-east-1", 3, nil)}, cur.ColResourceTags)
	if _, err := s.ReplacePeriod(ctx, costs.Load{Tenant: "ann", Source: "fixture", Period: "2026-01", Format: costs.FormatCUR2,
		Dir: dir, Files: []string{first, second}, ExecutionID: "e1", Fingerprint: "e1"}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	r, err := s.DB().QueryContext(ctx, `SELECT line_item_product_code, coalesce(resource_tags['user_team'], '<null>') FROM cur WHERE tenant = 'ann'`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var svc, team string
		if err := r.Scan(&svc, &team); err != nil {
			t.Fatal(err)
		}
		got[svc] = team
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if got["AmazonEC2"] != "web" || got["AmazonS3"] != "<null>" || len(got) != 2 {
		t.Fatalf("rows of two files with different columns: %v", got)
	}
}
