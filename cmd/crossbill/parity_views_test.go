package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
)

// TestParityViews: `costs views create` and POST .../costs/views save the
// same view and refuse the same bad one; `costs views list --json` and GET
// .../costs/views list the same; `costs --view NAME --format csv` and
// GET .../views/{view}/export write the same CSV bytes, as do
// `costs --format csv` and GET .../costs/export on the same query.
func TestParityViews(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	query := []string{"--group-by", "service", "--granularity", "monthly", "--filter", "service=AmazonEC2,AmazonRDS", "--from", "2026-01"}
	stdout, stderr, code := runCLI(t, dir, append([]string{"costs", "views", "create", "cli view", "--tenant", "acme", "--json"}, query...)...)
	if code != 0 {
		t.Fatalf("CLI create: %d %s", code, stderr)
	}
	var cliView costs.View
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliView))
	_, cliBad, badCode := runCLI(t, dir, "costs", "views", "create", "bad", "--tenant", "acme", "--group-by", "colour")
	_, _, dupCode := runCLI(t, dir, "costs", "views", "create", "cli view", "--tenant", "acme")
	viewCSV, stderr, code := runCLI(t, dir, "costs", "--tenant", "acme", "--view", "cli view", "--format", "csv")
	if code != 0 {
		t.Fatalf("CLI --view: %d %s", code, stderr)
	}
	queryCSV, stderr, code := runCLI(t, dir, append([]string{"costs", "--tenant", "acme", "--format", "csv"}, query...)...)
	if code != 0 {
		t.Fatalf("CLI --format csv: %d %s", code, stderr)
	}
	if badCode != 2 || dupCode != 4 {
		t.Errorf("CLI refusals: bad query exit %d (want 2), taken name exit %d (want 4)", badCode, dupCode)
	}

	api := newCostAPI(t, dir)
	st, body := api.do(t, "POST", "/api/v1/tenants/acme/costs/views", map[string]any{"name": "api view", "query": cliView.Query})
	if st != http.StatusCreated {
		t.Fatalf("API create: %d %s", st, body)
	}
	var apiView costs.View
	mustNoErr(t, json.Unmarshal(body, &apiView))
	if a, _ := json.Marshal(apiView.Query); func() bool { c, _ := json.Marshal(cliView.Query); return string(a) != string(c) }() {
		t.Errorf("saved queries differ: CLI %+v, API %+v", cliView.Query, apiView.Query)
	}
	if st, body := api.do(t, "POST", "/api/v1/tenants/acme/costs/views", map[string]any{"name": "bad", "query": map[string]any{"group_by": "colour"}}); st != http.StatusBadRequest || !strings.Contains(cliBad, firstLine(string(errorText(t, body)))) {
		t.Errorf("API refusal %d %s; CLI said %s", st, body, cliBad)
	}
	st, body = api.do(t, "GET", "/api/v1/tenants/acme/costs/views", nil)
	var listed []costs.View
	mustNoErr(t, json.Unmarshal(body, &listed))
	if st != 200 || len(listed) != 2 || listed[0].Name != "api view" || listed[1].ID != cliView.ID {
		t.Errorf("API list: %d %+v", st, listed)
	}
	for _, c := range []struct{ path, cli string }{
		{"/api/v1/tenants/acme/costs/views/" + cliView.ID + "/export", viewCSV},
		{"/api/v1/tenants/acme/costs/views/api%20view/export", viewCSV},
		{"/api/v1/tenants/acme/costs/export?format=csv&group_by=service&granularity=monthly&filter=service%3DAmazonEC2%2CAmazonRDS&from=2026-01", queryCSV},
	} {
		st, body := api.do(t, "GET", c.path, nil)
		if st != 200 || string(body) != c.cli || strings.Count(c.cli, "\n") < 2 {
			t.Errorf("%s: %d\nAPI %s\nCLI %s", c.path, st, body, c.cli)
		}
	}
}

func errorText(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Error string }
	mustNoErr(t, json.Unmarshal(body, &e))
	return e.Error
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
