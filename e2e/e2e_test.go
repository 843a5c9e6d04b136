package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// hubURL is the emulator the demo's hub uses (set by hubUser).
var hubURL string

// hubUser starts moto with IAM enforced after three free calls, which
// create crossbill's hub user allowed only sts:AssumeRole, and returns its key.
func hubUser(ctx context.Context, t *testing.T) (id, secret string) {
	t.Helper()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 3})
	hubURL = srv.URL
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := iam.NewFromConfig(root)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("crossbill-hub")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("crossbill-hub"), PolicyName: aws.String("hub"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("crossbill-hub")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
}

// TestBrowser runs ui.test.js. It is part of the default test run and fails
// (rather than skips) when the browser tooling is missing, with the command
// that installs it.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	chromium := os.Getenv("CROSSBILL_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no chromium at %s: install it with `sudo apt-get install -y chromium` (or set CROSSBILL_CHROMIUM)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: `sudo apt-get install -y nodejs npm`")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		t.Fatal("e2e/node_modules is missing: run `npm ci --prefix e2e` (or `make setup`)")
	}
	bin := filepath.Join(t.TempDir(), "crossbill")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/crossbill")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building crossbill: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "ui.test.js")
	// The demo's hub talks to moto (IAM enforced), as a user that may only
	// assume roles, so that "Verify now" really tries the customer's role
	// (which does not exist there) instead of stopping for want of AWS
	// credentials.
	keyID, secret := hubUser(ctx, t)
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium, "CROSSBILL_E2E_ENDPOINT="+hubURL,
		"AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in e2e/screenshots/)", err)
	}
}
