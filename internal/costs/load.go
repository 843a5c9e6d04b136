package costs

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// Format is the shape of an export.
type Format string

// Export formats crossbill ingests.
const (
	FormatCUR2  Format = "cur2"
	FormatFOCUS Format = "focus"
)

// Load describes one billing period of one export, ready to replace what the
// store holds for (Tenant, Source, Period).
type Load struct {
	Tenant      string
	Source      string // the export's location, e.g. s3://bucket/prefix/export
	Period      string // YYYY-MM
	Format      Format
	Dir         string   // from StageDir; the store owns it from ReplacePeriod on
	Files       []string // the period's Parquet files, inside Dir, validated
	ExecutionID string   // from the export's manifest
	Export      string   // the export's ARN from its manifest; "" when it has none
	Fingerprint string   // changes whenever the export's content may have changed
	// Columns are the files' columns (DescribeParquet's keys) when the
	// caller already described them; nil describes them again.
	Columns []string
}

// StageDir creates a directory for the files of a coming load, inside the
// store. Pass it to ReplacePeriod, which keeps it or removes it.
func (s *Store) StageDir() (string, error) {
	dir := filepath.Join(s.filesDir, uuid.NewString())
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", crossbill.Errorf(crossbill.CodeUnavailable, "cost stage", "creating %s: %w", dir, err)
	}
	s.mu.Lock()
	s.staging[dir] = true
	s.mu.Unlock()
	return dir, nil
}

// DiscardStage removes a directory from StageDir that will not be loaded.
func (s *Store) DiscardStage(dir string) error {
	s.mu.Lock()
	delete(s.staging, dir)
	s.mu.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "cost stage", "removing %s: %w", dir, err)
	}
	return nil
}

// Fingerprint returns the fingerprint recorded when (tenant, source, period)
// was last loaded, or "" when it never was.
func (s *Store) Fingerprint(ctx context.Context, tenant, source, period string) (string, error) {
	var fp string
	err := s.db.QueryRowContext(ctx, `SELECT fingerprint FROM ingest_ledger WHERE tenant = ? AND source = ? AND billing_period = ?`,
		tenant, source, period).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "cost ledger", "reading the ingest ledger: %w", err)
	}
	// A load made by code with other rollups counts as never made, so the
	// next ingest rebuilds it.
	fp, ok := strings.CutPrefix(fp, rollupVersion+"/")
	if !ok {
		return "", nil
	}
	return fp, nil
}

// LoadedFrom returns the source from which the tenant's period was loaded
// with this execution (the same delivery of the same export), "" when none
// was; ingest skips a period another source already loaded.
func (s *Store) LoadedFrom(ctx context.Context, tenant, period, executionID string) (string, error) {
	var src string
	err := s.db.QueryRowContext(ctx, `SELECT source FROM ingest_ledger WHERE tenant = ? AND billing_period = ? AND execution_id = ? AND starts_with(fingerprint, ?) LIMIT 1`,
		tenant, period, executionID, rollupVersion+"/").Scan(&src)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "cost ledger", "reading the ingest ledger: %w", err)
	}
	return src, nil
}

