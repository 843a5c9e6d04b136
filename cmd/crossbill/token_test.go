package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant create: %d %s", code, errOut)
	}
	out, errOut, code := runCLI(t, dir, "token", "create", "--tenant", "acme", "--scope", "admin", "--name", "ci", "--json")
	var tok struct{ ID, Token, Scope, Name string }
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || !strings.HasPrefix(tok.Token, "cbt_") || tok.Scope != "admin" {
		t.Fatalf("create: %d %q %s", code, out, errOut)
	}
	if _, _, code := runCLI(t, dir, "token", "create", "--operator"); code != 0 {
		t.Fatalf("operator token: %d", code)
	}
	out, _, code = runCLI(t, dir, "token", "list")
	if code != 0 || !strings.Contains(out, tok.ID) || !strings.Contains(out, "(operator)") || strings.Contains(out, tok.Token) {
		t.Fatalf("list: %d %q (must list both and never a secret)", code, out)
	}
	if _, _, code := runCLI(t, dir, "token", "revoke", tok.ID); code != 0 {
		t.Fatalf("revoke: %d", code)
	}
	if out, _, _ := runCLI(t, dir, "token", "list", "--tenant", "acme"); !strings.Contains(out, "revoked") {
		t.Fatalf("revoked token not shown as such: %q", out)
	}
	for _, args := range [][]string{
		{"token", "create"}, // neither --tenant nor --operator
		{"token", "create", "--tenant", "acme", "--operator"},      // both
		{"token", "create", "--tenant", "acme", "--scope", "root"}, // bad scope
		{"token", "create", "--operator", "--scope", "read"},       // operators are admins
	} {
		if _, errOut, code := runCLI(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d %q, want 2 with a message", args, code, errOut)
		}
	}
	if _, _, code := runCLI(t, dir, "token", "create", "--tenant", "nosuch"); code != 3 {
		t.Errorf("unknown tenant: code %d, want 3", code)
	}
	if _, _, code := runCLI(t, dir, "token", "revoke", tok.ID); code != 3 {
		t.Errorf("second revoke: code %d, want 3", code)
	}
}

// TestTokenListEscapesNames: a name stored before names were checked (or
// by another writer) cannot drive the operator's terminal or forge a row.
func TestTokenListEscapesNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, dir, "token", "create", "--operator", "--name", "x\x1b[2J"); code != 2 || !strings.Contains(errOut, "U+001B") {
		t.Fatalf("create with an escape in the name: %d %q, want 2 naming the character", code, errOut)
	}
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := st.CreateToken(context.Background(), "", "ci", store.ScopeAdmin)
	if err == nil {
		_, err = st.DB().Exec(`UPDATE api_tokens SET name = ? WHERE id = ?`, "\x1b]0;pwned\x07ci\u202e\nfake\trow", tok.ID)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, dir, "token", "list")
	if code != 0 || strings.ContainsAny(out, "\x1b\x07\u202e\t") || strings.Count(out, "\n") != 2 || !strings.Contains(out, `\x1b]0;pwned\x07ci\u202e\x0afake\x09row`) {
		t.Fatalf("list: %d %q, want the name escaped on one row", code, out)
	}
}

func TestTokenRevokeHelpStatesTheDelay(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI(t, t.TempDir(), "token", "revoke", "--help")
	out = strings.Join(strings.Fields(out), " ")
	if code != 0 || !strings.Contains(out, "refuses this one within "+server.TokenCacheTTL.String()) {
		t.Fatalf("help: %q", out)
	}
}
