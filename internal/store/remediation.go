package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
)

// Audit actions of remediation (internal/remediation owns their meaning).
const (
	AuditRemediationPlan  = "remediation.plan"
	AuditRemediationState = "remediation.state"
	AuditRemediationStep  = "remediation.step"
	AuditRemediationMark  = "remediation.mark"
	AuditRemediationUnmk  = "remediation.unmark"
)

// RemediationPlan is a stored remediation plan; Plan is its JSON, whose
// shape internal/remediation owns.
type RemediationPlan struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	State        string                 `json:"state"`
	RequestedBy  string                 `json:"requested_by"`
	Person       string                 `json:"person,omitempty"`
	Plan         json.RawMessage        `json:"plan"`
	CreatedAt    time.Time              `json:"created_at"`
	UpdatedAt    time.Time              `json:"updated_at"`
}

// RemediationStep is one line of a plan's durable step log.
type RemediationStep struct {
	PlanID     string          `json:"plan_id"`
	Item       int             `json:"item"`
	Step       int             `json:"step"`
	Op         string          `json:"op"`
	Status     string          `json:"status"` // started | done | failed
	Output     json.RawMessage `json:"output"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
}

// Step statuses.
const (
	StepStarted = "started"
	StepDone    = "done"
	StepFailed  = "failed"
)

// CreateRemediationPlan stores p (ID, times and requester set by the
// caller) with its audit line, in one transaction.
func (s *Store) CreateRemediationPlan(ctx context.Context, p RemediationPlan, by AuditEntry, detail any) (RemediationPlan, error) {
	const op = "remediation plan"
	if !json.Valid(p.Plan) {
		return RemediationPlan{}, crossbill.Errorf(crossbill.CodeInternal, op, "plan is not JSON")
	}
	p.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	p.UpdatedAt = p.CreatedAt
	err := s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_plans(id, tenant_id, connection_id, state, requested_by, person, plan, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, string(p.TenantID), string(p.ConnectionID), p.State, p.RequestedBy, p.Person, string(p.Plan),
			formatStamp(p.CreatedAt), formatStamp(p.UpdatedAt)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationPlan, p.TenantID, p.ID
		return s.appendAudit(ctx, tx, by, detail)
	})
	return p, err
}

const remediationPlanCols = `id, tenant_id, connection_id, state, requested_by, person, plan, created_at, updated_at`

func scanRemediationPlan(sc scanner) (RemediationPlan, error) {
	var p RemediationPlan
	var tenant, conn, plan, created, updated string
	if err := sc.Scan(&p.ID, &tenant, &conn, &p.State, &p.RequestedBy, &p.Person, &plan, &created, &updated); err != nil {
		return p, err
	}
	p.TenantID, p.ConnectionID, p.Plan = crossbill.TenantID(tenant), crossbill.ConnectionID(conn), json.RawMessage(plan)
	var err error
	if p.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return p, err
	}
	p.UpdatedAt, err = time.Parse(time.RFC3339Nano, updated)
	return p, err
}

// RemediationPlanByID returns one of a tenant's plans; another tenant's is
// NotFound like a missing one.
func (s *Store) RemediationPlanByID(ctx context.Context, tenant crossbill.TenantID, id string) (RemediationPlan, error) {
	p, err := scanRemediationPlan(s.db.QueryRowContext(ctx, `SELECT `+remediationPlanCols+` FROM remediation_plans WHERE tenant_id = ? AND id = ?`, string(tenant), id))
	if err != nil {
		return RemediationPlan{}, notFound(err, "remediation plan", "no remediation plan %q in this tenant: `crossbill remediate list` shows them", id)
	}
	return p, nil
}

// RemediationPlans lists a tenant's plans, newest first; state filters
// when not empty. tenant "" lists every tenant's (the scheduler's sweep).
func (s *Store) RemediationPlans(ctx context.Context, tenant crossbill.TenantID, state string) ([]RemediationPlan, error) {
	const op = "remediation plan list"
	rows, err := s.db.QueryContext(ctx, `SELECT `+remediationPlanCols+` FROM remediation_plans
		WHERE (? = '' OR tenant_id = ?) AND (? = '' OR state = ?) ORDER BY created_at DESC, id`, string(tenant), string(tenant), state, state)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []RemediationPlan{}
	for rows.Next() {
		p, err := scanRemediationPlan(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// SetRemediationPlanState moves a plan from one of the states in from to
// to, storing plan when not nil, with its audit line; a plan in another
// state is a Conflict naming it (two runners cannot both take a plan).
func (s *Store) SetRemediationPlanState(ctx context.Context, tenant crossbill.TenantID, id string, from []string, to string, plan json.RawMessage, by AuditEntry, detail any) (RemediationPlan, error) {
	const op = "remediation plan state"
	var out RemediationPlan
	err := s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		p, err := scanRemediationPlan(tx.QueryRowContext(ctx, `SELECT `+remediationPlanCols+` FROM remediation_plans WHERE tenant_id = ? AND id = ?`, string(tenant), id))
		if err != nil {
			return notFound(err, op, "no remediation plan %q in this tenant", id)
		}
		if !slices.Contains(from, p.State) {
			return crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is %s, not %v", id, p.State, from)
		}
		if plan != nil {
			p.Plan = plan
		}
		p.State, p.UpdatedAt = to, s.now().UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_plans SET state = ?, plan = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			p.State, string(p.Plan), formatStamp(p.UpdatedAt), string(tenant), id); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationState, tenant, id
		out = p
		return s.appendAudit(ctx, tx, by, detail)
	})
	return out, err
}

// RemediationSteps returns a plan's step log in item then step order.
func (s *Store) RemediationSteps(ctx context.Context, tenant crossbill.TenantID, planID string) ([]RemediationStep, error) {
	const op = "remediation steps"
	rows, err := s.db.QueryContext(ctx, `SELECT plan_id, item, step, op, status, output, started_at, finished_at FROM remediation_steps
		WHERE tenant_id = ? AND plan_id = ? ORDER BY item, step`, string(tenant), planID)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []RemediationStep{}
	for rows.Next() {
		var st RemediationStep
		var output, started, finished string
		if err := rows.Scan(&st.PlanID, &st.Item, &st.Step, &st.Op, &st.Status, &output, &started, &finished); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		st.Output = json.RawMessage(output)
		if st.StartedAt, err = time.Parse(time.RFC3339Nano, started); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if finished != "" {
			if st.FinishedAt, err = time.Parse(time.RFC3339Nano, finished); err != nil {
				return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
			}
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// StartRemediationStep records that a step is about to call AWS. A step
// already done is a Conflict: the caller must not repeat it.
func (s *Store) StartRemediationStep(ctx context.Context, tenant crossbill.TenantID, planID string, item, step int, opName string) error {
	const op = "remediation step start"
	now := formatStamp(s.now().UTC())
	return s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM remediation_steps WHERE tenant_id = ? AND plan_id = ? AND item = ? AND step = ?`,
			string(tenant), planID, item, step).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO remediation_steps(plan_id, tenant_id, item, step, op, status, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				planID, string(tenant), item, step, opName, StepStarted, now)
		case err != nil:
		case status == StepDone:
			return crossbill.Errorf(crossbill.CodeConflict, op, "step %d.%d of plan %s is done already", item, step, planID)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, started_at = ?, finished_at = '' WHERE tenant_id = ? AND plan_id = ? AND item = ? AND step = ?`,
				StepStarted, now, string(tenant), planID, item, step)
		}
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		return nil
	})
}

// FinishRemediationStep records a step's outcome (done or failed) and its
// output, with the step's audit line, in one transaction.
func (s *Store) FinishRemediationStep(ctx context.Context, tenant crossbill.TenantID, planID string, item, step int, status string, output any, by AuditEntry) error {
	const op = "remediation step finish"
	js, err := json.Marshal(output)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, output = ?, finished_at = ? WHERE tenant_id = ? AND plan_id = ? AND item = ? AND step = ? AND status = ?`,
			status, string(js), formatStamp(s.now().UTC()), string(tenant), planID, item, step, StepStarted)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return crossbill.Errorf(crossbill.CodeConflict, op, "step %d.%d of plan %s was not started", item, step, planID)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationStep, tenant, planID
		return s.appendAudit(ctx, tx, by, map[string]any{"item": item, "step": step, "status": status, "output": json.RawMessage(js)})
	})
}

