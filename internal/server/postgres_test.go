package server_test

import (
	"testing"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/server"
)

// TestServeOnPostgres: with Database set the server keeps its metadata in
// PostgreSQL: a restart with another data directory still knows the
// operator token and the tenant, and bootstraps no second token.
func TestServeOnPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	ts := startServer(t, func(m *server.Main) { m.Database = url })
	if st := ts.do(t, "POST", "/api/v1/tenants", ts.op, map[string]string{"name": "acme"}, nil); st != 201 {
		t.Fatalf("create tenant: %d", st)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	again := &server.Main{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Database: url}
	if err := again.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.BootstrapToken != "" {
		t.Fatal("a second operator token was bootstrapped on the same database")
	}
	ts2 := &testServer{Main: again}
	var tenants []struct{ Name string }
	if st := ts2.do(t, "GET", "/api/v1/tenants", ts.op, nil, &tenants); st != 200 || len(tenants) != 1 || tenants[0].Name != "acme" {
		t.Fatalf("tenants after restart: %d %+v", st, tenants)
	}
}
