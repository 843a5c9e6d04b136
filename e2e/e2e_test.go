package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

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
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in e2e/screenshots/)", err)
	}
}