// RemediationMark is a resource tagged for a later action (mark-for-op).
type RemediationMark struct {
	TenantID     crossbill.TenantID     `json:"-"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	ARN          string                 `json:"arn"`
	Action       string                 `json:"action"`
	AccountID    crossbill.AccountID    `json:"account_id"`
	Region       string                 `json:"region"`
	Due          string                 `json:"due"` // YYYY-MM-DD
	MarkedAt     time.Time              `json:"marked_at"`
}

// SaveRemediationMark records (or replaces) the mark of m.ARN, with its
// audit line.
func (s *Store) SaveRemediationMark(ctx context.Context, m RemediationMark, by AuditEntry) error {
	const op = "remediation mark"
	m.MarkedAt = s.now().UTC()
	return s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_marks(tenant_id, connection_id, arn, action, account_id, region, due, marked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, arn) DO UPDATE SET action = excluded.action, due = excluded.due, marked_at = excluded.marked_at`,
			string(m.TenantID), string(m.ConnectionID), m.ARN, m.Action, string(m.AccountID), m.Region, m.Due, formatStamp(m.MarkedAt)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationMark, m.TenantID, m.ARN
		return s.appendAudit(ctx, tx, by, map[string]any{"action": m.Action, "due": m.Due, "connection": m.ConnectionID})
	})
}

