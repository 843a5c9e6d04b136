package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process with a data dir of its own.
func runCLI(t *testing.T, dataDir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"--data", dataDir}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestTenantCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, errOut, code := runCLI(t, dir, "tenant", "create", "acme", "--json")
	if code != 0 {
		t.Fatalf("create: code %d, stderr %s", code, errOut)
	}
	var created struct{ ID, Name string }
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Name != "acme" || created.ID == "" {
		t.Fatalf("create --json output %q: %v", out, err)
	}
	_, errOut, code = runCLI(t, dir, "tenant", "create", "acme")
	if code != 4 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate: code %d, stderr %q; want 4 and a clear message", code, errOut)
	}
	out, _, code = runCLI(t, dir, "tenant", "list", "--json")
	var list []struct{ Name string }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Name != "acme" {
		t.Fatalf("list: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "tenant", "list")
	if code != 0 || !strings.Contains(out, "acme") {
		t.Fatalf("list text: code %d, out %q", code, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{{"tenant", "create"}, {"nosuchcommand"}, {"tenant", "list", "--nosuchflag"}} {
		_, errOut, code := runCLI(t, dir, args...)
		if code != 2 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q; want 2 with a message", args, code, errOut)
		}
	}
}
