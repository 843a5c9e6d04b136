package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	// The person who acted, as their identity provider names them.
	PersonSubject string          `json:"person_subject,omitempty"`
	PersonEmail   string          `json:"person_email,omitempty"`
	Detail        json.RawMessage `json:"detail"`
	PrevHash      string          `json:"prev_hash,omitempty"`
	Hash          string          `json:"hash,omitempty"`
}

// The audit log is one hash chain over every tenant (not one per tenant):
// a single sequence proves that no line was removed, reordered or moved
// between tenants, and one head row serialises appends on both engines.
// A tenant's own lines are still listed by tenant; proving them needs the
// whole chain, which only an operator verifies.

// auditHash is a line's hash: SHA-256 over the previous line's hash and
// the line's canonical content (fixed field order, JSON-escaped strings).
func auditHash(prev string, e AuditEntry, at string) string {
	canon, _ := json.Marshal([]any{e.ID, at, e.Actor, e.Action, string(e.TenantID), e.Subject, e.PersonSubject, e.PersonEmail, string(e.Detail)})
	sum := sha256.Sum256(append([]byte(prev+"\n"), canon...))
	return hex.EncodeToString(sum[:])
}

// appendAudit writes one audit line inside tx (a transaction, never the
// bare handle: the head's update, the line and the head's new hash must
// commit together, with the audited change); detail is marshalled to JSON. The head row's update comes first: it takes SQLite's write lock
// (and PostgreSQL's row lock), so concurrent appends from any process
// chain one after another.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e AuditEntry, detail any) error {
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
	e.Detail = js
	var prev string
	if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id, hash`).Scan(&e.ID, &prev); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	at := s.now().UTC().Format(timeMillis)
	e.PrevHash, e.Hash = prev, auditHash(prev, e, at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log(id, at, actor, action, tenant_id, subject, person_subject, person_email, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, at, e.Actor, e.Action, string(e.TenantID), e.Subject, e.PersonSubject, e.PersonEmail, string(js), e.PrevHash, e.Hash); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, e.Hash); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// AppendAudit writes one audit line on its own.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry, detail any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "audit append", "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := s.appendAudit(ctx, tx, e, detail); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "audit append", "%w", err)
	}
	return nil
}

const auditColumns = `id, at, actor, action, tenant_id, subject, person_subject, person_email, detail, prev_hash, hash`

func scanAudit(r scanner) (AuditEntry, string, error) {
	var e AuditEntry
	var at, tenantID, detail string
	if err := r.Scan(&e.ID, &at, &e.Actor, &e.Action, &tenantID, &e.Subject, &e.PersonSubject, &e.PersonEmail, &detail, &e.PrevHash, &e.Hash); err != nil {
		return e, "", err
	}
	var err error
	if e.At, err = time.Parse(timeMillis, at); err != nil {
		return e, at, fmt.Errorf("audit line %d: %w", e.ID, err)
	}
	e.TenantID, e.Detail = crossbill.TenantID(tenantID), json.RawMessage(detail)
	return e, at, nil
}

func (s *Store) queryAudit(ctx context.Context, q string, args ...any) ([]AuditEntry, error) {
	const op = "audit list"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		e, _, err := scanAudit(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// AuditLog lists audit lines, oldest first; action and tenant filter when
// not empty.
func (s *Store) AuditLog(ctx context.Context, action string, tenant crossbill.TenantID) ([]AuditEntry, error) {
	return s.queryAudit(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE (? = '' OR action = ?) AND (? = '' OR tenant_id = ?) ORDER BY id`, action, action, string(tenant), string(tenant))
}

// ActorAudit lists an actor's latest lines, newest first; tenant "" is
// every tenant, else only that tenant's lines.
func (s *Store) ActorAudit(ctx context.Context, actor string, tenant crossbill.TenantID, limit int) ([]AuditEntry, error) {
	return s.queryAudit(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE actor = ? AND (? = '' OR tenant_id = ?) ORDER BY id DESC LIMIT ?`, actor, string(tenant), string(tenant), limit)
}

// AuditCheck is the outcome of verifying the audit log's hash chain.
type AuditCheck struct {
	OK       bool     `json:"ok"`
	Lines    int      `json:"lines"`
	Chained  int      `json:"chained"`
	Unhashed int      `json:"unhashed"` // lines written before the chain existed (migration 078)
	LastID   int64    `json:"last_id"`
	LastHash string   `json:"last_hash,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// VerifyAudit recomputes the whole chain: every line's hash, every link to
// the line before, and the head (so removing the last lines shows too).
// Lines without a hash are accepted only before the first hashed one.
func (s *Store) VerifyAudit(ctx context.Context) (AuditCheck, error) {
	const op = "audit verify"
	var c AuditCheck
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.engine == Postgres})
	if err != nil {
		return c, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var headID int64
	var headHash string
	if err := tx.QueryRowContext(ctx, `SELECT last_id, hash FROM audit_head WHERE id = 1`).Scan(&headID, &headHash); err != nil {
		return c, crossbill.Errorf(crossbill.CodeInternal, op, "reading the chain's head: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return c, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	prev, chained := "", false
	problem := func(format string, args ...any) {
		if len(c.Problems) < 100 {
			c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
		}
	}
	for rows.Next() {
		e, at, err := scanAudit(rows)
		if err != nil && at == "" {
			return c, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		c.Lines++
		c.LastID = e.ID
		if e.Hash == "" && !chained {
			c.Unhashed++
			continue
		}
		chained = true
		c.Chained++
		if e.PrevHash != prev {
			problem("line %d: its link to the line before is broken (a line was removed, inserted or changed before it)", e.ID)
		}
		if h := auditHash(e.PrevHash, e, at); h != e.Hash {
			problem("line %d: its content does not match its hash (the line was changed)", e.ID)
		}
		prev = e.Hash
	}
	if err := rows.Err(); err != nil {
		return c, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	c.LastHash = prev
	if chained && (headID != c.LastID || headHash != prev) {
		problem("the chain's head names line %d, but the log ends at line %d with another hash (lines were removed from the end)", headID, c.LastID)
	}
	if !chained && headHash != "" {
		problem("the chain's head has a hash but no line carries one (hashed lines were removed)")
	}
	c.OK = len(c.Problems) == 0
	return c, nil
}
