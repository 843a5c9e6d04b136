package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestConnectBindingsAndUnbind: the operator lists bindings (text and
// JSON), releases an account with a reason, and the release is refused
// without one or for an account no tenant holds; the released tenant's
// connection is back to pending and the audit log has one line.
func TestConnectBindingsAndUnbind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	acme, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-acme-bindings",
		HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: []manifest.Module{manifest.ModuleInventory}})
	mustNoErr(t, err)
	const role = "arn:aws:iam::222222222222:role/CrossbillAccess"
	_, err = storetest.Bind(ctx, st, c.ID, role)
	mustNoErr(t, err)
	mustNoErr(t, st.Close())

	stdout, stderr, code := runCLI(t, dir, "connect", "bindings", "--json")
	var bs []struct {
		AccountID string `json:"account_id"`
		Tenant    string `json:"tenant"`
		Roles     []struct {
			ConnectionID string `json:"connection_id"`
			RoleARN      string `json:"role_arn"`
			AssumedAt    string `json:"assumed_at"`
		} `json:"roles"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &bs) != nil || len(bs) != 1 || bs[0].AccountID != "222222222222" || bs[0].Tenant != "acme" ||
		len(bs[0].Roles) != 1 || bs[0].Roles[0].RoleARN != role || bs[0].Roles[0].AssumedAt == "" {
		t.Fatalf("bindings --json: code %d, %s %s", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, dir, "connect", "bindings")
	if code != 0 || !strings.Contains(stdout, "ACCOUNT") || !strings.Contains(stdout, role) || !strings.Contains(stdout, string(c.ID)) {
		t.Fatalf("bindings text: code %d\n%s", code, stdout)
	}
	if _, stderr, code = runCLI(t, dir, "connect", "bindings", "--tenant", "nope"); code != 3 {
		t.Fatalf("bindings of an unknown tenant: code %d %s", code, stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"connect", "unbind", "222222222222"}, 2, "--reason"},
		{[]string{"connect", "unbind", "2222", "--reason", "x"}, 2, "12-digit"},
		{[]string{"connect", "unbind", "333333333333", "--reason", "x"}, 3, "not bound"},
		{[]string{"connect", "unbind"}, 2, ""},
	} {
		if _, stderr, code := runCLI(t, dir, tc.args...); code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: code %d, stderr %q; want %d mentioning %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
	stdout, stderr, code = runCLI(t, dir, "connect", "unbind", "222222222222", "--reason", "the real owner asked", "--json")
	var released struct {
		AccountID string `json:"account_id"`
		Tenant    string `json:"tenant"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &released) != nil || released.AccountID != "222222222222" || released.Tenant != "acme" {
		t.Fatalf("unbind: code %d, %s %s", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, dir, "connect", "bindings")
	if code != 0 || !strings.Contains(stdout, "no account is bound") {
		t.Fatalf("bindings after unbind: code %d\n%s", code, stdout)
	}

	st, err = store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	got, err := st.ConnectionByID(ctx, c.ID)
	if err != nil || got.RoleARN != "" || got.Status != store.StatusPending {
		t.Fatalf("connection after unbind: %+v, %v", got, err)
	}
	log, err := st.AuditLog(ctx, store.AuditBindingRelease, "")
	if err != nil || len(log) != 1 || !strings.HasPrefix(log[0].Actor, "cli") || log[0].Subject != "222222222222" || !strings.Contains(string(log[0].Detail), "the real owner asked") {
		t.Fatalf("audit log: %+v, %v", log, err)
	}
}