// DescribeParquet returns the columns of a set of Parquet files (name ->
// DuckDB type), as DuckDB reads them, for schema validation.
func (s *Store) DescribeParquet(ctx context.Context, files []string) (map[string]string, error) {
	const op = "describe parquet"
	if len(files) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "no Parquet files to read")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM `+parquetScan(files)+`)`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "reading the Parquet schema of %s: %w", files[0], err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		cols[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return cols, nil
}

// parquetScan is a read_parquet call over files; union_by_name lets files of
// one period differ in optional columns.
func parquetScan(files []string) string {
	return "read_parquet(" + fileList(files) + ", union_by_name = true)"
}

// fileList is files as a DuckDB list of string literals.
func fileList(files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// ReplacePeriod makes the files in l.Dir what the store holds for (Tenant,
// Source, Period), in a batch of its own (see Batch). It returns the rows
// loaded.
func (s *Store) ReplacePeriod(ctx context.Context, l Load) (int64, error) {
	b, err := s.Begin(ctx)
	if err != nil {
		return 0, errors.Join(err, s.DiscardStage(l.Dir))
	}
	n, err := b.Replace(ctx, l)
	if err != nil {
		return 0, err
	}
	if err := b.Commit(ctx); err != nil {
		return 0, err
	}
	return n, nil
}

// Batch replaces billing periods in one DuckDB transaction: for each, the
// ledger entry and its rollups; at Commit, the views over every load's
// files. A restated month replaces the old one whole, and a crash (even
// kill -9) before the commit leaves the previous state: the old files are
// removed only after the commit, the new ones are orphans until then.
// Loading the periods of one ingest run in a batch pays once, rather than
// per period, what does not depend on their size: rebuilding the views
// (which binds every loaded file) and a commit.
type Batch struct {
	s     *Store
	tx    *sql.Tx
	rows  int64
	dirs  []string // the batch's load directories, from StageDir
	olds  []string // directories of the loads replaced, removed after the commit
	ended bool
}

// Begin starts a batch, after the one open (in another ingest) ends. It
// must end with Commit or Rollback.
func (s *Store) Begin(ctx context.Context) (*Batch, error) {
	s.batch.Lock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.batch.Unlock()
		return nil, crossbill.Errorf(crossbill.CodeInternal, "cost load", "starting a transaction: %w", err)
	}
	return &Batch{s: s, tx: tx}, nil
}

// Rows is the number of line items the batch's loads hold.
func (b *Batch) Rows() int64 { return b.rows }

// Replace adds to the batch the load of l: the files in l.Dir become what
// the store holds for (Tenant, Source, Period) when the batch commits. The
// batch owns l.Dir from now on. On error the batch is rolled back whole.
func (b *Batch) Replace(ctx context.Context, l Load) (rows int64, err error) {
	s := b.s
	op := "load " + l.Period
	if b.ended {
		return 0, errors.Join(crossbill.Errorf(crossbill.CodeInternal, op, "the batch has ended"), s.DiscardStage(l.Dir))
	}
	b.dirs = append(b.dirs, l.Dir)
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Rollback())
		}
	}()
	rel, err := filepath.Rel(s.filesDir, l.Dir)
	if err != nil || rel == "." || strings.Contains(rel, string(filepath.Separator)) || strings.HasPrefix(rel, "..") {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%s is not a directory from StageDir", l.Dir)
	}
	paths := make([]string, len(l.Files))
	for i, f := range l.Files {
		p, err := filepath.Rel(s.filesDir, f)
		if err != nil || !strings.HasPrefix(p, rel+string(filepath.Separator)) {
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%s is not inside %s", f, l.Dir)
		}
		paths[i] = filepath.ToSlash(p)
	}
	s.reached("start")
	columns := l.Columns
	if columns == nil {
		present, err := s.DescribeParquet(ctx, l.Files)
		if err != nil {
			return 0, err
		}
		columns = make([]string, 0, len(present))
		for c := range present {
			columns = append(columns, c)
		}
	}
	s.reached("described")
	// The loads this one replaces: the source's own, and the same export's
	// (by ARN or execution) loaded for the tenant from another source, so
	// that a copy of an export never doubles the tenant's costs.
	type replaced struct{ source, dir string }
	var olds []replaced
	rs, err := b.tx.QueryContext(ctx, `SELECT source, dir FROM ingest_ledger WHERE tenant = $1 AND billing_period = $2
		AND (source = $3 OR execution_id = $4 OR (coalesce(export, '') <> '' AND export = $5))`, l.Tenant, l.Period, l.Source, l.ExecutionID, l.Export)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "reading the ledger: %w", err)
	}
	for rs.Next() {
		var r replaced
		if err := rs.Scan(&r.source, &r.dir); err != nil {
			rs.Close()
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "reading the ledger: %w", err)
		}
		olds = append(olds, r)
	}
	if err := rs.Close(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "reading the ledger: %w", err)
	}
	tx := b.tx
	for _, old := range append(olds, replaced{source: l.Source}) {
		for _, t := range []string{"cost_daily", "cost_daily_dim", "ingest_ledger"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE tenant = $1 AND source = $2 AND billing_period = $3`, l.Tenant, old.source, l.Period); err != nil {
				return 0, crossbill.Errorf(crossbill.CodeInternal, op, "clearing %s: %w", t, err)
			}
		}
		if old.dir != "" && old.dir != rel {
			b.olds = append(b.olds, old.dir)
		}
	}
	s.reached("deleted")
	// The rollups read the load's own files ($LINES), not the line_items
	// view: through the view, each load bound every loaded file (and with
	// parameters for the key, scanned them), so each load took longer than
	// the one before. The key goes in as literals, as values DuckDB can
	// prune the rollup tables with when it plans.
	lines := s.loadLineItemsSQL(loadRef{tenant: l.Tenant, source: l.Source, period: l.Period, format: string(l.Format), paths: paths, columns: columns})
	literals := strings.NewReplacer("$1", quoteString(l.Tenant), "$2", quoteString(l.Source), "$3", quoteString(l.Period), "$LINES", lines)
	for i, q := range rollupInsertSQL {
		s.reached("rollup-" + string(rune('0'+i)))
		if _, err := tx.ExecContext(ctx, literals.Replace(q)); err != nil {
			return 0, crossbill.Errorf(crossbill.CodeInvalid, op, "building rollups from %d Parquet file(s): %w", len(l.Files), err)
		}
	}
	// The rollups count every line item (line_items), so the load's rows
	// need no pass of their own over the files: with DuckDB's footer cache
	// off, counting them parsed every footer once more.
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(line_items), 0)::BIGINT FROM cost_daily WHERE tenant = $1 AND source = $2 AND billing_period = $3`,
		l.Tenant, l.Source, l.Period).Scan(&n); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "counting rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ingest_ledger (tenant, source, billing_period, format, execution_id, fingerprint, files, rows, ingested_at, dir, paths, columns, export)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::VARCHAR[], $12::VARCHAR[], $13)`,
		l.Tenant, l.Source, l.Period, string(l.Format), l.ExecutionID, rollupVersion+"/"+l.Fingerprint, len(l.Files), n, time.Now().UTC(),
		rel, duckArray(paths), duckArray(columns), l.Export); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "recording the load: %w", err)
	}
	if err := reconcileExplorer(ctx, tx, l.Tenant, l.Period); err != nil {
		return 0, err
	}
	b.rows += n
	return n, nil
}