// RemediationMarks lists a connection's marks, by ARN.
func (s *Store) RemediationMarks(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) ([]RemediationMark, error) {
	const op = "remediation marks"
	rows, err := s.db.QueryContext(ctx, `SELECT connection_id, arn, action, account_id, region, due, marked_at FROM remediation_marks
		WHERE tenant_id = ? AND connection_id = ? ORDER BY arn`, string(tenant), string(conn))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []RemediationMark{}
	for rows.Next() {
		m := RemediationMark{TenantID: tenant}
		var c, acct, at string
		if err := rows.Scan(&c, &m.ARN, &m.Action, &acct, &m.Region, &m.Due, &at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		m.ConnectionID, m.AccountID = crossbill.ConnectionID(c), crossbill.AccountID(acct)
		if m.MarkedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// DeleteRemediationMark forgets arn's mark, with its audit line (reason:
// why it was removed).
func (s *Store) DeleteRemediationMark(ctx context.Context, tenant crossbill.TenantID, arn, reason string, by AuditEntry) error {
	const op = "remediation unmark"
	return s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM remediation_marks WHERE tenant_id = ? AND arn = ?`, string(tenant), arn); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationUnmk, tenant, arn
		return s.appendAudit(ctx, tx, by, map[string]any{"reason": reason})
	})
}

// remediationTx runs fn in a transaction and commits it.
func (s *Store) remediationTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return nil
}

// AuditRemediationSchedule: a schedule was created or deleted.
const AuditRemediationSchedule = "remediation.schedule"

// RemediationSchedule is a stored off-hours schedule; Spec is its JSON.
type RemediationSchedule struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	Name         string                 `json:"name"`
	Spec         json.RawMessage        `json:"spec"`
	ApprovalID   string                 `json:"approval_id"`
	CreatedBy    string                 `json:"created_by"`
	Person       string                 `json:"person,omitempty"`
	LastDesired  string                 `json:"last_desired,omitempty"`
	CreatedAt    time.Time              `json:"created_at"`
}

// CreateRemediationSchedule stores sc with its audit line; a name the
// tenant already uses is a Conflict.
func (s *Store) CreateRemediationSchedule(ctx context.Context, sc RemediationSchedule, by AuditEntry) (RemediationSchedule, error) {
	const op = "remediation schedule"
	sc.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	err := s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO remediation_schedules(id, tenant_id, connection_id, name, spec, approval_id, created_by, person, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, name) DO NOTHING`, sc.ID, string(sc.TenantID), string(sc.ConnectionID), sc.Name, string(sc.Spec),
			sc.ApprovalID, sc.CreatedBy, sc.Person, formatStamp(sc.CreatedAt))
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return crossbill.Errorf(crossbill.CodeConflict, op, "a schedule named %q exists: pick another name or delete it first", sc.Name)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationSchedule, sc.TenantID, sc.ID
		return s.appendAudit(ctx, tx, by, map[string]any{"created": sc.Name, "spec": sc.Spec, "approval": sc.ApprovalID})
	})
	return sc, err
}

