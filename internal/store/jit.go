package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Audit actions of just-in-time access.
const (
	AuditJITPolicySet    = "jit.policy.set"
	AuditJITPolicyDelete = "jit.policy.delete"
	AuditJITRequest      = "jit.request"
	AuditJITApproved     = "jit.approved"
	AuditJITDenied       = "jit.denied"
	AuditJITExpired      = "jit.request.expired"
	AuditJITGranted      = "jit.granted"
	AuditJITRevoking     = "jit.revoking"
	AuditJITRevoked      = "jit.revoked"
	AuditJITFailed       = "jit.failed"
	AuditJITRepair       = "jit.repair"
	AuditJITOutOfBand    = "jit.out-of-band"
)

// JITPolicy is a tenant's just-in-time eligibility policy; the jit package
// owns Body's shape and checks it.
type JITPolicy struct {
	TenantID  crossbill.TenantID `json:"tenant_id"`
	Name      string             `json:"name"`
	Body      json.RawMessage    `json:"body"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// PutJITPolicy creates or replaces a policy, with its audit line (by is
// the person or token that set it).
func (s *Store) PutJITPolicy(ctx context.Context, tenant crossbill.TenantID, name string, body json.RawMessage, by AuditEntry) (JITPolicy, error) {
	const op = "jit policy set"
	if !json.Valid(body) {
		return JITPolicy{}, crossbill.Errorf(crossbill.CodeInternal, op, "policy body is not JSON")
	}
	now := formatStamp(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return JITPolicy{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO jit_policies(tenant_id, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
		string(tenant), name, string(body), now, now); err != nil {
		return JITPolicy{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.Action, by.TenantID, by.Subject = AuditJITPolicySet, tenant, name
	if err := s.appendAudit(ctx, tx, by, json.RawMessage(body)); err != nil {
		return JITPolicy{}, err
	}
	if err := tx.Commit(); err != nil {
		return JITPolicy{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return s.JITPolicy(ctx, tenant, name)
}

// DeleteJITPolicy removes a policy (leases it granted keep running to their
// end), with its audit line.
func (s *Store) DeleteJITPolicy(ctx context.Context, tenant crossbill.TenantID, name string, by AuditEntry) error {
	const op = "jit policy delete"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `DELETE FROM jit_policies WHERE tenant_id = ? AND name = ?`, string(tenant), name)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return crossbill.Errorf(crossbill.CodeNotFound, op, "no JIT policy %q in this tenant: `crossbill access policy list` shows them", name)
	}
	by.Action, by.TenantID, by.Subject = AuditJITPolicyDelete, tenant, name
	if err := s.appendAudit(ctx, tx, by, nil); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return nil
}

func scanJITPolicy(r scanner) (JITPolicy, error) {
	var p JITPolicy
	var tenant, body, created, updated string
	if err := r.Scan(&tenant, &p.Name, &body, &created, &updated); err != nil {
		return p, err
	}
	p.TenantID, p.Body = crossbill.TenantID(tenant), json.RawMessage(body)
	p.CreatedAt, _ = time.Parse(stampLayout, created)
	p.UpdatedAt, _ = time.Parse(stampLayout, updated)
	return p, nil
}

// JITPolicy returns one of a tenant's policies; another tenant's is NotFound.
func (s *Store) JITPolicy(ctx context.Context, tenant crossbill.TenantID, name string) (JITPolicy, error) {
	p, err := scanJITPolicy(s.db.QueryRowContext(ctx, `SELECT tenant_id, name, body, created_at, updated_at FROM jit_policies WHERE tenant_id = ? AND name = ?`, string(tenant), name))
	if err != nil {
		return JITPolicy{}, notFound(err, "jit policy", "no JIT policy %q in this tenant: `crossbill access policy list` shows them", name)
	}
	return p, nil
}

// JITPolicies lists a tenant's policies by name.
func (s *Store) JITPolicies(ctx context.Context, tenant crossbill.TenantID) ([]JITPolicy, error) {
	const op = "jit policy list"
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, name, body, created_at, updated_at FROM jit_policies WHERE tenant_id = ? ORDER BY name`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []JITPolicy{}
	for rows.Next() {
		p, err := scanJITPolicy(rows)
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

// JITLease is one just-in-time access lease; the jit package owns its
// state machine and Target's shape.
type JITLease struct {
	ID            string                 `json:"id"`
	TenantID      crossbill.TenantID     `json:"tenant_id"`
	ConnectionID  crossbill.ConnectionID `json:"connection_id"`
	Policy        string                 `json:"policy"`
	Requester     string                 `json:"requester"` // the person's email
	Actor         string                 `json:"actor"`
	PrincipalType string                 `json:"principal_type"`
	PrincipalID   string                 `json:"principal_id"`
	PrincipalName string                 `json:"principal_name"`
	TargetKey     string                 `json:"target_key"`
	Target        json.RawMessage        `json:"target"`
	Reason        string                 `json:"reason"`
	DurationS     int64                  `json:"duration_s"`
	State         string                 `json:"state"`
	BreakGlass    bool                   `json:"break_glass"`
	ApprovalID    string                 `json:"approval_id,omitempty"`
	Extends       string                 `json:"extends,omitempty"`
	RequestedAt   time.Time              `json:"requested_at"`
	DecideBy      time.Time              `json:"decide_by"`
	GrantedAt     *time.Time             `json:"granted_at,omitempty"`
	ExpiresAt     *time.Time             `json:"expires_at,omitempty"`
	EndedAt       *time.Time             `json:"ended_at,omitempty"`
	Attempts      int                    `json:"attempts"`
	LastError     string                 `json:"last_error,omitempty"`
	AWSRequest    string                 `json:"aws_request,omitempty"` // an Identity Center request in flight
	NextAt        *time.Time             `json:"next_at,omitempty"`     // when the engine looks at it next; nil: never (ended)
	Version       int64                  `json:"version"`
}

const jitLeaseCols = `id, tenant_id, connection_id, policy, requester, actor, principal_type, principal_id, principal_name, target_key, target, reason,
	duration_s, state, break_glass, approval_id, extends, requested_at, decide_by, granted_at, expires_at, ended_at, attempts, last_error, aws_request, next_at, version`

func stampOrEmpty(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return formatStamp(*t)
}

func parseOptStamp(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(stampLayout, s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func scanJITLease(r scanner) (JITLease, error) {
	var l JITLease
	var tenant, conn, target, requested, decide, granted, expires, ended, next string
	var bg int
	if err := r.Scan(&l.ID, &tenant, &conn, &l.Policy, &l.Requester, &l.Actor, &l.PrincipalType, &l.PrincipalID, &l.PrincipalName, &l.TargetKey, &target, &l.Reason,
		&l.DurationS, &l.State, &bg, &l.ApprovalID, &l.Extends, &requested, &decide, &granted, &expires, &ended, &l.Attempts, &l.LastError, &l.AWSRequest, &next, &l.Version); err != nil {
		return l, err
	}
	l.TenantID, l.ConnectionID, l.Target, l.BreakGlass = crossbill.TenantID(tenant), crossbill.ConnectionID(conn), json.RawMessage(target), bg != 0
	var err error
	if l.RequestedAt, err = time.Parse(stampLayout, requested); err != nil {
		return l, err
	}
	if l.DecideBy, err = time.Parse(stampLayout, decide); err != nil {
		return l, err
	}
	for _, f := range []struct {
		dst **time.Time
		s   string
	}{{&l.GrantedAt, granted}, {&l.ExpiresAt, expires}, {&l.EndedAt, ended}, {&l.NextAt, next}} {
		if *f.dst, err = parseOptStamp(f.s); err != nil {
			return l, err
		}
	}
	return l, nil
}

// CreateJITLease stores a new lease (ID, times and version as given by the
// caller) with its audit line, in one transaction.
func (s *Store) CreateJITLease(ctx context.Context, l JITLease, by AuditEntry, detail any) error {
	const op = "jit lease create"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO jit_leases(`+jitLeaseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, string(l.TenantID), string(l.ConnectionID), l.Policy, l.Requester, l.Actor, l.PrincipalType, l.PrincipalID, l.PrincipalName, l.TargetKey, string(l.Target), l.Reason,
		l.DurationS, l.State, boolInt(l.BreakGlass), l.ApprovalID, l.Extends, formatStamp(l.RequestedAt), formatStamp(l.DecideBy),
		stampOrEmpty(l.GrantedAt), stampOrEmpty(l.ExpiresAt), stampOrEmpty(l.EndedAt), l.Attempts, l.LastError, l.AWSRequest, stampOrEmpty(l.NextAt), l.Version); err != nil {
		if isUniqueViolation(err) {
			return crossbill.Errorf(crossbill.CodeConflict, op, "lease %s exists", l.ID)
		}
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.TenantID, by.Subject = l.TenantID, l.ID
	if err := s.appendAudit(ctx, tx, by, detail); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return nil
}

// UpdateJITLease writes l over the stored lease if nobody moved it since
// it was read (its Version), bumping the version, and appends the audit
// line when audit is not nil, in the same transaction. A lease moved
// meanwhile is a Conflict: re-read it and decide again.
func (s *Store) UpdateJITLease(ctx context.Context, l JITLease, audit *AuditEntry, detail any) (JITLease, error) {
	const op = "jit lease update"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return l, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `UPDATE jit_leases SET state = ?, approval_id = ?, granted_at = ?, expires_at = ?, ended_at = ?, attempts = ?,
		last_error = ?, aws_request = ?, next_at = ?, principal_id = ?, principal_name = ?, version = version + 1
		WHERE id = ? AND tenant_id = ? AND version = ?`,
		l.State, l.ApprovalID, stampOrEmpty(l.GrantedAt), stampOrEmpty(l.ExpiresAt), stampOrEmpty(l.EndedAt), l.Attempts,
		l.LastError, l.AWSRequest, stampOrEmpty(l.NextAt), l.PrincipalID, l.PrincipalName, l.ID, string(l.TenantID), l.Version)
	if err != nil {
		return l, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return l, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	} else if n == 0 {
		return l, crossbill.Errorf(crossbill.CodeConflict, op, "lease %s was changed meanwhile: reload it", l.ID)
	}
	if audit != nil {
		e := *audit
		e.TenantID, e.Subject = l.TenantID, l.ID
		if err := s.appendAudit(ctx, tx, e, detail); err != nil {
			return l, err
		}
	}
	if err := tx.Commit(); err != nil {
		return l, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	l.Version++
	return l, nil
}

// JITLease returns one of a tenant's leases; another tenant's is NotFound.
func (s *Store) JITLease(ctx context.Context, tenant crossbill.TenantID, id string) (JITLease, error) {
	l, err := scanJITLease(s.db.QueryRowContext(ctx, `SELECT `+jitLeaseCols+` FROM jit_leases WHERE tenant_id = ? AND id = ?`, string(tenant), id))
	if err != nil {
		return JITLease{}, notFound(err, "jit lease", "no lease %q in this tenant: `crossbill access leases` lists them", id)
	}
	return l, nil
}

func (s *Store) queryJITLeases(ctx context.Context, q string, args ...any) ([]JITLease, error) {
	const op = "jit lease list"
	rows, err := s.db.QueryContext(ctx, `SELECT `+jitLeaseCols+` FROM jit_leases `+q, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer rows.Close()
	out := []JITLease{}
	for rows.Next() {
		l, err := scanJITLease(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	return out, nil
}

// JITLeases lists a tenant's leases, newest first; states (when given)
// filters, limit caps (0: 1000).
func (s *Store) JITLeases(ctx context.Context, tenant crossbill.TenantID, states []string, limit int) ([]JITLease, error) {
	if limit <= 0 {
		limit = 1000
	}
	q, args := `WHERE tenant_id = ?`, []any{string(tenant)}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, st := range states {
			args = append(args, st)
		}
	}
	return s.queryJITLeases(ctx, q+` ORDER BY requested_at DESC, id LIMIT ?`, append(args, limit)...)
}

// DueJITLeases lists the leases whose next step is due at now, oldest due
// first: of one tenant's connection, or of every tenant when tenant is "".
func (s *Store) DueJITLeases(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, now time.Time, limit int) ([]JITLease, error) {
	return s.queryJITLeases(ctx, `WHERE next_at <> '' AND next_at <= ? AND (? = '' OR (tenant_id = ? AND connection_id = ?)) ORDER BY next_at, id LIMIT ?`,
		formatStamp(now), string(tenant), string(tenant), string(conn), limit)
}

// NextJITDue is the earliest time a lease of any tenant is due (nil: none).
func (s *Store) NextJITDue(ctx context.Context) (*time.Time, error) {
	var next sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_at) FROM jit_leases WHERE next_at <> ''`).Scan(&next); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "jit lease due", "%w", err)
	}
	if !next.Valid {
		return nil, nil
	}
	return parseOptStamp(next.String)
}

// JITPairLeases lists a tenant's leases of one (target, principal) pair
// in the given states (every state when none), the grant they share.
func (s *Store) JITPairLeases(ctx context.Context, tenant crossbill.TenantID, targetKey, principalID string, states ...string) ([]JITLease, error) {
	q, args := `WHERE tenant_id = ? AND target_key = ? AND principal_id = ?`, []any{string(tenant), targetKey, principalID}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, st := range states {
			args = append(args, st)
		}
	}
	return s.queryJITLeases(ctx, q+` ORDER BY requested_at, id`, args...)
}

// JITTenantLeases lists all of a tenant's leases, oldest first: the
// reconciler's desired state and history.
func (s *Store) JITTenantLeases(ctx context.Context, tenant crossbill.TenantID) ([]JITLease, error) {
	return s.queryJITLeases(ctx, `WHERE tenant_id = ? ORDER BY requested_at, id`, string(tenant))
}
