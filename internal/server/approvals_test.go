package server_test

import (
	"context"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/store"
)

// TestApprovalsInbox: people decide through the API with their own tokens.
// A viewer cannot decide, the requester cannot approve their own request,
// a two-person rule needs two other approvers, and a deny needs a reason.
func TestApprovalsInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := startServer(t, nil)
	st := ts.Store()
	var tj tenantJSON
	if code := ts.do(t, "POST", "/api/v1/tenants", ts.op, map[string]string{"name": "acme"}, &tj); code != 201 {
		t.Fatalf("tenant: %d", code)
	}
	tenant := crossbill.TenantID(tj.ID)
	token := func(email string, role store.Role) (store.User, string) {
		u, err := st.LocalUser(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := st.NewToken(ctx, store.TokenRequest{Tenant: tenant, Name: email, Role: role, UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		return u, string(secret)
	}
	ann, annTok := token("ann@example.com", store.RoleApprover)
	_, bobTok := token("bob@example.com", store.RoleApprover)
	_, catTok := token("cat@example.com", store.RoleApprover)
	_, vicTok := token("vic@example.com", store.RoleViewer)
	a, err := approval.Open(ctx, st, approval.Request{Tenant: tenant, Kind: approval.KindAccessGrant, Subject: "lease_1", Summary: "AdministratorAccess on 111122223333 for 1h", Required: 2},
		store.AuditEntry{Actor: "user:" + ann.ID, PersonEmail: ann.Email})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/tenants/acme/approvals/" + a.ID
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := ts.do(t, "POST", path+"/approve", vicTok, map[string]string{}, &e); code != 403 {
		t.Fatalf("a viewer approved: %d %+v", code, e)
	}
	if code := ts.do(t, "POST", path+"/approve", annTok, map[string]string{}, &e); code != 403 {
		t.Fatalf("the requester approved her own request: %d %+v", code, e)
	}
	var got store.Approval
	if code := ts.do(t, "POST", path+"/approve", bobTok, map[string]string{"reason": "on call"}, &got); code != 200 || got.State != approval.Pending {
		t.Fatalf("bob's approval: %d %+v", code, got)
	}
	if code := ts.do(t, "POST", path+"/approve", bobTok, map[string]string{}, &e); code != 409 {
		t.Fatalf("bob approved twice: %d", code)
	}
	if code := ts.do(t, "POST", path+"/deny", catTok, map[string]string{}, &e); code != 400 {
		t.Fatalf("a deny without a reason: %d", code)
	}
	if code := ts.do(t, "POST", path+"/approve", catTok, map[string]string{}, &got); code != 200 || got.State != approval.Approved || len(got.Decisions) != 2 {
		t.Fatalf("cat's approval: %d %+v", code, got)
	}
	var list []store.Approval
	if code := ts.do(t, "GET", "/api/v1/tenants/acme/approvals?state=approved", vicTok, nil, &list); code != 200 || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := ts.do(t, "GET", "/api/v1/tenants/acme/approvals?state=bogus", vicTok, nil, &e); code != 400 {
		t.Fatalf("bad state: %d", code)
	}
}
