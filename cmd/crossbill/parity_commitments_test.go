package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// newCostAPI is the HTTP API over dir's store and cost store. DuckDB takes
// one process's lock per file: open it after the CLI runs are done.
func newCostAPI(t *testing.T, dir string) *apiClient {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { st.Close() })
	cs, err := costs.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { cs.Close() })
	_, op, err := st.CreateToken(ctx, "", "parity", store.ScopeAdmin)
	mustNoErr(t, err)
	return &apiClient{srv: newServer(t, server.Config{Store: st, Costs: cs, RatePerSecond: -1}), token: op}
}

// TestParityCommitmentsRecommend: `commitments recommend --json` and GET
// .../commitments/recommendations recommend the same purchases from the
// same ingested CUR (same window, same discount rates, same ranking).
func TestParityCommitmentsRecommend(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	queries := []struct {
		cli []string
		api string
	}{
		{[]string{"--lookback", "14d"}, "lookback_days=14"},
		{[]string{"--lookback", "1d"}, "lookback_days=1"},
		{[]string{"--lookback", "3d"}, "lookback_days=3"},
		{[]string{"--lookback", "14d", "--rank", "optimum", "--term", "1"}, "lookback_days=14&rank=optimum&terms=1"},
	}
	var cli []string
	for _, q := range queries {
		stdout, stderr, code := runCLI(t, dir, append([]string{"commitments", "recommend", "--tenant", "acme", "--json"}, q.cli...)...)
		if code != 0 {
			t.Fatalf("CLI %v: %d %s", q.cli, code, stderr)
		}
		var rep recommendReport
		mustNoErr(t, json.Unmarshal([]byte(stdout), &rep))
		b, err := json.Marshal(rep.Recommendations)
		mustNoErr(t, err)
		cli = append(cli, string(b))
	}
	api := newCostAPI(t, dir)
	for i, q := range queries {
		status, body := api.do(t, "GET", "/api/v1/tenants/acme/commitments/recommendations?"+q.api, nil)
		if status != http.StatusOK {
			t.Fatalf("API %s: %d %s", q.api, status, body)
		}
		var recs []commitments.Recommendation
		mustNoErr(t, json.Unmarshal(body, &recs))
		b, err := json.Marshal(recs)
		mustNoErr(t, err)
		if len(recs) == 0 || cli[i] != string(b) {
			t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", q.cli, cli[i], b)
		}
	}
}

// TestParityCosts: `costs --json` and GET .../costs answer the same query
// with the same rows and totals, and refuse the same out-of-range query
// (one ParseQuery reads both).
func TestParityCosts(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	queries := []struct {
		cli []string
		api string
	}{
		{[]string{"--group-by", "service", "--from", "2026-01-01", "--to", "2026-01-10"}, "group_by=service&from=2026-01-01&to=2026-01-10"},
		{[]string{"--group-by", "region", "--granularity", "monthly", "--metric", "unblended", "--top", "1", "--from", "2026-01"},
			"group_by=region&granularity=monthly&metric=unblended&top=1&from=2026-01"},
		{[]string{"--filter", "service=AmazonRDS", "--billing-period", "2026-01"}, "filter=service%3DAmazonRDS&billing_period=2026-01"},
	}
	var cli []string
	for _, q := range queries {
		stdout, stderr, code := runCLI(t, dir, append([]string{"costs", "--tenant", "acme", "--json"}, q.cli...)...)
		if code != 0 {
			t.Fatalf("CLI %v: %d %s", q.cli, code, stderr)
		}
		var res costs.Result
		mustNoErr(t, json.Unmarshal([]byte(stdout), &res))
		b, err := json.Marshal(res)
		mustNoErr(t, err)
		cli = append(cli, string(b))
	}
	_, stderr, code := runCLI(t, dir, "costs", "--tenant", "acme", "--json", "--group-by", "service", "--top", "1001")
	if code != 2 || !strings.Contains(stderr, "top 1001") {
		t.Errorf("CLI --top 1001: code %d, %s; want 2 and the API's refusal", code, stderr)
	}

	api := newCostAPI(t, dir)
	for i, q := range queries {
		status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs?"+q.api, nil)
		if status != http.StatusOK {
			t.Fatalf("API %s: %d %s", q.api, status, body)
		}
		var res costs.Result
		mustNoErr(t, json.Unmarshal(body, &res))
		b, err := json.Marshal(res)
		mustNoErr(t, err)
		if len(res.Rows) == 0 || cli[i] != string(b) {
			t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", q.cli, cli[i], b)
		}
	}
	if status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs?group_by=service&top=1001", nil); status != http.StatusBadRequest || !strings.Contains(string(body), "top 1001") {
		t.Errorf("API top=1001: %d %s", status, body)
	}
}

