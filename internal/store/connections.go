package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// ConnectionStatus is where a connection stands.
type ConnectionStatus string

// Connection statuses.
const (
	StatusPending  ConnectionStatus = "pending"  // templates made, not verified yet
	StatusVerified ConnectionStatus = "verified" // last verification passed
	StatusFailed   ConnectionStatus = "failed"   // last verification failed
	StatusInactive ConnectionStatus = "inactive" // switched off by the operator
)

func (s ConnectionStatus) valid() bool {
	switch s {
	case StatusPending, StatusVerified, StatusFailed, StatusInactive:
		return true
	}
	return false
}

// Connection is one customer role crossbill may assume.
type Connection struct {
	ID           crossbill.ConnectionID `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	ExternalID   crossbill.ExternalID   `json:"external_id"`
	HubPrincipal string                 `json:"hub_principal"`
	Modules      []manifest.Module      `json:"modules"`
	// Evaluation: the connection's template is the read-only evaluation
	// stack (role CrossbillEvaluation).
	Evaluation bool `json:"evaluation,omitempty"`
	// RoleARN and AccountID are empty until a verification assumes the
	// role (see SaveVerification).
	RoleARN   crossbill.RoleARN   `json:"role_arn,omitempty"`
	AccountID crossbill.AccountID `json:"account_id,omitempty"`
	Status    ConnectionStatus    `json:"status"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
}

// NewConnection is what CreateConnection needs (onboarding.Init fills it).
type NewConnection struct {
	TenantID     crossbill.TenantID
	ExternalID   crossbill.ExternalID
	HubPrincipal string
	Modules      []manifest.Module
	Evaluation   bool
}

const connectionColumns = `id, tenant_id, external_id, hub_principal, modules, role_arn, account_id, status, created_at, updated_at, evaluation`

// CreateConnection records a new pending connection for a tenant.
func (s *Store) CreateConnection(ctx context.Context, nc NewConnection) (Connection, error) {
	const op = "connection create"
	if nc.ExternalID == "" || nc.HubPrincipal == "" || len(nc.Modules) == 0 {
		return Connection{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a connection needs an external ID, a hub principal and at least one module")
	}
	if _, err := s.TenantByID(ctx, nc.TenantID); err != nil {
		return Connection{}, err
	}
	now := s.now().Truncate(time.Second)
	c := Connection{
		ID: crossbill.ConnectionID(uuid.NewString()), TenantID: nc.TenantID, ExternalID: nc.ExternalID,
		HubPrincipal: nc.HubPrincipal, Modules: append([]manifest.Module(nil), nc.Modules...), Evaluation: nc.Evaluation,
		Status: StatusPending, CreatedAt: now, UpdatedAt: now,
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO connections(`+connectionColumns+`) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?)`,
		string(c.ID), string(c.TenantID), string(c.ExternalID), c.HubPrincipal, joinModules(c.Modules),
		string(c.Status), now.Format(time.RFC3339), now.Format(time.RFC3339), c.Evaluation)
	if isUniqueViolation(err) {
		return Connection{}, crossbill.Errorf(crossbill.CodeConflict, op, "external ID already used by another connection: generate a new one")
	}
	if err != nil {
		return Connection{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return c, nil
}

// ConnectionByID finds a connection.
func (s *Store) ConnectionByID(ctx context.Context, id crossbill.ConnectionID) (Connection, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = ?`, string(id))
	c, err := scanConnection(row)
	if err != nil {
		return Connection{}, notFound(err, "connection", "no connection with id %q: see `crossbill connect list`", id)
	}
	return c, nil
}

// TenantConnection finds one of a tenant's connections. Another tenant's
// connection is NotFound with the same message as a missing one, so that
// API callers cannot tell the two apart: every tenant-scoped lookup of a
// connection goes through here.
func (s *Store) TenantConnection(ctx context.Context, tenant crossbill.TenantID, id crossbill.ConnectionID) (Connection, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE tenant_id = ? AND id = ?`, string(tenant), string(id))
	c, err := scanConnection(row)
	if err != nil {
		return Connection{}, notFound(err, "connection", "no connection %q in this tenant: list them with `crossbill connect list`", id)
	}
	return c, nil
}

// ConnectionByRoleARN finds the connection a role is bound to.
func (s *Store) ConnectionByRoleARN(ctx context.Context, role crossbill.RoleARN) (Connection, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE role_arn = ?`, string(role))
	c, err := scanConnection(row)
	if err != nil {
		return Connection{}, notFound(err, "connection", "no connection is bound to role %s", role)
	}
	return c, nil
}

