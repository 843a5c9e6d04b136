package store

import (
	"context"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// Tenant is one customer of the operator.
type Tenant struct {
	ID        crossbill.TenantID `json:"id"`
	Name      string             `json:"name"`
	CreatedAt time.Time          `json:"created_at"`
}

var tenantNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateTenantName checks a tenant name: lowercase letters, digits, '.', '_'
// and '-', starting with a letter or digit, at most 63 characters.
func ValidateTenantName(name string) error {
	if !tenantNamePattern.MatchString(name) {
		return crossbill.Errorf(crossbill.CodeInvalid, "tenant", "invalid tenant name %q: use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// CreateTenant adds a tenant; the name must be new.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	const op = "tenant create"
	if err := ValidateTenantName(name); err != nil {
		return Tenant{}, err
	}
	t := Tenant{ID: crossbill.TenantID(uuid.NewString()), Name: name, CreatedAt: s.now().Truncate(time.Second)}
	_, err := s.db.ExecContext(ctx, `INSERT INTO tenants(id, name, created_at) VALUES (?, ?, ?)`,
		string(t.ID), t.Name, t.CreatedAt.Format(time.RFC3339))
	if isUniqueViolation(err) {
		return Tenant{}, crossbill.Errorf(crossbill.CodeConflict, op, "tenant %q already exists", name)
	}
	if err != nil {
		return Tenant{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return t, nil
}

// Tenants lists tenants by name.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	const op = "tenant list"
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM tenants ORDER BY name`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// TenantByName finds a tenant by its name.
func (s *Store) TenantByName(ctx context.Context, name string) (Tenant, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE name = ?`, name)
	t, err := scanTenant(row)
	if err != nil {
		return Tenant{}, notFound(err, "tenant", "no tenant named %q: create it with `crossbill tenant create %s`", name, name)
	}
	return t, nil
}

// TenantByID finds a tenant by its ID.
func (s *Store) TenantByID(ctx context.Context, id crossbill.TenantID) (Tenant, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE id = ?`, string(id))
	t, err := scanTenant(row)
	if err != nil {
		return Tenant{}, notFound(err, "tenant", "no tenant with id %q", id)
	}
	return t, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanTenant(r scanner) (Tenant, error) {
	var t Tenant
	var id, created string
	if err := r.Scan(&id, &t.Name, &created); err != nil {
		return Tenant{}, err
	}
	t.ID = crossbill.TenantID(id)
	ts, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return Tenant{}, err
	}
	t.CreatedAt = ts
	return t, nil
}
