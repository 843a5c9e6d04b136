package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
)

// TestMembersJobRunsAfterVerify: verifying an organization's management
// account through the API queues the members job, which lists the
// organization and verifies the member's role (IAM enforced, so the
// external ID checks are real). The management account (moto's default
// account) also holds the hub identity.
func TestMembersJobRunsAfterVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	all := aws.String(emulator.AdminPolicy)
	adminUser, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	must(nil, err)
	admin, err := moto.Config(ctx, adminUser.KeyID, adminUser.Secret, "")
	must(nil, err)
	org := organizations.NewFromConfig(root)
	must(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	acct, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("prod"), Email: aws.String("prod@example.com")})
	must(nil, err)
	prod := aws.ToString(acct.CreateAccountStatus.AccountId)
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + prod + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("setup")})
	must(nil, err)
	prodAdmin, err := moto.Config(ctx, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	must(nil, err)
	must(iam.NewFromConfig(prodAdmin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"), PolicyName: aws.String("all"), PolicyDocument: all}))
	// IAM is enforced from here on.
	must(nil, moto.EnforceIAM(ctx))
	hub, err := emulator.CreateUser(ctx, admin, "crossbill-hub", emulator.HubPolicy)
	must(nil, err)

	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: hub.KeyID, Secret: hub.Secret}}
		m.HubPrincipal = hub.ARN
		m.VerifyWait = -1
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	_, readTok, adminTok := ts.tenantWithTokens(t, "acme")
	var created struct {
		Connection struct{ ID string }
		ExternalID string `json:"external_id"`
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", adminTok, map[string]any{"modules": []string{"inventory", "org"}}, &created); st != 201 {
		t.Fatalf("init: %d", st)
	}
	deploy := func(cfg aws.Config, mods []manifest.Module) string {
		t.Helper()
		body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(created.ExternalID), HubPrincipal: hub.ARN, Modules: mods})
		must(nil, err)
		outputs, err := emulator.CreateStack(ctx, cfg, "crossbill", body, nil)
		must(nil, err)
		return outputs["RoleArn"]
	}
	mods := []manifest.Module{manifest.ModuleInventory, manifest.ModuleOrg}
	role := deploy(admin, mods)
	deploy(prodAdmin, onboarding.MemberModules(mods))

	base := "/api/v1/tenants/acme/connections/" + created.Connection.ID
	var v struct{ Status string }
	if st := ts.do(t, "POST", base+"/verify", adminTok, map[string]string{"role_arn": role}, &v); st != 200 || v.Status != "verified" {
		t.Fatalf("verify: %d %+v", st, v)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var jobs []struct{ Status, Message, LastError string }
		if st := ts.do(t, "GET", "/api/v1/tenants/acme/jobs?kind=members&connection="+created.Connection.ID, readTok, nil, &jobs); st != 200 {
			t.Fatalf("jobs: %d", st)
		}
		done := false
		for _, j := range jobs {
			done = done || (j.Status == "succeeded" && strings.Contains(j.Message, "1 of 1 members verified"))
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members job did not run: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got membersJSON
	if st := ts.do(t, "GET", base+"/members", readTok, nil, &got); st != 200 || got.Summary.Verified != 1 || got.Summary.Members != 1 {
		t.Fatalf("members after the job: %d %+v", st, got)
	}
}
