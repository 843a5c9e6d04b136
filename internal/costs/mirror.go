package costs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// PeriodFiles is one load of the store as files: its ledger fields, the
// export's Parquet files and the period's rollups written as Parquet. The
// cluster cost store copies it to object storage (ExportPeriod) and its
// replicas load it back without recomputing anything (AdoptPeriods).
type PeriodFiles struct {
	Tenant      string   `json:"tenant"`
	Source      string   `json:"source"`
	Period      string   `json:"billing_period"`
	Format      Format   `json:"format"`
	ExecutionID string   `json:"execution_id"`
	Export      string   `json:"export"`
	Fingerprint string   `json:"fingerprint"` // as the ledger holds it (rollup version included)
	Rows        int64    `json:"rows"`
	Columns     []string `json:"columns"`
	// IngestedAt is when the load was ingested, so every replica reports
	// the same time (zero in manifests older than the field: adoption time).
	IngestedAt time.Time `json:"ingested_at,omitzero"`
	Files      []string  `json:"-"` // the export's Parquet files
	Daily      string    `json:"-"` // rollup cost_daily of the period, Parquet
	Dim        string    `json:"-"` // rollup cost_daily_dim of the period, Parquet
}

// ExportPeriod describes the load of (tenant, source, period) and writes
// its rollups as Parquet files into dir. Files are the load's own Parquet
// files, which stay where they are.
func (s *Store) ExportPeriod(ctx context.Context, tenant, source, period, dir string) (PeriodFiles, error) {
	op := "cost export " + period
	p := PeriodFiles{Tenant: tenant, Source: source, Period: period}
	var format string
	var paths, cols duckList
	err := s.db.QueryRowContext(ctx, `SELECT format, execution_id, coalesce(export, ''), fingerprint, rows, paths, columns, ingested_at
		FROM ingest_ledger WHERE tenant = ? AND source = ? AND billing_period = ?`, tenant, source, period).
		Scan(&format, &p.ExecutionID, &p.Export, &p.Fingerprint, &p.Rows, &paths, &cols, &p.IngestedAt)
	if err != nil {
		return PeriodFiles{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no load of %s for tenant %s from %s: %w", period, tenant, source, err)
	}
	p.Format, p.Columns = Format(format), cols
	for _, rel := range paths {
		p.Files = append(p.Files, filepath.Join(s.filesDir, filepath.FromSlash(rel)))
	}
	p.Daily, p.Dim = filepath.Join(dir, "cost_daily.parquet"), filepath.Join(dir, "cost_daily_dim.parquet")
	where := fmt.Sprintf("tenant = %s AND source = %s AND billing_period = %s", quoteString(tenant), quoteString(source), quoteString(period))
	for table, file := range map[string]string{"cost_daily": p.Daily, "cost_daily_dim": p.Dim} {
		q := fmt.Sprintf("COPY (SELECT * FROM %s WHERE %s) TO %s (FORMAT parquet, COMPRESSION zstd)", table, where, quoteString(file))
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return PeriodFiles{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "writing %s: %w", file, err)
		}
	}
	return p, nil
}

// PeriodKey names one load: (tenant, source, billing period).
type PeriodKey struct{ Tenant, Source, Period string }

// AdoptPeriods makes the store hold exactly the given loads for their
// keys and drops the loads of drop, in one transaction: ledger rows, views
// and rollups (read from the files' Daily and Dim, not recomputed). Every
// file must lie inside the store's FilesDir. Used by cluster replicas,
// whose FilesDir is their object cache; unlike ReplacePeriod it never
// deletes files, which the cache owns. explorer, when not nil, replaces
// its tenant's Cost Explorer data in the same transaction (after the
// periods, so those the CUR now holds are left out).
func (s *Store) AdoptPeriods(ctx context.Context, adopt []PeriodFiles, drop []PeriodKey, explorer *ExplorerFiles) (err error) {
	const op = "cost adopt"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	keys := append([]PeriodKey(nil), drop...)
	for _, p := range adopt {
		keys = append(keys, PeriodKey{p.Tenant, p.Source, p.Period})
	}
	for _, k := range keys {
		for _, t := range []string{"cost_daily", "cost_daily_dim", "ingest_ledger"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE tenant = $1 AND source = $2 AND billing_period = $3`, k.Tenant, k.Source, k.Period); err != nil {
				return crossbill.Errorf(crossbill.CodeInternal, op, "clearing %s: %w", t, err)
			}
		}
	}
	for _, p := range adopt {
		at := p.IngestedAt
		if at.IsZero() {
			at = time.Now()
		}
		rel := make([]string, len(p.Files))
		for i, f := range p.Files {
			r, err := filepath.Rel(s.filesDir, f)
			if err != nil || strings.HasPrefix(r, "..") {
				return crossbill.Errorf(crossbill.CodeInternal, op, "%s is not inside %s", f, s.filesDir)
			}
			rel[i] = filepath.ToSlash(r)
		}
		if len(rel) == 0 {
			return crossbill.Errorf(crossbill.CodeInternal, op, "load of %s has no files", p.Period)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ingest_ledger (tenant, source, billing_period, format, execution_id, fingerprint, files, rows, ingested_at, dir, paths, columns, export)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::VARCHAR[], $12::VARCHAR[], $13)`,
			p.Tenant, p.Source, p.Period, string(p.Format), p.ExecutionID, p.Fingerprint, len(rel), p.Rows, at.UTC(),
			filepath.ToSlash(filepath.Dir(rel[0])), duckArray(rel), duckArray(p.Columns), p.Export); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "recording the load: %w", err)
		}
		for table, file := range map[string]string{"cost_daily": p.Daily, "cost_daily_dim": p.Dim} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` SELECT * FROM read_parquet(`+quoteString(file)+`)`); err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "reading %s: %w", file, err)
			}
		}
	}
	if explorer != nil {
		if err := replaceExplorer(ctx, tx, *explorer); err != nil {
			return err
		}
	}
	if err := s.rebuildViews(ctx, tx, false); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "committing: %w", err)
	}
	return nil
}
