// Package costtest builds small hand-made CUR 2.0 / FOCUS exports (Parquet
// files and manifests in the Data Exports layout) for tests.
package costtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill/internal/cur"
)

// Row is one line item: column name -> SQL literal (e.g. "12.5",
// "'AmazonEC2'", "TIMESTAMP '2026-01-01 00:00:00'", "MAP {'user_team': 'web'}").
// Columns not given are NULL (maps: empty).
type Row map[string]string

// WriteParquet writes rows with the given schema to path as Parquet,
// through an in-memory DuckDB. Columns named in skip are left out of the
// file (to build a schema error).
func WriteParquet(tb testing.TB, path string, schema []cur.Column, rows []Row, skip ...string) {
	tb.Helper()
	ctx := context.Background()
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		tb.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	defer connector.Close()
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	var defs, names []string
	var cols []cur.Column
	for _, c := range schema {
		if skipped[c.Name] {
			continue
		}
		cols = append(cols, c)
		defs = append(defs, fmt.Sprintf("%q %s", c.Name, c.Type))
		names = append(names, fmt.Sprintf("%q", c.Name))
	}
	exec := func(q string) {
		tb.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	exec("SET TimeZone = 'UTC'")
	exec("CREATE TABLE t (" + strings.Join(defs, ", ") + ")")
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			v, ok := r[c.Name]
			switch {
			case ok:
				vals[i] = v
			case strings.HasPrefix(c.Type, "MAP"):
				vals[i] = "MAP {}"
			default:
				vals[i] = "NULL"
			}
		}
		exec("INSERT INTO t (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	exec(fmt.Sprintf("COPY t TO '%s' (FORMAT parquet)", strings.ReplaceAll(path, "'", "''")))
}

// Export writes one billing period of an export under root in the Data
// Exports layout: PREFIX/EXPORT/data/BILLING_PERIOD=P/EXPORT-00001.snappy.parquet
// and the manifest under metadata/. It returns the manifest's key.
func Export(tb testing.TB, root, prefix, export, period, executionID string, schema []cur.Column, rows []Row, skip ...string) string {
	tb.Helper()
	key := cur.DataKey(prefix, export, period, 1)
	WriteParquet(tb, filepath.Join(root, filepath.FromSlash(key)), schema, rows, skip...)
	var mcols []cur.ManifestColumn
	for _, c := range schema {
		mcols = append(mcols, cur.ManifestColumn{Name: c.Name, Type: cur.ManifestColumnType(c.Type)})
	}
	sort.Slice(mcols, func(i, j int) bool { return mcols[i].Name < mcols[j].Name })
	m := cur.Manifest{ExportName: export, ExecutionID: executionID, BillingPeriod: period, DataFiles: []string{key}, Bucket: "fixture-bucket", Columns: mcols}
	data, err := m.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	mkey := cur.ManifestKey(prefix, export, period)
	mpath := filepath.Join(root, filepath.FromSlash(mkey))
	if err := os.MkdirAll(filepath.Dir(mpath), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(mpath, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return mkey
}
