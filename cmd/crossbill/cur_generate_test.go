package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCurGenerateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "bucket")
	stdout, stderr, code := runCLI(t, dir, "cur", "generate", "--out", out, "--seed", "3", "--accounts", "1",
		"--months", "1", "--start", "2026-03", "--resources", "4", "--prefix", "p", "--export", "e", "--json")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, stderr)
	}
	var res struct {
		Rows   int64
		Months []struct{ Period, Manifest string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Rows == 0 || len(res.Months) != 1 {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if res.Months[0].Manifest != "p/e/metadata/BILLING_PERIOD=2026-03/e-Manifest.json" {
		t.Errorf("manifest key %s", res.Months[0].Manifest)
	}
	if _, err := os.Stat(filepath.Join(out, "p/e/data/BILLING_PERIOD=2026-03/e-00001.snappy.parquet")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stderr, "2026-03") {
		t.Errorf("no progress on stderr: %q", stderr)
	}

	for _, args := range [][]string{
		{"cur", "generate"},
		{"cur", "generate", "--out", out, "--start", "March"},
		{"cur", "generate", "--out", out, "--months", "0", "--accounts", "-3"},
	} {
		if _, stderr, code := runCLI(t, dir, args...); code != 2 {
			t.Errorf("%v: code %d (%s), want 2 (invalid)", args, code, stderr)
		}
	}
}
