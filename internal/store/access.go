package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// AccessSync is one stored sync of a connection's identities and
// entitlements. Snapshot is JSON whose shape the access package owns.
type AccessSync struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"-"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	StartedAt    time.Time              `json:"started_at"`
	FinishedAt   time.Time              `json:"finished_at"`
	Accounts     int                    `json:"accounts"`
	Errors       int                    `json:"errors"`
	Snapshot     []byte                 `json:"-"`
}

// AccessChange is one difference a sync found against the previous sync
// of the same connection.
type AccessChange struct {
	SyncID       string                 `json:"sync_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	At           time.Time              `json:"at"`
	Kind         string                 `json:"kind"`
	Principal    string                 `json:"principal"`
	Account      crossbill.AccountID    `json:"account"`
	Entitlement  string                 `json:"entitlement"`
	Detail       string                 `json:"detail"`
}

// SaveAccessSync stores a sync and its changes in one transaction and
// returns the sync with its ID.
func (s *Store) SaveAccessSync(ctx context.Context, sync AccessSync, changes []AccessChange) (AccessSync, error) {
	const op = "access sync save"
	sync.ID = "acs_" + uuid.NewString()[:18]
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO access_syncs(id, tenant_id, connection_id, started_at, finished_at, accounts, errors, snapshot)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sync.ID, string(sync.TenantID), string(sync.ConnectionID), formatStamp(sync.StartedAt),
		formatStamp(sync.FinishedAt), sync.Accounts, sync.Errors, string(sync.Snapshot)); err != nil {
		return AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_changes(sync_id, tenant_id, connection_id, at, kind, principal, account, entitlement, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sync.ID, string(sync.TenantID), string(sync.ConnectionID), formatStamp(sync.FinishedAt),
			c.Kind, c.Principal, string(c.Account), c.Entitlement, c.Detail); err != nil {
			return AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return sync, nil
}

// LatestAccessSync returns the newest sync of a tenant's connection, with
// its snapshot; NotFound when there is none (or the connection is another
// tenant's).
func (s *Store) LatestAccessSync(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) (AccessSync, error) {
	a := AccessSync{TenantID: tenant}
	var started, finished, snap string
	err := s.db.QueryRowContext(ctx, `SELECT id, connection_id, started_at, finished_at, accounts, errors, snapshot FROM access_syncs
		WHERE tenant_id = ? AND connection_id = ? ORDER BY started_at DESC, id DESC LIMIT 1`, string(tenant), string(conn)).
		Scan(&a.ID, &a.ConnectionID, &started, &finished, &a.Accounts, &a.Errors, &snap)
	if err != nil {
		return AccessSync{}, notFound(err, "access", "connection %s has no access sync yet: run `crossbill access sync` first", conn)
	}
	a.Snapshot = []byte(snap)
	if a.StartedAt, err = time.Parse(time.RFC3339Nano, started); err != nil {
		return AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, "access", "%w", err)
	}
	if a.FinishedAt, err = time.Parse(time.RFC3339Nano, finished); err != nil {
		return AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, "access", "%w", err)
	}
	return a, nil
}

// AccessChanges lists a tenant's changes at or after since, newest first;
// conn, when set, narrows them to one connection.
func (s *Store) AccessChanges(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, since time.Time) ([]AccessChange, error) {
	const op = "access changes"
	q := `SELECT sync_id, connection_id, at, kind, principal, account, entitlement, detail FROM access_changes WHERE tenant_id = ? AND at >= ?`
	args := []any{string(tenant), formatStamp(since)}
	if conn != "" {
		q += ` AND connection_id = ?`
		args = append(args, string(conn))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY at DESC, kind, principal, account, entitlement`, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []AccessChange{}
	for rows.Next() {
		var c AccessChange
		var at string
		if err := rows.Scan(&c.SyncID, &c.ConnectionID, &at, &c.Kind, &c.Principal, &c.Account, &c.Entitlement, &c.Detail); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if c.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
