package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/crossbill/crossbill"
)

// OrgHandshake is an invitation of a customer account into the hub's
// commitment-sharing organization.
type OrgHandshake struct {
	ID          string              `json:"id"`
	TenantID    crossbill.TenantID  `json:"tenant_id"`
	AccountID   crossbill.AccountID `json:"account_id"`
	State       string              `json:"state"`
	RequestedAt time.Time           `json:"requested_at"`
	ExpiresAt   time.Time           `json:"expires_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	CreatedBy   string              `json:"created_by"`
}

// SaveHandshake records a new invitation with its audit line.
func (s *Store) SaveHandshake(ctx context.Context, h OrgHandshake, by AuditEntry) (OrgHandshake, error) {
	const op = "org invite"
	h.UpdatedAt, h.CreatedBy = s.now().Truncate(time.Microsecond), purchaseWho(by)
	err := s.purchaseTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO org_handshakes(id, tenant_id, account_id, state, requested_at, expires_at, updated_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, h.ID, string(h.TenantID), string(h.AccountID), h.State, formatStamp(h.RequestedAt), formatStamp(h.ExpiresAt),
			formatStamp(h.UpdatedAt), h.CreatedBy); err != nil {
			if isUniqueViolation(err) {
				return crossbill.Errorf(crossbill.CodeConflict, op, "handshake %s is already recorded", h.ID)
			}
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = "org.invite", h.TenantID, h.ID
		return s.appendAudit(ctx, tx, by, map[string]string{"account": string(h.AccountID), "state": h.State})
	})
	return h, err
}

// Handshakes lists a tenant's invitations, newest first.
func (s *Store) Handshakes(ctx context.Context, tenant crossbill.TenantID) ([]OrgHandshake, error) {
	const op = "org handshakes"
	rows, err := s.db.QueryContext(ctx, `SELECT id, account_id, state, requested_at, expires_at, updated_at, created_by FROM org_handshakes
		WHERE tenant_id = ? ORDER BY requested_at DESC, id`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []OrgHandshake{}
	for rows.Next() {
		h := OrgHandshake{TenantID: tenant}
		var acct, req, exp, upd string
		if err := rows.Scan(&h.ID, &acct, &h.State, &req, &exp, &upd, &h.CreatedBy); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		h.AccountID = crossbill.AccountID(acct)
		for _, p := range []struct {
			s string
			t *time.Time
		}{{req, &h.RequestedAt}, {exp, &h.ExpiresAt}, {upd, &h.UpdatedAt}} {
			if *p.t, err = time.Parse(time.RFC3339Nano, p.s); err != nil {
				return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
			}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// SetHandshakeState records a handshake's new state, with an audit line
// "org.handshake.<state>", when it changed; another tenant's is NotFound.
func (s *Store) SetHandshakeState(ctx context.Context, tenant crossbill.TenantID, id, state string, by AuditEntry) error {
	const op = "org handshake"
	return s.purchaseTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE org_handshakes SET state = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND state <> ?`,
			state, formatStamp(s.now()), string(tenant), id, state)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var cur string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM org_handshakes WHERE tenant_id = ? AND id = ?`, string(tenant), id).Scan(&cur); err != nil {
				return notFound(err, op, "no invitation %q in this tenant: `crossbill org handshakes` lists them", id)
			}
			return nil // unchanged
		}
		by.Action, by.TenantID, by.Subject = "org.handshake."+state, tenant, id
		return s.appendAudit(ctx, tx, by, nil)
	})
}
