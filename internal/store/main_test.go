package store_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/store"
)

// engine is the database the current pass of the suite runs on: TestMain
// runs every test on SQLite, then again on PostgreSQL.
var engine = store.SQLite

func TestMain(m *testing.M) {
	code := m.Run()
	engine = store.Postgres
	if err := pgtest.Available(); err != nil && !pgtest.Required() {
		fmt.Printf("store: PostgreSQL pass skipped, PostgreSQL cannot start (set %s=1 to fail instead): %v\n", pgtest.RequireEnv, err)
	} else {
		fmt.Println("store: running the suite again on PostgreSQL")
		code = max(code, m.Run())
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
