package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

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
	// The demo's hub talks to moto (IAM enforced) as a user that may only
	// assume roles, so that "Verify now" really tries the customer's role;
	// the customer's organization deploys crossbill's templates when the
	// test asks (CROSSBILL_E2E_DEPLOY).
	w := newAWSWorld(ctx, t)
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium, "CROSSBILL_E2E_ENDPOINT="+w.url,
		"CROSSBILL_E2E_HUB_ARN="+w.hubARN, "CROSSBILL_E2E_DEPLOY="+w.deployer(t), "CROSSBILL_E2E_DEPLOY_BILL="+w.billDeployer(t), "CROSSBILL_E2E_MEMBERS="+strings.Join(w.members, ","),
		"AWS_ACCESS_KEY_ID="+w.hubID, "AWS_SECRET_ACCESS_KEY="+w.hubKey,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in e2e/screenshots/)", err)
	}
}
