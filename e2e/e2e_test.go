package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) {
	code := emulator.RunTests(m)
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// TestBrowser runs ui.test.js. It is part of the default test run and fails
// (rather than skips) when the browser tooling is missing, with the command
// that installs it.
func TestBrowser(t *testing.T) {
	chromium, node, bin, ctx := browserTools(t)
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "ui.test.js")
	// The demo's hub talks to moto (IAM enforced) as a user that may only
	// assume roles, so that "Verify now" really tries the customer's role;
	// the customer's organization deploys crossbill's templates when the
	// test asks (CROSSBILL_E2E_DEPLOY).
	w := newAWSWorld(ctx, t)
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium, "CROSSBILL_E2E_ENDPOINT="+w.url,
		"CROSSBILL_E2E_HUB_ARN="+w.hubARN, "CROSSBILL_E2E_DEPLOY="+w.deployer(t), "CROSSBILL_E2E_DEPLOY_BILL="+w.billDeployer(t), "CROSSBILL_E2E_DEPLOY_COST="+w.costDeployer(t),
		"CROSSBILL_E2E_MEMBERS="+strings.Join(w.members, ","),
		"CROSSBILL_E2E_VOLUME="+w.volume,
		"AWS_ACCESS_KEY_ID="+w.hubID, "AWS_SECRET_ACCESS_KEY="+w.hubKey,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in e2e/screenshots/)", err)
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// browserTools checks chromium, node and playwright, and builds crossbill
// once for the package's browser tests.
func browserTools(t *testing.T) (chromium, node, bin string, ctx context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	chromium = os.Getenv("CROSSBILL_CHROMIUM")
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crossbill-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "crossbill")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", builtBin, "../cmd/crossbill").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building crossbill: %v", buildErr)
	}
	return chromium, node, builtBin, ctx
}
