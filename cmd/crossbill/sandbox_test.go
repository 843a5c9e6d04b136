package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestSandboxCommandsWork starts the sandbox and runs the commands it
// prints, as a newcomer pastes them: the CUR stack's export is created
// through the emulator's Data Exports stand-in (moto serves no BCM Data
// Exports; no stub here), the connection ends verified with the bill
// discovered from that export, no check fails as an AWS internal error,
// and the organization's members are listed. Not parallel: it sets the
// environment and the working directory, as the user's shell does.
func TestSandboxCommandsWork(t *testing.T) {
	if err := emulator.Available(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	sb, err := startSandbox(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.srv.Close()
	var printed bytes.Buffer
	mustNoErr(t, sb.printCommands(&printed))

	t.Chdir(t.TempDir())
	setHubEnv(t, "", "")
	dir := t.TempDir()
	var verifyOut, membersOut, bucket string
	ran := 0
	for _, line := range strings.Split(printed.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "export" {
			fields = fields[1:]
		}
		// Leading NAME=VALUE words set the environment, as the shell does.
		for len(fields) > 0 && strings.Contains(fields[0], "=") {
			k, v, _ := strings.Cut(fields[0], "=")
			t.Setenv(k, v)
			fields = fields[1:]
		}
		if len(fields) == 0 {
			continue
		}
		if fields[0] != "crossbill" {
			t.Fatalf("printed command does not run crossbill: %q", line)
		}
		args := append(fields[1:], "--json")
		stdout, stderr, code := runCLI(t, dir, args...)
		if code != 0 && !(len(args) > 2 && args[1] == "verify") {
			t.Fatalf("%s: exit %d\n%s\n%s", line, code, stdout, stderr)
		}
		switch {
		case args[0] == "sandbox" && strings.Contains(line, "crossbill-cur"):
			var outputs map[string]string
			mustNoErr(t, json.Unmarshal([]byte(stdout), &outputs))
			bucket = outputs["BucketName"]
			if bucket == "" || !strings.HasPrefix(outputs["ExportArn"], "arn:aws:bcm-data-exports:") || !strings.Contains(stderr, "CurExport created through the emulator's Data Exports stand-in") {
				t.Fatalf("CUR stack in the sandbox: outputs %v, stderr %s", outputs, stderr)
			}
		case len(args) > 2 && args[1] == "verify":
			verifyOut = stdout + stderr
		case len(args) > 2 && args[1] == "members":
			membersOut = stdout
		}
		ran++
		// After the deploy the hub's key is back in the environment.
		if fields[1] == "sandbox" {
			t.Setenv("AWS_ACCESS_KEY_ID", sb.hub.KeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", sb.hub.Secret)
		}
	}
	if ran != 6 {
		t.Fatalf("ran %d commands, want 6:\n%s", ran, printed.String())
	}
	var res struct {
		Status string `json:"status"`
		Checks []struct{ Name, Status, Message, Class string }
		Bill   *verify.Bill
	}
	if err := json.Unmarshal([]byte(verifyOut[:strings.LastIndex(verifyOut, "}")+1]), &res); err != nil || res.Status != "verified" {
		t.Fatalf("verify did not end verified: %v\n%s", err, verifyOut)
	}
	var curPassed bool
	for _, c := range res.Checks {
		if strings.Contains(c.Name, "bcm-data-exports") {
			curPassed = c.Status == "pass"
		}
		if c.Status == "fail" || c.Class == "aws-internal" {
			t.Errorf("check %+v", c)
		}
	}
	// verify discovered the CUR stack's export through the role.
	want := "s3://" + bucket + "/crossbill/" + verify.DefaultExportName
	if !curPassed || res.Bill == nil || res.Bill.Source != want || !res.Bill.Discovered {
		t.Errorf("the Data Exports probe does not pass or the bill %s was not discovered:\n%s", want, verifyOut)
	}
	for _, a := range sb.accounts {
		if !strings.Contains(membersOut, a) {
			t.Errorf("members output lacks account %s:\n%s", a, membersOut)
		}
	}
}
