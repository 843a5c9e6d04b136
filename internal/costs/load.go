package costs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
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
	Files       []string // local Parquet files, already validated
	ExecutionID string   // from the export's manifest
	Fingerprint string   // changes whenever the export's content may have changed
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
	return fp, nil
}

// DescribeParquet returns the columns of a set of Parquet files (name ->
// DuckDB type), as DuckDB reads them, for schema validation.
func (s *Store) DescribeParquet(ctx context.Context, files []string) (map[string]string, error) {
	const op = "describe parquet"
	if len(files) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "no Parquet files to read")
	}
	rows, err := s.db.QueryContext(ctx, `DESCRIBE SELECT * FROM `+parquetScan(files))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "reading the Parquet schema of %s: %w", files[0], err)
	}
	defer rows.Close()
	cols := map[string]string{}
	n, err := rows.Columns()
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for rows.Next() {
		vals := make([]sql.NullString, len(n))
		ptrs := make([]any, len(n))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		cols[vals[0].String] = vals[1].String
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return cols, nil
}

// parquetScan is a read_parquet call over files; union_by_name lets files of
// one period differ in optional columns.
func parquetScan(files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	return "read_parquet([" + strings.Join(quoted, ", ") + "], union_by_name = true)"
}

// ReplacePeriod replaces everything the store holds for (Tenant, Source,
// Period) by the given files, in one DuckDB transaction: line items,
// rollups and the ledger entry change together or not at all, so a
// restated month replaces the old one whole and a crash (even kill -9)
// mid-load leaves the previous state. It returns the rows loaded.
func (s *Store) ReplacePeriod(ctx context.Context, l Load) (rows int64, err error) {
	op := "load " + l.Period
	table, cols := "cur", cur.Columns()
	if l.Format == FormatFOCUS {
		table, cols = "focus_export", cur.FOCUSColumns()
	}
	present, err := s.DescribeParquet(ctx, l.Files)
	if err != nil {
		return 0, err
	}
	names := make([]string, 0, len(cols))
	exprs := make([]string, 0, len(cols))
	for _, c := range cols {
		names = append(names, quoteIdent(c.Name))
		if _, ok := present[c.Name]; ok {
			exprs = append(exprs, quoteIdent(c.Name))
		} else {
			exprs = append(exprs, "NULL::"+c.Type)
		}
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "starting a transaction: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	key := []any{l.Tenant, l.Source, l.Period}
	for _, t := range []string{"cur", "focus_export", "cost_daily", "cost_daily_dim", "ingest_ledger"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE tenant = $1 AND source = $2 AND billing_period = $3`, key...); err != nil {
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "clearing %s: %w", t, err)
		}
	}
	s.reached("deleted")
	insert := fmt.Sprintf(`INSERT INTO %s (tenant, source, billing_period, %s) SELECT $1, $2, $3, %s FROM %s`,
		table, strings.Join(names, ", "), strings.Join(exprs, ", "), parquetScan(l.Files))
	res, err := tx.ExecContext(ctx, insert, key...)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInvalid, op, "loading %d Parquet file(s) into %s: %w", len(l.Files), table, err)
	}
	if rows, err = res.RowsAffected(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for _, q := range rollupInsertSQL {
		if _, err := tx.ExecContext(ctx, q, key...); err != nil {
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "building rollups: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ingest_ledger VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		l.Tenant, l.Source, l.Period, string(l.Format), l.ExecutionID, l.Fingerprint, len(l.Files), rows, time.Now().UTC()); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "recording the ingest: %w", err)
	}
	s.reached("before-commit")
	if err := tx.Commit(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "committing: %w", err)
	}
	return rows, nil
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
