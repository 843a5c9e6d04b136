package pgtest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// TestServerLifecycle: a started server hands out separate databases that
// accept connections, and Close stops it and removes its files.
func TestServerLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(ctx)
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skipf("PostgreSQL cannot start (set %s=1 to fail instead): %v", RequireEnv, firstLine(err))
	}
	a, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := srv.NewDatabase(ctx)
	if err != nil || a == b {
		t.Fatalf("second database %q (first %q): %v", b, a, err)
	}
	db, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("query: %d, %v", one, err)
	}
	db.Close()
	srv.Close()
	if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory left behind: %v", err)
	}
	db, _ = sql.Open("pgx", a)
	defer db.Close()
	if err := db.PingContext(ctx); err == nil {
		t.Error("the server still answers after Close")
	}
}

func TestTempBaseReachable(t *testing.T) {
	if tempBase(nil) != "" {
		t.Error("without a user switch the usual temporary directory serves")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", dir)
	if got := tempBase(&syscall.Credential{Uid: 65534}); got != "/tmp" {
		t.Errorf("TMPDIR closed to others: tempBase = %q, want /tmp", got)
	}
}

// TestBinDirOffPath: Debian does not put initdb on PATH; it is found in
// /usr/lib/postgresql/VERSION/bin all the same.
func TestBinDirOffPath(t *testing.T) {
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(dirs) == 0 {
		t.Skip("no Debian PostgreSQL layout on this machine")
	}
	t.Setenv("PATH", t.TempDir())
	dir, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres")); err != nil {
		t.Fatalf("binDir = %s, without postgres: %v", dir, err)
	}
}
