package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func TestConnectionInitTemplatesAndIsolation(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	_, aRead, aAdmin := ts.tenantWithTokens(t, "acme")
	_, _, bAdmin := ts.tenantWithTokens(t, "beta")

	var e errJSON
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", aAdmin, map[string]any{}, &e); st != 400 || !strings.Contains(e.Error, "hub_principal") {
		t.Fatalf("no hub principal: %d %q", st, e.Error)
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", aAdmin, map[string]any{"hub_principal": "arn:aws:iam::111122223333:role/Hub", "modules": []string{"nosuch"}}, &e); st != 400 {
		t.Fatalf("unknown module: %d", st)
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", aRead, map[string]any{"hub_principal": "arn:aws:iam::111122223333:role/Hub"}, nil); st != 403 {
		t.Fatalf("read token creating a connection: %d", st)
	}
	var created struct {
		Connection struct{ ID, Status string }
		ExternalID string `json:"external_id"`
		Templates  []struct {
			Kind, File, Download string
		}
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", aAdmin, map[string]any{"hub_principal": "arn:aws:iam::111122223333:role/Hub", "modules": []string{"cost", "cur"}}, &created); st != 201 {
		t.Fatalf("init: %d", st)
	}
	if !strings.HasPrefix(created.ExternalID, "cb-") || created.Connection.Status != "pending" || len(created.Templates) == 0 {
		t.Fatalf("init answer: %+v", created)
	}
	// The template download carries the external ID condition.
	req, err := http.NewRequest("GET", ts.URL()+created.Templates[0].Download, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+aRead)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "sts:ExternalId") || !strings.Contains(string(body), "AWSTemplateFormatVersion") {
		t.Fatalf("template download: %d %.200s", resp.StatusCode, body)
	}
	id := created.Connection.ID
	for _, p := range []string{"", "/verifications", "/templates/" + created.Templates[0].File} {
		if st := ts.do(t, "GET", "/api/v1/tenants/beta/connections/"+id+p, bAdmin, nil, nil); st != 404 {
			t.Errorf("beta GET connection%s: %d, want 404", p, st)
		}
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/beta/connections/"+id+"/verify", bAdmin, map[string]string{"role_arn": "arn:aws:iam::222233334444:role/X"}, nil); st != 404 {
		t.Errorf("beta verifying acme's connection: %d", st)
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections/"+id+"/verify", aAdmin, map[string]string{}, &e); st != 400 {
		t.Errorf("verify without a role: %d %s", st, e.Error)
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/connections/"+id+"/templates/nosuch.yaml", aRead, nil, nil); st != 404 {
		t.Errorf("unknown template: %d", st)
	}
	var list []struct{ ID string }
	if st := ts.do(t, "GET", "/api/v1/tenants/beta/connections", bAdmin, nil, &list); st != 200 || len(list) != 0 {
		t.Errorf("beta's list shows acme's connections: %+v", list)
	}
}

func TestReviewUploadAndAnnex(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	_, aRead, aAdmin := ts.tenantWithTokens(t, "acme")
	_, _, bAdmin := ts.tenantWithTokens(t, "beta")
	octo, err := os.ReadFile("../review/testdata/seeds/002-alphaus-octo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rv struct {
		ID     string
		Result struct {
			Summary struct {
				Highest string `json:"highest"`
			} `json:"summary"`
			Findings []struct{ ID, Severity string }
		}
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/reviews?name=octo.yaml", aAdmin, octo, &rv); st != 201 {
		t.Fatalf("upload: %d", st)
	}
	if rv.Result.Summary.Highest != "critical" || len(rv.Result.Findings) == 0 {
		t.Fatalf("Octo's template: highest %q, %d findings", rv.Result.Summary.Highest, len(rv.Result.Findings))
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/reviews/"+rv.ID, aRead, nil, nil); st != 200 {
		t.Fatalf("get review: %d", st)
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/beta/reviews/"+rv.ID, bAdmin, nil, nil); st != 404 {
		t.Fatalf("beta reads acme's review: %d", st)
	}
	for name, body := range map[string]string{"empty": "  ", "not a policy": "just words", "bad json": `{"Statement": [`} {
		var e errJSON
		if st := ts.do(t, "POST", "/api/v1/tenants/acme/reviews?name=x.json", aAdmin, body, &e); st != 400 {
			t.Errorf("%s: %d %s", name, st, e.Error)
		}
	}
	resp, err := http.NewRequest("GET", ts.URL()+"/api/v1/annex?modules=cost,cur", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Set("Authorization", "Bearer "+aRead)
	r, err := http.DefaultClient.Do(resp)
	if err != nil {
		t.Fatal(err)
	}
	md, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil || r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/markdown") || !strings.Contains(string(md), "cannot") {
		t.Fatalf("annex: %d %s %.200s", r.StatusCode, r.Header.Get("Content-Type"), md)
	}
	var a struct {
		CanDo []string `json:"can_do"`
	}
	if st := ts.do(t, "GET", "/api/v1/annex?modules=cost&format=json", aRead, nil, &a); st != 200 || len(a.CanDo) == 0 {
		t.Fatalf("annex json: %d %+v", st, a)
	}
	if st := ts.do(t, "GET", "/api/v1/annex?modules=bogus", aRead, nil, nil); st != 400 {
		t.Fatalf("annex bad module: %d", st)
	}
	var mods struct {
		Modules []struct{ Name, Preview string }
	}
	if st := ts.do(t, "GET", "/api/v1/onboarding/modules", aRead, nil, &mods); st != 200 || len(mods.Modules) < 8 {
		t.Fatalf("modules: %d %+v", st, mods)
	}
	// The wizard tells a module no feature uses yet (every JIT action is
	// pending) from one in use.
	for _, m := range mods.Modules {
		nothing := m.Name == "access-jit"
		if nothing != strings.Contains(m.Preview, "grant nothing") || (m.Name == "cost" && m.Preview != "") {
			t.Errorf("module %s: preview %q", m.Name, m.Preview)
		}
	}
}

// TestStartSchedulesVerifiedConnections: a connection verified outside the
// server (the CLI) gets its periodic verify job when the server starts,
// and, having the cost module, its daily Cost Explorer load.
func TestStartSchedulesVerifiedConnections(t *testing.T) {
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
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-test-external-id-0001", HubPrincipal: "arn:aws:iam::111122223333:role/Hub", Modules: []manifest.Module{manifest.ModuleCost}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, st, c.ID, "arn:aws:iam::222233334444:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetConnectionStatus(ctx, c.ID, store.StatusVerified); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ts := startServer(t, func(m *server.Main) { m.DataDir = dir })
	jobs, err := ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: c.ID, Kind: "verify"})
	if err != nil || len(jobs) != 1 || jobs[0].Status != store.JobQueued || jobs[0].IntervalSec != 86400 {
		t.Fatalf("verify jobs after start: %+v, %v", jobs, err)
	}
	// The cost module's day-zero load: daily, Cost Explorer through the role.
	jobs, err = ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: c.ID, Kind: server.JobCostExplorer})
	if err != nil || len(jobs) != 1 || jobs[0].IntervalSec != 86400 {
		t.Fatalf("cost explorer jobs after start: %+v, %v", jobs, err)
	}
	if all, _ := ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: c.ID}); len(all) != 2 {
		t.Errorf("jobs after start: %+v", all)
	}
}
