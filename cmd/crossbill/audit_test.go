package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/store"
)

func TestTokenRoleAndPerson(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := runCLI(t, dir, "token", "create", "--tenant", "acme", "--role", "approver", "--user", "ann@example.com", "--json")
	var tok struct {
		ID, Token, Scope, Role string
		UserID                 string `json:"user_id"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok.Role != "approver" || tok.Scope != "read" || !strings.HasPrefix(tok.UserID, "usr_") {
		t.Fatalf("approver token: %d %s %s", code, out, errOut)
	}
	// No role: today's meaning of the scope.
	out, _, code = runCLI(t, dir, "token", "create", "--tenant", "acme", "--json")
	if code != 0 || !strings.Contains(out, `"role": "viewer"`) {
		t.Fatalf("default token: %s", out)
	}
	out, _, code = runCLI(t, dir, "token", "create", "--operator", "--json")
	if code != 0 || !strings.Contains(out, `"role": "operator"`) {
		t.Fatalf("operator token: %s", out)
	}
	for _, args := range [][]string{
		{"token", "create", "--tenant", "acme", "--role", "operator"},
		{"token", "create", "--tenant", "acme", "--role", "root"},
		{"token", "create", "--tenant", "acme", "--role", "admin", "--scope", "read"},
		{"token", "create", "--tenant", "acme", "--user", "not-an-email"},
	} {
		if _, errOut, code := runCLI(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d %q, want 2 with a message", args, code, errOut)
		}
	}
}

// TestParityAuditVerify: `audit verify` and GET /api/v1/audit/verify give
// the same answer, intact and after a line is edited in the database; the
// CLI then exits 5.
func TestParityAuditVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(errOut)
	}
	api := newAPI(t, dir, nil, "")
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { st.Close() })
	for i := range 3 {
		mustNoErr(t, st.AppendAudit(ctx, store.AuditEntry{Actor: "test", Action: "test.line", Subject: string(rune('a' + i))}, nil))
	}
	compare := func(wantOK bool, wantCode int) {
		t.Helper()
		out, errOut, code := runCLI(t, dir, "audit", "verify", "--json")
		if code != wantCode {
			t.Fatalf("audit verify: exit %d, want %d: %s", code, wantCode, errOut)
		}
		var cli, viaAPI store.AuditCheck
		mustNoErr(t, json.Unmarshal([]byte(out), &cli))
		status, body := api.do(t, "GET", "/api/v1/audit/verify", nil)
		if status != 200 {
			t.Fatalf("API: %d %s", status, body)
		}
		mustNoErr(t, json.Unmarshal(body, &viaAPI))
		if cli.OK != wantOK || cli.OK != viaAPI.OK || cli.Lines != viaAPI.Lines || strings.Join(cli.Problems, "|") != strings.Join(viaAPI.Problems, "|") {
			t.Fatalf("CLI %+v\nAPI %+v", cli, viaAPI)
		}
	}
	compare(true, 0)
	_, err = st.DB().ExecContext(ctx, `DROP TRIGGER audit_log_no_update`)
	mustNoErr(t, err)
	_, err = st.DB().ExecContext(ctx, `UPDATE audit_log SET subject = 'z' WHERE id = 2`)
	mustNoErr(t, err)
	compare(false, 5)
}
