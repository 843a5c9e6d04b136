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
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/datadir"
)

// Store is the cost store, under <data>/costs/:
//
//   - files/<load id>/*.parquet: the export's Parquet files of each loaded
//     billing period, kept as AWS wrote them (validated, never rewritten);
//   - costs.duckdb: one DuckDB database shared by all tenants, every table
//     with a tenant column and every query filtering on it.
//
// In the database:
//   - ingest_ledger: one row per (tenant, source, billing period) loaded:
//     its files, columns and fingerprint; the views below are built from it.
//     A tenant's period holds one load per export: loading the same export
//     (same ARN, or same execution) from another source replaces it.
//   - cur (view): CUR 2.0 line items over the Parquet files, column names as
//     AWS writes them, plus tenant, source and billing_period ('YYYY-MM').
//   - focus_export (view): line items of FOCUS 1.2 exports, likewise.
//   - line_items (view): both normalized to one shape (see model.go).
//   - focus (view): FOCUS 1.2 over CUR and FOCUS exports (see focus.go).
//   - cost_daily, cost_daily_dim: rollups built at load time (rollup.go),
//     which answer most queries without touching the Parquet files.
//
// Keeping the Parquet files rather than copying every column into DuckDB
// tables makes a load cost about one scan of the export; the rollups make
// queries faster than scanning it.
type Store struct {
	db        *sql.DB
	connector *duckdb.Connector
	path      string
	filesDir  string

	mu      sync.Mutex
	staging map[string]bool // load directories being filled, kept from cleanup

	// batch is held by the open Batch: two would both rebuild the views,
	// and the second to commit would fail on a write-write conflict.
	batch sync.Mutex

	// stage, when set (tests only), is called at each stage of a load
	// inside its transaction, so a test can kill the process there.
	stage func(name string)
}

// Options tunes DuckDB for the machine. Zero values take the defaults.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit, default DefaultMemoryLimit. The
	// process peaks several hundred MB above it: what DuckDB does not count
	// (the parsed Parquet footers it caches, ≈ 25 MB per 8 M-line-item
	// month, the C allocator's free lists) and Go. At "400MB" a store of
	// 100 M line items peaked at 931 MB; at "700MB" at 1.3 GB, no faster.
	MemoryLimit string
	Threads     int // DuckDB threads, default 2
	// FilesDir holds the loads' Parquet files, default <data>/costs/files.
	// A cluster replica's store points it at its object cache (see
	// AdoptPeriod).
	FilesDir string
}

// DefaultMemoryLimit is Options.MemoryLimit's default.
const DefaultMemoryLimit = "400MB"

// Open opens (creating if needed) the cost store at <dataDir>/costs/costs.duckdb.
func Open(ctx context.Context, dataDir string) (*Store, error) {
	return OpenWith(ctx, dataDir, Options{})
}

// OpenWith is Open with explicit tuning.
func OpenWith(ctx context.Context, dataDir string, opt Options) (*Store, error) {
	const op = "cost store open"
	if opt.MemoryLimit == "" {
		opt.MemoryLimit = DefaultMemoryLimit
	}
	if opt.Threads <= 0 {
		opt.Threads = 2
	}
	if err := datadir.Secure(dataDir); err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, "costs")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "creating %s: %w", dir, err)
	}
	if opt.FilesDir == "" {
		opt.FilesDir = filepath.Join(dir, "files")
	}
	if err := os.MkdirAll(opt.FilesDir, 0o700); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "creating %s: %w", opt.FilesDir, err)
	}
	path := filepath.Join(dir, "costs.duckdb")
	if err := setAsideUnfinished(path); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	tmp := filepath.Join(dir, "tmp")
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		for _, q := range []string{
			fmt.Sprintf("SET memory_limit = '%s'", opt.MemoryLimit),
			fmt.Sprintf("SET threads = %d", opt.Threads),
			fmt.Sprintf("SET temp_directory = '%s'", strings.ReplaceAll(tmp, "'", "''")),
			// Loads need no particular row order; giving it up lets DuckDB
			// stream Parquet into the table with less memory.
			"SET preserve_insertion_order = false",
			// The files are local: the OS already caches them, and DuckDB's
			// own copy of what it read only adds to the server's memory.
			"SET enable_external_file_cache = false",
			// DuckDB's cache of parsed Parquet footers has no bound: it
			// kept every file a statement had read, ≈ 20 MB for a month of
			// 5 M line items in 150 row groups, so the memory grew with the
			// store. Off, a footer lives while its statement runs; a load
			// reads its own files' footers twice (the ingest's checks, the
			// rollup pass), a query only those of the branches it keeps
			// (schemaScan).
			"SET parquet_metadata_cache = false",
			// Each load commits to the write-ahead log only; Checkpoint,
			// once per ingest, folds them into the database file. At the
			// default 16 MB nearly every load's commit checkpointed,
			// rewriting the rollup tables each time.
			"SET checkpoint_threshold = '1GB'",
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
	s := &Store{db: sql.OpenDB(connector), connector: connector, path: path,
		filesDir: opt.FilesDir, staging: map[string]bool{}}
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Close releases the database.
func (s *Store) Close() error {
	return errors.Join(s.db.Close(), s.connector.Close())
}

// Checkpoint writes the loads committed so far from the write-ahead log
// into the database file (ingest calls it once at the end).
func (s *Store) Checkpoint(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "cost store checkpoint", "%w", err)
	}
	return nil
}

