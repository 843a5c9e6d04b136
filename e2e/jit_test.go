package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestBrowserJIT runs jit.test.js: a person requests a JIT group
// membership on the Just-in-time access page, an approver decides it on
// the Approvals page, the server's lease engine grants it in moto, the
// approver revokes it and the audit trail shows every step.
//
// The tenant's connection is seeded in the store as verified (as
// internal/jit's tests do) rather than deployed and verified through the
// wizard: TestBrowser covers onboarding; this test is about the JIT pages.
// moto runs without IAM enforcement, so the role is assumed as any role.
func TestBrowserJIT(t *testing.T) {
	chromium, node, bin, ctx := browserTools(t)
	srv := emulator.Own(t, emulator.Options{})
	root, err := srv.RootConfig(ctx)
	must(t, err)
	id, err := sts.NewFromConfig(root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	account := aws.ToString(id.Account)
	c := iam.NewFromConfig(root)
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("db-oncall"), Path: aws.String("/crossbill-jit/")})
	must(t, err)
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}) // ana@example.com's IAM user (the email's local part)
	must(t, err)

	dir := t.TempDir()
	seedJIT(ctx, t, dir, account)
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "jit.test.js")
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium, "CROSSBILL_E2E_ENDPOINT="+srv.URL,
		"CROSSBILL_E2E_DATA_JIT="+dir, "CROSSBILL_E2E_ACCOUNT="+account,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	// While the browser walks, watch the group in moto: the grant must
	// really come (ana joins while the lease is active) and go.
	watchCtx, stop := context.WithCancel(ctx)
	joined := make(chan bool, 1)
	go func() {
		seen := false
		defer func() { joined <- seen }()
		for watchCtx.Err() == nil && !seen {
			if g, err := c.GetGroup(watchCtx, &iam.GetGroupInput{GroupName: aws.String("db-oncall")}); err == nil {
				for _, u := range g.Users {
					seen = seen || aws.ToString(u.UserName) == "ana"
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	out, err := cmd.CombinedOutput()
	stop()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser JIT test failed: %v (screenshots in e2e/screenshots/)", err)
	}
	if !<-joined {
		t.Fatal("ana never joined db-oncall in moto although the JIT page showed the lease active")
	}
	g, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("db-oncall")})
	must(t, err)
	if len(g.Users) != 0 {
		t.Fatalf("db-oncall still has %d member(s) after the revocation", len(g.Users))
	}
}

// seedJIT makes tenant acme with a verified connection carrying access-jit
// in account.
func seedJIT(ctx context.Context, t *testing.T, dir, account string) {
	t.Helper()
	st, err := store.Open(ctx, dir)
	must(t, err)
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme")
	must(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-e2e-external-id-0123456789", HubPrincipal: "arn:aws:iam::" + account + ":user/hub",
		Modules: []manifest.Module{manifest.ModuleAccessRead, manifest.ModuleAccessJIT}})
	must(t, err)
	_, err = storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+account+":role/CrossbillAccess"))
	must(t, err)
}
