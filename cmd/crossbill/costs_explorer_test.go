package main

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/costexplorer/cetest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestCostExplorerDayZero: a verified cost connection shows 12 months of
// daily cost from Cost Explorer in the CLI and the API, labelled, before
// any CUR; the CLI and the API answer alike; the request count and the
// monthly budget hold; ingesting a CUR period replaces that period and
// reconciles it.
//
// moto's Cost Explorer returns queued results only (POST
// /moto-api/static/ce/cost-and-usage-results): the answers are queued for
// the customer's account (222222222222) alone, so they are read only
// through the connection's role; the hub's own account would get empty
// answers. moto 5.2.1 does not serve GetTags: the load says the tag keys
// were not read and goes on. Not parallel: it sets the hub's credentials
// in the environment.
func TestCostExplorerDayZero(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	setHubEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	conn := costConnection(t, dir, "acme", "arn:aws:iam::222222222222:role/CrossbillAccess")

	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, 1-today.Day()).AddDate(0, -11, 0)
	days := int(today.Sub(from).Hours() / 24)
	ec2 := "Amazon Elastic Compute Cloud - Compute"
	mustNoErr(t, srv.QueueCostAndUsage(ctx, "222222222222",
		cetest.Daily(from, today, "", cetest.Group{Keys: [2]string{"111111111111", ec2}, Cost: 2}),
		cetest.Daily(from, today, "", cetest.Group{Keys: [2]string{"111111111111", "us-east-1"}, Cost: 2}),
		cetest.Daily(from, today, "", cetest.Group{Keys: [2]string{ec2, "USE1-BoxUsage:m5.large"}, Cost: 2}),
		// The forced incremental load's one request within the budget:
		// the 3 unsettled days again.
		cetest.Daily(today.AddDate(0, 0, -3), today, "", cetest.Group{Keys: [2]string{"111111111111", ec2}, Cost: 2}),
	))
	load := []string{"costs", "explorer", "load", "--tenant", "acme", "--connection", string(conn.ID), "--endpoint-url", srv.URL, "--json"}
	out, stderr, code := runCLI(t, dir, load...)
	var rep costexplorer.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("load: code %d, %s %s", code, out, stderr)
	}
	// 3 groupings + GetTags, GetDimensionValues and GetCostForecast
	// (refused by moto, which serves none of them: no tag keys, names or
	// forecast, said in the message; each still a counted request).
	if rep.Status != costexplorer.StatusLoaded || rep.Requests != 6 || rep.From != from.Format(time.DateOnly) || !strings.Contains(rep.Message, "tag keys not read") ||
		!strings.Contains(rep.Message, "forecast not read") || !strings.Contains(rep.Message, "account names not read") {
		t.Fatalf("first load: %+v", rep)
	}

	window := []string{"--from", from.Format(time.DateOnly), "--to", today.Format(time.DateOnly)}
	queries := []struct {
		cli []string
		api string
	}{
		{append([]string{"--granularity", "monthly", "--metric", "unblended"}, window...),
			"granularity=monthly&metric=unblended&from=" + from.Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)},
		{append([]string{"--group-by", "region"}, window...), "group_by=region&from=" + from.Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)},
	}
	var cliAnswers []costs.Result
	for _, q := range queries {
		out, stderr, code := runCLI(t, dir, append([]string{"costs", "--tenant", "acme", "--json"}, q.cli...)...)
		var res costs.Result
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("costs %v: code %d, %s", q.cli, code, stderr)
		}
		cliAnswers = append(cliAnswers, res)
	}
	if r := cliAnswers[0]; r.Total != float64(2*days) || len(r.Rows) != 12 || len(r.Sources) != 1 || r.Sources[0].Label != costs.ExplorerLabel {
		t.Errorf("12 months from Cost Explorer: total %v (want %d), %d months, sources %+v", r.Total, 2*days, len(r.Rows), r.Sources)
	}
	text, _, _ := runCLI(t, dir, append([]string{"costs", "--tenant", "acme", "--granularity", "monthly"}, window...)...)
	if !strings.Contains(text, "source: Cost Explorer, daily, until the CUR export arrives") {
		t.Errorf("the text output does not label the source:\n%s", text)
	}
	out, _, code = runCLI(t, dir, "costs", "explorer", "status", "--tenant", "acme", "--connection", string(conn.ID), "--json")
	var cliStatus costexplorer.Usage
	if code != 0 || json.Unmarshal([]byte(out), &cliStatus) != nil || cliStatus.Requests != 6 || cliStatus.Budget != costexplorer.DefaultMonthlyBudget {
		t.Errorf("status: %s", out)
	}

	// The API, on the same data directory, answers the same.
	func() {
		st, err := store.Open(ctx, dir)
		mustNoErr(t, err)
		defer st.Close()
		cs, err := costs.Open(ctx, dir)
		mustNoErr(t, err)
		defer cs.Close()
		hub, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: srv.URL})
		mustNoErr(t, err)
		_, tok, err := st.CreateToken(ctx, "", "parity", store.ScopeAdmin)
		mustNoErr(t, err)
		api := &apiClient{srv: newServer(t, server.Config{Store: st, Costs: cs, AWS: awsclient.MustFactory(hub), RatePerSecond: -1}), token: tok}
		for i, q := range queries {
			status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs?"+q.api, nil)
			var res costs.Result
			if status != http.StatusOK || json.Unmarshal(body, &res) != nil {
				t.Fatalf("API %s: %d %s", q.api, status, body)
			}
			a, _ := json.Marshal(res)
			c, _ := json.Marshal(cliAnswers[i])
			if string(a) != string(c) {
				t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", q.cli, c, a)
			}
		}
		// costs forecast: the same answer from both.
		out, stderr, code := runCLI(t, dir, "costs", "forecast", "--tenant", "acme", "--json")
		status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/forecast", nil)
		var cliFc, apiFc costs.Forecast
		if code != 0 || status != http.StatusOK || json.Unmarshal([]byte(out), &cliFc) != nil || json.Unmarshal(body, &apiFc) != nil ||
			cliFc.Forecast <= 0 || cliFc.CostExplorer != nil || !reflect.DeepEqual(cliFc, apiFc) {
			t.Errorf("forecast: CLI %d %s %s, API %d %s", code, out, stderr, status, body)
		}
		connPath := "/api/v1/tenants/acme/connections/" + string(conn.ID) + "/cost-explorer"
		status, body = api.do(t, "GET", connPath, nil)
		var apiStatus costexplorer.Usage
		if status != http.StatusOK || json.Unmarshal(body, &apiStatus) != nil || apiStatus.Requests != cliStatus.Requests || apiStatus.LoadedThrough != cliStatus.LoadedThrough {
			t.Errorf("API status %d %s, CLI %+v", status, body, cliStatus)
		}
		// The same day's load through the API sends nothing.
		status, body = api.do(t, "POST", connPath+"/load", map[string]any{})
		if status != http.StatusOK || !strings.Contains(string(body), `"status": "up_to_date"`) {
			t.Errorf("API load the same day: %d %s", status, body)
		}
		// Budget: one request left; the forced load stops there, not failing.
		status, body = api.do(t, "PUT", connPath+"/budget", map[string]int{"budget_requests": 7})
		if status != http.StatusOK || !strings.Contains(string(body), `"budget_requests": 7`) {
			t.Fatalf("API budget: %d %s", status, body)
		}
	}()
	out, stderr, code = runCLI(t, dir, append(load, "--force")...)
	rep = costexplorer.Report{}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Status != costexplorer.StatusBudgetReached || rep.Requests != 1 || rep.Usage.Requests != 7 {
		t.Errorf("load over the budget: code %d, %s %s", code, out, stderr)
	}

	// The CUR's last full month replaces Cost Explorer's.
	last := today.AddDate(0, 0, 1-today.Day()).AddDate(0, -1, 0)
	period := last.Format("2006-01")
	row := costRow(last.AddDate(0, 0, 4).Format(time.DateOnly), "AmazonEC2", "50")
	row[cur.ColBillBillingPeriodStartDate] = "TIMESTAMP '" + last.Format(time.DateOnly) + "'"
	row[cur.ColBillBillingPeriodEndDate] = "TIMESTAMP '" + last.AddDate(0, 1, 0).Format(time.DateOnly) + "'"
	local := t.TempDir()
	costtest.Export(t, local, "cur", "exp", period, "exec-1", cur.Columns(), []costtest.Row{row})
	if _, stderr, code := runCLI(t, dir, "cur", "ingest", "--tenant", "acme", "--source", local); code != 0 {
		t.Fatalf("cur ingest: %s", stderr)
	}
	monthDays := last.AddDate(0, 1, 0).Sub(last).Hours() / 24
	out, _, _ = runCLI(t, dir, append([]string{"costs", "--tenant", "acme", "--json"}, queries[0].cli...)...)
	var after costs.Result
	mustNoErr(t, json.Unmarshal([]byte(out), &after))
	wantTo := today.AddDate(0, 0, -1) // Cost Explorer's last day, unless the CUR's month holds it (on the 1st)
	if wantTo.Format("2006-01") == period {
		wantTo = last.AddDate(0, 0, -1)
	}
	if want := float64(2*days) - 2*monthDays + 50; after.Total != want || len(after.Sources) != 2 || after.Sources[1].To != wantTo.Format(time.DateOnly) {
		t.Errorf("after the CUR's %s: total %v, want %v; sources %+v", period, after.Total, want, after.Sources)
	}
	out, _, code = runCLI(t, dir, "costs", "explorer", "reconciliation", "--tenant", "acme", "--json")
	var rec []costs.Reconciliation
	if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || len(rec) != 2 || rec[0].Period != period || rec[0].CUR != 50 ||
		rec[0].Explorer != 2*monthDays || !rec[0].OverTolerance {
		t.Errorf("reconciliation: %s", out)
	}
}

// TestVerifyPointsToDayZeroCosts: a verified connection with the cost
// module is told how to see its costs before the CUR arrives; one without
// it is not.
func TestVerifyPointsToDayZeroCosts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mods []manifest.Module
		want bool
	}{{[]manifest.Module{manifest.ModuleCost, manifest.ModuleCUR}, true}, {[]manifest.Module{manifest.ModuleCUR}, false}} {
		var b strings.Builder
		res := verify.Result{Status: store.VerificationVerified, Tenant: "acme", ConnectionID: "c1", Modules: tt.mods}
		mustNoErr(t, printVerification(&b, res))
		if got := strings.Contains(b.String(), "crossbill costs explorer load --tenant acme --connection c1"); got != tt.want {
			t.Errorf("modules %v: hint %v, want %v:\n%s", tt.mods, got, tt.want, b.String())
		}
	}
}
