package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// InventoryRow is one stored resource. Data is JSON whose shape the
// inventory package owns; the other fields are what lists filter on.
type InventoryRow struct {
	ARN          string
	ConnectionID crossbill.ConnectionID
	AccountID    crossbill.AccountID
	Region       string
	Service      string
	Type         string
	FetchedAt    time.Time
	Data         []byte
}

// InventoryUtilRow is one resource's stored utilization (JSON).
type InventoryUtilRow struct {
	ARN      string
	From, To time.Time
	Data     []byte
}

// InventoryScope is an (account, region, service) a sync read in full:
// its resources not seen again are gone. Region "" means every region (S3
// lists all buckets from one place).
type InventoryScope struct {
	AccountID crossbill.AccountID
	Region    string
	Service   string
}

// InventoryFilter narrows InventoryResources; empty fields match all.
type InventoryFilter struct {
	Account crossbill.AccountID
	Region  string
	Service string
	Type    string
	Limit   int // 0: no limit
}

// InventorySync is one stored inventory sync. Failures is JSON (the
// inventory package's per-(account, region, service) failures).
type InventorySync struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"-"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	StartedAt    time.Time              `json:"started_at"`
	FinishedAt   time.Time              `json:"finished_at"`
	Accounts     int                    `json:"accounts"`
	Regions      int                    `json:"regions"`
	Resources    int                    `json:"resources"`
	Failures     []byte                 `json:"-"`
}

