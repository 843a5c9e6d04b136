package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// Review is an access review kept for a tenant: the uploaded document and
// the review's result, whose shape the review package owns.
type Review struct {
	ID        string             `json:"id"`
	TenantID  crossbill.TenantID `json:"tenant_id"`
	Name      string             `json:"name"`
	Source    string             `json:"source,omitempty"`
	Result    json.RawMessage    `json:"result,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
	// Acknowledged is set once an approver has accepted the findings.
	Acknowledged *ReviewAck `json:"acknowledged,omitempty"`
}

// ReviewAck is an approver's acknowledgement of a review's findings.
type ReviewAck struct {
	Actor  string    `json:"actor"`
	Person string    `json:"person,omitempty"` // the approver's email
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

// SaveReview stores a review result for a tenant.
func (s *Store) SaveReview(ctx context.Context, tenant crossbill.TenantID, name, source string, result json.RawMessage) (Review, error) {
	const op = "review save"
	if !json.Valid(result) {
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, op, "review result is not JSON")
	}
	r := Review{ID: "rev_" + uuid.NewString()[:18], TenantID: tenant, Name: name, Source: source, Result: result, CreatedAt: s.now()}
	_, err := s.db.ExecContext(ctx, `INSERT INTO reviews(id, tenant_id, name, source, result, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, string(tenant), name, source, string(result), formatStamp(r.CreatedAt))
	if err != nil {
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return r, nil
}

// Reviews lists a tenant's reviews, newest first, without source or result.
func (s *Store) Reviews(ctx context.Context, tenant crossbill.TenantID) ([]Review, error) {
	const op = "review list"
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM reviews WHERE tenant_id = ? ORDER BY created_at DESC, id`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Review{}
	for rows.Next() {
		r := Review{TenantID: tenant}
		var created string
		if err := rows.Scan(&r.ID, &r.Name, &created); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if r.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// ReviewByID returns one of a tenant's reviews; another tenant's is NotFound.
func (s *Store) ReviewByID(ctx context.Context, tenant crossbill.TenantID, id string) (Review, error) {
	r := Review{TenantID: tenant}
	var created, result string
	err := s.db.QueryRowContext(ctx, `SELECT id, name, source, result, created_at FROM reviews WHERE tenant_id = ? AND id = ?`, string(tenant), id).
		Scan(&r.ID, &r.Name, &r.Source, &result, &created)
	if err != nil {
		return Review{}, notFound(err, "review", "no review %q in this tenant", id)
	}
	r.Result = json.RawMessage(result)
	if r.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, "review", "%w", err)
	}
	var ack ReviewAck
	var at string
	err = s.db.QueryRowContext(ctx, `SELECT actor, person, note, at FROM review_acks WHERE review_id = ? AND tenant_id = ?`, id, string(tenant)).Scan(&ack.Actor, &ack.Person, &ack.Note, &at)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, "review", "%w", err)
	default:
		if ack.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return Review{}, crossbill.Errorf(crossbill.CodeInternal, "review", "%w", err)
		}
		r.Acknowledged = &ack
	}
	return r, nil
}

// AcknowledgeReview records that an approver (by) accepted a review's
// findings, with its audit line, once: a second acknowledgement is a
// Conflict naming the first.
func (s *Store) AcknowledgeReview(ctx context.Context, tenant crossbill.TenantID, id, note string, by AuditEntry) (Review, error) {
	const op = "review acknowledge"
	if len(note) > 1000 {
		return Review{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the note is %d characters long; use at most 1000", len(note))
	}
	if err := crossbill.CheckText(op, "note", note); err != nil {
		return Review{}, err
	}
	r, err := s.ReviewByID(ctx, tenant, id)
	if err != nil {
		return Review{}, err
	}
	if r.Acknowledged != nil {
		return Review{}, crossbill.Errorf(crossbill.CodeConflict, op, "review %s was already acknowledged by %s at %s", id, ackBy(*r.Acknowledged), r.Acknowledged.At.Format(time.RFC3339))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `INSERT INTO review_acks(review_id, tenant_id, actor, person, note, at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, string(tenant), by.Actor, by.PersonEmail, note, formatStamp(s.now())); err != nil {
		if isUniqueViolation(err) {
			return Review{}, crossbill.Errorf(crossbill.CodeConflict, op, "review %s was acknowledged meanwhile: reload it", id)
		}
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	by.Action, by.TenantID, by.Subject = AuditReviewApproved, tenant, id
	if err := s.appendAudit(ctx, tx, by, map[string]string{"review": r.Name, "note": note}); err != nil {
		return Review{}, err
	}
	if err := tx.Commit(); err != nil {
		return Review{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return s.ReviewByID(ctx, tenant, id)
}

func ackBy(a ReviewAck) string {
	if a.Person != "" {
		return a.Person
	}
	return a.Actor
}
