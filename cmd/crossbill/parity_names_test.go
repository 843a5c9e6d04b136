package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestParityCostAccountNames: costs by account name the accounts that the
// tenant's organization listing recorded (connect members), in the CLI's
// JSON and table and in the API, alike; an account Organizations did not
// list keeps its bare ID (issue 11).
func TestParityCostAccountNames(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	stdout, stderr, code := runCLI(t, dir, "costs", "--tenant", "acme", "--json", "--group-by", "account", "--from", "2026-01")
	if code != 0 {
		t.Fatalf("costs by account: %d %s", code, stderr)
	}
	var before costs.Result
	mustNoErr(t, json.Unmarshal([]byte(stdout), &before))
	if len(before.Totals) < 2 || before.Names != nil {
		t.Fatalf("before any members listing: %+v", before)
	}
	named, bare := before.Totals[0].Group, before.Totals[1].Group

	// The management account's connection listed its organization.
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	acme, err := st.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-names", HubPrincipal: "arn:aws:iam::111111111111:role/hub",
		Modules: []manifest.Module{manifest.ModuleOrg}})
	mustNoErr(t, err)
	c, err = storetest.Bind(ctx, st, c.ID, "arn:aws:iam::999999999999:role/CrossbillAccess")
	mustNoErr(t, err)
	_, err = st.SyncMembers(ctx, c, "CrossbillAccess", []store.OrgAccount{{AccountID: crossbill.AccountID(named), Name: "web-prod", State: store.AccountActive}})
	mustNoErr(t, err)
	mustNoErr(t, st.Close())

	stdout, stderr, code = runCLI(t, dir, "costs", "--tenant", "acme", "--json", "--group-by", "account", "--from", "2026-01")
	if code != 0 {
		t.Fatalf("costs by account: %d %s", code, stderr)
	}
	var cli costs.Result
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cli))
	if cli.Names[named] != "web-prod" || cli.Names[bare] != "" {
		t.Fatalf("CLI names %v; want %s named web-prod and %s bare", cli.Names, named, bare)
	}
	text, _, _ := runCLI(t, dir, "costs", "--tenant", "acme", "--group-by", "account", "--from", "2026-01")
	if !strings.Contains(text, "web-prod ("+named+")") {
		t.Errorf("the table does not name the account:\n%s", text)
	}
	status, body := newCostAPI(t, dir).do(t, "GET", "/api/v1/tenants/acme/costs?group_by=account&from=2026-01", nil)
	if status != http.StatusOK {
		t.Fatalf("API: %d %s", status, body)
	}
	var api costs.Result
	mustNoErr(t, json.Unmarshal(body, &api))
	a, _ := json.Marshal(api)
	b, _ := json.Marshal(cli)
	if string(a) != string(b) {
		t.Errorf("CLI and API differ\nCLI %s\nAPI %s", b, a)
	}

	// Month over month names them too (anomalies: internal/costs
	// TestAnalysisNamed).
	stdout, stderr, code = runCLI(t, dir, "costs", "mom", "--tenant", "acme", "--json", "--group-by", "account")
	if code != 0 {
		t.Fatalf("costs mom: %d %s", code, stderr)
	}
	var mom costs.MoM
	mustNoErr(t, json.Unmarshal([]byte(stdout), &mom))
	if mom.Names[named] != "web-prod" || mom.Names[bare] != "" {
		t.Errorf("costs mom names %v; want %s named web-prod and %s bare", mom.Names, named, bare)
	}
	text, _, _ = runCLI(t, dir, "costs", "mom", "--tenant", "acme", "--group-by", "account")
	if !strings.Contains(text, "web-prod ("+named+")") {
		t.Errorf("the mom table does not name the account:\n%s", text)
	}
}