// SaveInventory upserts a tenant's resources and utilization in one
// transaction, then removes, within each pruned scope, the resources last
// fetched before `before` (and their utilization).
func (s *Store) SaveInventory(ctx context.Context, tenant crossbill.TenantID, rows []InventoryRow, utils []InventoryUtilRow, prune []InventoryScope, before time.Time) error {
	const op = "inventory save"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	res, err := tx.PrepareContext(ctx, `INSERT INTO inventory_resources(tenant_id, arn, connection_id, account_id, region, service, type, fetched_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, arn) DO UPDATE SET connection_id = excluded.connection_id, account_id = excluded.account_id,
			region = excluded.region, service = excluded.service, type = excluded.type, fetched_at = excluded.fetched_at, data = excluded.data`)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer res.Close()
	for _, r := range rows {
		if _, err := res.ExecContext(ctx, string(tenant), r.ARN, string(r.ConnectionID), string(r.AccountID), r.Region, r.Service, r.Type,
			formatStamp(r.FetchedAt), string(r.Data)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "resource %s: %w", r.ARN, err)
		}
	}
	ut, err := tx.PrepareContext(ctx, `INSERT INTO inventory_utilization(tenant_id, arn, from_at, to_at, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, arn) DO UPDATE SET from_at = excluded.from_at, to_at = excluded.to_at, data = excluded.data`)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer ut.Close()
	for _, u := range utils {
		if _, err := ut.ExecContext(ctx, string(tenant), u.ARN, formatStamp(u.From), formatStamp(u.To), string(u.Data)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "utilization of %s: %w", u.ARN, err)
		}
	}
	for _, p := range prune {
		where := `tenant_id = ? AND account_id = ? AND service = ? AND fetched_at < ?`
		args := []any{string(tenant), string(p.AccountID), p.Service, formatStamp(before)}
		if p.Region != "" {
			where += ` AND region = ?`
			args = append(args, p.Region)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inventory_utilization WHERE tenant_id = ? AND arn IN (SELECT arn FROM inventory_resources WHERE `+where+`)`,
			append([]any{string(tenant)}, args...)...); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inventory_resources WHERE `+where, args...); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// InventoryResources lists a tenant's resources matching f, by account,
// region, service, type and ARN.
func (s *Store) InventoryResources(ctx context.Context, tenant crossbill.TenantID, f InventoryFilter) ([]InventoryRow, error) {
	q := `SELECT arn, connection_id, account_id, region, service, type, fetched_at, data FROM inventory_resources WHERE tenant_id = ?`
	args := []any{string(tenant)}
	for _, c := range []struct{ col, v string }{{"account_id", string(f.Account)}, {"region", f.Region}, {"service", f.Service}, {"type", f.Type}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	q += ` ORDER BY account_id, region, service, type, arn`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return s.inventoryRows(ctx, q, args...)
}

// InventoryResource returns one of a tenant's resources; NotFound when
// there is none (another tenant's included).
func (s *Store) InventoryResource(ctx context.Context, tenant crossbill.TenantID, arn string) (InventoryRow, error) {
	rows, err := s.inventoryRows(ctx, `SELECT arn, connection_id, account_id, region, service, type, fetched_at, data FROM inventory_resources
		WHERE tenant_id = ? AND arn = ?`, string(tenant), arn)
	if err != nil {
		return InventoryRow{}, err
	}
	if len(rows) == 0 {
		return InventoryRow{}, crossbill.Errorf(crossbill.CodeNotFound, "inventory", "no resource %s in this tenant's inventory: run `crossbill inventory list` to see what was collected", arn)
	}
	return rows[0], nil
}

func (s *Store) inventoryRows(ctx context.Context, q string, args ...any) ([]InventoryRow, error) {
	const op = "inventory"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []InventoryRow{}
	for rows.Next() {
		var r InventoryRow
		var fetched, data string
		if err := rows.Scan(&r.ARN, &r.ConnectionID, &r.AccountID, &r.Region, &r.Service, &r.Type, &fetched, &data); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if r.FetchedAt, err = time.Parse(time.RFC3339Nano, fetched); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		r.Data = []byte(data)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// InventoryUtilization returns the stored utilization of a tenant's
// resources among arns (nil arns: all of them); resources without any
// are left out.
func (s *Store) InventoryUtilization(ctx context.Context, tenant crossbill.TenantID, arns []string) ([]InventoryUtilRow, error) {
	const op = "inventory utilization"
	out := []InventoryUtilRow{}
	scan := func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var u InventoryUtilRow
			var from, to, data string
			if err := rows.Scan(&u.ARN, &from, &to, &data); err != nil {
				return err
			}
			var err error
			if u.From, err = time.Parse(time.RFC3339Nano, from); err != nil {
				return err
			}
			if u.To, err = time.Parse(time.RFC3339Nano, to); err != nil {
				return err
			}
			u.Data = []byte(data)
			out = append(out, u)
		}
		return rows.Err()
	}
	const sel = `SELECT arn, from_at, to_at, data FROM inventory_utilization WHERE tenant_id = ?`
	if arns == nil {
		rows, err := s.db.QueryContext(ctx, sel+` ORDER BY arn`, string(tenant))
		if err == nil {
			err = scan(rows)
		}
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		return out, nil
	}
	// Chunks keep each statement under both engines' parameter limits.
	for start := 0; start < len(arns); start += 500 {
		chunk := arns[start:min(start+500, len(arns))]
		args := []any{string(tenant)}
		for _, a := range chunk {
			args = append(args, a)
		}
		rows, err := s.db.QueryContext(ctx, sel+` AND arn IN (?`+strings.Repeat(", ?", len(chunk)-1)+`) ORDER BY arn`, args...)
		if err == nil {
			err = scan(rows)
		}
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	return out, nil
}

// SaveInventorySync records one sync and returns it with its ID.
func (s *Store) SaveInventorySync(ctx context.Context, sync InventorySync) (InventorySync, error) {
	sync.ID = "ins_" + uuid.NewString()[:18]
	if sync.Failures == nil {
		sync.Failures = []byte("[]")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO inventory_syncs(id, tenant_id, connection_id, started_at, finished_at, accounts, regions, resources, failures)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sync.ID, string(sync.TenantID), string(sync.ConnectionID), formatStamp(sync.StartedAt), formatStamp(sync.FinishedAt),
		sync.Accounts, sync.Regions, sync.Resources, string(sync.Failures)); err != nil {
		return InventorySync{}, crossbill.Errorf(crossbill.CodeInternal, "inventory sync save", "%w", err)
	}
	return sync, nil
}

// LatestInventorySyncs returns the newest sync of each of a tenant's
// connections, newest first.
func (s *Store) LatestInventorySyncs(ctx context.Context, tenant crossbill.TenantID) ([]InventorySync, error) {
	const op = "inventory syncs"
	rows, err := s.db.QueryContext(ctx, `SELECT id, connection_id, started_at, finished_at, accounts, regions, resources, failures FROM inventory_syncs s
		WHERE tenant_id = ? AND started_at = (SELECT max(started_at) FROM inventory_syncs l WHERE l.tenant_id = s.tenant_id AND l.connection_id = s.connection_id)
		ORDER BY started_at DESC, id`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []InventorySync{}
	for rows.Next() {
		x := InventorySync{TenantID: tenant}
		var started, finished, failures string
		if err := rows.Scan(&x.ID, &x.ConnectionID, &started, &finished, &x.Accounts, &x.Regions, &x.Resources, &failures); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if x.StartedAt, err = time.Parse(time.RFC3339Nano, started); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if x.FinishedAt, err = time.Parse(time.RFC3339Nano, finished); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		x.Failures = []byte(failures)
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
