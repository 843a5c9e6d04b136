package commitmentstest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver

	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// Export writes tenant acme's fixture lines as a CUR 2.0 export (Parquet
// and manifest, Data Exports layout) under root and returns the source
// directory to ingest (root/cur/fixture).
func Export(tb testing.TB, root string) string {
	tb.Helper()
	return ExportLines(tb, root, "2026-01", Load)
}

// ExportLines writes the lines load adds to a cur table of Columns
// (tenant acme's) as a CUR 2.0 export of billing period period, as Export
// does with the fixture's.
func ExportLines(tb testing.TB, root, period string, load func(context.Context, *sql.DB) error) string {
	tb.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS cur (`+Columns+`)`); err != nil {
		tb.Fatal(err)
	}
	if err := load(ctx, db); err != nil {
		tb.Fatal(err)
	}
	have := map[string]bool{}
	rows, err := db.QueryContext(ctx, "SELECT column_name FROM information_schema.columns WHERE table_name = 'cur'")
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		have[n] = true
	}
	if err := rows.Close(); err != nil {
		tb.Fatal(err)
	}
	// An empty export gives the manifest; the data file is then replaced
	// by the fixture's lines in the full CUR 2.0 schema.
	costtest.Export(tb, root, "cur", "fixture", period, "fixture-1", cur.Columns(), nil)
	var sel []string
	for _, c := range cur.Columns() {
		switch {
		case have[c.Name]:
			sel = append(sel, fmt.Sprintf("CAST(%q AS %s) AS %q", c.Name, c.Type, c.Name))
		case strings.HasPrefix(c.Type, "MAP"):
			sel = append(sel, fmt.Sprintf("CAST(MAP {} AS %s) AS %q", c.Type, c.Name))
		default:
			sel = append(sel, fmt.Sprintf("CAST(NULL AS %s) AS %q", c.Type, c.Name))
		}
	}
	path := filepath.Join(root, filepath.FromSlash(cur.DataKey("cur", "fixture", period, 1)))
	q := fmt.Sprintf("COPY (SELECT %s FROM cur WHERE tenant = 'acme') TO '%s' (FORMAT parquet)", strings.Join(sel, ", "), strings.ReplaceAll(path, "'", "''"))
	if _, err := db.ExecContext(ctx, q); err != nil {
		tb.Fatalf("writing the fixture export: %v", err)
	}
	return filepath.Join(root, "cur", "fixture")
}