// TestCostTenantWithoutFlag: without --tenant the cost commands read the
// one tenant with cost data (another tenant without data does not make it
// ambiguous), and refuse to guess between two, naming both.
func TestCostTenantWithoutFlag(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	if _, e, code := runCLI(t, dir, "tenant", "create", "beta"); code != 0 {
		t.Fatal(e)
	}
	out, stderr, code := runCLI(t, dir, "costs", "periods", "--json")
	var ps []costs.Period
	if code != 0 || json.Unmarshal([]byte(out), &ps) != nil || len(ps) == 0 || ps[0].Tenant != tenantID(t, dir, "acme") {
		t.Fatalf("one tenant with data: code %d, out %s, stderr %s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, dir, "commitments", "recommend", "--lookback", "14d", "--json"); code != 0 {
		t.Fatalf("commitments without --tenant: %d %s", code, stderr)
	}
	src := commitmentstest.Export(t, t.TempDir())
	if _, e, code := runCLI(t, dir, "cur", "ingest", "--tenant", "beta", "--source", src); code != 0 {
		t.Fatal(e)
	}
	_, stderr, code = runCLI(t, dir, "costs", "--group-by", "service")
	if code != 2 || !strings.Contains(stderr, "acme, beta") || !strings.Contains(stderr, "--tenant") {
		t.Errorf("two tenants with data: code %d, stderr %s; want 2 naming both", code, stderr)
	}
}

// TestParityCommitmentsSimulate: `commitments simulate --json` and POST
// .../commitments/simulate give the same what-if for the same commitment
// (one Simulate, one rate layering).
func TestParityCommitmentsSimulate(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	cases := []struct {
		cli []string
		api map[string]any
	}{
		{[]string{"--type", "COMPUTE_SP", "--term", "1", "--payment", "no", "--commitment", "2", "--lookback", "14d"},
			map[string]any{"type": "COMPUTE_SP", "term_years": 1, "payment_option": "NO_UPFRONT", "hourly_commitment": 2, "lookback_days": 14}},
		{[]string{"--type", "COMPUTE_SP", "--term", "3", "--payment", "all", "--commitment", "0.5", "--lookback", "3d"},
			map[string]any{"type": "COMPUTE_SP", "term_years": 3, "payment_option": "ALL_UPFRONT", "hourly_commitment": 0.5, "lookback_days": 3}},
	}
	api := newCostAPI(t, dir)
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, dir, append([]string{"commitments", "simulate", "--tenant", "acme", "--json"}, c.cli...)...)
		if code != 0 {
			t.Fatalf("CLI %v: %d %s", c.cli, code, stderr)
		}
		var fromCLI commitments.Recommendation
		mustNoErr(t, json.Unmarshal([]byte(stdout), &fromCLI))
		status, body := api.do(t, "POST", "/api/v1/tenants/acme/commitments/simulate", c.api)
		if status != http.StatusOK {
			t.Fatalf("API %v: %d %s", c.api, status, body)
		}
		var fromAPI commitments.Recommendation
		mustNoErr(t, json.Unmarshal(body, &fromAPI))
		a, err := json.Marshal(fromCLI)
		mustNoErr(t, err)
		b, err := json.Marshal(fromAPI)
		mustNoErr(t, err)
		if fromCLI.HourlyCommitment == 0 || string(a) != string(b) {
			t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", c.cli, a, b)
		}
	}
}

