package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crossbill/crossbill"
)

// Audit actions.
const (
	// AuditBindingRelease: an operator released an account from its tenant.
	AuditBindingRelease = "binding.release"
	// AuditBindingRefused: a verification could not bind a role or account
	// because another tenant holds it; the caller saw an ordinary failure.
	AuditBindingRefused = "binding.refused"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID       int64              `json:"id"`
	At       time.Time          `json:"at"`
	Actor    string             `json:"actor"`
	Action   string             `json:"action"`
	TenantID crossbill.TenantID `json:"tenant_id,omitempty"`
	Subject  string             `json:"subject,omitempty"`
	Detail   json.RawMessage    `json:"detail"`
}

// execer is what appendAudit writes through: the store's handle or a
// transaction, so an audited change and its line commit together.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// appendAudit writes one audit line; detail is marshalled to JSON.
func (s *Store) appendAudit(ctx context.Context, db execer, e AuditEntry, detail any) error {
	const op = "audit append"
	if e.Actor == "" || e.Action == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "an audit line needs an actor and an action")
	}
	js, err := json.Marshal(detail)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if detail == nil {
		js = []byte("{}")
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO audit_log(at, actor, action, tenant_id, subject, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		s.now().UTC().Format(timeMillis), e.Actor, e.Action, string(e.TenantID), e.Subject, string(js)); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// AppendAudit writes one audit line on its own.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry, detail any) error {
	return s.appendAudit(ctx, s.db, e, detail)
}

// AuditLog lists audit lines, oldest first; action and tenant filter when
// not empty.
func (s *Store) AuditLog(ctx context.Context, action string, tenant crossbill.TenantID) ([]AuditEntry, error) {
	const op = "audit list"
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, action, tenant_id, subject, detail FROM audit_log
		WHERE (? = '' OR action = ?) AND (? = '' OR tenant_id = ?) ORDER BY id`, action, action, string(tenant), string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at, tenantID, detail string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &tenantID, &e.Subject, &detail); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if e.At, err = time.Parse(timeMillis, at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "audit line %d: %w", e.ID, err)
		}
		e.TenantID, e.Detail = crossbill.TenantID(tenantID), json.RawMessage(detail)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
