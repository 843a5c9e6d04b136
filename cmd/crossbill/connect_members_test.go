package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

type membersOut struct {
	Verified bool `json:"verified"`
	Summary  struct {
		Members, Verified, Failed, Gone int
	} `json:"summary"`
	Members []struct {
		AccountID string `json:"account_id"`
		Status    string `json:"status"`
		Class     string `json:"class"`
		Fix       string `json:"fix"`
	} `json:"members"`
}

// TestConnectMembersBadInput: refusals before any AWS call.
func TestConnectMembersBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	acme, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	_, err = st.CreateTenant(ctx, "beta")
	mustNoErr(t, err)
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-acme", HubPrincipal: hub, Modules: []manifest.Module{manifest.ModuleInventory}})
	mustNoErr(t, err)
	_, err = storetest.Bind(ctx, st, c.ID, "arn:aws:iam::222222222222:role/CrossbillAccess")
	mustNoErr(t, err)
	mustNoErr(t, st.Close())
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing tenant", []string{"connect", "members"}, 2, "required flag"},
		{"unknown tenant", []string{"connect", "members", "--tenant", "nope"}, 3, "crossbill tenant create"},
		{"no org connection", []string{"connect", "members", "--tenant", "acme"}, 3, "org module"},
		{"connection without org", []string{"connect", "members", "--tenant", "acme", "--connection", string(c.ID)}, 2, "org module"},
		{"connection of another tenant", []string{"connect", "members", "--tenant", "beta", "--connection", string(c.ID)}, 3, "no connection"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, dir, append(tt.args, "--region", "us-east-1")...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%s: code %d, stderr %q; want %d mentioning %q", tt.name, code, stderr, tt.code, tt.msg)
		}
	}
}

// TestConnectMembersEndToEnd: the organization flow through the CLI against
// moto. The management account (moto's default account) holds the hub
// identity too, as in TestConnectVerifyEndToEnd; of its two member
// accounts, one has the member role and one does not. members lists (exit
// 0), members --verify finds one failed (exit 5, JSON and text); once the
// failing account leaves the organization, every member is verified (exit 0).
func TestConnectMembersEndToEnd(t *testing.T) {
	ctx := context.Background()
	f := newOrgFixture(t)
	srv, admin, prodAdmin, members, hubUser := f.srv, f.admin, f.prodAdmin, f.members, f.hub
	var err error

	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	mods := "inventory,org"
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hubUser.ARN,
		"--modules", mods, "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	var init initOut
	mustNoErr(t, json.Unmarshal([]byte(stdout), &init))
	// The account role in the management account; in prod, the role the
	// members StackSet would put there (moto does not run service-managed
	// StackSets, so the same role template is deployed directly).
	deploy := func(cfg aws.Config, modules []manifest.Module) string {
		t.Helper()
		body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(init.ExternalID),
			HubPrincipal: hubUser.ARN, Modules: modules})
		mustNoErr(t, err)
		outputs, err := emulator.CreateStack(ctx, cfg, "crossbill", body, nil)
		mustNoErr(t, err)
		return outputs["RoleArn"]
	}
	modules := []manifest.Module{manifest.ModuleInventory, manifest.ModuleOrg}
	role := deploy(admin, modules)
	deploy(prodAdmin, onboarding.MemberModules(modules))
	if _, e, code := runCLI(t, dir, "connect", "verify", "--tenant", "acme", "--role-arn", role, "--endpoint-url", srv.URL, "--wait", "2s"); code != 0 {
		t.Fatalf("verify: %d %s", code, e)
	}

	membersArgs := []string{"connect", "members", "--tenant", "acme", "--endpoint-url", srv.URL, "--json"}
	stdout, stderr, code = runCLI(t, dir, membersArgs...)
	var res membersOut
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Verified || res.Summary.Members != 2 || len(res.Members) != 3 {
		t.Fatalf("list: code %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, dir, append(membersArgs, "--verify", "--concurrency", "2")...)
	res = membersOut{}
	if code != 5 || json.Unmarshal([]byte(stdout), &res) != nil || !res.Verified || res.Summary.Verified != 1 || res.Summary.Failed != 1 {
		t.Fatalf("verify: code %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	for _, m := range res.Members {
		if m.AccountID == members[1] && (m.Status != "failed" || m.Class != "role-missing-or-trust" || !strings.Contains(m.Fix, "StackSet")) {
			t.Errorf("sandbox: %+v", m)
		}
	}
	if !strings.Contains(stderr, "1 of 2 members verified") || !strings.Contains(stderr, "[2/2]") {
		t.Errorf("progress: %s", stderr)
	}
	stdout, _, code = runCLI(t, dir, membersArgs[:len(membersArgs)-1]...)
	if code != 0 || !strings.Contains(stdout, "ACCOUNT") || !strings.Contains(stdout, "fix:") {
		t.Errorf("text list: code %d\n%s", code, stdout)
	}

	stdout, _, code = runCLI(t, dir, "connect", "show", init.ConnectionID)
	if code != 0 || !strings.Contains(stdout, "1 of 2 members verified") {
		t.Errorf("show: code %d\n%s", code, stdout)
	}

	_, err = organizations.NewFromConfig(admin).RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(members[1])})
	mustNoErr(t, err)
	stdout, stderr, code = runCLI(t, dir, append(membersArgs, "--verify")...)
	res = membersOut{}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Summary.Verified != 1 || res.Summary.Members != 1 || res.Summary.Gone != 1 {
		t.Fatalf("after removal: code %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "no longer in the organization") {
		t.Errorf("the gone account was not reported: %s", stderr)
	}
}

// orgFixture is an AWS Organization in moto, IAM enforced once it is set
// up: the management account (moto's default account, which holds the hub
// identity too) with an admin, and two members, prod (with an admin
// session) and sandbox. The hub's credentials are in the environment.
type orgFixture struct {
	srv       *emulator.Server
	admin     aws.Config // the management account's admin
	prodAdmin aws.Config // admin in the prod member account
	members   []string   // prod, sandbox
	hub       emulator.User
}

func newOrgFixture(t *testing.T) orgFixture {
	t.Helper()
	ctx := context.Background()
	// IAM is enforced once the setup is done (moto-api/reset-auth below):
	// counting free calls breaks when the SDK retries one on a loaded machine.
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	all := emulator.AdminPolicy
	// An admin user for the customer.
	adminUser, err := emulator.CreateUser(ctx, root, "admin", all)
	mustNoErr(t, err)
	admin, err := srv.Config(ctx, adminUser.KeyID, adminUser.Secret, "")
	mustNoErr(t, err)
	// The organization, two members, admin rights in the first.
	org := organizations.NewFromConfig(root)
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	mustNoErr(t, err)
	var members []string
	for _, name := range []string{"prod", "sandbox"} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		mustNoErr(t, err)
		members = append(members, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	creds, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + members[0] + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("setup")})
	mustNoErr(t, err)
	c := creds.Credentials
	prodAdmin, err := srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	mustNoErr(t, err)
	_, err = iam.NewFromConfig(prodAdmin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"), PolicyName: aws.String("all"), PolicyDocument: aws.String(all)})
	mustNoErr(t, err)

	// IAM is enforced from here on. The hub identity may only assume roles.
	mustNoErr(t, srv.EnforceIAM(ctx))
	hubUser, err := emulator.CreateUser(ctx, admin, "crossbill-hub", emulator.HubPolicy)
	mustNoErr(t, err)
	setHubEnv(t, hubUser.KeyID, hubUser.Secret)
	return orgFixture{srv: srv, admin: admin, prodAdmin: prodAdmin, members: members, hub: hubUser}

}
