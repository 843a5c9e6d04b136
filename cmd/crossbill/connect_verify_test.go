package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

type verifyOut struct {
	Status       string `json:"status"`
	ConnectionID string `json:"connection_id"`
	Checks       []struct {
		Name, Status, Class, Advice string
	} `json:"checks"`
}

// TestConnectVerifyBadInputChangesNothing: every refusal happens before any
// AWS call or write (no emulator is even running). A role another tenant
// holds is not bad input: it is verified, and fails, like any role that
// does not trust the connection's external ID (internal/verify and
// internal/server test that against moto).
func TestConnectVerifyBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	acme, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	beta, err := st.CreateTenant(ctx, "beta")
	mustNoErr(t, err)
	const role = "arn:aws:iam::222222222222:role/CrossbillAccess"
	newConn := func(tenant crossbill.TenantID, ext string) store.Connection {
		c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tenant, ExternalID: crossbill.ExternalID(ext),
			HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: []manifest.Module{manifest.ModuleInventory}})
		mustNoErr(t, err)
		return c
	}
	acmeConn := newConn(acme.ID, "cb-acme")
	_, err = storetest.Bind(ctx, st, acmeConn.ID, role)
	mustNoErr(t, err)
	betaConn := newConn(beta.ID, "cb-beta")
	mustNoErr(t, st.Close())

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing flags", []string{"connect", "verify"}, 2, "required flag"},
		{"unknown tenant", []string{"connect", "verify", "--tenant", "nope", "--role-arn", role}, 3, "crossbill tenant create"},
		{"malformed arn", []string{"connect", "verify", "--tenant", "beta", "--role-arn", "arn:aws:iam::12345:role/x"}, 2, "arn"},
		{"not a role", []string{"connect", "verify", "--tenant", "beta", "--role-arn", "arn:aws:iam::222222222222:user/x"}, 2, "not a role"},
		{"other partition", []string{"connect", "verify", "--tenant", "beta", "--role-arn", "arn:aws-cn:iam::222222222222:role/x"}, 2, "partition"},
		{"connection of another tenant", []string{"connect", "verify", "--tenant", "beta", "--role-arn", "arn:aws:iam::333333333333:role/x", "--connection", string(acmeConn.ID)}, 3, ""},
		{"bad endpoint", []string{"connect", "verify", "--tenant", "beta", "--role-arn", "arn:aws:iam::333333333333:role/x", "--endpoint-url", "localhost:1"}, 2, "http"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, dir, append(tt.args, "--region", "us-east-1")...)
		if code != tt.code || !strings.Contains(strings.ToLower(stderr), strings.ToLower(tt.msg)) {
			t.Errorf("%s: code %d, stderr %q; want %d mentioning %q", tt.name, code, stderr, tt.code, tt.msg)
		}
	}
	st, err = store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	got, err := st.ConnectionByID(ctx, betaConn.ID)
	if err != nil || got.Status != store.StatusPending || got.RoleARN != "" {
		t.Fatalf("beta's connection changed: %+v, %v", got, err)
	}
	if _, err := st.LatestVerification(ctx, betaConn.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("a verification was stored: %v", err)
	}
}