// TestParityCommitmentsUtilization: the CLI's per-plan daily rows and the
// API's daily rollup (the utilization page) come from one
// commitments.Utilization, so every day of the CLI's window sums to the
// API's figures for that day.
func TestParityCommitmentsUtilization(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	stdout, stderr, code := runCLI(t, dir, "commitments", "utilization", "--tenant", "acme", "--json", "--granularity", "daily", "--lookback", "10d")
	if code != 0 {
		t.Fatalf("CLI: %d %s", code, stderr)
	}
	var fromCLI struct {
		Periods []commitments.UtilizationRow `json:"periods"`
	}
	mustNoErr(t, json.Unmarshal([]byte(stdout), &fromCLI))
	type day struct{ commitment, used float64 }
	cli := map[string]*day{}
	for _, r := range fromCLI.Periods {
		k := r.Period.UTC().Format("2006-01-02")
		if cli[k] == nil {
			cli[k] = &day{}
		}
		cli[k].commitment += r.Commitment
		cli[k].used += r.Used
	}
	status, body := newCostAPI(t, dir).do(t, "GET", "/api/v1/tenants/acme/commitments/utilization", nil)
	if status != http.StatusOK {
		t.Fatalf("API: %d %s", status, body)
	}
	var fromAPI commitments.UtilizationView
	mustNoErr(t, json.Unmarshal(body, &fromAPI))
	api := map[string]commitments.DayUse{}
	for _, d := range fromAPI.Daily {
		api[d.Period.UTC().Format("2006-01-02")] = d
	}
	if len(cli) == 0 {
		t.Fatal("the CLI reported no utilization")
	}
	for k, c := range cli {
		a, ok := api[k]
		if !ok {
			t.Errorf("%s: in the CLI's answer, not the API's", k)
			continue
		}
		if math.Abs(a.Commitment-c.commitment) > 1e-6 || math.Abs(a.Used-c.used) > 1e-6 {
			t.Errorf("%s: CLI commitment %.6f used %.6f, API %.6f / %.6f", k, c.commitment, c.used, a.Commitment, a.Used)
		}
	}
}

// TestParityCommitmentsInventory: `commitments inventory --json` and GET
// .../commitments list the same Savings Plans and reservations (one
// commitments.FromCUR); the windows differ (the CLI's --lookback, the API's
// whole store), so the plans are compared, not their window's amounts.
func TestParityCommitmentsInventory(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	stdout, stderr, code := runCLI(t, dir, "commitments", "inventory", "--tenant", "acme", "--json", "--lookback", "10d")
	if code != 0 {
		t.Fatalf("CLI: %d %s", code, stderr)
	}
	var fromCLI struct {
		Commitments []commitments.Commitment `json:"commitments"`
	}
	mustNoErr(t, json.Unmarshal([]byte(stdout), &fromCLI))
	status, body := newCostAPI(t, dir).do(t, "GET", "/api/v1/tenants/acme/commitments", nil)
	if status != http.StatusOK {
		t.Fatalf("API: %d %s", status, body)
	}
	var fromAPI struct {
		Inventory []commitments.Commitment `json:"inventory"`
	}
	mustNoErr(t, json.Unmarshal(body, &fromAPI))
	plans := func(cs []commitments.Commitment) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ARN+" "+c.Type+" "+string(c.Payment))
		}
		slices.Sort(out)
		return out
	}
	cli, api := plans(fromCLI.Commitments), plans(fromAPI.Inventory)
	if len(cli) == 0 || !slices.Equal(cli, api) {
		t.Errorf("CLI and API list different commitments\nCLI %v\nAPI %v", cli, api)
	}
}
