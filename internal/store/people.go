package store

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// User is a person: someone who signs in through an identity provider, or
// who is named by a token (`token create --user`).
type User struct {
	ID          string     `json:"id"`
	Issuer      string     `json:"issuer"`
	Subject     string     `json:"subject"`
	Email       string     `json:"email,omitempty"`
	Name        string     `json:"name,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// RoleGrant is a person's role in one tenant; TenantID "" is every tenant
// (role operator).
type RoleGrant struct {
	TenantID crossbill.TenantID `json:"tenant_id,omitempty"`
	Role     Role               `json:"role"`
}

// LocalIssuer is the issuer of people named by email from the CLI.
const LocalIssuer = "local"

// Audit actions of people.
const (
	AuditSignIn         = "session.signin"
	AuditSignInRefused  = "session.signin_refused"
	AuditSignOut        = "session.signout"
	AuditSignOutAll     = "session.signout_all"
	AuditRoleGrant      = "role.grant"
	AuditRoleRevoke     = "role.revoke"
	AuditReviewApproved = "review.acknowledge"
	AuditTokenCreate    = "token.create" // a token, and the role it carries, made through the API
)

const userColumns = `id, issuer, subject, email, name, created_at, last_login_at`

func scanUser(r scanner) (User, error) {
	var u User
	var created string
	var last sql.NullString
	if err := r.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Email, &u.Name, &created, &last); err != nil {
		return User{}, err
	}
	var err error
	if u.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return User{}, err
	}
	u.LastLoginAt, err = parseStampPtr(last)
	return u, err
}

// SignInUser records a sign-in of (issuer, subject): the person is created
// on first sign-in, and their email and name follow the IdP's.
func (s *Store) SignInUser(ctx context.Context, issuer, subject, email, name string) (User, error) {
	const op = "sign in"
	if issuer == "" || subject == "" {
		return User{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a person needs an issuer and a subject")
	}
	for field, v := range map[string]string{"subject": subject, "email": email, "name": name} {
		if err := crossbill.CheckText(op, field, v); err != nil {
			return User{}, err
		}
	}
	now := formatStamp(s.now())
	id, err := randomString(8)
	if err != nil {
		return User{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO users(id, issuer, subject, email, name, created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, subject) DO UPDATE SET email = excluded.email, name = excluded.name, last_login_at = excluded.last_login_at`,
		"usr_"+id, issuer, subject, email, name, now, now); err != nil {
		return User{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE issuer = ? AND subject = ?`, issuer, subject))
}

// LocalUser finds or creates the person with this email among those named
// from the CLI, or the one person of any IdP with it.
func (s *Store) LocalUser(ctx context.Context, email string) (User, error) {
	const op = "person"
	email = strings.TrimSpace(email)
	if !strings.Contains(email, "@") {
		return User{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not an email address", email)
	}
	us, err := s.queryUsers(ctx, `SELECT `+userColumns+` FROM users WHERE email = ? ORDER BY created_at`, email)
	if err != nil {
		return User{}, err
	}
	switch len(us) {
	case 0:
	case 1:
		return us[0], nil
	default:
		return User{}, crossbill.Errorf(crossbill.CodeConflict, op, "%d people have the email %s (several identity providers): name one by its user ID", len(us), email)
	}
	id, err := randomString(8)
	if err != nil {
		return User{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO users(id, issuer, subject, email, created_at) VALUES (?, ?, ?, ?, ?)`,
		"usr_"+id, LocalIssuer, email, email, formatStamp(s.now())); err != nil {
		return User{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return s.UserByID(ctx, "usr_"+id)
}

// UserByID reads a person.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return User{}, notFound(err, "person", "no person %q", id)
	}
	return u, nil
}

