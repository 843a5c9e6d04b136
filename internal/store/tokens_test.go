package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	beta, err := s.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := s.CreateToken(ctx, acme.ID, "ci", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(secret), store.TokenPrefix) || len(secret) < 40 {
		t.Fatalf("secret %q: want a long %s token", secret, store.TokenPrefix)
	}
	// Only the hash is stored: the secret appears nowhere in the table.
	var n int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens WHERE hash = ? OR name = ? OR id = ?`, string(secret), string(secret), string(secret)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("secret stored in plain text (%d rows, %v)", n, err)
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || got.TenantID != acme.ID || got.Scope != store.ScopeRead {
		t.Fatalf("authenticate: %+v, %v", got, err)
	}
	if _, err := s.Authenticate(ctx, secret+"x"); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("wrong secret: code %q", crossbill.ErrorCode(err))
	}
	if err := s.TouchToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	// Another tenant cannot revoke it; the owner can, once.
	if err := s.RevokeToken(ctx, beta.ID, false, tok.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("cross-tenant revoke: code %q", crossbill.ErrorCode(err))
	}
	if err := s.RevokeToken(ctx, acme.ID, false, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("revoked token: code %q", crossbill.ErrorCode(err))
	}
	if err := s.RevokeToken(ctx, acme.ID, false, tok.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("second revoke: code %q", crossbill.ErrorCode(err))
	}
	list, err := s.Tokens(ctx, acme.ID, false)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil || list[0].LastUsedAt == nil {
		t.Fatalf("list: %+v, %v", list, err)
	}
	op, opSecret, err := s.CreateToken(ctx, "", "bootstrap", store.ScopeAdmin)
	if err != nil || !op.Operator() {
		t.Fatalf("operator token: %+v, %v", op, err)
	}
	if got, err := s.Authenticate(ctx, opSecret); err != nil || !got.Operator() {
		t.Fatalf("operator authenticate: %+v, %v", got, err)
	}
	if ops, err := s.Tokens(ctx, "", false); err != nil || len(ops) != 1 {
		t.Fatalf("operator list: %+v, %v", ops, err)
	}
}

func TestTokenBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	for name, tc := range map[string]struct {
		tenant crossbill.TenantID
		name   string
		scope  store.Scope
		want   crossbill.Code
	}{
		"unknown scope":  {"", "x", "write", crossbill.CodeInvalid},
		"unknown tenant": {"nope", "x", store.ScopeRead, crossbill.CodeNotFound},
		"long name":      {"", strings.Repeat("n", 101), store.ScopeRead, crossbill.CodeInvalid},
	} {
		if _, _, err := s.CreateToken(ctx, tc.tenant, tc.name, tc.scope); crossbill.ErrorCode(err) != tc.want {
			t.Errorf("%s: code %q, want %q", name, crossbill.ErrorCode(err), tc.want)
		}
	}
}

// TestTokenCapAndRevokeByName: the cap counts the live tokens of one
// tenant, operator tokens (tenant NULL) apart; revoking by name matches
// the tenant the same way. Both compare tenant_id NULL-safely, which
// PostgreSQL spells IS NOT DISTINCT FROM.
func TestTokenCapAndRevokeByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, _, err := s.CreateTokenCapped(ctx, acme.ID, "ci", store.ScopeRead, 2); err != nil {
			t.Fatalf("token %d under the cap: %v", i, err)
		}
	}
	if _, _, err := s.CreateTokenCapped(ctx, acme.ID, "ci", store.ScopeRead, 2); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("third token over a cap of 2: code %q (%v), want conflict", crossbill.ErrorCode(err), err)
	}
	if _, _, err := s.CreateTokenCapped(ctx, "", "ci", store.ScopeAdmin, 1); err != nil {
		t.Fatalf("operator token: the tenant's tokens must not count: %v", err)
	}
	if _, _, err := s.CreateTokenCapped(ctx, "", "ci", store.ScopeAdmin, 1); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("second operator token over a cap of 1: code %q (%v), want conflict", crossbill.ErrorCode(err), err)
	}
	if n, err := s.RevokeTokensNamed(ctx, "", "ci"); err != nil || n != 1 {
		t.Fatalf("revoke operator tokens named ci: %d, %v; want 1", n, err)
	}
	if n, err := s.RevokeTokensNamed(ctx, acme.ID, "ci"); err != nil || n != 2 {
		t.Fatalf("revoke acme tokens named ci: %d, %v; want 2", n, err)
	}
}
