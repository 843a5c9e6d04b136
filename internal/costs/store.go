// Package costs holds crossbill's cost store (DuckDB) and the cost model and
// queries answered from it: metrics, group-by, top N, forecast and anomalies.
package costs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
)

// Store is the cost store: one DuckDB database file under the data directory,
// shared by all tenants; every table carries a tenant column and every query
// filters on it.
//
// Tables:
//   - cur: CUR 2.0 line items, column names as AWS writes them, plus tenant
//     and billing_period ('YYYY-MM').
//   - focus_export: line items ingested from an AWS FOCUS 1.2 export.
//   - cost_daily, cost_daily_dim: rollups maintained at ingest (see rollup.go).
//   - ingest_ledger: what was loaded, to skip unchanged periods.
//
// Views: line_items (both sources normalized to one shape) and focus (FOCUS
// 1.2 over CUR and over FOCUS exports).
type Store struct {
	db        *sql.DB
	connector *duckdb.Connector
	path      string

	// stage, when set (tests only), is called at each stage of a load
	// inside its transaction, so a test can kill the process there.
	stage func(name string)
}

// Options tunes DuckDB for the machine. Zero values take the defaults.
type Options struct {
	MemoryLimit string // DuckDB memory_limit, default "1GB"
	Threads     int    // DuckDB threads, default 2
}

// Open opens (creating if needed) the cost store at <dataDir>/costs/costs.duckdb.
func Open(ctx context.Context, dataDir string) (*Store, error) {
	return OpenWith(ctx, dataDir, Options{})
}

// OpenWith is Open with explicit tuning.
func OpenWith(ctx context.Context, dataDir string, opt Options) (*Store, error) {
	const op = "cost store open"
	if opt.MemoryLimit == "" {
		opt.MemoryLimit = "1GB"
	}
	if opt.Threads <= 0 {
		opt.Threads = 2
	}
	dir := filepath.Join(dataDir, "costs")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, "costs.duckdb")
	tmp := filepath.Join(dir, "tmp")
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		for _, q := range []string{
			fmt.Sprintf("SET memory_limit = '%s'", opt.MemoryLimit),
			fmt.Sprintf("SET threads = %d", opt.Threads),
			fmt.Sprintf("SET temp_directory = '%s'", strings.ReplaceAll(tmp, "'", "''")),
			// Loads need no particular row order; giving it up lets DuckDB
			// stream Parquet into the table with less memory.
			"SET preserve_insertion_order = false",
			// CUR timestamps are UTC; days and months are cut in UTC.
			"SET TimeZone = 'UTC'",
		} {
			if _, err := execer.ExecContext(ctx, q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, crossbill.Errorf(crossbill.CodeConflict, op, "%s is in use by another crossbill process (stop it, or use its API): %w", path, err)
		}
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "opening %s: %w", path, err)
	}
	s := &Store{db: sql.OpenDB(connector), connector: connector, path: path}
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Close releases the database.
func (s *Store) Close() error {
	return errors.Join(s.db.Close(), s.connector.Close())
}

// DB exposes the database for other packages' read queries (table cur, view
// focus). Writers must go through the Store.
func (s *Store) DB() *sql.DB { return s.db }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// migrate creates the tables and views; it is idempotent.
func (s *Store) migrate(ctx context.Context) error {
	const op = "cost store migrate"
	var stmts []string
	stmts = append(stmts, createTableSQL("cur", cur.Columns()), createTableSQL("focus_export", cur.FOCUSColumns()))
	stmts = append(stmts, rollupTablesSQL...)
	stmts = append(stmts, `CREATE TABLE IF NOT EXISTS ingest_ledger (
		tenant VARCHAR NOT NULL,
		source VARCHAR NOT NULL,
		billing_period VARCHAR NOT NULL,
		format VARCHAR NOT NULL,
		execution_id VARCHAR NOT NULL,
		fingerprint VARCHAR NOT NULL,
		files INTEGER NOT NULL,
		rows BIGINT NOT NULL,
		ingested_at TIMESTAMP NOT NULL,
		PRIMARY KEY (tenant, source, billing_period))`)
	stmts = append(stmts, lineItemsViewSQL(), focusViewSQL())
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	return nil
}

// createTableSQL builds CREATE TABLE for a line-item table with the export's
// columns as-is, prefixed by tenant, source (the export it came from) and
// billing_period.
func createTableSQL(name string, cols []cur.Column) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n\ttenant VARCHAR NOT NULL,\n\tsource VARCHAR NOT NULL,\n\tbilling_period VARCHAR NOT NULL", name)
	for _, c := range cols {
		fmt.Fprintf(&b, ",\n\t%s %s", quoteIdent(c.Name), c.Type)
	}
	b.WriteString(")")
	return b.String()
}

// quoteIdent quotes an SQL identifier for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes an SQL string literal for DuckDB.
func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// Period is one billing period loaded for a tenant.
type Period struct {
	Tenant      string `json:"tenant"`
	Period      string `json:"billing_period"` // YYYY-MM
	Source      string `json:"source"`
	Format      string `json:"format"` // "cur2" or "focus"
	ExecutionID string `json:"execution_id"`
	Rows        int64  `json:"rows"`
	Files       int    `json:"files"`
	IngestedAt  string `json:"ingested_at"`
}

// Periods lists the billing periods loaded for a tenant, oldest first.
func (s *Store) Periods(ctx context.Context, tenant string) ([]Period, error) {
	const op = "cost periods"
	rows, err := s.db.QueryContext(ctx, `SELECT tenant, billing_period, source, format, execution_id, rows, files,
		strftime(ingested_at, '%Y-%m-%dT%H:%M:%SZ')
		FROM ingest_ledger WHERE tenant = ? ORDER BY billing_period, source`, tenant)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Period{}
	for rows.Next() {
		var p Period
		if err := rows.Scan(&p.Tenant, &p.Period, &p.Source, &p.Format, &p.ExecutionID, &p.Rows, &p.Files, &p.IngestedAt); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
