package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/store"
)

// TestParityApprovals: `approvals list` and GET .../approvals answer the
// same; `approvals approve --as` decides as that person, refuses the
// requester (exit 5) and a second decision (exit 4).
func TestParityApprovals(t *testing.T) {
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
	acme, err := st.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	a, err := approval.Open(ctx, st, approval.Request{Tenant: acme.ID, Kind: approval.KindPurchase, Subject: "plan_7", Summary: "1-year Compute SP at $2/h",
		Detail: map[string]any{"upfront": 0}}, store.AuditEntry{Actor: "user:usr_ann", PersonEmail: "ann@example.com"})
	mustNoErr(t, err)

	out, errOut, code := runCLI(t, dir, "approvals", "list", "--tenant", "acme", "--json")
	var cli, viaAPI []store.Approval
	if code != 0 || json.Unmarshal([]byte(out), &cli) != nil {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	status, body := api.do(t, "GET", "/api/v1/tenants/acme/approvals", nil)
	if status != 200 || json.Unmarshal(body, &viaAPI) != nil {
		t.Fatalf("API: %d %s", status, body)
	}
	if len(cli) != 1 || len(viaAPI) != 1 || cli[0].ID != a.ID || viaAPI[0].ID != a.ID || cli[0].Summary != viaAPI[0].Summary || string(cli[0].Detail) != string(viaAPI[0].Detail) {
		t.Fatalf("CLI %+v\nAPI %+v", cli, viaAPI)
	}

	if _, errOut, code := runCLI(t, dir, "approvals", "approve", a.ID, "--tenant", "acme", "--as", "ann@example.com"); code != 5 || errOut == "" {
		t.Fatalf("the requester approved: exit %d %q", code, errOut)
	}
	out, errOut, code = runCLI(t, dir, "approvals", "approve", a.ID, "--tenant", "acme", "--as", "bob@example.com", "--reason", "within budget", "--json")
	var got store.Approval
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.State != approval.Approved || got.Decisions[0].Email != "bob@example.com" {
		t.Fatalf("bob approves: %d %s %s", code, out, errOut)
	}
	if _, _, code := runCLI(t, dir, "approvals", "deny", a.ID, "--tenant", "acme", "--as", "cat@example.com", "--reason", "late"); code != 4 {
		t.Fatalf("deciding a decided approval: exit %d", code)
	}
	if _, _, code := runCLI(t, dir, "approvals", "list", "--tenant", "acme", "--state", "bogus"); code != 2 {
		t.Fatalf("bad state: exit %d", code)
	}
}