// ConnectionsByTenant lists a tenant's connections, oldest first.
func (s *Store) ConnectionsByTenant(ctx context.Context, tenant crossbill.TenantID) ([]Connection, error) {
	return s.queryConnections(ctx, `SELECT `+connectionColumns+` FROM connections WHERE tenant_id = ? ORDER BY created_at, rowid`, string(tenant))
}

// Connections lists every connection of every tenant, oldest first.
func (s *Store) Connections(ctx context.Context) ([]Connection, error) {
	return s.queryConnections(ctx, `SELECT `+connectionColumns+` FROM connections ORDER BY created_at, rowid`)
}

// PendingConnectionForTenant returns the tenant's newest connection that has
// no role bound yet: the one whose templates the customer just deployed.
func (s *Store) PendingConnectionForTenant(ctx context.Context, tenant crossbill.TenantID) (Connection, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE tenant_id = ? AND role_arn IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1`, string(tenant))
	c, err := scanConnection(row)
	if err != nil {
		return Connection{}, notFound(err, "connection", "the tenant has no connection waiting for a role: run `crossbill connect init` first")
	}
	return c, nil
}

// SetConnectionStatus records the outcome of a verification, or switches a
// connection off.
func (s *Store) SetConnectionStatus(ctx context.Context, id crossbill.ConnectionID, st ConnectionStatus) error {
	const op = "connection set status"
	if !st.valid() {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "unknown status %q: use pending, verified, failed or inactive", st)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE connections SET status = ?, updated_at = ? WHERE id = ?`,
		string(st), s.now().Truncate(time.Second).Format(time.RFC3339), string(id))
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n == 0 {
		return crossbill.Errorf(crossbill.CodeNotFound, op, "no connection with id %q", id)
	}
	return nil
}

func (s *Store) queryConnections(ctx context.Context, query string, args ...any) ([]Connection, error) {
	const op = "connection list"
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Connection{}
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

func scanConnection(r scanner) (Connection, error) {
	var c Connection
	var id, tenant, ext, modules, status, created, updated string
	var role, account sql.NullString
	if err := r.Scan(&id, &tenant, &ext, &c.HubPrincipal, &modules, &role, &account, &status, &created, &updated, &c.Evaluation); err != nil {
		return Connection{}, err
	}
	c.ID, c.TenantID, c.ExternalID = crossbill.ConnectionID(id), crossbill.TenantID(tenant), crossbill.ExternalID(ext)
	c.RoleARN, c.AccountID, c.Status = crossbill.RoleARN(role.String), crossbill.AccountID(account.String), ConnectionStatus(status)
	for _, m := range strings.Split(modules, ",") {
		if m != "" {
			c.Modules = append(c.Modules, manifest.Module(m))
		}
	}
	var err error
	if c.CreatedAt, err = time.Parse(time.RFC3339, created); err != nil {
		return Connection{}, err
	}
	if c.UpdatedAt, err = time.Parse(time.RFC3339, updated); err != nil {
		return Connection{}, err
	}
	return c, nil
}

func joinModules(ms []manifest.Module) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}

// ConnectionWithModule finds the connection a feature acts through:
// connID when given (it must be the tenant's, with the module and a
// role), else the tenant's one connection with the module and a role.
// Each error says what to run.
func (s *Store) ConnectionWithModule(ctx context.Context, tenant crossbill.TenantID, connID crossbill.ConnectionID, module manifest.Module) (Connection, error) {
	op := string(module)
	if connID != "" {
		c, err := s.TenantConnection(ctx, tenant, connID)
		if err != nil {
			return Connection{}, err
		}
		if !slices.Contains(c.Modules, module) {
			return Connection{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s does not have the %s module: update its role stack with `crossbill connect init --modules ...,%s` and verify it again", c.ID, module, module)
		}
		if c.RoleARN == "" {
			return Connection{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no role yet: deploy its templates and run `crossbill connect verify` first", c.ID)
		}
		return c, nil
	}
	all, err := s.ConnectionsByTenant(ctx, tenant)
	if err != nil {
		return Connection{}, err
	}
	var ok []Connection
	for _, c := range all {
		if slices.Contains(c.Modules, module) && c.RoleARN != "" {
			ok = append(ok, c)
		}
	}
	switch len(ok) {
	case 0:
		return Connection{}, crossbill.Errorf(crossbill.CodeNotFound, op, "this tenant has no verified connection with the %s module: run `crossbill connect init --modules ...,%s`, deploy its templates, then `crossbill connect verify`", module, module)
	case 1:
		return ok[0], nil
	}
	ids := make([]string, len(ok))
	for i, c := range ok {
		ids[i] = string(c.ID)
	}
	return Connection{}, crossbill.Errorf(crossbill.CodeInvalid, op, "this tenant has %d connections with the %s module: pass --connection, one of %s", len(ok), module, strings.Join(ids, ", "))
}