func (s *Store) queryUsers(ctx context.Context, q string, args ...any) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "person", "%w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "person", "%w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserRoles lists a person's roles.
func (s *Store) UserRoles(ctx context.Context, userID string) ([]RoleGrant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, role FROM user_roles WHERE user_id = ? ORDER BY tenant_id`, userID)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "roles", "%w", err)
	}
	defer rows.Close()
	out := []RoleGrant{}
	for rows.Next() {
		var g RoleGrant
		var tenant, role string
		if err := rows.Scan(&tenant, &role); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "roles", "%w", err)
		}
		g.TenantID, g.Role = crossbill.TenantID(tenant), Role(role)
		out = append(out, g)
	}
	return out, rows.Err()
}

// SetUserRoles replaces a person's roles with grants (one per tenant; the
// highest wins) and writes a role.grant or role.revoke audit line for each
// change, in one transaction. by is who changed them (for a sign-in: the
// identity provider's claims, on behalf of the person).
func (s *Store) SetUserRoles(ctx context.Context, u User, grants []RoleGrant, by AuditEntry) error {
	const op = "roles"
	want := map[crossbill.TenantID]Role{}
	for _, g := range grants {
		if _, err := ParseRole(string(g.Role)); err != nil {
			return err
		}
		if (g.Role == RoleOperator) != (g.TenantID == "") {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "operator is the role for every tenant, and every tenant takes role operator")
		}
		if g.Role.Rank() > want[g.TenantID].Rank() {
			want[g.TenantID] = g.Role
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// Written first: takes SQLite's write lock before the read below.
	if _, err := tx.ExecContext(ctx, `UPDATE users SET id = id WHERE id = ?`, u.ID); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	have := map[crossbill.TenantID]Role{}
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, role FROM user_roles WHERE user_id = ?`, u.ID)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for rows.Next() {
		var t, r string
		if err := rows.Scan(&t, &r); err != nil {
			rows.Close()
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		have[crossbill.TenantID(t)] = Role(r)
	}
	rows.Close()
	tenants := map[crossbill.TenantID]bool{}
	for t := range want {
		tenants[t] = true
	}
	for t := range have {
		tenants[t] = true
	}
	order := make([]crossbill.TenantID, 0, len(tenants))
	for t := range tenants {
		order = append(order, t)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	for _, t := range order {
		old, nu := have[t], want[t]
		if old == nu {
			continue
		}
		e := by
		e.TenantID, e.Subject = t, u.ID
		detail := map[string]string{"person": u.Email, "from": string(old), "to": string(nu)}
		if nu == "" {
			e.Action = AuditRoleRevoke
			_, err = tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = ? AND tenant_id = ?`, u.ID, string(t))
		} else {
			e.Action = AuditRoleGrant
			_, err = tx.ExecContext(ctx, `INSERT INTO user_roles(user_id, tenant_id, role) VALUES (?, ?, ?)
				ON CONFLICT (user_id, tenant_id) DO UPDATE SET role = excluded.role`, u.ID, string(t), string(nu))
		}
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if err := s.appendAudit(ctx, tx, e, detail); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// Person is a person as a tenant's admin sees them: their role there.
type Person struct {
	User
	Role Role `json:"role"`
}

// TenantPeople lists the people with a role in a tenant.
func (s *Store) TenantPeople(ctx context.Context, tenant crossbill.TenantID) ([]Person, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.issuer, u.subject, u.email, u.name, u.created_at, u.last_login_at, r.role
		FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.tenant_id = ? ORDER BY u.email, u.id`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "people", "%w", err)
	}
	defer rows.Close()
	out := []Person{}
	for rows.Next() {
		var p Person
		var role string
		var created string
		var last sql.NullString
		if err := rows.Scan(&p.ID, &p.Issuer, &p.Subject, &p.Email, &p.Name, &created, &last, &role); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "people", "%w", err)
		}
		if p.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "people", "%w", err)
		}
		if p.LastLoginAt, err = parseStampPtr(last); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "people", "%w", err)
		}
		p.Role = Role(role)
		out = append(out, p)
	}
	return out, rows.Err()
}

// TenantPerson is one person with a role in the tenant; a person without
// one there is NotFound like a missing one.
func (s *Store) TenantPerson(ctx context.Context, tenant crossbill.TenantID, id string) (Person, error) {
	var p Person
	var role string
	row := s.db.QueryRowContext(ctx, `SELECT role FROM user_roles WHERE user_id = ? AND tenant_id = ?`, id, string(tenant))
	if err := row.Scan(&role); err != nil {
		return Person{}, notFound(err, "person", "no person %q in this tenant", id)
	}
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return Person{}, err
	}
	p.User, p.Role = u, Role(role)
	return p, nil
}
