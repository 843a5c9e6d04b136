package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/crossbill/crossbill"
)

// CostVersion is the committed version of one (tenant, source, billing
// period) of the cluster cost store: the name of an immutable set of
// objects, described by Manifest (JSON the store does not read).
type CostVersion struct {
	TenantID    crossbill.TenantID
	Source      string
	Period      string // YYYY-MM
	Version     string
	Manifest    string
	CommittedAt time.Time // for a retired version: when it was retired
}

// errCostRace is a concurrent commit of the same key, retried.
var errCostRace = errors.New("concurrent cost version commit")

// CommitCostVersion makes v the current version of its (tenant, source,
// period) in one transaction, retiring the version it replaces and the
// current versions of the same tenant and period under the sources in
// replaces (the same export reached through another source). Readers see
// the old set of versions or the new one, never a mix. Of two concurrent
// commits of one key the later wins and the earlier is retired.
func (s *Store) CommitCostVersion(ctx context.Context, v CostVersion, replaces []string) error {
	return s.commitCostVersionRetrying(ctx, v, replaces, nil)
}

// ErrCostVersionMoved is SwapCostVersion's refusal: the key's current
// version is no longer the one the caller built on.
var ErrCostVersionMoved = errors.New("the committed cost version changed since it was read")

// SwapCostVersion is CommitCostVersion as a compare-and-swap: v becomes
// current only if its key's current version is still expected ("" for
// none), else nothing changes and the error (CodeConflict) wraps
// ErrCostVersionMoved. A publisher that merged the current version into
// its own (Cost Explorer's rows of other connections) uses it so that a
// concurrent publish is never lost: it reads the new current version,
// merges again and retries.
func (s *Store) SwapCostVersion(ctx context.Context, v CostVersion, expected string) error {
	return s.commitCostVersionRetrying(ctx, v, nil, &expected)
}

func (s *Store) commitCostVersionRetrying(ctx context.Context, v CostVersion, replaces []string, expected *string) error {
	const op = "cost version commit"
	if v.TenantID == "" || v.Source == "" || v.Period == "" || v.Version == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "tenant, source, period and version are required")
	}
	for attempt := 0; ; attempt++ {
		err := s.commitCostVersion(ctx, v, replaces, expected)
		if errors.Is(err, errCostRace) && attempt < 5 {
			continue
		}
		if errors.Is(err, ErrCostVersionMoved) {
			return crossbill.Errorf(crossbill.CodeConflict, op, "%w", err)
		}
		if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
			return err
		}
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		return nil
	}
}

func (s *Store) commitCostVersion(ctx context.Context, v CostVersion, replaces []string, expected *string) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreTxDone(tx.Rollback()))
		}
	}()
	// Write first, so that on SQLite the transaction takes the write lock
	// at once (a read-then-write transaction fails busy), and on
	// PostgreSQL commits of one tenant queue on its row.
	res, err := tx.ExecContext(ctx, `UPDATE tenants SET name = name WHERE id = ?`, string(v.TenantID))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(crossbill.Errorf(crossbill.CodeNotFound, "cost version commit", "no tenant %q", v.TenantID), err)
	}
	now := formatStamp(s.now())
	for i, src := range append([]string{v.Source}, replaces...) {
		var old, manifest string
		err := tx.QueryRowContext(ctx, `SELECT version, manifest FROM cost_versions WHERE tenant_id = ? AND source = ? AND billing_period = ?`,
			string(v.TenantID), src, v.Period).Scan(&old, &manifest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// The tenant's row lock taken above orders commits of the tenant:
		// what is read here stays current until this transaction ends.
		if i == 0 && expected != nil && old != *expected {
			return ErrCostVersionMoved
		}
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		// Deleting by version: if another commit swapped it meanwhile,
		// nothing is deleted and the whole commit is tried again.
		res, err := tx.ExecContext(ctx, `DELETE FROM cost_versions WHERE version = ?`, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(errCostRace, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cost_versions_retired(version, tenant_id, source, billing_period, manifest, retired_at) VALUES (?, ?, ?, ?, ?, ?)`,
			old, string(v.TenantID), src, v.Period, manifest, now); err != nil {
			return err
		}
	}
	res, err = tx.ExecContext(ctx, `INSERT INTO cost_versions(tenant_id, source, billing_period, version, manifest, committed_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, source, billing_period) DO NOTHING`,
		string(v.TenantID), v.Source, v.Period, v.Version, v.Manifest, now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(errCostRace, err)
	}
	return tx.Commit()
}

// CostVersions lists a tenant's current cost versions, by period and source.
func (s *Store) CostVersions(ctx context.Context, tenant crossbill.TenantID) ([]CostVersion, error) {
	return s.costVersions(ctx, `SELECT tenant_id, source, billing_period, version, manifest, committed_at FROM cost_versions
		WHERE tenant_id = ? ORDER BY billing_period, source`, string(tenant))
}

// RetiredCostVersions lists the versions retired before the given time,
// oldest first: those no reader can be using any more.
func (s *Store) RetiredCostVersions(ctx context.Context, before time.Time) ([]CostVersion, error) {
	return s.costVersions(ctx, `SELECT tenant_id, source, billing_period, version, manifest, retired_at FROM cost_versions_retired
		WHERE retired_at < ? ORDER BY retired_at`, formatStamp(before))
}

// CostVersionNames returns every version the store names, committed or
// retired and not yet forgotten: an object under no such version is garbage.
func (s *Store) CostVersionNames(ctx context.Context) (map[string]bool, error) {
	const op = "cost versions"
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM cost_versions UNION SELECT version FROM cost_versions_retired`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		names[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return names, nil
}

// ForgetCostVersion drops a retired version once its objects are deleted.
func (s *Store) ForgetCostVersion(ctx context.Context, version string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM cost_versions_retired WHERE version = ?`, version); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "cost version forget", "%w", err)
	}
	return nil
}

func (s *Store) costVersions(ctx context.Context, query string, args ...any) ([]CostVersion, error) {
	const op = "cost versions"
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	var out []CostVersion
	for rows.Next() {
		var v CostVersion
		var stamp string
		if err := rows.Scan(&v.TenantID, &v.Source, &v.Period, &v.Version, &v.Manifest, &stamp); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if v.CommittedAt, err = time.Parse(time.RFC3339Nano, stamp); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

func ignoreTxDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
