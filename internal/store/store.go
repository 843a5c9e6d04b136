// Package store is crossbill's metadata store: tenants, connections,
// verification results, jobs and tokens, in one SQLite file in the data
// directory (the default) or in a PostgreSQL database (--database
// postgres://...).
//
// One set of queries and migrations serves both engines:
//   - queries are written with SQLite's '?' placeholders and portable SQL;
//     on PostgreSQL the connection rewrites '?' to $1, $2, ... (dialect.go).
//     Use RETURNING, not LastInsertId, and CASE, not two-argument MAX/MIN.
//   - migrations/NNN_name.sql is written for SQLite; on PostgreSQL its
//     column types are mapped (INTEGER -> BIGINT, REAL -> DOUBLE PRECISION,
//     INTEGER PRIMARY KEY AUTOINCREMENT -> identity, TEXT -> TEXT COLLATE
//     "C" so text sorts bytewise as in SQLite). A migration that needs
//     more (triggers, table rebuilds) has a sibling NNN_name.postgres.sql that
//     replaces it on PostgreSQL; a variant without its base file is an error,
//     so both engines always share version numbers.
//   - migrations run under a lock: PostgreSQL's advisory lock, held while
//     they are read and applied, so replicas starting together apply each
//     one once; SQLite serialises writers itself.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/datadir"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// FileName is the SQLite file inside the data directory.
const FileName = "crossbill.db"

// Store is the metadata store.
type Store struct {
	db     *sql.DB
	engine Engine
	dir    string
	now    func() time.Time
	// dbClock, when set (tests), stands in for the database's own clock,
	// which job leases are measured against (dbNow).
	dbClock func() time.Time
	pgcfg   *pgx.ConnConfig // PostgreSQL: for the LISTEN connection (notify.go)
	events  events
}

// Open creates dir if needed (private: see datadir.Secure), opens (or creates) the SQLite database in it and
// applies pending migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	return OpenDatabase(ctx, dir, "")
}

// OpenDatabase is Open with the metadata in database: "" for SQLite in
// dir, or a postgres:// URL. dir is needed either way (it holds the cost
// files).
func OpenDatabase(ctx context.Context, dir, database string) (*Store, error) {
	const op = "store open"
	if dir == "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "no data directory given: pass --data DIR or set CROSSBILL_DATA")
	}
	if err := datadir.Secure(dir); err != nil {
		return nil, err
	}
	if err := checkWritable(dir); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "data directory %s is not writable (fix its permissions or pass another --data): %w", dir, err)
	}
	if database != "" {
		return openPostgresStore(ctx, dir, database)
	}
	path := filepath.Join(dir, FileName)
	// WAL lets the server read while a job writes; busy_timeout rides out
	// short write contention instead of failing with SQLITE_BUSY.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "opening %s: %w", path, err)
	}
	s := &Store{db: db, engine: SQLite, dir: dir, now: func() time.Time { return time.Now().UTC() }}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openPostgresStore(ctx context.Context, dir, database string) (*Store, error) {
	const op = "store open"
	if !IsPostgresURL(database) {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--database must be a postgres:// or postgresql:// URL, or empty for SQLite in the data directory")
	}
	db, cfg, err := openPostgres(database)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--database is not a valid PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...)")
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "connecting to PostgreSQL (is the server up, and are --database's host, user and database right?): %w", err)
	}
	s := &Store{db: db, engine: Postgres, dir: dir, now: func() time.Time { return time.Now().UTC() }, pgcfg: cfg}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Engine is the database the store runs on.
func (s *Store) Engine() Engine { return s.engine }

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Close stops the listener, if any, and closes the database.
func (s *Store) Close() error {
	s.events.stop()
	return s.db.Close()
}

// DB exposes the handle for packages that keep their own tables here
// (their migrations live in this package's migrations folder).
func (s *Store) DB() *sql.DB { return s.db }

// Dir is the data directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// SetClock replaces the clock, for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

type migration struct {
	version int
	name    string
	sql     string
}

// postgresSuffix marks a migration's PostgreSQL variant.
const postgresSuffix = ".postgres.sql"

// loadMigrations reads the migrations for engine, in version order: the
// base files, each replaced by its .postgres.sql variant on PostgreSQL.
func loadMigrations(engine Engine) ([]migration, error) {
	return readMigrations(migrationFiles, engine)
}

func readMigrations(fsys fs.FS, engine Engine) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	variants := map[string]string{} // base name -> variant file
	for _, e := range entries {
		if base, ok := strings.CutSuffix(e.Name(), postgresSuffix); ok {
			variants[base+".sql"] = e.Name()
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		ms = append(ms, migration{version: v, name: e.Name()})
	}
	for base, variant := range variants {
		if !slices.ContainsFunc(ms, func(m migration) bool { return m.name == base }) {
			return nil, fmt.Errorf("migration %s has no base file %s: write the SQLite version too, so both engines share version numbers", variant, base)
		}
	}
	for i, m := range ms {
		file, typed := m.name, false
		if v, ok := variants[m.name]; ok && engine == Postgres {
			file = v
		} else if engine == Postgres {
			typed = true
		}
		body, err := fs.ReadFile(fsys, "migrations/"+file)
		if err != nil {
			return nil, err
		}
		ms[i].sql = string(body)
		if typed {
			ms[i].sql = postgresDDL(ms[i].sql)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrationLock is the PostgreSQL advisory lock key migrations hold
// ("crossbil" in ASCII), so replicas starting together apply each once.
const migrationLock = 0x63726f737362696c

// migrate applies every migration newer than the database, each in its own
// transaction, so a failure leaves the database at the last good version.
func (s *Store) migrate(ctx context.Context) error {
	const op = "store migrate"
	ms, err := loadMigrations(s.engine)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	// One connection throughout: the advisory lock belongs to its session.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer conn.Close()
	if s.engine == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, int64(migrationLock)); err != nil {
			return crossbill.Errorf(crossbill.CodeUnavailable, op, "taking the migration lock: %w", err)
		}
		// Closing the session would release it too; unlocking returns the
		// connection to the pool clean.
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?)`, int64(migrationLock)) //nolint:errcheck // best effort, see above
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "creating schema_migrations (is this a crossbill database?): %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "reading schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := s.apply(ctx, conn, m); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "applying %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, s.now().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit()
}

// notFound turns sql.ErrNoRows into a NotFound error with a hint.
func notFound(err error, op, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return crossbill.Errorf(crossbill.CodeNotFound, op, format, args...)
	}
	return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
}
