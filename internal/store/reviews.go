package store

import (
	"context"
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
	return r, nil
}
