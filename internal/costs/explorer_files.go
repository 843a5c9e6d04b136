package costs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/crossbill/crossbill"
)

// ExplorerFiles are a tenant's Cost Explorer data as Parquet files, how
// cluster mode shares them between replicas: its ce_daily rows and its
// reconciliations.
type ExplorerFiles struct {
	Tenant         string
	Daily          string
	Reconciliation string
}

// ExportExplorer writes the tenant's Cost Explorer rows and
// reconciliations into dir.
func (s *Store) ExportExplorer(ctx context.Context, tenant crossbill.TenantID, dir string) (ExplorerFiles, error) {
	const op = "cost explorer export"
	f := ExplorerFiles{Tenant: string(tenant), Daily: filepath.Join(dir, "ce_daily.parquet"), Reconciliation: filepath.Join(dir, "ce_reconciliation.parquet")}
	for table, file := range map[string]string{"ce_daily": f.Daily, "ce_reconciliation": f.Reconciliation} {
		q := fmt.Sprintf("COPY (SELECT * FROM %s WHERE tenant = %s) TO %s (FORMAT parquet, COMPRESSION zstd)", table, quoteString(string(tenant)), quoteString(file))
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return ExplorerFiles{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "writing %s: %w", file, err)
		}
	}
	return f, nil
}

// ReplaceExplorer makes the files the tenant's Cost Explorer data, in one
// transaction (see replaceExplorer).
func (s *Store) ReplaceExplorer(ctx context.Context, f ExplorerFiles) (err error) {
	const op = "cost explorer import"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if err := replaceExplorer(ctx, tx, f); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// replaceExplorer replaces the tenant's Cost Explorer rows and
// reconciliations with the files' (none when the files are ""), leaving
// out the rows of billing periods the store's CUR holds: a period counts
// from one source only, whichever version of each a replica got first.
func replaceExplorer(ctx context.Context, tx *sql.Tx, f ExplorerFiles) error {
	const op = "cost explorer import"
	for _, t := range []string{"ce_daily", "ce_reconciliation"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE tenant = $1`, f.Tenant); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "clearing %s: %w", t, err)
		}
	}
	if f.Daily == "" {
		return nil
	}
	stmts := []string{
		`INSERT INTO ce_daily SELECT * FROM read_parquet(` + quoteString(f.Daily) + `) WHERE tenant = $1
			AND billing_period NOT IN (SELECT billing_period FROM ingest_ledger WHERE tenant = $1)`,
		`INSERT INTO ce_reconciliation SELECT * FROM read_parquet(` + quoteString(f.Reconciliation) + `) WHERE tenant = $1`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, f.Tenant); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "%w", err)
		}
	}
	return nil
}

// MergeExplorer takes into the store the files' Cost Explorer rows of
// every connection but keep (all of them when keep is ""), and their
// reconciliations of periods the store has not reconciled itself: a load
// of one connection publishes its own rows over the latest version the
// other replicas committed, not over what it pulled minutes before.
func (s *Store) MergeExplorer(ctx context.Context, f ExplorerFiles, keep crossbill.ConnectionID) (err error) {
	const op = "cost explorer merge"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM ce_daily WHERE tenant = $1 AND connection != $2`, []any{f.Tenant, string(keep)}},
		{`INSERT INTO ce_daily SELECT * FROM read_parquet(` + quoteString(f.Daily) + `) WHERE tenant = $1 AND connection != $2
			AND billing_period NOT IN (SELECT billing_period FROM ingest_ledger WHERE tenant = $1)`, []any{f.Tenant, string(keep)}},
		{`INSERT INTO ce_reconciliation SELECT * FROM read_parquet(` + quoteString(f.Reconciliation) + `) WHERE tenant = $1
			AND billing_period NOT IN (SELECT billing_period FROM ce_reconciliation WHERE tenant = $1)`, []any{f.Tenant}},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "%w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}
