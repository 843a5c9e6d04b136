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
	if !rep.DryRun || len(rep.Policies) != 3 || rep.Policies[0].Outcome != "nothing matched" || !strings.Contains(rep.Policies[1].Error, "internal/optimize") {
		t.Fatalf("%+v", rep)
	}
}