// RemediationSchedules lists a tenant's schedules (conn "" for all its
// connections), by name.
func (s *Store) RemediationSchedules(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) ([]RemediationSchedule, error) {
	const op = "remediation schedules"
	rows, err := s.db.QueryContext(ctx, `SELECT id, connection_id, name, spec, approval_id, created_by, person, last_desired, created_at FROM remediation_schedules
		WHERE tenant_id = ? AND (? = '' OR connection_id = ?) ORDER BY name`, string(tenant), string(conn), string(conn))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []RemediationSchedule{}
	for rows.Next() {
		sc := RemediationSchedule{TenantID: tenant}
		var c, spec, at string
		if err := rows.Scan(&sc.ID, &c, &sc.Name, &spec, &sc.ApprovalID, &sc.CreatedBy, &sc.Person, &sc.LastDesired, &at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		sc.ConnectionID, sc.Spec = crossbill.ConnectionID(c), json.RawMessage(spec)
		if sc.CreatedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// SetRemediationScheduleDesired records the state a schedule last asked
// for, if it still is from (so two replicas' jobs act once per change).
func (s *Store) SetRemediationScheduleDesired(ctx context.Context, tenant crossbill.TenantID, id, from, to string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE remediation_schedules SET last_desired = ? WHERE tenant_id = ? AND id = ? AND last_desired = ?`, to, string(tenant), id, from)
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, "remediation schedule", "%w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteRemediationSchedule deletes a tenant's schedule by name, with its
// audit line; another tenant's is NotFound like a missing one.
func (s *Store) DeleteRemediationSchedule(ctx context.Context, tenant crossbill.TenantID, name string, by AuditEntry) error {
	const op = "remediation schedule delete"
	return s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM remediation_schedules WHERE tenant_id = ? AND name = ?`, string(tenant), name).Scan(&id); err != nil {
			return notFound(err, op, "no schedule %q in this tenant", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM remediation_schedules WHERE tenant_id = ? AND id = ?`, string(tenant), id); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		by.Action, by.TenantID, by.Subject = AuditRemediationSchedule, tenant, id
		return s.appendAudit(ctx, tx, by, map[string]any{"deleted": name})
	})
}

// ClaimRemediationPlan moves a plan to running for one runner: only if it
// is still in state and unchanged since updatedAt, so of two runners (the
// CLI and the job, or two replicas) that read the same plan one wins and
// the other gets a Conflict.
func (s *Store) ClaimRemediationPlan(ctx context.Context, tenant crossbill.TenantID, id, state string, updatedAt time.Time, by AuditEntry) (RemediationPlan, error) {
	const op = "remediation plan claim"
	var out RemediationPlan
	err := s.remediationTx(ctx, op, func(tx *sql.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		res, err := tx.ExecContext(ctx, `UPDATE remediation_plans SET state = 'running', updated_at = ? WHERE tenant_id = ? AND id = ? AND state = ? AND updated_at = ?`,
			formatStamp(now), string(tenant), id, state, formatStamp(updatedAt))
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return crossbill.Errorf(crossbill.CodeConflict, op, "plan %s changed since it was read (another run took it): show it again", id)
		}
		p, err := scanRemediationPlan(tx.QueryRowContext(ctx, `SELECT `+remediationPlanCols+` FROM remediation_plans WHERE tenant_id = ? AND id = ?`, string(tenant), id))
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = p
		by.Action, by.TenantID, by.Subject = AuditRemediationState, tenant, id
		return s.appendAudit(ctx, tx, by, map[string]any{"state": "running", "from": state})
	})
	return out, err
}
