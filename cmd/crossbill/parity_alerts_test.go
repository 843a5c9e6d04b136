package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/store"
)

// TestParityAlerts: `alerts rule add` and POST .../alerts/rules save the
// same rule and refuse the same bad one; `alerts rule evaluate --dry-run
// --json` and POST .../alerts/evaluate?dry_run=true fire the same keys on
// the commitments fixture; `alerts channel list --json` and GET
// .../alerts/channels list the same channel, without its secret.
func TestParityAlerts(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	cli := func(args ...string) (string, string, int) {
		return runCLI(t, dir, append(append([]string{"alerts"}, args...), "--tenant", "acme", "--json")...)
	}
	out, errOut, code := cli("rule", "add", "cli-budget", "--kind", "budget", "--amount", "100", "--forecast")
	if code != 0 {
		t.Fatalf("CLI rule add: %d %s", code, errOut)
	}
	var cliRule []store.AlertRule
	mustNoErr(t, json.Unmarshal([]byte(out), &cliRule))
	_, cliBad, badCode := cli("rule", "add", "bad", "--kind", "budget")
	if badCode != 2 {
		t.Errorf("CLI refusal exit %d (want 2)", badCode)
	}
	out, errOut, code = cli("channel", "add", "hook", "--kind", "webhook", "--url", "http://127.0.0.1:1/hook")
	if code != 0 || !strings.Contains(out, `"secret": "whsec_`) {
		t.Fatalf("CLI channel add: %d %s %s", code, out, errOut)
	}
	cliEval, errOut, code := cli("rule", "evaluate", "--dry-run")
	if code != 0 {
		t.Fatalf("CLI evaluate: %d %s", code, errOut)
	}
	cliChannels, _, _ := cli("channel", "list")

	api := newCostAPI(t, dir)
	st, body := api.do(t, "POST", "/api/v1/tenants/acme/alerts/rules", map[string]any{"name": "api-budget", "kind": "budget", "params": map[string]any{"amount": 100, "forecast": true}})
	if st != http.StatusCreated {
		t.Fatalf("API rule add: %d %s", st, body)
	}
	var apiRule store.AlertRule
	mustNoErr(t, json.Unmarshal(body, &apiRule))
	compact := func(raw json.RawMessage) string {
		var b bytes.Buffer
		mustNoErr(t, json.Compact(&b, raw))
		return b.String()
	}
	if compact(apiRule.Params) != compact(cliRule[0].Params) || !strings.Contains(compact(apiRule.Params), `"forecast":true`) {
		t.Errorf("params differ: CLI %s, API %s", cliRule[0].Params, apiRule.Params)
	}
	if st, body := api.do(t, "POST", "/api/v1/tenants/acme/alerts/rules", map[string]any{"name": "bad", "kind": "budget"}); st != http.StatusBadRequest || !strings.Contains(cliBad, firstLine(errorText(t, body))) {
		t.Errorf("API refusal %d %s; CLI said %s", st, body, cliBad)
	}
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/alerts/evaluate?dry_run=true&rule=cli-budget", nil)
	var apiRep, cliRep alerts.Report
	mustNoErr(t, json.Unmarshal(body, &apiRep))
	mustNoErr(t, json.Unmarshal([]byte(cliEval), &cliRep))
	keys := func(rep alerts.Report, rule string) string {
		var ks []string
		for _, r := range rep.Rules {
			if r.Rule == rule {
				for _, f := range r.Firings {
					ks = append(ks, f.Key+"|"+f.Subject)
				}
			}
		}
		return strings.Join(ks, ",")
	}
	if st != 200 || keys(apiRep, "cli-budget") == "" || keys(apiRep, "cli-budget") != keys(cliRep, "cli-budget") {
		t.Errorf("evaluate: %d\nAPI %s\nCLI %s", st, keys(apiRep, "cli-budget"), keys(cliRep, "cli-budget"))
	}
	st, body = api.do(t, "GET", "/api/v1/tenants/acme/alerts/channels", nil)
	var apiCh, cliCh []store.NotifyChannel
	mustNoErr(t, json.Unmarshal(body, &apiCh))
	mustNoErr(t, json.Unmarshal([]byte(cliChannels), &cliCh))
	if st != 200 || len(apiCh) != 1 || len(cliCh) != 1 || apiCh[0].ID != cliCh[0].ID || apiCh[0].Target != "http://127.0.0.1:1" || strings.Contains(string(body), "whsec_") {
		t.Errorf("channels: %d API %s CLI %s", st, body, cliChannels)
	}
}
