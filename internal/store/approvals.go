package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Approval states.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved"
	ApprovalDenied    = "denied"
	ApprovalExpired   = "expired"
	ApprovalCancelled = "cancelled"
)

// Audit actions of approvals.
const (
	AuditApprovalOpen    = "approval.open"
	AuditApprovalApprove = "approval.approve"
	AuditApprovalDeny    = "approval.deny"
	AuditApprovalCancel  = "approval.cancel"
	AuditApprovalExpire  = "approval.expire"
)

// Approval is one request for a person's go-ahead on a write crossbill
// would make in a customer's account.
type Approval struct {
	ID              string             `json:"id"`
	TenantID        crossbill.TenantID `json:"tenant_id"`
	Kind            string             `json:"kind"`
	Subject         string             `json:"subject"`
	Summary         string             `json:"summary"`
	Detail          json.RawMessage    `json:"detail"`
	State           string             `json:"state"`
	Required        int                `json:"required"`
	Approvers       []string           `json:"approvers"`
	RequestedBy     string             `json:"requested_by"`
	RequestedPerson string             `json:"requested_person,omitempty"`
	AutoApproved    string             `json:"auto_approved,omitempty"`
	Decisions       []Decision         `json:"decisions"`
	CreatedAt       time.Time          `json:"created_at"`
	ExpiresAt       time.Time          `json:"expires_at"`
	DecidedAt       *time.Time         `json:"decided_at,omitempty"`
}