// TestConnectVerifyEndToEnd drives the CLI contract against moto: tenant
// create, connect init (templates on disk), the customer deploys the
// account role template through CloudFormation, connect verify --json says
// verified; with a module's policy detached it says failed and exits 5.
// Hub and customer share one emulated account here (the verify package's
// test covers the cross-account case); the hub's credentials come from the
// environment, as in production.
func TestConnectVerifyEndToEnd(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 3})
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	// Free calls: an admin user for the "customer" and its key.
	adminUser, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	mustNoErr(t, err)
	admin, err := srv.Config(ctx, adminUser.KeyID, adminUser.Secret, "")
	mustNoErr(t, err)
	// IAM is enforced from here on. The hub identity may only assume roles.
	adminIAM := iam.NewFromConfig(admin)
	hubUser, err := emulator.CreateUser(ctx, admin, "crossbill-hub", emulator.HubPolicy)
	mustNoErr(t, err)
	setHubEnv(t, hubUser.KeyID, hubUser.Secret)

	dir, out := t.TempDir(), t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hubUser.ARN,
		"--modules", "inventory,access-read", "--out", out, "--force", "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	var init struct {
		ConnectionID string   `json:"connection_id"`
		Templates    []string `json:"templates"`
	}
	mustNoErr(t, json.Unmarshal([]byte(stdout), &init))
	var body []byte
	for _, p := range init.Templates {
		if strings.Contains(filepath.Base(p), "account-role") {
			body, err = os.ReadFile(p)
			mustNoErr(t, err)
		}
	}
	if body == nil {
		t.Fatalf("no account role template in %v", init.Templates)
	}
	outputs, err := emulator.CreateStack(ctx, admin, "crossbill", body, nil)
	mustNoErr(t, err)
	role := outputs["RoleArn"]
	if role == "" {
		t.Fatalf("stack has no RoleArn output: %v", outputs)
	}

	verifyArgs := []string{"connect", "verify", "--tenant", "acme", "--role-arn", role, "--endpoint-url", srv.URL, "--wait", "2s", "--json"}
	stdout, stderr, code = runCLI(t, dir, verifyArgs...)
	var res verifyOut
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "verified" || res.ConnectionID != init.ConnectionID || len(res.Checks) < 6 {
		t.Fatalf("verify: code %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "assuming") || !strings.Contains(stderr, "pass") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	stdout, _, code = runCLI(t, dir, "connect", "show", init.ConnectionID, "--json")
	if code != 0 || !strings.Contains(stdout, `"status": "verified"`) {
		t.Fatalf("show after verify: %d %s", code, stdout)
	}

	_, err = adminIAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("CrossbillAccess"),
		PolicyArn: aws.String("arn:aws:iam::" + emulator.DefaultAccount + ":policy/CrossbillAccess-inventory")})
	mustNoErr(t, err)
	stdout, stderr, code = runCLI(t, dir, verifyArgs...)
	res = verifyOut{}
	if code != 5 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "failed" {
		t.Fatalf("verify without the inventory policy: code %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	var failed bool
	for _, c := range res.Checks {
		if c.Name == "probe:inventory:ec2:DescribeVolumes" {
			failed = c.Status == "fail" && c.Class == "no-identity-policy" && c.Advice != ""
		}
	}
	if !failed || !strings.Contains(stderr, `"code":"access_denied"`) {
		t.Fatalf("inventory probe not reported as a missing policy: %s / %s", stdout, stderr)
	}
	stdout, _, code = runCLI(t, dir, "connect", "history", init.ConnectionID, "--json")
	var history []struct {
		Status string                  `json:"status"`
		Checks []struct{ Name string } `json:"checks"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &history) != nil || len(history) != 2 || history[0].Status != "failed" || history[1].Status != "verified" || len(history[0].Checks) < 6 {
		t.Fatalf("history: code %d, %s", code, stdout)
	}
	// Text output names the fix.
	stdout, _, code = runCLI(t, dir, verifyArgs[:len(verifyArgs)-1]...)
	if code != 5 || !strings.Contains(stdout, "fix:") || !strings.Contains(stdout, "CHECK") {
		t.Fatalf("text output: code %d\n%s", code, stdout)
	}
}

func mustNoErr(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestConnectVerifyWithoutHubCredentials: on a machine with no AWS
// credentials at all, verify says so once, exits 6 (unavailable, not denied: the UI signs
// out on 401), and records no
// verification against the customer's connection (the problem is the hub's,
// not theirs); the connection stays pending.
// Not parallel: it empties the AWS environment.
func TestConnectVerifyWithoutHubCredentials(t *testing.T) {
	dir := t.TempDir()
	env := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(env, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(env, "credentials"),
		"AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant create: %d %s", code, e)
	}
	if _, e, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", "arn:aws:iam::111111111111:role/hub",
		"--out", filepath.Join(dir, "tpl")); code != 0 {
		t.Fatalf("connect init: %d %s", code, e)
	}
	_, stderr, code := runCLI(t, dir, "connect", "verify", "--tenant", "acme", "--role-arn", "arn:aws:iam::222222222222:role/CrossbillAccess")
	if code != 6 || !strings.Contains(stderr, "AWS_PROFILE") || strings.Count(stderr, "no AWS credentials") != 1 {
		t.Fatalf("code %d, stderr %q; want 6 and one line saying how to give crossbill credentials", code, stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	acme, err := st.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	conns, err := st.ConnectionsByTenant(ctx, acme.ID)
	mustNoErr(t, err)
	if len(conns) != 1 || conns[0].Status != store.StatusPending {
		t.Fatalf("connection changed: %+v", conns)
	}
	if _, err := st.LatestVerification(ctx, conns[0].ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("a verification was stored: %v", err)
	}
}

// setHubEnv gives the CLI (run in-process) the hub's access key through the
// environment, as in production, with no shared config files of the
// developer's machine. Tests that call it cannot be parallel.
func setHubEnv(t *testing.T, keyID, secret string) {
	t.Helper()
	envDir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(envDir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(envDir, "credentials"),
		"AWS_PROFILE": "", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ACCESS_KEY_ID": keyID, "AWS_SECRET_ACCESS_KEY": secret,
	} {
		t.Setenv(k, v)
	}
}
