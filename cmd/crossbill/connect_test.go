package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
)

const hub = "arn:aws:iam::111111111111:role/crossbill-hub"

type initOut struct {
	ConnectionID string            `json:"connection_id"`
	ExternalID   string            `json:"external_id"`
	Templates    []string          `json:"templates"`
	Links        map[string]string `json:"links"`
	Modules      []string          `json:"modules"`
}

func TestConnectInitListShow(t *testing.T) {
	t.Parallel()
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "tpl")
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hub, "--out", out,
		"--template-url-base", "https://bucket.s3.amazonaws.com/cb", "--json")
	if code != 0 {
		t.Fatalf("init: code %d: %s", code, stderr)
	}
	var res initOut
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("init --json %q: %v", stdout, err)
	}
	if !strings.HasPrefix(res.ExternalID, "cb-") || res.ConnectionID == "" || len(res.Templates) != 3 || len(res.Links) != 3 {
		t.Fatalf("init result %+v", res)
	}
	for _, p := range res.Templates {
		body, err := os.ReadFile(p)
		if err != nil || !strings.HasSuffix(p, ".yaml") {
			t.Fatalf("template %s: %v", p, err)
		}
		if strings.Contains(p, "account-role") && !strings.Contains(string(body), res.ExternalID) {
			t.Errorf("%s does not carry the external ID", p)
		}
	}
	// A second init into the same folder would overwrite the first
	// connection's files: refused, and no connection is created.
	_, stderr, code = runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hub, "--out", out)
	if code != 4 || !strings.Contains(stderr, "--force") {
		t.Fatalf("init into a used folder: code %d, %s", code, stderr)
	}
	stdout, _, code = runCLI(t, dir, "connect", "list", "--json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil || len(list) != 1 || list[0]["id"] != res.ConnectionID {
		t.Fatalf("list: code %d, %s", code, stdout)
	}
	stdout, _, code = runCLI(t, dir, "connect", "list", "--tenant", "acme")
	if code != 0 || !strings.Contains(stdout, res.ConnectionID) || !strings.Contains(stdout, "pending") {
		t.Fatalf("list text: %s", stdout)
	}
	stdout, _, code = runCLI(t, dir, "connect", "show", res.ConnectionID, "--json")
	var shown struct {
		ExternalID string   `json:"external_id"`
		Status     string   `json:"status"`
		Modules    []string `json:"modules"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &shown) != nil || shown.ExternalID != res.ExternalID || shown.Status != "pending" || len(shown.Modules) != len(manifest.DefaultModules()) {
		t.Fatalf("show: code %d, %s", code, stdout)
	}
	if _, _, code := runCLI(t, dir, "connect", "show", "nope"); code != 3 {
		t.Fatalf("show unknown: code %d", code)
	}
}

func TestConnectInitEvaluationJSON(t *testing.T) {
	t.Parallel()
	dir, out := t.TempDir(), t.TempDir()
	runCLI(t, dir, "tenant", "create", "acme")
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hub, "--out", out, "--evaluation", "--format", "json", "--json")
	var res initOut
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("code %d: %s %s", code, stdout, stderr)
	}
	if len(res.Templates) != 1 || filepath.Base(res.Templates[0]) != "crossbill-evaluation.json" || strings.Join(res.Modules, ",") != "cost,commitments" {
		t.Fatalf("evaluation result %+v", res)
	}
	text, _, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hub, "--out", t.TempDir(), "--modules", "org")
	if code != 0 || !strings.Contains(text, "external ID: cb-") || !strings.Contains(text, "connect verify") {
		t.Fatalf("text output: %s", text)
	}
}

func TestConnectInitBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runCLI(t, dir, "tenant", "create", "acme")
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		code int
	}{
		"malformed principal":         {[]string{"--tenant", "acme", "--principal", "arn:aws:iam::12:role/x"}, 2},
		"other partition":             {[]string{"--tenant", "acme", "--principal", "arn:aws-cn:iam::111111111111:role/x"}, 2},
		"china region, aws principal": {[]string{"--tenant", "acme", "--principal", hub, "--region", "cn-north-1"}, 2},
		"unknown module":              {[]string{"--tenant", "acme", "--principal", hub, "--modules", "cost,billing"}, 2},
		"unknown tenant":              {[]string{"--tenant", "nobody", "--principal", hub}, 3},
		"unwritable out":              {[]string{"--tenant", "acme", "--principal", hub, "--out", filepath.Join(file, "sub")}, 2},
		"bad format":                  {[]string{"--tenant", "acme", "--principal", hub, "--format", "xml"}, 2},
		"http url base":               {[]string{"--tenant", "acme", "--principal", hub, "--template-url-base", "http://x/y"}, 2},
		"missing principal":           {[]string{"--tenant", "acme"}, 2},
		"evaluation and modules":      {[]string{"--tenant", "acme", "--principal", hub, "--evaluation", "--modules", "org"}, 2},
	} {
		out := filepath.Join(t.TempDir(), "tpl")
		args := append([]string{"connect", "init", "--out", out}, tc.args...)
		if name == "unwritable out" {
			args = append([]string{"connect", "init"}, tc.args...)
		}
		_, stderr, code := runCLI(t, dir, args...)
		if code != tc.code || stderr == "" {
			t.Errorf("%s: code %d (want %d), stderr %q", name, code, tc.code, stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%s: wrote %d files", name, len(entries))
		}
	}
	stdout, _, _ := runCLI(t, dir, "connect", "list", "--json")
	if strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("bad input created connections: %s", stdout)
	}
}

// TestConnectInitHelpModulesFromManifest: the help's module lists are the
// manifest's, so they cannot drift from what init actually grants.
func TestConnectInitHelpModulesFromManifest(t *testing.T) {
	t.Parallel()
	stdout, _, code := runCLI(t, t.TempDir(), "connect", "init", "--help")
	want := "(default: " + manifest.JoinModules(manifest.DefaultModules()) + ")"
	if code != 0 || !strings.Contains(stdout, want) || !strings.Contains(stdout, manifest.JoinModules(manifest.ValidModules())) {
		t.Fatalf("help (code %d) lacks %q or the module list:\n%s", code, want, stdout)
	}
}
