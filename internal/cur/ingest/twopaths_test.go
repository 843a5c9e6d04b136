package ingest_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/store"
)

// copyTree copies an export to another directory, as an operator who
// mirrors a bucket or moves a folder would.
func copyTree(tb testing.TB, from, to string) {
	tb.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestSameExportFromTwoPathsCountsOnce: one export ingested for a tenant
// from two paths (a copy, a restated copy) leaves the tenant's costs what
// one ingest makes them; the ledger keys loads by the manifest's execution
// ID and export ARN, not by the path.
func TestSameExportFromTwoPathsCountsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := generate(t)
	s := openStore(t)
	first := filepath.Join(gen.Dir, gen.Prefix, gen.Export)
	if _, err := ingest.Ingest(ctx, s, ingest.Options{Source: first, Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	p0, p1 := gen.Months[0].Period, gen.Months[1].Period
	want := snapshotTotals(t, s, p0, p1)

	second := filepath.Join(t.TempDir(), "mirror")
	copyTree(t, first, second)
	res, err := ingest.Ingest(ctx, s, ingest.Options{Source: second, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != p0+"=unchanged "+p1+"=unchanged" {
		t.Errorf("the copy: %s, want both periods unchanged", got)
	}
	if got := snapshotTotals(t, s, p0, p1); got != want {
		t.Errorf("after the copy: %v, want %v", got, want)
	}

	// A restatement delivered to the copy (new execution, same export ARN)
	// replaces the first path's load rather than adding to it.
	man, err := filepath.Glob(filepath.Join(second, "metadata", "BILLING_PERIOD="+p0, "*Manifest.json"))
	if err != nil || len(man) != 1 {
		t.Fatalf("manifest: %v %v", man, err)
	}
	b, err := os.ReadFile(man[0])
	if err != nil {
		t.Fatal(err)
	}
	restated := strings.Replace(string(b), `"executionId": "`, `"executionId": "restated-`, 1)
	if restated == string(b) {
		restated = strings.Replace(string(b), `"executionId":"`, `"executionId":"restated-`, 1)
	}
	if restated == string(b) {
		t.Fatalf("no executionId in %s", b)
	}
	if err := os.WriteFile(man[0], []byte(restated), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err = ingest.Ingest(ctx, s, ingest.Options{Source: second, Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != p0+"=loaded "+p1+"=unchanged" {
		t.Errorf("the restated copy: %s, want loaded,unchanged", got)
	}
	if got := snapshotTotals(t, s, p0, p1); got != want {
		t.Errorf("after the restatement: %v, want %v", got, want)
	}
	// And the first path, ingested again, does not bring its copy back
	// next to the restated one.
	if _, err := ingest.Ingest(ctx, s, ingest.Options{Source: first, Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	if got := snapshotTotals(t, s, p0, p1); got != want {
		t.Errorf("after the first path again: %v, want %v", got, want)
	}
	var loads int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM ingest_ledger WHERE tenant = 'acme'`).Scan(&loads); err != nil || loads != 2 {
		t.Errorf("%d loads in the ledger (%v), want one per period", loads, err)
	}
}

// snapshotTotals is acme's unblended total and line item count per
// period, as the rollups and the cur view see them.
func snapshotTotals(tb testing.TB, s *costs.Store, periods ...string) string {
	tb.Helper()
	var b strings.Builder
	for _, p := range periods {
		var rows int64
		if err := s.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM cur WHERE tenant = 'acme' AND billing_period = ?`, p).Scan(&rows); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %.2f %d\n", p, periodTotal(tb, s, "acme", p), rows)
	}
	return b.String()
}

func openStoreIn(tb testing.TB, dir string) *costs.Store {
	tb.Helper()
	s, err := costs.OpenWith(context.Background(), dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// TestDataDirIsPrivate: a world-readable data directory is tightened to
// 0700 and every file crossbill keeps in it (SQLite and its WAL/SHM,
// DuckDB and its WAL, the Parquet copies) is 0600.
func TestDataDirIsPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := generate(t)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(old, []byte("left by an older version"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	cs := openStoreIn(t, dir)
	if _, err := ingest.Ingest(ctx, cs, ingest.Options{Source: filepath.Join(gen.Dir, gen.Prefix, gen.Export), Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if perm := info.Mode().Perm(); perm&^want != 0 || perm&0o077 != 0 {
			t.Errorf("%s: mode %s, want %s", p, perm, want)
		}
		switch {
		case strings.HasSuffix(p, ".db"), strings.HasSuffix(p, ".db-wal"), strings.HasSuffix(p, ".db-shm"):
			seen["sqlite"] = true
		case strings.HasSuffix(p, ".duckdb"), strings.HasSuffix(p, ".duckdb.wal"):
			seen["duckdb"] = true
		case strings.HasSuffix(p, ".parquet"):
			seen["parquet"] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"sqlite", "duckdb", "parquet"} {
		if !seen[kind] {
			t.Errorf("no %s file in the data directory to check", kind)
		}
	}
}