// Commit repoints the views at the batch's files and commits, then removes
// the files of the loads replaced.
func (b *Batch) Commit(ctx context.Context) (err error) {
	s := b.s
	const op = "cost load"
	if b.ended {
		return crossbill.Errorf(crossbill.CodeInternal, op, "the batch has ended")
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Rollback())
		}
	}()
	if err := s.rebuildViews(ctx, b.tx, false); err != nil {
		return err
	}
	s.reached("views")
	s.reached("before-commit")
	if err := b.tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "committing: %w", err)
	}
	b.ended = true
	b.release()
	s.batch.Unlock()
	// What the load's statements freed stays with the C allocator, which
	// would otherwise carry each month's high-water mark into the next.
	releaseFreedMemory()
	s.reached("committed")
	for _, dir := range b.olds {
		if err := os.RemoveAll(filepath.Join(s.filesDir, dir)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "removing the replaced files: %w", err)
		}
	}
	s.reached("removed-old")
	if err := s.removeOrphans(ctx); err != nil {
		return err
	}
	s.reached("done")
	return nil
}

// Rollback abandons the batch and removes its load directories; after
// Commit it does nothing.
func (b *Batch) Rollback() error {
	if b.ended {
		return nil
	}
	b.ended = true
	err := ignoreDone(b.tx.Rollback())
	b.release()
	b.s.batch.Unlock()
	for _, d := range b.dirs {
		err = errors.Join(err, os.RemoveAll(d))
	}
	return err
}

// release hands the batch's load directories from staging to the ledger
// (or, after a rollback, to removal).
func (b *Batch) release() {
	b.s.mu.Lock()
	for _, d := range b.dirs {
		delete(b.s.staging, d)
	}
	b.s.mu.Unlock()
}

// removeOrphans deletes load directories no ledger row names and no load
// in progress holds: left by a crash before or after a commit.
func (s *Store) removeOrphans(ctx context.Context) error {
	const op = "cost cleanup"
	rows, err := s.db.QueryContext(ctx, `SELECT dir FROM ingest_ledger`)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	keep := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		keep[d] = true
	}
	if err := rows.Close(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	entries, err := os.ReadDir(s.filesDir)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		dir := filepath.Join(s.filesDir, e.Name())
		if keep[e.Name()] || s.staging[dir] {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return crossbill.Errorf(crossbill.CodeUnavailable, op, "removing %s: %w", dir, err)
		}
	}
	return nil
}

// duckArray renders a string list as a DuckDB list literal parameter.
func duckArray(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = quoteString(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// ignoreDone drops the error Rollback returns when the transaction already ended.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// reached reports a load stage to the test hook.
func (s *Store) reached(stage string) {
	if s.stage != nil {
		s.stage(stage)
	}
}
