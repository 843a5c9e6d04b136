package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// MustOpen opens a store in a fresh temporary directory (and, on the
// PostgreSQL pass, a fresh database).
func MustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.OpenDatabase(context.Background(), tb.TempDir(), database(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestTenantLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTenant(ctx, "acme"); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("duplicate: code %q (%v), want conflict", crossbill.ErrorCode(err), err)
	}
	if _, err := s.CreateTenant(ctx, "Bad Name"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("bad name: code %q, want invalid", crossbill.ErrorCode(err))
	}
	if _, err := s.CreateTenant(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "acme" || got[1].Name != "beta" {
		t.Fatalf("tenants = %+v", got)
	}
	byName, err := s.TenantByName(ctx, "acme")
	if err != nil || byName.ID != a.ID {
		t.Fatalf("TenantByName = %+v, %v", byName, err)
	}
	if _, err := s.TenantByName(ctx, "nope"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("missing tenant: code %q", crossbill.ErrorCode(err))
	}
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, db := t.TempDir(), database(t)
	s, err := store.OpenDatabase(ctx, dir, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := store.OpenDatabase(ctx, dir, db)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if _, err := s2.TenantByName(ctx, "acme"); err != nil {
		t.Fatalf("data lost on reopen: %v", err)
	}
}

func TestOpenUnwritableDir(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		// root ignores directory permissions; a file in place of the
		// directory fails for everyone, and is the user's mistake (exit 2).
		parent := t.TempDir()
		file := filepath.Join(parent, "afile")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := store.Open(context.Background(), filepath.Join(file, "data"))
		if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Fatalf("code %q (%v), want invalid", crossbill.ErrorCode(err), err)
		}
		return
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(context.Background(), dir)
	if crossbill.ErrorCode(err) != crossbill.CodeUnavailable {
		t.Fatalf("code %q (%v), want unavailable", crossbill.ErrorCode(err), err)
	}
}

func TestOpenEmptyDir(t *testing.T) {
	t.Parallel()
	if _, err := store.Open(context.Background(), ""); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("code %q, want invalid", crossbill.ErrorCode(err))
	}
}
