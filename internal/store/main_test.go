package store_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/store"
)

// engine is the database the current pass of the suite runs on: TestMain
// runs every test on SQLite, then again on PostgreSQL.
var engine = store.SQLite

func TestMain(m *testing.M) {
	start := time.Now()
	code := m.Run()
	fmt.Printf("store: SQLite pass took %s\n", time.Since(start).Round(time.Millisecond))
	engine = store.Postgres
	start = time.Now()
	if err := pgtest.Available(); err != nil && !pgtest.Required() {
		fmt.Printf("store: PostgreSQL pass skipped, PostgreSQL cannot start (set %s=1 to fail instead): %v\n", pgtest.RequireEnv, err)
	} else {
		fmt.Printf("store: PostgreSQL started in %s; running the suite again on it\n", time.Since(start).Round(time.Millisecond))
		start = time.Now()
		code = max(code, m.Run())
		fmt.Printf("store: PostgreSQL pass took %s\n", time.Since(start).Round(time.Millisecond))
	}
	pgtest.Stop()
	os.Exit(code)
}

// database is what OpenDatabase takes for this pass: "" (SQLite in the
// data directory) or a fresh PostgreSQL database.
func database(tb testing.TB) string {
	tb.Helper()
	tb.Logf("engine: %s", engine) // shown with a failure: which pass failed
	if engine == store.Postgres {
		return pgtest.Database(tb)
	}
	return ""
}
