package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/store"
)

// TestDatabaseSelectsPostgres: --database, or CROSSBILL_DATABASE, puts
// the metadata in PostgreSQL: a second data directory sees the same
// tenants, and no SQLite file is made.
func TestDatabaseSelectsPostgres(t *testing.T) {
	url := pgtest.Database(t)
	first, second := t.TempDir(), t.TempDir()
	if _, errOut, code := runCLI(t, first, "--database", url, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("create: code %d, stderr %s", code, errOut)
	}
	t.Setenv("CROSSBILL_DATABASE", url)
	out, errOut, code := runCLI(t, second, "tenant", "list", "--json")
	var list []struct{ Name string }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Name != "acme" {
		t.Fatalf("list through CROSSBILL_DATABASE: code %d, out %q, stderr %s", code, out, errOut)
	}
	for _, dir := range []string{first, second} {
		if _, err := os.Stat(filepath.Join(dir, store.FileName)); !os.IsNotExist(err) {
			t.Errorf("%s in %s: the metadata went to SQLite (%v)", store.FileName, dir, err)
		}
	}
}

// TestDatabaseBadURL: a wrong scheme is invalid (exit 2), an unreachable
// server unavailable (exit 6), and neither message shows the password.
func TestDatabaseBadURL(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]int{
		"mysql://u:s3cret@127.0.0.1/x":                        2,
		"postgres://u:s3cret@127.0.0.1:1/x?connect_timeout=5": 6,
		"postgres://u:s3cret@[::1:bad/x":                      2,
	} {
		_, errOut, code := runCLI(t, t.TempDir(), "--database", url, "tenant", "list")
		if code != want || strings.Contains(errOut, "s3cret") || !strings.Contains(errOut, "database") && !strings.Contains(errOut, "PostgreSQL") {
			t.Errorf("%s: code %d, stderr %q; want %d and a message without the password", url, code, errOut, want)
		}
	}
}

// TestBenchReplicasNeedPostgres: replicas share PostgreSQL; asking for
// several on SQLite is invalid input, said before any work.
func TestBenchReplicasNeedPostgres(t *testing.T) {
	t.Setenv("CROSSBILL_DATABASE", "")
	_, errOut, code := runCLI(t, t.TempDir(), "bench", "serve", "--replicas", "3", "--duration", "1s")
	if code != 2 || !strings.Contains(errOut, "--database postgres://") {
		t.Fatalf("code %d, stderr %q; want 2 naming --database", code, errOut)
	}
}
