package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
)

// TestParityAnalyses: `costs mom --json` and GET .../costs/mom give the
// same comparison, `costs anomalies --json` and GET .../costs/anomalies
// the same anomalies, and both refuse a bad month or dimension alike
// (both call athena.Engines; the local engine answers here).
func TestParityAnalyses(t *testing.T) {
	t.Parallel()
	// A generated organization: two months with anomalies in them.
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "bucket")
	for _, args := range [][]string{{"tenant", "create", "acme"},
		{"cur", "generate", "--out", out, "--seed", "11", "--accounts", "2", "--months", "2", "--start", "2026-01", "--resources", "4"},
		{"cur", "ingest", "--tenant", "acme", "--source", out}} {
		if _, stderr, code := runCLI(t, dir, args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	mom, stderr, code := runCLI(t, dir, "costs", "mom", "--tenant", "acme", "--group-by", "service", "--top", "3", "--json")
	if code != 0 {
		t.Fatalf("CLI mom: %s", stderr)
	}
	anomalies, stderr, code := runCLI(t, dir, "costs", "anomalies", "--tenant", "acme", "--by", "service", "--min-delta", "1", "--threshold", "2.5", "--json")
	if code != 0 {
		t.Fatalf("CLI anomalies: %s", stderr)
	}
	_, badMonth, code1 := runCLI(t, dir, "costs", "mom", "--tenant", "acme", "--month", "2026-13")
	_, badDim, code2 := runCLI(t, dir, "costs", "anomalies", "--tenant", "acme", "--by", "colour")

	api := newCostAPI(t, dir)
	status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/mom?group_by=service&top=3", nil)
	var c, a costs.MoM
	if status != http.StatusOK || json.Unmarshal([]byte(mom), &c) != nil || json.Unmarshal(body, &a) != nil {
		t.Fatalf("mom: CLI %s\nAPI %d %s", mom, status, body)
	}
	cj, _ := json.Marshal(c)
	aj, _ := json.Marshal(a)
	if string(cj) != string(aj) || len(c.Changes) == 0 || c.Athena != nil {
		t.Fatalf("mom: CLI %s\nAPI %s", cj, aj)
	}
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/costs/anomalies?by=service&min_delta=1&threshold=2.5", nil)
	var ca []costs.Anomaly
	var aa costAnomaliesBody
	if status != http.StatusOK || json.Unmarshal([]byte(anomalies), &ca) != nil || json.Unmarshal(body, &aa) != nil {
		t.Fatalf("anomalies: CLI %s\nAPI %d %s", anomalies, status, body)
	}
	cj, _ = json.Marshal(ca)
	aj, _ = json.Marshal(aa.Anomalies)
	if string(cj) != string(aj) || len(ca) == 0 || aa.Athena != nil {
		t.Fatalf("anomalies: CLI %s\nAPI %s", cj, aj)
	}
	for _, c := range []struct {
		path, cli string
		code      int
	}{{"/api/v1/tenants/acme/costs/mom?month=2026-13", badMonth, code1}, {"/api/v1/tenants/acme/costs/anomalies?by=colour", badDim, code2}} {
		status, body := api.do(t, "GET", c.path, nil)
		if c.code != 2 || status != http.StatusBadRequest || firstLine(errorText(t, body)) == "" || !strings.Contains(c.cli, firstLine(errorText(t, body))) {
			t.Errorf("%s: CLI %d %s; API %d %s", c.path, c.code, c.cli, status, body)
		}
	}
}

type costAnomaliesBody struct {
	Anomalies []costs.Anomaly   `json:"anomalies"`
	Athena    *costs.EngineCost `json:"athena"`
}