// DB exposes the database for other packages' read queries (table cur, view
// focus). Writers must go through the Store.
func (s *Store) DB() *sql.DB { return s.db }

// MemoryBytes is the memory DuckDB's buffer manager holds now (data
// blocks, hash tables, results), for the server's metrics.
func (s *Store) MemoryBytes(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory()`).Scan(&n); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, "cost store", "reading DuckDB's memory use: %w", err)
	}
	return n.Int64, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// migrate creates the tables and views; it is idempotent.
func (s *Store) migrate(ctx context.Context) error {
	const op = "cost store migrate"
	var stmts []string
	stmts = append(stmts, rollupTablesSQL...)
	stmts = append(stmts, explorerTablesSQL...)
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
		dir VARCHAR NOT NULL,          -- load directory, relative to files/
		paths VARCHAR[] NOT NULL,      -- Parquet files, relative to files/
		columns VARCHAR[] NOT NULL)    -- columns the files hold`)
	// The export's ARN, from its manifest ('' when the manifest has none):
	// with the execution ID it recognizes one export reached through two
	// sources (a copy, another bucket path), which must not count twice.
	stmts = append(stmts, `ALTER TABLE ingest_ledger ADD COLUMN IF NOT EXISTS export VARCHAR DEFAULT ''`)
	stmts = append(stmts, `CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`)
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	// The views name files by absolute path: rebuild them when the data
	// directory moved or the code's view definitions changed.
	want := s.filesDir + "\n" + viewsVersion
	var got string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE key = 'views'`).Scan(&got)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if got == want {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if err := s.rebuildViews(ctx, tx, true); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM store_meta WHERE key = 'views'`); err != nil {
		return errors.Join(crossbill.Errorf(crossbill.CodeInternal, op, "%w", err), tx.Rollback())
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO store_meta VALUES ('views', ?)`, want); err != nil {
		return errors.Join(crossbill.Errorf(crossbill.CodeInternal, op, "%w", err), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// duckdbHeaderSize is the size of a DuckDB file's headers (the main header
// and two database headers of 4 KiB each): a file this small was never
// finished, so it holds no data.
const duckdbHeaderSize = 3 * 4096

// setAsideUnfinished moves a database file whose creation was cut short (the
// process killed while DuckDB wrote its headers) to path.unfinished, with
// its write-ahead log: DuckDB refuses to open it ("could not read enough
// bytes"), and every start after such a kill would fail.
func setAsideUnfinished(path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() >= duckdbHeaderSize {
		return nil
	}
	for _, suffix := range []string{"", ".wal"} {
		if err := os.Rename(path+suffix, path+".unfinished"+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("setting aside the unfinished %s: %w", path+suffix, err)
		}
	}
	return nil
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
func (s *Store) Periods(ctx context.Context, tenant crossbill.TenantID) ([]Period, error) {
	const op = "cost periods"
	rows, err := s.db.QueryContext(ctx, `SELECT tenant, billing_period, source, format, execution_id, rows, files,
		strftime(ingested_at, '%Y-%m-%dT%H:%M:%SZ')
		FROM ingest_ledger WHERE tenant = ? ORDER BY billing_period, source`, string(tenant))
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

// Tenants lists the tenants with cost data loaded (CUR or Cost Explorer), by ID.
func (s *Store) Tenants(ctx context.Context) ([]crossbill.TenantID, error) {
	const op = "cost tenants"
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT tenant FROM (SELECT tenant FROM ingest_ledger UNION ALL SELECT tenant FROM ce_daily) ORDER BY tenant`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	var out []crossbill.TenantID
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, crossbill.TenantID(t))
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
