package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// PurchasePlan is a commitment purchase (or renewal, or Marketplace sale)
// plan of a tenant. The store keeps the plan itself as JSON; its state
// machine and its meaning belong to internal/purchase.
type PurchasePlan struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	Kind         string                 `json:"kind"`
	State        string                 `json:"state"`
	Spec         json.RawMessage        `json:"spec"`
	CreatedBy    string                 `json:"created_by"`
	Person       string                 `json:"person,omitempty"`
	CreatedAt    time.Time              `json:"created_at"`
	UpdatedAt    time.Time              `json:"updated_at"`
	Tranches     []PurchaseTranche      `json:"tranches"`
}

// PurchaseTranche is one purchase of a plan and the durable state of its
// step: what was sent (ClientToken), what AWS returned (CommitmentID).
type PurchaseTranche struct {
	Index        int       `json:"index"`
	Due          time.Time `json:"due"`
	ClientToken  string    `json:"client_token"`
	State        string    `json:"state"`
	CommitmentID string    `json:"commitment_id,omitempty"`
	Error        string    `json:"error,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PurchaseGuardrails are a tenant's limits on new commitments; 0 is no
// limit.
type PurchaseGuardrails struct {
	MaxHourlyPerMonth float64   `json:"max_hourly_commitment_per_month"`
	MaxUpfront        float64   `json:"max_upfront"`
	MinUtilization    float64   `json:"min_expected_utilization"`
	UpdatedBy         string    `json:"updated_by,omitempty"`
	UpdatedAt         time.Time `json:"updated_at,omitzero"`
}

// Audit actions of purchase plans; state changes are "purchase.plan." or
// "purchase.tranche." followed by the new state.
const (
	AuditPurchasePlanCreated  = "purchase.plan.created"
	AuditPurchaseGuardrailSet = "purchase.guardrails.set"
)

// CreatePurchasePlan stores a new plan and its tranches (their client
// tokens derive from the plan's ID, which is set here), with its audit
// line, in one transaction.
func (s *Store) CreatePurchasePlan(ctx context.Context, p PurchasePlan, by AuditEntry) (PurchasePlan, error) {
	const op = "purchase plan create"
	if !json.Valid(p.Spec) {
		return PurchasePlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "the plan is not JSON")
	}
	idPart, err := randomString(10)
	if err != nil {
		return PurchasePlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	now := s.now().Truncate(time.Microsecond)
	p.ID, p.CreatedAt, p.UpdatedAt, p.CreatedBy, p.Person = "pp_"+idPart, now, now, by.Actor, by.PersonEmail
	for i := range p.Tranches {
		t := &p.Tranches[i]
		t.Index, t.UpdatedAt = i, now
		t.ClientToken = p.ID + "-" + strconv.Itoa(i)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return PurchasePlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO purchase_plans(id, tenant_id, connection_id, kind, state, spec, created_by, person, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, string(p.TenantID), string(p.ConnectionID), p.Kind, p.State, string(p.Spec),
		p.CreatedBy, p.Person, formatStamp(now), formatStamp(now)); err != nil {
		return PurchasePlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for _, t := range p.Tranches {
		if _, err := tx.ExecContext(ctx, `INSERT INTO purchase_tranches(plan_id, tenant_id, idx, due, client_token, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, string(p.TenantID), t.Index, formatStamp(t.Due), t.ClientToken, t.State, formatStamp(now)); err != nil {
			return PurchasePlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	by.Action, by.TenantID, by.Subject = AuditPurchasePlanCreated, p.TenantID, p.ID
	if err := s.appendAudit(ctx, tx, by, map[string]any{"kind": p.Kind, "connection": p.ConnectionID, "state": p.State, "tranches": len(p.Tranches), "plan": p.Spec}); err != nil {
		return PurchasePlan{}, err
	}
	if err := tx.Commit(); err != nil {
		return PurchasePlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return p, nil
}

const purchasePlanCols = `id, tenant_id, connection_id, kind, state, spec, created_by, person, created_at, updated_at`

func scanPurchasePlan(r scanner) (PurchasePlan, error) {
	var p PurchasePlan
	var tenant, conn, spec, created, updated string
	if err := r.Scan(&p.ID, &tenant, &conn, &p.Kind, &p.State, &spec, &p.CreatedBy, &p.Person, &created, &updated); err != nil {
		return PurchasePlan{}, err
	}
	p.TenantID, p.ConnectionID, p.Spec = crossbill.TenantID(tenant), crossbill.ConnectionID(conn), json.RawMessage(spec)
	var err error
	if p.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return PurchasePlan{}, err
	}
	if p.UpdatedAt, err = time.Parse(time.RFC3339Nano, updated); err != nil {
		return PurchasePlan{}, err
	}
	return p, nil
}

// PurchasePlan returns one of a tenant's plans with its tranches; another
// tenant's is NotFound.
func (s *Store) PurchasePlan(ctx context.Context, tenant crossbill.TenantID, id string) (PurchasePlan, error) {
	p, err := scanPurchasePlan(s.db.QueryRowContext(ctx, `SELECT `+purchasePlanCols+` FROM purchase_plans WHERE tenant_id = ? AND id = ?`, string(tenant), id))
	if err != nil {
		return PurchasePlan{}, notFound(err, "purchase plan", "no purchase plan %q in this tenant: `crossbill commitments plans` lists them", id)
	}
	if p.Tranches, err = s.purchaseTranches(ctx, tenant, id); err != nil {
		return PurchasePlan{}, err
	}
	return p, nil
}

func (s *Store) purchaseTranches(ctx context.Context, tenant crossbill.TenantID, id string) ([]PurchaseTranche, error) {
	const op = "purchase plan"
	rows, err := s.db.QueryContext(ctx, `SELECT idx, due, client_token, state, commitment_id, error, updated_at FROM purchase_tranches
		WHERE tenant_id = ? AND plan_id = ? ORDER BY idx`, string(tenant), id)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []PurchaseTranche{}
	for rows.Next() {
		var t PurchaseTranche
		var due, updated string
		if err := rows.Scan(&t.Index, &due, &t.ClientToken, &t.State, &t.CommitmentID, &t.Error, &updated); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if t.Due, err = time.Parse(time.RFC3339Nano, due); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if t.UpdatedAt, err = time.Parse(time.RFC3339Nano, updated); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// PurchasePlans lists a tenant's plans, newest first, with their tranches.
func (s *Store) PurchasePlans(ctx context.Context, tenant crossbill.TenantID) ([]PurchasePlan, error) {
	const op = "purchase plan list"
	rows, err := s.db.QueryContext(ctx, `SELECT `+purchasePlanCols+` FROM purchase_plans WHERE tenant_id = ? ORDER BY created_at DESC, id`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	out := []PurchasePlan{}
	for rows.Next() {
		p, err := scanPurchasePlan(rows)
		if err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for i := range out {
		if out[i].Tranches, err = s.purchaseTranches(ctx, tenant, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MovePurchasePlan moves a plan from one of the states in from to the
// state to, with an audit line "purchase.plan.<to>" carrying detail, in
// one transaction. A plan in another state is a Conflict naming it: two
// callers racing to move it, only one wins.
func (s *Store) MovePurchasePlan(ctx context.Context, tenant crossbill.TenantID, id string, from []string, to string, by AuditEntry, detail any) error {
	const op = "purchase plan"
	return s.purchaseTx(ctx, op, func(tx *sql.Tx) error {
		args := []any{to, formatStamp(s.now()), string(tenant), id}
		for _, f := range from {
			args = append(args, f)
		}
		res, err := tx.ExecContext(ctx, `UPDATE purchase_plans SET state = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND state IN (`+purchaseInList(len(from))+`)`, args...)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return s.planStateConflict(ctx, tenant, id, to)
		}
		by.Action, by.TenantID, by.Subject = "purchase.plan."+to, tenant, id
		return s.appendAudit(ctx, tx, by, detail)
	})
}

func (s *Store) planStateConflict(ctx context.Context, tenant crossbill.TenantID, id, to string) error {
	var state string
	err := s.db.QueryRowContext(ctx, `SELECT state FROM purchase_plans WHERE tenant_id = ? AND id = ?`, string(tenant), id).Scan(&state)
	if err != nil {
		return notFound(err, "purchase plan", "no purchase plan %q in this tenant: `crossbill commitments plans` lists them", id)
	}
	return crossbill.Errorf(crossbill.CodeConflict, "purchase plan", "plan %s is %s, so it cannot become %s", id, state, to)
}

// TrancheUpdate is a tranche's new step state.
type TrancheUpdate struct {
	State        string
	CommitmentID string // kept when empty
	Error        string
}

// MovePurchaseTranche moves tranche idx of a plan from one of the states
// in from to u, with an audit line "purchase.tranche.<state>", in one
// transaction; another state is a Conflict. The step state is written
// before each AWS call and after it, so a crash in between leaves the
// tranche "buying" and the next execution knows to reconcile, not buy.
func (s *Store) MovePurchaseTranche(ctx context.Context, tenant crossbill.TenantID, plan string, idx int, from []string, u TrancheUpdate, by AuditEntry, detail any) error {
	const op = "purchase tranche"
	return s.purchaseTx(ctx, op, func(tx *sql.Tx) error {
		args := []any{u.State, u.CommitmentID, u.Error, formatStamp(s.now()), string(tenant), plan, idx}
		for _, f := range from {
			args = append(args, f)
		}
		res, err := tx.ExecContext(ctx, `UPDATE purchase_tranches SET state = ?, commitment_id = COALESCE(NULLIF(?, ''), commitment_id), error = ?, updated_at = ?
			WHERE tenant_id = ? AND plan_id = ? AND idx = ? AND state IN (`+purchaseInList(len(from))+`)`, args...)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return crossbill.Errorf(crossbill.CodeConflict, op, "tranche %d of plan %s is no longer %s: reload the plan", idx, plan, strings.Join(from, " or "))
		}
		by.Action, by.TenantID, by.Subject = "purchase.tranche."+u.State, tenant, plan
		return s.appendAudit(ctx, tx, by, map[string]any{"tranche": idx, "commitment": u.CommitmentID, "error": u.Error, "detail": detail})
	})
}

// PurchaseGuardrails returns a tenant's guardrails (zero: none set).
func (s *Store) PurchaseGuardrails(ctx context.Context, tenant crossbill.TenantID) (PurchaseGuardrails, error) {
	var g PurchaseGuardrails
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT max_hourly_per_month, max_upfront, min_utilization, updated_by, updated_at FROM purchase_guardrails WHERE tenant_id = ?`,
		string(tenant)).Scan(&g.MaxHourlyPerMonth, &g.MaxUpfront, &g.MinUtilization, &g.UpdatedBy, &at)
	switch {
	case err == sql.ErrNoRows:
		return PurchaseGuardrails{}, nil
	case err != nil:
		return PurchaseGuardrails{}, crossbill.Errorf(crossbill.CodeInternal, "purchase guardrails", "%w", err)
	}
	if g.UpdatedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return PurchaseGuardrails{}, crossbill.Errorf(crossbill.CodeInternal, "purchase guardrails", "%w", err)
	}
	return g, nil
}

// SetPurchaseGuardrails replaces a tenant's guardrails, with the old and
// new values in the audit log.
func (s *Store) SetPurchaseGuardrails(ctx context.Context, tenant crossbill.TenantID, g PurchaseGuardrails, by AuditEntry) (PurchaseGuardrails, error) {
	const op = "purchase guardrails"
	old, err := s.PurchaseGuardrails(ctx, tenant)
	if err != nil {
		return PurchaseGuardrails{}, err
	}
	g.UpdatedBy, g.UpdatedAt = purchaseWho(by), s.now().Truncate(time.Microsecond)
	err = s.purchaseTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO purchase_guardrails(tenant_id, max_hourly_per_month, max_upfront, min_utilization, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET max_hourly_per_month = excluded.max_hourly_per_month,
			max_upfront = excluded.max_upfront, min_utilization = excluded.min_utilization, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			string(tenant), g.MaxHourlyPerMonth, g.MaxUpfront, g.MinUtilization, g.UpdatedBy, formatStamp(g.UpdatedAt)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = AuditPurchaseGuardrailSet, tenant, string(tenant)
		return s.appendAudit(ctx, tx, by, map[string]any{"old": old, "new": g})
	})
	if err != nil {
		return PurchaseGuardrails{}, err
	}
	return g, nil
}

func purchaseWho(by AuditEntry) string {
	if by.PersonEmail != "" {
		return by.PersonEmail
	}
	return by.Actor
}

// purchaseTx runs f in a transaction and commits it when f succeeds.
func (s *Store) purchaseTx(ctx context.Context, op string, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

func purchaseInList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
