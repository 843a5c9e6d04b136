package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestIAMActions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, errOut, code := runCLI(t, dir, "iam", "actions", "ec2:Describe*", "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var res struct {
		Catalog string
		Actions []struct{ Action, Level string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Catalog == "" || len(res.Actions) <= 100 {
		t.Fatalf("catalog %q, %d actions", res.Catalog, len(res.Actions))
	}
	for _, a := range res.Actions {
		if !strings.HasPrefix(a.Action, "ec2:Describe") {
			t.Errorf("unexpected %s", a.Action)
		}
	}
	out, _, code = runCLI(t, dir, "iam", "actions", "iam:*", "--level", "Permissions management")
	if code != 0 || !strings.Contains(out, "iam:PutRolePolicy") || strings.Contains(out, "iam:GetRole ") {
		t.Errorf("--level: code %d\n%s", code, out)
	}
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"iam", "actions", "nosuch:Get*"}, 3},
		{[]string{"iam", "actions", "s3:NoSuchAction"}, 3},
		{[]string{"iam", "actions", "GetObject"}, 2},
		{[]string{"iam", "actions"}, 2},
	} {
		if _, errOut, code := runCLI(t, dir, tt.args...); code != tt.code || errOut == "" {
			t.Errorf("%v: code %d (want %d), stderr %q", tt.args, code, tt.code, errOut)
		}
	}
}

func TestIAMEval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	id := writeFile(t, dir, "id.json", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}},
	  {"Effect":"Deny","Action":"ec2:StopInstances","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	scp := writeFile(t, dir, "scp.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`)
	eval := func(extra ...string) (string, string) {
		t.Helper()
		args := append([]string{"iam", "eval", "--policy", id, "--scp", scp, "--action", "ec2:StopInstances", "--json"}, extra...)
		out, errOut, code := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: code %d: %s", extra, code, errOut)
		}
		var res struct {
			Decision    string
			MissingKeys []string
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		return res.Decision, strings.Join(res.MissingKeys, ",")
	}
	if d, missing := eval(); d != "allowed-under-conditions" || missing != "aws:ResourceTag/owner,aws:username,aws:SecureTransport" {
		t.Errorf("no context: %s, missing %s", d, missing)
	}
	if d, _ := eval("--context", "aws:ResourceTag/owner=ana", "--context", "aws:username=ana", "--context", "aws:SecureTransport=true"); d != "allowed" {
		t.Errorf("full context: %s", d)
	}
	if d, _ := eval("--context", "aws:ResourceTag/owner=ana", "--context", "aws:username=ana", "--context", "aws:SecureTransport=false"); d != "explicit-deny" {
		t.Errorf("insecure transport: %s", d)
	}
	if d, _ := eval("--absent", "aws:ResourceTag/owner", "--context", "aws:username=ana"); d != "implicit-deny" {
		t.Errorf("untagged: %s", d)
	}
	bad := writeFile(t, dir, "bad.json", `{"Statement":{"Effect":"allow","Action":"*"}}`)
	_, errOut, code := runCLI(t, dir, "iam", "eval", "--policy", bad, "--action", "s3:GetObject")
	if code != 2 || !strings.Contains(errOut, "bad.json") || !strings.Contains(errOut, "Statement.Effect") {
		t.Errorf("bad policy: code %d, stderr %q", code, errOut)
	}
	if _, _, code := runCLI(t, dir, "iam", "eval", "--policy", filepath.Join(dir, "missing.json"), "--action", "s3:GetObject"); code != 3 {
		t.Errorf("missing file: code %d", code)
	}
	if _, _, code := runCLI(t, dir, "iam", "eval", "--policy", id, "--action", "s3:GetObject", "--context", "novalue"); code != 2 {
		t.Errorf("bad --context: code %d", code)
	}
}

func TestIAMEvalTrust(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trust := writeFile(t, dir, "trust.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/hub"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}}}`)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--context", "sts:ExternalId=4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}, "allowed:"},
		{[]string{"--absent", "sts:ExternalId"}, "implicit-deny:"},
		{nil, "allowed-under-conditions:"},
	} {
		args := append([]string{"iam", "eval", "--trust", trust, "--principal", "arn:aws:sts::111122223333:assumed-role/hub/s"}, tt.args...)
		out, errOut, code := runCLI(t, dir, args...)
		if code != 0 || !strings.HasPrefix(out, tt.want) {
			t.Errorf("%v: code %d, out %q, stderr %q; want %s", tt.args, code, out, errOut, tt.want)
		}
	}
	if _, _, code := runCLI(t, dir, "iam", "eval", "--trust", trust); code != 2 {
		t.Errorf("--trust without --principal: code %d", code)
	}
	if _, _, code := runCLI(t, dir, "iam", "eval", "--trust", trust, "--principal", "x", "--policy", trust); code != 2 {
		t.Errorf("--trust with --policy: code %d", code)
	}
}

func TestIAMEvalResourcePolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bucket := writeFile(t, dir, "bucket.json", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"Service":"bcm-data-exports.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::cur/*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`)
	base := []string{"iam", "eval", "--resource-policy", bucket, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::cur/x", "--principal", "bcm-data-exports.amazonaws.com"}
	if out, errOut, code := runCLI(t, dir, append(base, "--context", "aws:SourceAccount=111122223333")...); code != 0 || !strings.HasPrefix(out, "allowed:") {
		t.Errorf("right account: %d %q %q", code, out, errOut)
	}
	if out, _, code := runCLI(t, dir, append(base, "--context", "aws:SourceAccount=444455556666")...); code != 0 || !strings.HasPrefix(out, "implicit-deny:") {
		t.Errorf("other account: %d %q", code, out)
	}
	if _, _, code := runCLI(t, dir, "iam", "eval", "--resource-policy", bucket, "--trust", bucket, "--action", "s3:PutObject"); code != 2 {
		t.Errorf("both --trust and --resource-policy: code %d", code)
	}
}

func TestIAMTrust(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	known := writeFile(t, dir, "known.yaml", "- name: 'Example Vendor'\n  source: ['https://example.com']\n  accounts: ['123456789012']\n")
	trust := writeFile(t, dir, "trust.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}`)
	out, errOut, code := runCLI(t, dir, "iam", "trust", trust, "--known-accounts", known, "--account", "111122223333", "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var rep struct {
		Principals []struct{ Kind, Vendor string }
		Findings   []struct{ ID, Severity string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Principals) != 1 || rep.Principals[0].Kind != "account-root" || rep.Principals[0].Vendor != "Example Vendor" {
		t.Errorf("principals = %+v", rep.Principals)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].ID != "no-external-id" || rep.Findings[0].Severity != "high" {
		t.Errorf("findings = %+v", rep.Findings)
	}
	out, _, code = runCLI(t, dir, "iam", "trust", trust)
	if code != 0 || !strings.Contains(out, "no-external-id") {
		t.Errorf("text: code %d\n%s", code, out)
	}
	if _, _, code := runCLI(t, dir, "iam", "trust", trust, "--account", "12"); code != 2 {
		t.Errorf("bad --account: code %d", code)
	}
	if _, _, code := runCLI(t, dir, "iam", "trust", trust, "--known-accounts", filepath.Join(dir, "none.yaml")); code != 3 {
		t.Errorf("missing known accounts: code %d", code)
	}
}

func TestIAMLint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, dir, "p.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::cur"}}`)
	out, errOut, code := runCLI(t, dir, "iam", "lint", p, "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var res struct{ Issues []struct{ ID, Action string } }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 1 || res.Issues[0].ID != "resource-mismatch" || res.Issues[0].Action != "s3:GetObject" {
		t.Errorf("issues = %+v", res.Issues)
	}
	if out, _, code := runCLI(t, dir, "iam", "lint", p); code != 0 || !strings.Contains(out, "1 issues") {
		t.Errorf("text: %d %s", code, out)
	}
}
