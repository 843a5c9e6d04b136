package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill"
)

// withCommitmentsDB opens the cost store's DuckDB for one command.
// TEMPORARY until internal/costs lands on main: opens <data>/costs/costs.duckdb.
func withCommitmentsDB(ctx context.Context, app *App, f func(*sql.DB) error) error {
	path := filepath.Join(app.DataDir, "costs", "costs.duckdb")
	if _, err := os.Stat(path); err != nil {
		return crossbill.Errorf(crossbill.CodeNotFound, "commitments", "no cost store in %s: run `crossbill cur ingest` first", app.DataDir)
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return err
	}
	return f(db)
}
