package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed returns the path of a review fixture.
func seed(name string) string {
	return filepath.Join("..", "..", "internal", "review", "testdata", "seeds", name)
}

func TestReviewExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"critical finding, default --fail-on high", []string{seed("002-alphaus-octo.yaml")}, 14},
		{"high finding, default --fail-on high", []string{seed("001-trustle.yaml")}, 13},
		// A nested stack's template is not in the input: never a quiet 0.
		{"nested stack only, default --fail-on high", []string{filepath.Join("..", "..", "internal", "review", "testdata", "corpus", "01-monitoring-nested-stacks.yaml")}, 13},
		{"high finding below --fail-on critical", []string{seed("001-trustle.yaml"), "--fail-on", "critical"}, 0},
		{"--fail-on none", []string{seed("002-alphaus-octo.yaml"), "--fail-on", "none"}, 0},
		// A short external ID (the customer's numeric organization ID) is medium.
		{"medium finding at --fail-on low", []string{seed("004-flexera-trust.json"), seed("004-flexera-policy.json"), "--fail-on", "low"}, 12},
		{"low finding at --fail-on low", []string{seed("004-flexera-policy.json"), "--fail-on", "low"}, 11},
		{"bad --fail-on", []string{seed("001-trustle.yaml"), "--fail-on", "severe"}, 2},
		{"bad --format", []string{seed("001-trustle.yaml"), "--format", "pdf"}, 2},
		{"no files", nil, 2},
		{"missing file", []string{"no-such-template.yaml"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runCLI(t, t.TempDir(), append([]string{"review"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errOut)
			}
		})
	}
}

func TestReviewMalformedFileNamesFileAndLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "vendor.yaml")
	if err := os.WriteFile(bad, []byte("Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, dir, "review", bad)
	if code != 2 || !strings.Contains(errOut, "vendor.yaml") || !strings.Contains(errOut, "line") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the file and the line", code, errOut)
	}
}

func TestReviewFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	known := filepath.Join(dir, "known.yaml")
	if err := os.WriteFile(known, []byte("- name: Frust\n  source: ['https://example.com']\n  accounts: ['064816466676']\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, dir, "review", seed("000-frust-client.yaml"), "--json", "--known-accounts", known, "--fail-on", "none")
	if code != 0 {
		t.Fatalf("--json: exit %d, stderr %s", code, errOut)
	}
	var rep struct {
		Identities []struct {
			Name      string
			TrustedBy []struct{ Vendor string } `json:"trusted_by"`
		}
		Findings []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	if len(rep.Identities) != 1 || len(rep.Identities[0].TrustedBy) == 0 || rep.Identities[0].TrustedBy[0].Vendor != "Frust" {
		t.Fatalf("identities %+v: want the role trusted by the known vendor Frust", rep.Identities)
	}

	out, _, code = runCLI(t, dir, "review", seed("000-frust-client.yaml"), "--format", "sarif", "--fail-on", "none")
	var sarif struct {
		Version string
		Runs    []struct {
			Tool    struct{ Driver struct{ Name string } }
			Results []struct{ RuleID string }
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || sarif.Runs[0].Tool.Driver.Name != "crossbill" || len(sarif.Runs[0].Results) == 0 {
		t.Fatalf("sarif: exit %d, output %.300s", code, out)
	}

	out, _, code = runCLI(t, dir, "review", seed("000-frust-client.yaml"), "--format", "md", "--fail-on", "none")
	if code != 0 || !strings.HasPrefix(out, "# Third-party access review") || !strings.Contains(out, "| Category |") {
		t.Fatalf("md: exit %d, output %.300s", code, out)
	}

	out, _, code = runCLI(t, dir, "review", seed("000-frust-client.yaml"), "--fail-on", "none")
	if code != 0 || !strings.Contains(out, "The vendor CANNOT:") || !strings.Contains(out, "organizations:InviteAccountToOrganization") {
		t.Fatalf("text: exit %d, output %.300s", code, out)
	}
}
