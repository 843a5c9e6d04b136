package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"time"

	"github.com/crossbill/crossbill"
)

// AlertRule is a tenant's alert rule; internal/alerts reads and checks its
// params and evaluates it.
type AlertRule struct {
	ID        string             `json:"id"`
	TenantID  crossbill.TenantID `json:"tenant_id"`
	Name      string             `json:"name"`
	Kind      string             `json:"kind"`
	Params    json.RawMessage    `json:"params"`
	CreatedBy string             `json:"created_by"`
	CreatedAt time.Time          `json:"created_at"`
	LastRunAt *time.Time         `json:"last_run_at,omitempty"`
	LastFired int                `json:"last_fired"`
	LastError string             `json:"last_error,omitempty"`
}

// Audit actions of alert rule changes.
const (
	AuditAlertRuleCreate = "alerts.rule.create"
	AuditAlertRuleDelete = "alerts.rule.delete"
)

// CreateAlertRule saves r (ID and time set here) unless the tenant has a
// rule of that name (Conflict) or max rules (Invalid), with its audit line
// (by: who) in the same transaction.
func (s *Store) CreateAlertRule(ctx context.Context, r AlertRule, max int, by AuditEntry) (AlertRule, error) {
	const op = "rule add"
	idPart, err := randomString(8)
	if err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	r.ID, r.CreatedAt = "alr_"+idPart, s.now().Truncate(time.Microsecond)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `INSERT INTO alert_rules(id, tenant_id, name, kind, params, created_by, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM alert_rules WHERE tenant_id = ?) < ?
		ON CONFLICT (tenant_id, name) DO NOTHING`,
		r.ID, string(r.TenantID), r.Name, r.Kind, string(r.Params), r.CreatedBy, formatStamp(r.CreatedAt), string(r.TenantID), max)
	if err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 1 {
		by.Action, by.TenantID, by.Subject = AuditAlertRuleCreate, r.TenantID, r.ID
		if err := s.appendAudit(ctx, tx, by, map[string]any{"name": r.Name, "kind": r.Kind, "params": r.Params}); err != nil {
			return AlertRule{}, err
		}
		if err := tx.Commit(); err != nil {
			return AlertRule{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
		}
		return r, nil
	}
	tx.Rollback() //nolint:errcheck // nothing was written
	if _, err := s.AlertRule(ctx, r.TenantID, r.Name); err == nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeConflict, op, "a rule named %q exists: pick another name or remove it first", r.Name)
	}
	return AlertRule{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the tenant has %d rules, the most it may keep: remove one first", max)
}

const ruleCols = `id, tenant_id, name, kind, params, created_by, created_at, last_run_at, last_fired, last_error`

func scanRule(sc scanner) (AlertRule, error) {
	var r AlertRule
	var tenant, params, at string
	var run sql.NullString
	if err := sc.Scan(&r.ID, &tenant, &r.Name, &r.Kind, &params, &r.CreatedBy, &at, &run, &r.LastFired, &r.LastError); err != nil {
		return r, err
	}
	r.TenantID, r.Params = crossbill.TenantID(tenant), json.RawMessage(params)
	var err error
	if r.LastRunAt, err = parseStampPtr(run); err != nil {
		return r, err
	}
	r.CreatedAt, err = time.Parse(time.RFC3339Nano, at)
	return r, err
}

// AlertRules lists the tenant's rules by name.
func (s *Store) AlertRules(ctx context.Context, tenant crossbill.TenantID) ([]AlertRule, error) {
	const op = "rules"
	rows, err := s.db.QueryContext(ctx, `SELECT `+ruleCols+` FROM alert_rules WHERE tenant_id = ?`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []AlertRule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AlertRule is the tenant's rule named ref (or with that ID); another
// tenant's rule is NotFound like a missing one.
func (s *Store) AlertRule(ctx context.Context, tenant crossbill.TenantID, ref string) (AlertRule, error) {
	r, err := scanRule(s.db.QueryRowContext(ctx, `SELECT `+ruleCols+` FROM alert_rules WHERE tenant_id = ? AND (name = ? OR id = ?)`, string(tenant), ref, ref))
	if err == sql.ErrNoRows {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeNotFound, "rule", "no alert rule %q: list them with `crossbill alerts rule list` or GET .../alerts/rules", ref)
	}
	if err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, "rule", "%w", err)
	}
	return r, nil
}

// DeleteAlertRule removes the tenant's rule, with its audit line (by:
// who) in the same transaction.
func (s *Store) DeleteAlertRule(ctx context.Context, tenant crossbill.TenantID, ref string, by AuditEntry) (AlertRule, error) {
	const op = "rule remove"
	r, err := s.AlertRule(ctx, tenant, ref)
	if err != nil {
		return AlertRule{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `DELETE FROM alert_rules WHERE tenant_id = ? AND id = ?`, string(tenant), r.ID)
	if err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 0 { // removed meanwhile, by another request
		return AlertRule{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no alert rule %q: it was just removed", ref)
	}
	by.Action, by.TenantID, by.Subject = AuditAlertRuleDelete, tenant, r.ID
	if err := s.appendAudit(ctx, tx, by, map[string]any{"name": r.Name, "kind": r.Kind}); err != nil {
		return AlertRule{}, err
	}
	if err := tx.Commit(); err != nil {
		return AlertRule{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return r, nil
}

// RecordAlertRun records a rule's evaluation: how many firings, or why it
// could not be evaluated.
func (s *Store) RecordAlertRun(ctx context.Context, tenant crossbill.TenantID, id string, fired int, errText string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE alert_rules SET last_run_at = ?, last_fired = ?, last_error = ? WHERE tenant_id = ? AND id = ?`,
		formatStamp(s.now()), fired, errText, string(tenant), id); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "rule run", "%w", err)
	}
	return nil
}

// TenantsWithAlertRules are the tenants that have rules: the server keeps
// a daily alerts job for each.
func (s *Store) TenantsWithAlertRules(ctx context.Context) ([]crossbill.TenantID, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM alert_rules`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "rules", "%w", err)
	}
	defer rows.Close()
	var out []crossbill.TenantID
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "rules", "%w", err)
		}
		out = append(out, crossbill.TenantID(t))
	}
	return out, rows.Err()
}
