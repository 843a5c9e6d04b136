package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/automation"
)

// TestPolicyCommands: validate prints every mistake with its line and
// exits 2; run --dry-run --json reports each policy, sending nothing.
func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	mustNoErr(t, os.WriteFile(bad, []byte("policies:\n  - name: x\n    resource: events\n    action: remediate\n    filters:\n      - colour: red\n"), 0o600))
	_, errOut, code := runCLI(t, dir, "policy", "validate", bad)
	if code != 2 || !strings.Contains(errOut, "line 4: action") || !strings.Contains(errOut, `line 6: unknown filter "colour"`) {
		t.Fatalf("validate: %d %s", code, errOut)
	}
	good := "../../internal/automation/testdata/policies.yaml"
	out, errOut, code := runCLI(t, dir, "policy", "run", good, "--tenant", "acme", "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("run: %d %s", code, errOut)
	}
	var rep automation.Report
	mustNoErr(t, json.Unmarshal([]byte(out), &rep))
	if !rep.DryRun || len(rep.Policies) != 3 || rep.Policies[0].Outcome != "nothing matched" || rep.Policies[1].Outcome != "nothing matched" || rep.Policies[1].Error != "" {
		t.Fatalf("%+v", rep)
	}
}

// TestParityPolicies: `policy apply` and PUT .../automation/policies keep
// the same file and refuse the same bad one; `policy run --dry-run` (the
// applied policies) and POST .../automation/run?dry_run=true report the
// same.
func TestParityPolicies(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	good := "../../internal/automation/testdata/policies.yaml"
	if _, errOut, code := runCLI(t, dir, "policy", "apply", good, "--tenant", "acme"); code != 0 {
		t.Fatalf("apply: %d %s", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	mustNoErr(t, os.WriteFile(bad, []byte("policies:\n  - name: x\n    resource: events\n    action: mark\n"), 0o600))
	_, cliBad, code := runCLI(t, dir, "policy", "apply", bad, "--tenant", "acme")
	if code != 2 {
		t.Fatalf("bad apply: %d", code)
	}
	shown, _, _ := runCLI(t, dir, "policy", "show", "--tenant", "acme")
	src, err := os.ReadFile(good)
	mustNoErr(t, err)
	if shown != string(src) {
		t.Fatalf("show: %q", shown)
	}
	cliRun, errOut, code := runCLI(t, dir, "policy", "run", "--tenant", "acme", "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("run: %d %s", code, errOut)
	}
	api := newCostAPI(t, dir)
	if st, body := api.do(t, "PUT", "/api/v1/tenants/acme/automation/policies", src); st != 200 || !strings.Contains(string(body), "idle-volumes") {
		t.Fatalf("API apply: %d %s", st, body)
	}
	if st, body := api.do(t, "PUT", "/api/v1/tenants/acme/automation/policies", []byte("policies:\n  - name: x\n    resource: events\n    action: mark\n")); st != 400 || !strings.Contains(cliBad, firstLine(errorText(t, body))) {
		t.Fatalf("API refusal %d %s; CLI said %s", st, body, cliBad)
	}
	st, body := api.do(t, "POST", "/api/v1/tenants/acme/automation/run?dry_run=true", nil)
	var apiRep, cliRep automation.Report
	mustNoErr(t, json.Unmarshal(body, &apiRep))
	mustNoErr(t, json.Unmarshal([]byte(cliRun), &cliRep))
	a, _ := json.Marshal(apiRep)
	c, _ := json.Marshal(cliRep)
	if st != 200 || string(a) != string(c) || len(apiRep.Policies) != 3 {
		t.Fatalf("run: %d\nAPI %s\nCLI %s", st, a, c)
	}
}