// Decision is one person's approve or deny.
type Decision struct {
	By      string    `json:"by"` // the actor
	Email   string    `json:"email,omitempty"`
	Approve bool      `json:"approve"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// NewApproval is what OpenApproval stores; the approval package validates it.
type NewApproval struct {
	Kind, Subject, Summary string
	Detail                 json.RawMessage
	Required               int
	Approvers              []string
	ExpiresAt              time.Time
	AutoApproved           string
}

// personKey names who acted for the requester-is-not-approver and
// one-decision-per-person rules: the person's email, else their IdP
// subject, else the actor (a token without a person).
func personKey(e AuditEntry) string {
	switch {
	case e.PersonEmail != "":
		return strings.ToLower(e.PersonEmail)
	case e.PersonSubject != "":
		return e.PersonSubject
	}
	return e.Actor
}

const approvalColumns = `id, tenant_id, kind, subject, summary, detail, state, required, approvers, requested_by, requested_person, auto_reason, created_at, expires_at, decided_at`

// OpenApproval records a new approval, or returns the one already open
// for (tenant, kind, subject): a retried request never opens two.
func (s *Store) OpenApproval(ctx context.Context, tenant crossbill.TenantID, n NewApproval, by AuditEntry) (Approval, error) {
	const op = "approval open"
	if a, err := s.ApprovalForSubject(ctx, tenant, n.Kind, n.Subject); err == nil {
		return a, nil
	} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		return Approval{}, err
	}
	id, err := randomString(10)
	if err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	id = "apr_" + id
	approvers, _ := json.Marshal(n.Approvers)
	if n.Approvers == nil {
		approvers = []byte("[]")
	}
	now := s.now()
	state, decided := ApprovalPending, any(nil)
	if n.AutoApproved != "" {
		state, decided = ApprovalApproved, formatStamp(now)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO approvals(`+approvalColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, string(tenant), n.Kind, n.Subject, n.Summary, string(n.Detail), state, n.Required, string(approvers),
		by.Actor, personKeyOrEmpty(by), n.AutoApproved, formatStamp(now), formatStamp(n.ExpiresAt), decided); err != nil {
		if isUniqueViolation(err) { // opened meanwhile by a retry
			return s.ApprovalForSubject(ctx, tenant, n.Kind, n.Subject)
		}
		return Approval{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.Action, by.TenantID, by.Subject = AuditApprovalOpen, tenant, id
	if err := s.appendAudit(ctx, tx, by, map[string]any{
		"kind": n.Kind, "subject": n.Subject, "summary": n.Summary, "required": n.Required,
		"approvers": n.Approvers, "expires_at": n.ExpiresAt.UTC(), "auto_approved": n.AutoApproved,
	}); err != nil {
		return Approval{}, err
	}
	if err := tx.Commit(); err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return s.Approval(ctx, tenant, id)
}

func personKeyOrEmpty(e AuditEntry) string {
	if e.PersonEmail == "" && e.PersonSubject == "" {
		return ""
	}
	return personKey(e)
}

// DecideApproval records one person's decision. The requester cannot
// decide their own request, a person decides once, only listed approvers
// decide when the approval names them; a deny ends it, and it is
// approved once Required people approved.
func (s *Store) DecideApproval(ctx context.Context, tenant crossbill.TenantID, id string, approve bool, reason string, by AuditEntry) (Approval, error) {
	const op = "approval decide"
	tx, err := s.beginApprovalTx(ctx)
	if err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	a, err := s.approvalTx(ctx, tx, tenant, id)
	if err != nil {
		return Approval{}, err
	}
	now := s.now()
	if a.State == ApprovalPending && !now.Before(a.ExpiresAt) {
		return Approval{}, crossbill.Errorf(crossbill.CodeConflict, op, "approval %s expired at %s: ask for a new request", id, a.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if a.State != ApprovalPending {
		return Approval{}, crossbill.Errorf(crossbill.CodeConflict, op, "approval %s is %s already: nothing to decide", id, a.State)
	}
	who := personKey(by)
	if who == a.RequestedPerson || by.Actor == a.RequestedBy && a.RequestedPerson == "" {
		return Approval{}, crossbill.Errorf(crossbill.CodeAccessDenied, op, "%s requested this and cannot decide it: another person with the approver role must", who)
	}
	if len(a.Approvers) > 0 && !containsFold(a.Approvers, by.PersonEmail) {
		return Approval{}, crossbill.Errorf(crossbill.CodeAccessDenied, op, "only %s may decide this approval", strings.Join(a.Approvers, ", "))
	}
	for _, d := range a.Decisions {
		if d.Email != "" && strings.EqualFold(d.Email, by.PersonEmail) || d.Email == "" && d.By == by.Actor {
			return Approval{}, crossbill.Errorf(crossbill.CodeConflict, op, "%s decided this approval already at %s: the two-person rule needs someone else", who, d.At.UTC().Format(time.RFC3339))
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO approval_decisions(approval_id, who, actor, person, approve, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, who, by.Actor, by.PersonEmail, boolInt(approve), reason, formatStamp(now)); err != nil {
		if isUniqueViolation(err) {
			return Approval{}, crossbill.Errorf(crossbill.CodeConflict, op, "%s decided this approval already", who)
		}
		return Approval{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	approvals := 1
	for _, d := range a.Decisions {
		if d.Approve {
			approvals++
		}
	}
	state := ApprovalPending
	switch {
	case !approve:
		state = ApprovalDenied
	case approvals >= a.Required:
		state = ApprovalApproved
	}
	if state != ApprovalPending {
		if _, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, decided_at = ? WHERE id = ?`, state, formatStamp(now), id); err != nil {
			return Approval{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	by.Action, by.TenantID, by.Subject = AuditApprovalDeny, tenant, id
	if approve {
		by.Action = AuditApprovalApprove
	}
	if err := s.appendAudit(ctx, tx, by, map[string]any{"kind": a.Kind, "subject": a.Subject, "reason": reason, "state": state}); err != nil {
		return Approval{}, err
	}
	if err := tx.Commit(); err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return s.Approval(ctx, tenant, id)
}

// CancelApproval ends a pending approval (its requester or an admin
// withdrew the request).
func (s *Store) CancelApproval(ctx context.Context, tenant crossbill.TenantID, id, reason string, by AuditEntry) (Approval, error) {
	const op = "approval cancel"
	tx, err := s.beginApprovalTx(ctx)
	if err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	a, err := s.approvalTx(ctx, tx, tenant, id)
	if err != nil {
		return Approval{}, err
	}
	if a.State != ApprovalPending {
		return Approval{}, crossbill.Errorf(crossbill.CodeConflict, op, "approval %s is %s already: nothing to cancel", id, a.State)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, decided_at = ? WHERE id = ?`, ApprovalCancelled, formatStamp(s.now()), id); err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.Action, by.TenantID, by.Subject = AuditApprovalCancel, tenant, id
	if err := s.appendAudit(ctx, tx, by, map[string]any{"kind": a.Kind, "subject": a.Subject, "reason": reason}); err != nil {
		return Approval{}, err
	}
	if err := tx.Commit(); err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return s.Approval(ctx, tenant, id)
}

// ExpireApprovals moves every pending approval past its expiry to
// expired, each with its audit line, and returns them.
func (s *Store) ExpireApprovals(ctx context.Context) ([]Approval, error) {
	const op = "approval expire"
	due, err := s.queryApprovals(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE state = ? AND expires_at <= ? ORDER BY expires_at LIMIT 1000`,
		ApprovalPending, formatStamp(s.now()))
	if err != nil {
		return nil, err
	}
	var out []Approval
	for _, a := range due {
		tx, err := s.beginApprovalTx(ctx)
		if err != nil {
			return out, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, decided_at = ? WHERE id = ? AND state = ?`, ApprovalExpired, formatStamp(s.now()), a.ID, ApprovalPending)
		if err != nil {
			tx.Rollback() //nolint:errcheck // the error that matters is err
			return out, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 { // decided meanwhile
			tx.Rollback() //nolint:errcheck // nothing was written
			continue
		}
		e := AuditEntry{Actor: "crossbill", Action: AuditApprovalExpire, TenantID: a.TenantID, Subject: a.ID}
		if err := s.appendAudit(ctx, tx, e, map[string]any{"kind": a.Kind, "subject": a.Subject, "expires_at": a.ExpiresAt.UTC()}); err != nil {
			tx.Rollback() //nolint:errcheck // the error that matters is err
			return out, err
		}
		if err := tx.Commit(); err != nil {
			return out, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
		}
		a.State = ApprovalExpired
		out = append(out, a)
	}
	return out, nil
}

// Approval reads one of the tenant's approvals with its decisions;
// another tenant's is NotFound like a missing one.
func (s *Store) Approval(ctx context.Context, tenant crossbill.TenantID, id string) (Approval, error) {
	as, err := s.queryApprovals(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE tenant_id = ? AND id = ?`, string(tenant), id)
	if err != nil {
		return Approval{}, err
	}
	if len(as) == 0 {
		return Approval{}, crossbill.Errorf(crossbill.CodeNotFound, "approval", "no approval %s", id)
	}
	return as[0], nil
}

// ApprovalForSubject reads the approval of a feature's lease or plan.
func (s *Store) ApprovalForSubject(ctx context.Context, tenant crossbill.TenantID, kind, subject string) (Approval, error) {
	as, err := s.queryApprovals(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE tenant_id = ? AND kind = ? AND subject = ?`, string(tenant), kind, subject)
	if err != nil {
		return Approval{}, err
	}
	if len(as) == 0 {
		return Approval{}, crossbill.Errorf(crossbill.CodeNotFound, "approval", "no %s approval for %s", kind, subject)
	}
	return as[0], nil
}

// Approvals lists a tenant's approvals, newest first; empty kind or state
// match all.
func (s *Store) Approvals(ctx context.Context, tenant crossbill.TenantID, kind, state string, limit int) ([]Approval, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.queryApprovals(ctx, `SELECT `+approvalColumns+` FROM approvals
		WHERE tenant_id = ? AND (? = '' OR kind = ?) AND (? = '' OR state = ?) ORDER BY created_at DESC, id LIMIT ?`,
		string(tenant), kind, kind, state, state, limit)
}

// beginApprovalTx takes the write lock first (SQLite) so that two
// deciders serialise; on PostgreSQL approvalTx locks the row.
func (s *Store) beginApprovalTx(ctx context.Context) (*sql.Tx, error) { return s.beginWrite(ctx) }

func (s *Store) approvalTx(ctx context.Context, tx *sql.Tx, tenant crossbill.TenantID, id string) (Approval, error) {
	q := `SELECT ` + approvalColumns + ` FROM approvals WHERE tenant_id = ? AND id = ?`
	if s.engine == Postgres {
		q += ` FOR UPDATE`
	}
	a, err := scanApproval(tx.QueryRowContext(ctx, q, string(tenant), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Approval{}, crossbill.Errorf(crossbill.CodeNotFound, "approval", "no approval %s", id)
	}
	if err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
	}
	a.Decisions, err = decisions(ctx, tx, id)
	return a, err
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func decisions(ctx context.Context, q queryer, id string) ([]Decision, error) {
	rows, err := q.QueryContext(ctx, `SELECT actor, person, approve, reason, at FROM approval_decisions WHERE approval_id = ? ORDER BY at, who`, id)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		var approve int
		var at string
		if err := rows.Scan(&d.By, &d.Email, &approve, &d.Reason, &at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
		}
		d.Approve = approve == 1
		if d.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Store) queryApprovals(ctx context.Context, q string, args ...any) ([]Approval, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
	}
	var out []Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "approval", "%w", err)
	}
	for i := range out {
		if out[i].Decisions, err = decisions(ctx, s.db, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanApproval(r scanner) (Approval, error) {
	var a Approval
	var tenant, detail, approvers, created, expires string
	var decided sql.NullString
	if err := r.Scan(&a.ID, &tenant, &a.Kind, &a.Subject, &a.Summary, &detail, &a.State, &a.Required, &approvers,
		&a.RequestedBy, &a.RequestedPerson, &a.AutoApproved, &created, &expires, &decided); err != nil {
		return Approval{}, err
	}
	a.TenantID, a.Detail = crossbill.TenantID(tenant), json.RawMessage(detail)
	if err := json.Unmarshal([]byte(approvers), &a.Approvers); err != nil {
		return Approval{}, err
	}
	var err error
	if a.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return Approval{}, err
	}
	if a.ExpiresAt, err = time.Parse(time.RFC3339Nano, expires); err != nil {
		return Approval{}, err
	}
	if a.DecidedAt, err = parseStampPtr(decided); err != nil {
		return Approval{}, err
	}
	return a, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if s != "" && strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
