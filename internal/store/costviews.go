package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"time"

	"github.com/crossbill/crossbill"
)

// CostView is a tenant's saved cost query. The store keeps the query as
// JSON; internal/costs reads and checks it.
type CostView struct {
	ID        string             `json:"id"`
	TenantID  crossbill.TenantID `json:"tenant_id"`
	Name      string             `json:"name"`
	Query     json.RawMessage    `json:"query"`
	CreatedBy string             `json:"created_by"`
	Person    string             `json:"person,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
}

// CreateCostView saves v (its ID and time are set here) unless the tenant
// already has a view of that name (Conflict) or max views (Invalid).
func (s *Store) CreateCostView(ctx context.Context, v CostView, max int) (CostView, error) {
	const op = "view create"
	idPart, err := randomString(8)
	if err != nil {
		return CostView{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	v.ID, v.CreatedAt = "cv_"+idPart, s.now().Truncate(time.Microsecond)
	// The bound is checked by the insert itself, so concurrent saves
	// cannot each see room (SQLite serialises writers; on PostgreSQL the
	// unique name still holds and the bound may be passed by a few).
	res, err := s.db.ExecContext(ctx, `INSERT INTO cost_views(id, tenant_id, name, query, created_by, person, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM cost_views WHERE tenant_id = ?) < ?
		ON CONFLICT (tenant_id, name) DO NOTHING`,
		v.ID, string(v.TenantID), v.Name, string(v.Query), v.CreatedBy, v.Person, formatStamp(v.CreatedAt), string(v.TenantID), max)
	if err != nil {
		return CostView{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return CostView{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 1 {
		return v, nil
	}
	if _, err := s.CostView(ctx, v.TenantID, v.Name); err == nil {
		return CostView{}, crossbill.Errorf(crossbill.CodeConflict, op, "a view named %q exists: pick another name or delete it first", v.Name)
	}
	return CostView{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the tenant has %d saved views, the most it may keep: delete one first", max)
}

const costViewCols = `id, tenant_id, name, query, created_by, person, created_at`

func scanCostView(sc interface{ Scan(...any) error }) (CostView, error) {
	var v CostView
	var tenant, query, at string
	if err := sc.Scan(&v.ID, &tenant, &v.Name, &query, &v.CreatedBy, &v.Person, &at); err != nil {
		return v, err
	}
	v.TenantID, v.Query = crossbill.TenantID(tenant), json.RawMessage(query)
	var err error
	v.CreatedAt, err = time.Parse(time.RFC3339Nano, at)
	return v, err
}

// CostViews lists the tenant's views by name.
func (s *Store) CostViews(ctx context.Context, tenant crossbill.TenantID) ([]CostView, error) {
	const op = "views"
	rows, err := s.db.QueryContext(ctx, `SELECT `+costViewCols+` FROM cost_views WHERE tenant_id = ?`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []CostView{}
	for rows.Next() {
		v, err := scanCostView(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	// Sorted here: the engines' collations order names differently.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CostView is the tenant's view named name (or with that ID); another
// tenant's view is NotFound like a missing one.
func (s *Store) CostView(ctx context.Context, tenant crossbill.TenantID, name string) (CostView, error) {
	v, err := scanCostView(s.db.QueryRowContext(ctx, `SELECT `+costViewCols+` FROM cost_views WHERE tenant_id = ? AND (name = ? OR id = ?)`, string(tenant), name, name))
	if err == sql.ErrNoRows {
		return CostView{}, crossbill.Errorf(crossbill.CodeNotFound, "view", "no saved view %q: list them with `crossbill costs views list` or GET .../costs/views", name)
	}
	if err != nil {
		return CostView{}, crossbill.Errorf(crossbill.CodeInternal, "view", "%w", err)
	}
	return v, nil
}

// DeleteCostView deletes the tenant's view named name (or with that ID).
func (s *Store) DeleteCostView(ctx context.Context, tenant crossbill.TenantID, name string) (CostView, error) {
	v, err := s.CostView(ctx, tenant, name)
	if err != nil {
		return CostView{}, err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM cost_views WHERE tenant_id = ? AND id = ?`, string(tenant), v.ID); err != nil {
		return CostView{}, crossbill.Errorf(crossbill.CodeInternal, "view delete", "%w", err)
	}
	return v, nil
}
