package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Scope is what an API token may do: read, or read and write.
type Scope string

// Token scopes.
const (
	ScopeRead  Scope = "read"
	ScopeAdmin Scope = "admin"
)

// ParseScope checks a scope name.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeRead, ScopeAdmin:
		return Scope(s), nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "token", "unknown scope %q: use read or admin", s)
}

// TokenPrefix starts every crossbill API token, so that secret scanners and
// people recognize one.
const TokenPrefix = "cbt_"

// Secret is a token's plain text. It exists only between creation and the
// moment it is shown; logs get a redacted form.
type Secret string

// LogValue keeps the token out of logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Token describes an API token; the secret itself is never stored.
type Token struct {
	ID         string             `json:"id"`
	TenantID   crossbill.TenantID `json:"tenant_id,omitempty"` // "" for an operator token
	Name       string             `json:"name"`
	Scope      Scope              `json:"scope"`
	Role       Role               `json:"role"`
	UserID     string             `json:"user_id,omitempty"` // the person the token acts for, if any
	CreatedAt  time.Time          `json:"created_at"`
	LastUsedAt *time.Time         `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time         `json:"revoked_at,omitempty"`
}

// Operator reports whether the token may act on every tenant.
func (t Token) Operator() bool { return t.TenantID == "" }

// HashToken is the stored form of a token: hex SHA-256. Tokens carry 160
// random bits, so a plain hash (no salt, no slow KDF) cannot be brute-forced.
func HashToken(secret Secret) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(tokenEncoding.EncodeToString(b)), nil
}

// CreateToken makes a token for a tenant (tenant "" makes an operator token)
// and returns the secret, which is not kept: show it once.
func (s *Store) CreateToken(ctx context.Context, tenant crossbill.TenantID, name string, scope Scope) (Token, Secret, error) {
	return s.CreateTokenCapped(ctx, tenant, name, scope, 0)
}

// CreateTokenCapped is CreateToken refusing (Conflict) when the tenant
// already has max live tokens; max <= 0 means no cap. The count and the
// insert are one statement, so concurrent requests cannot overshoot.
func (s *Store) CreateTokenCapped(ctx context.Context, tenant crossbill.TenantID, name string, scope Scope, max int) (Token, Secret, error) {
	return s.NewToken(ctx, TokenRequest{Tenant: tenant, Name: name, Scope: scope, Max: max})
}

// TokenRequest is what NewToken makes.
type TokenRequest struct {
	Tenant crossbill.TenantID // "" for an operator token
	Name   string
	Scope  Scope  // "" when Role is given: admin for admin and above, else read
	Role   Role   // "" keeps the scope's meaning: read = viewer, admin = admin (operator tokens: operator)
	UserID string // the person the token acts for; "" for none
	Max    int    // the tenant's most live tokens; <= 0: no cap
}

// NewToken makes a token and returns the secret, which is not kept.
func (s *Store) NewToken(ctx context.Context, req TokenRequest) (Token, Secret, error) {
	const op = "token create"
	tenant, name, scope, max := req.Tenant, req.Name, req.Scope, req.Max
	role := req.Role
	if role != "" {
		if _, err := ParseRole(string(role)); err != nil {
			return Token{}, "", err
		}
		if (role == RoleOperator) != (tenant == "") {
			return Token{}, "", crossbill.Errorf(crossbill.CodeInvalid, op, "role operator is for operator tokens (no tenant) only, and operator tokens have role operator")
		}
		if scope == "" {
			scope = roleScope(role)
		}
	}
	if _, err := ParseScope(string(scope)); err != nil {
		return Token{}, "", err
	}
	if role == "" {
		role = scopeRole(scope, tenant == "")
	}
	if roleScope(role) != scope {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInvalid, op, "role %s goes with scope %s, not %s: give the role alone", role, roleScope(role), scope)
	}
	if req.UserID != "" {
		if _, err := s.UserByID(ctx, req.UserID); err != nil {
			return Token{}, "", err
		}
	}
	if name == "" {
		name = string(scope)
	}
	if len(name) > 100 {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInvalid, op, "token name is %d characters long; use at most 100", len(name))
	}
	if err := crossbill.CheckText(op, "token name", name); err != nil {
		return Token{}, "", err
	}
	if tenant != "" {
		if _, err := s.TenantByID(ctx, tenant); err != nil {
			return Token{}, "", err
		}
	}
	idPart, err := randomString(5)
	if err != nil {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	secretPart, err := randomString(20)
	if err != nil {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	t := Token{ID: "tok_" + idPart, TenantID: tenant, Name: name, Scope: scope, Role: role, UserID: req.UserID, CreatedAt: s.now().Truncate(time.Second)}
	secret := Secret(TokenPrefix + idPart + "_" + secretPart)
	if max <= 0 {
		max = -1 // the count is never below -1: no cap
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if s.engine == Postgres {
		// PostgreSQL runs concurrent INSERT ... SELECTs side by side, each
		// counting without the other's row: serialise one tenant's creations.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, "api_tokens:"+string(tenant)); err != nil {
			return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens(id, tenant_id, name, scope, role, user_id, hash, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?
		WHERE ? < 0 OR (SELECT COUNT(*) FROM api_tokens WHERE tenant_id IS NOT DISTINCT FROM ? AND revoked_at IS NULL) < ?`,
		t.ID, nullIfEmpty(string(tenant)), t.Name, string(t.Scope), string(t.Role), nullIfEmpty(t.UserID), HashToken(secret), formatStamp(t.CreatedAt),
		max, nullIfEmpty(string(tenant)), max)
	if err != nil {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 0 {
		return Token{}, "", crossbill.Errorf(crossbill.CodeConflict, op,
			"the tenant already has %d live tokens, the most allowed (serve --max-tokens-per-tenant): revoke unused ones first (DELETE .../tokens/{id} or `crossbill token revoke`)", max)
	}
	if err := tx.Commit(); err != nil {
		return Token{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return t, secret, nil
}

// Authenticate finds the live token with this secret. Unknown and revoked
// tokens are both Unauthorized, with the same message.
func (s *Store) Authenticate(ctx context.Context, secret Secret) (Token, error) {
	const op = "authenticate"
	row := s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ? AND revoked_at IS NULL`, HashToken(secret))
	t, err := scanToken(row)
	if err == sql.ErrNoRows {
		return Token{}, crossbill.Errorf(crossbill.CodeUnauthorized, op, "unknown or revoked token: create one with `crossbill token create`")
	}
	if err != nil {
		return Token{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return t, nil
}

// TouchToken records that a token was used (at most once a minute, so that
// reads do not turn into a write each).
func (s *Store) TouchToken(ctx context.Context, id string) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		formatStamp(now), id, formatStamp(now.Add(-time.Minute)))
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "token touch", "%w", err)
	}
	return nil
}

// Tokens lists a tenant's tokens; tenant "" lists operator tokens; all=true
// lists every token.
func (s *Store) Tokens(ctx context.Context, tenant crossbill.TenantID, all bool) ([]Token, error) {
	const op = "token list"
	q := `SELECT ` + tokenColumns + ` FROM api_tokens`
	var args []any
	switch {
	case all:
	case tenant == "":
		q += ` WHERE tenant_id IS NULL`
	default:
		q += ` WHERE tenant_id = ?`
		args = append(args, string(tenant))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
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

// RevokeToken revokes a token. tenant limits the revocation to that tenant's
// tokens (a tenant admin cannot revoke another tenant's token: NotFound);
// operator=true may revoke any token.
func (s *Store) RevokeToken(ctx context.Context, tenant crossbill.TenantID, operator bool, id string) error {
	const op = "token revoke"
	q := `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`
	args := []any{formatStamp(s.now()), id}
	if !operator {
		q += ` AND tenant_id = ?`
		args = append(args, string(tenant))
	}
	// The revocation and its notification commit together: every replica
	// drops the token from its cache as the revocation becomes visible.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n == 0 {
		return crossbill.Errorf(crossbill.CodeNotFound, op, "no live token %q: list them with `crossbill token list`", id)
	}
	ev := Event{Kind: EventTokenRevoked, ID: id}
	if err := s.notifyTx(ctx, tx, ev); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	s.events.deliver(ev)
	return nil
}

// RevokeTokensNamed revokes every live token of a tenant (tenant "": the
// operator tokens) that carries this name, and says how many.
func (s *Store) RevokeTokensNamed(ctx context.Context, tenant crossbill.TenantID, name string) (int, error) {
	const op = "token revoke"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE tenant_id IS NOT DISTINCT FROM ? AND name = ? AND revoked_at IS NULL`,
		formatStamp(s.now()), nullIfEmpty(string(tenant)), name)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n == 0 {
		return 0, nil
	}
	ev := Event{Kind: EventTokenRevoked} // several: every cached token is dropped
	if err := s.notifyTx(ctx, tx, ev); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	s.events.deliver(ev)
	return int(n), nil
}

const tokenColumns = `id, COALESCE(tenant_id, ''), name, scope, role, COALESCE(user_id, ''), created_at, last_used_at, revoked_at`

func scanToken(r scanner) (Token, error) {
	var t Token
	var tenant, scope, role, created string
	var used, revoked sql.NullString
	if err := r.Scan(&t.ID, &tenant, &t.Name, &scope, &role, &t.UserID, &created, &used, &revoked); err != nil {
		return Token{}, err
	}
	t.TenantID, t.Scope, t.Role = crossbill.TenantID(tenant), Scope(scope), Role(role)
	if t.Role == "" { // made before tokens carried a role
		t.Role = scopeRole(t.Scope, t.Operator())
	}
	var err error
	if t.CreatedAt, err = time.Parse(time.RFC3339, created); err != nil {
		return Token{}, err
	}
	if t.LastUsedAt, err = parseStampPtr(used); err != nil {
		return Token{}, err
	}
	if t.RevokedAt, err = parseStampPtr(revoked); err != nil {
		return Token{}, err
	}
	return t, nil
}

// stampLayout is fixed-width so that stamps compare correctly as text in SQL.
const stampLayout = "2006-01-02T15:04:05.000000Z"

func formatStamp(t time.Time) string { return t.UTC().Format(stampLayout) }

func parseStampPtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LiveToken reads a token that is not revoked (a token's browser session
// ends with the token).
func (s *Store) LiveToken(ctx context.Context, id string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ? AND revoked_at IS NULL`, id))
	if err == sql.ErrNoRows {
		return Token{}, crossbill.Errorf(crossbill.CodeUnauthorized, "authenticate", "the token this session signed in with was revoked: sign in again")
	}
	if err != nil {
		return Token{}, crossbill.Errorf(crossbill.CodeInternal, "authenticate", "%w", err)
	}
	return t, nil
}
