// Package store is crossbill's metadata store: tenants, connections,
// verification results, jobs and tokens in one SQLite file on disk.
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
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/datadir"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// FileName is the SQLite file inside the data directory.
const FileName = "crossbill.db"

// Store is the SQLite metadata store.
type Store struct {
	db  *sql.DB
	dir string
	now func() time.Time
}

// Open creates dir if needed (private: see datadir.Secure), opens (or creates) the database in it and
// applies pending migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
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
	path := filepath.Join(dir, FileName)
	// WAL lets the server read while a job writes; busy_timeout rides out
	// short write contention instead of failing with SQLITE_BUSY.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "opening %s: %w", path, err)
	}
	s := &Store{db: db, dir: dir, now: func() time.Time { return time.Now().UTC() }}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

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

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies every migration newer than the database, each in its own
// transaction, so a failure leaves the database at the last good version.
func (s *Store) migrate(ctx context.Context) error {
	const op = "store migrate"
	ms, err := loadMigrations()
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "creating schema_migrations (is the file a crossbill database?): %w", err)
	}
	applied := map[int]bool{}
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
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
		if err := s.apply(ctx, m); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "applying %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
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

// isUniqueViolation reports whether err is a SQLite UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// notFound turns sql.ErrNoRows into a NotFound error with a hint.
func notFound(err error, op, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return crossbill.Errorf(crossbill.CodeNotFound, op, format, args...)
	}
	return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
}
