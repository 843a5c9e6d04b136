package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

type membersJSON struct {
	Summary struct {
		Accounts, Members, Pending, Verified int
	} `json:"summary"`
	Members []struct {
		AccountID string `json:"account_id"`
		Status    string `json:"status"`
	} `json:"members"`
}

// TestMembersAPI: POST lists the organization through the connection's
// role and stores it; GET answers the stored accounts; another tenant gets
// 404 for both, a read token may not refresh. IAM is not enforced in this
// emulator (the verify package's test covers the member checks), so the
// refresh lists without verifying.
func TestMembersAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{})
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := root.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prod", "dev"} {
		if _, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")}); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: creds.AccessKeyID, Secret: creds.SecretAccessKey}}
		m.HubPrincipal = "arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub"
		m.VerifyWait = -1
	})
	_, aRead, aAdmin := ts.tenantWithTokens(t, "acme")
	_, _, bAdmin := ts.tenantWithTokens(t, "beta")
	var created struct {
		Connection struct{ ID string }
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", aAdmin, map[string]any{"modules": []string{"inventory", "org"}}, &created); st != 201 {
		t.Fatalf("init: %d", st)
	}
	base := "/api/v1/tenants/acme/connections/" + created.Connection.ID
	var e errJSON
	if st := ts.do(t, "POST", base+"/members", aAdmin, map[string]any{}, &e); st != 400 {
		t.Fatalf("members of a connection without a role: %d %s", st, e.Error)
	}
	// Binding the role: the verification itself fails here (the emulator
	// does not enforce the external ID), which does not matter for listing.
	if st := ts.do(t, "POST", base+"/verify", aAdmin, map[string]string{"role_arn": "arn:aws:iam::" + emulator.DefaultAccount + ":role/CrossbillAccess"}, nil); st != 200 {
		t.Fatalf("verify: %d", st)
	}
	var got membersJSON
	if st := ts.do(t, "GET", base+"/members", aRead, nil, &got); st != 200 || len(got.Members) != 0 {
		t.Fatalf("members before a refresh: %d %+v", st, got)
	}
	if st := ts.do(t, "POST", base+"/members", aRead, map[string]any{"verify": false}, nil); st != 403 {
		t.Errorf("read token refreshing members: %d", st)
	}
	got = membersJSON{}
	if st := ts.do(t, "POST", base+"/members", aAdmin, map[string]any{"verify": false}, &got); st != 200 || got.Summary.Accounts != 3 || got.Summary.Members != 2 || got.Summary.Pending != 2 {
		t.Fatalf("refresh: %d %+v", st, got)
	}
	got = membersJSON{}
	if st := ts.do(t, "GET", base+"/members", aRead, nil, &got); st != 200 || len(got.Members) != 3 || got.Summary.Members != 2 {
		t.Fatalf("stored members: %d %+v", st, got)
	}
	other := "/api/v1/tenants/beta/connections/" + created.Connection.ID + "/members"
	if st := ts.do(t, "GET", other, bAdmin, nil, nil); st != 404 {
		t.Errorf("beta GET acme's members: %d, want 404", st)
	}
	if st := ts.do(t, "POST", other, bAdmin, map[string]any{"verify": false}, nil); st != 404 {
		t.Errorf("beta POST acme's members: %d, want 404", st)
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/connections/"+created.Connection.ID+"/members", bAdmin, nil, nil); st != 403 && st != 404 {
		t.Errorf("beta's token on acme's path: %d", st)
	}
}

// TestStartSchedulesMembers: a verified connection with the org module gets
// its daily members job at start, beside its verify job; one without the
// module gets none.
func TestStartSchedulesMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]crossbill.ConnectionID{}
	for i, mods := range [][]manifest.Module{{manifest.ModuleCost, manifest.ModuleOrg}, {manifest.ModuleCost}} {
		c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: crossbill.ExternalID(fmt.Sprintf("cb-members-%d", i)),
			HubPrincipal: "arn:aws:iam::111122223333:role/Hub", Modules: mods})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := storetest.Bind(ctx, st, c.ID, crossbill.RoleARN(fmt.Sprintf("arn:aws:iam::22223333444%d:role/CrossbillAccess", i))); err != nil {
			t.Fatal(err)
		}
		if err := st.SetConnectionStatus(ctx, c.ID, store.StatusVerified); err != nil {
			t.Fatal(err)
		}
		conns[string(mods[len(mods)-1])] = c.ID
	}
	st.Close()
	ts := startServer(t, func(m *server.Main) { m.DataDir = dir })
	for module, want := range map[string]int{"org": 1, "cost": 0} {
		jobs, err := ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: conns[module], Kind: server.JobMembers})
		if err != nil || len(jobs) != want {
			t.Fatalf("%s connection: members jobs %+v, %v; want %d", module, jobs, err, want)
		}
		if want == 1 && (jobs[0].IntervalSec != 86400 || jobs[0].Status != store.JobQueued) {
			t.Errorf("members job %+v", jobs[0])
		}
	}
}

// FuzzMembersBody sends arbitrary bodies to POST .../members of a
// connection that cannot list an organization (no org module): the answer
// is a JSON 400, never a server error, and no AWS call is made.
func FuzzMembersBody(f *testing.F) {
	ctx := context.Background()
	st, err := store.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		f.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-fuzz", HubPrincipal: "arn:aws:iam::111122223333:role/Hub", Modules: []manifest.Module{manifest.ModuleCost}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, st, c.ID, "arn:aws:iam::222233334444:role/CrossbillAccess"); err != nil {
		f.Fatal(err)
	}
	_, op, err := st.CreateToken(ctx, "", "fuzz", store.ScopeAdmin)
	if err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Config{Store: st, RatePerSecond: -1})
	for _, seed := range []string{`{}`, `{"verify":false}`, `{"verify":true,"concurrency":8,"role_name":"CrossbillAccess"}`, `{"concurrency":-1}`,
		`{"role_name":"bad name!"}`, `{"verify":"yes"}`, `[]`, `null`, "\x00", `{"x":1}`} {
		f.Add(seed)
	}
	path := "/api/v1/tenants/acme/connections/" + string(c.ID) + "/members"
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+string(op))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("POST members %q: %d %s", body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("POST members %q: answer is not JSON: %q", body, rec.Body)
		}
	})
}
