package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
)

func TestPermissionsAnnex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, errOut, code := runCLI(t, dir, "permissions", "annex", "--modules", "org,access-jit")
	if code != 0 || !strings.HasPrefix(out, "# crossbill AWS access annex") || !strings.Contains(out, "iam:AddUserToGroup") || strings.Contains(out, "ce:GetCostAndUsage") {
		t.Fatalf("md: code %d, stderr %s, out %.200s", code, errOut, out)
	}
	// access-jit's actions are granted since #15, each naming the feature
	// that uses it; org names its own.
	for _, want := range []string{"| `iam:AddUserToGroup` | Write |", "Used by: Just-in-time access", "Used by: Organization members"} {
		if !strings.Contains(out, want) {
			t.Errorf("annex lacks %q", want)
		}
	}
	for _, args := range [][]string{{"permissions", "annex", "--format", "json"}, {"permissions", "annex", "--json"}} {
		out, _, code = runCLI(t, dir, args...)
		var a struct {
			Modules  []struct{ Module string } `json:"modules"`
			CannotDo []string                  `json:"cannot_do"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &a) != nil || len(a.Modules) != len(manifest.DefaultModules()) || len(a.CannotDo) == 0 {
			t.Fatalf("%v: code %d, out %.200s", args, code, out)
		}
	}
	for _, args := range [][]string{{"permissions", "annex", "--modules", "billing"}, {"permissions", "annex", "--format", "pdf"}} {
		if _, errOut, code := runCLI(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q", args, code, errOut)
		}
	}
}
