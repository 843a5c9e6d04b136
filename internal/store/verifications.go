package store

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/crossbill/crossbill"
)

// VerificationStatus is the outcome of one verification.
type VerificationStatus string

// Verification outcomes.
const (
	VerificationVerified VerificationStatus = "verified"
	VerificationFailed   VerificationStatus = "failed"
	// VerificationInconclusive: every failing check was a passing fault
	// (throttling, outage, network, timeout), so nothing was learnt about
	// the role; the connection keeps its previous status.
	VerificationInconclusive VerificationStatus = "inconclusive"
)

// CheckStatus is the outcome of one check.
type CheckStatus string

// Check outcomes.
const (
	CheckPass CheckStatus = "pass"
	CheckFail CheckStatus = "fail"
	CheckSkip CheckStatus = "skip"
)

// Checks the store reads: a verification binds its role only when
// crossbill assumed it with the connection's external ID and the session
// was not found in another account.
const (
	CheckAssumeRole     = "assume-role"
	CheckCallerIdentity = "caller-identity"
)

// Verification is one stored run of `connect verify`.
type Verification struct {
	ID           int64                  `json:"id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	RoleARN      crossbill.RoleARN      `json:"role_arn"`
	Status       VerificationStatus     `json:"status"`
	StartedAt    time.Time              `json:"started_at"`
	FinishedAt   time.Time              `json:"finished_at"`
	DurationMS   int64                  `json:"duration_ms"`
	Checks       []VerificationCheck    `json:"checks"`
}

// VerificationCheck is one check of a verification.
type VerificationCheck struct {
	Name       string      `json:"name"`
	Module     string      `json:"module,omitempty"`
	Status     CheckStatus `json:"status"`
	Class      string      `json:"class,omitempty"`
	Message    string      `json:"message,omitempty"`
	Advice     string      `json:"advice,omitempty"`
	StartedAt  time.Time   `json:"started_at"`
	DurationMS int64       `json:"duration_ms"`
}

const timeMillis = "2006-01-02T15:04:05.000Z07:00"

// Assumed reports whether crossbill assumed v's role with the connection's
// external ID: the assume-role check passed and the caller-identity check
// did not fail.
func (v Verification) Assumed() bool {
	assumed := false
	for _, c := range v.Checks {
		switch {
		case c.Name == CheckAssumeRole:
			assumed = c.Status == CheckPass
		case c.Name == CheckCallerIdentity && c.Status == CheckFail:
			return false
		}
	}
	return assumed
}

// SaveVerification stores v with its checks and sets the connection's
// status to match (an inconclusive one leaves it as it was), in one
// transaction: either all happens or nothing. When v assumed its role (Assumed), the same transaction binds the role
// and its account to the connection's tenant; this is the only place
// bindings are made. If another tenant holds the role or the account,
// nothing is written and the error wraps ErrNotBindable. A failed
// verification that did not assume the role is stored as an attempt of
// the connection and binds nothing. It returns v with its ID.
func (s *Store) SaveVerification(ctx context.Context, v Verification) (Verification, error) {
	const op = "verification save"
	var connStatus ConnectionStatus
	switch v.Status {
	case VerificationVerified:
		connStatus = StatusVerified
	case VerificationFailed:
		connStatus = StatusFailed
	case VerificationInconclusive:
	default:
		return Verification{}, crossbill.Errorf(crossbill.CodeInvalid, op, "unknown verification status %q", v.Status)
	}
	for _, c := range v.Checks {
		if c.Status != CheckPass && c.Status != CheckFail && c.Status != CheckSkip {
			return Verification{}, crossbill.Errorf(crossbill.CodeInvalid, op, "check %q has unknown status %q", c.Name, c.Status)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Verification{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// A NULL status (inconclusive) keeps the connection's own.
	var newStatus any
	if connStatus != "" {
		newStatus = string(connStatus)
	}
	res, err := tx.ExecContext(ctx, `UPDATE connections SET status = COALESCE(?, status), updated_at = ? WHERE id = ?`,
		newStatus, s.now().Truncate(time.Second).Format(time.RFC3339), string(v.ConnectionID))
	if err != nil {
		return Verification{}, crossbill.Errorf(crossbill.CodeInternal, op, "updating connection status: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Verification{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no connection with id %q", v.ConnectionID)
	}
	// The status update above holds the write lock, so the ownership read
	// and the binding below cannot interleave with another verification.
	if v.Assumed() {
		if err := bindRole(ctx, tx, v.ConnectionID, v.RoleARN, s.now().Truncate(time.Second)); err != nil {
			return Verification{}, err
		}
	} else if v.Status == VerificationVerified {
		var role sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT role_arn FROM connections WHERE id = ?`, string(v.ConnectionID)).Scan(&role); err != nil {
			return Verification{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if !role.Valid || role.String != string(v.RoleARN) {
			return Verification{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a verification that did not assume role %s cannot be verified", v.RoleARN)
		}
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO verifications(connection_id, role_arn, status, started_at, finished_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		string(v.ConnectionID), string(v.RoleARN), string(v.Status),
		v.StartedAt.UTC().Format(timeMillis), v.FinishedAt.UTC().Format(timeMillis), v.FinishedAt.Sub(v.StartedAt).Milliseconds()).Scan(&id)
	if err != nil {
		return Verification{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for i, c := range v.Checks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO verification_checks(verification_id, seq, name, module, status, class, message, advice, started_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, i, c.Name, c.Module, string(c.Status), c.Class, c.Message, c.Advice, c.StartedAt.UTC().Format(timeMillis), c.DurationMS); err != nil {
			return Verification{}, crossbill.Errorf(crossbill.CodeInternal, op, "storing check %q: %w", c.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Verification{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	v.ID, v.DurationMS = id, v.FinishedAt.Sub(v.StartedAt).Milliseconds()
	return v, nil
}

// Verifications lists the verifications of a connection, newest first, at
// most limit of them (limit <= 0: all).
func (s *Store) Verifications(ctx context.Context, conn crossbill.ConnectionID, limit int) ([]Verification, error) {
	const op = "verification list"
	if limit <= 0 {
		limit = math.MaxInt64 // no limit; PostgreSQL refuses SQLite's -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, connection_id, role_arn, status, started_at, finished_at, duration_ms FROM verifications WHERE connection_id = ? ORDER BY id DESC LIMIT ?`, string(conn), limit)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	out := []Verification{}
	for rows.Next() {
		var v Verification
		var connID, role, status, started, finished string
		if err := rows.Scan(&v.ID, &connID, &role, &status, &started, &finished, &v.DurationMS); err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		v.ConnectionID, v.RoleARN, v.Status = crossbill.ConnectionID(connID), crossbill.RoleARN(role), VerificationStatus(status)
		if v.StartedAt, err = time.Parse(timeMillis, started); err == nil {
			v.FinishedAt, err = time.Parse(timeMillis, finished)
		}
		if err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "verification %d: %w", v.ID, err)
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for i := range out {
		if out[i].Checks, err = s.verificationChecks(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LatestVerification is the newest verification of a connection; NotFound
// when it was never verified.
func (s *Store) LatestVerification(ctx context.Context, conn crossbill.ConnectionID) (Verification, error) {
	vs, err := s.Verifications(ctx, conn, 1)
	if err != nil {
		return Verification{}, err
	}
	if len(vs) == 0 {
		return Verification{}, notFound(sql.ErrNoRows, "verification", "connection %q was never verified: run `crossbill connect verify`", conn)
	}
	return vs[0], nil
}

func (s *Store) verificationChecks(ctx context.Context, id int64) ([]VerificationCheck, error) {
	const op = "verification checks"
	rows, err := s.db.QueryContext(ctx, `SELECT name, module, status, class, message, advice, started_at, duration_ms FROM verification_checks WHERE verification_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []VerificationCheck{}
	for rows.Next() {
		var c VerificationCheck
		var status, started string
		if err := rows.Scan(&c.Name, &c.Module, &status, &c.Class, &c.Message, &c.Advice, &started, &c.DurationMS); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		c.Status = CheckStatus(status)
		if c.StartedAt, err = time.Parse(timeMillis, started); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
