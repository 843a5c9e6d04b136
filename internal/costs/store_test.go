package costs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
)

// TestOpenAfterKillDuringCreation: a process killed while DuckDB wrote a
// new store's headers leaves a file DuckDB cannot open; the next open sets
// it aside and starts a store, rather than failing at every start.
func TestOpenAfterKillDuringCreation(t *testing.T) {
	dataDir := t.TempDir()
	path := filepath.Join(dataDir, "costs", "costs.duckdb")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := costs.OpenWith(context.Background(), dataDir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatalf("open after a kill during creation: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	loadRows(t, s, "ann", "2026-01", "e1", commitmentScenario())
	if _, err := os.Stat(path + ".unfinished"); err != nil {
		t.Fatalf("the unfinished file was not kept aside: %v", err)
	}
}
