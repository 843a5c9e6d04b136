package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCurGenerateThenIngestDir: the directory given to `cur generate
// --out` can be given to `cur ingest --source` (it failed: no manifests
// under DIR/metadata), generate prints the export's path, and a directory
// holding several exports is bad input naming them.
func TestCurGenerateThenIngestDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gen := func(out string, extra ...string) string {
		stdout, stderr, code := runCLI(t, dir, append([]string{"cur", "generate", "--out", out, "--seed", "3", "--accounts", "1",
			"--months", "1", "--start", "2026-03", "--resources", "4"}, extra...)...)
		want := filepath.Join(out, "cur", "crossbill-cur2")
		if code != 0 || !strings.Contains(stdout, "export: "+want+"\n") || !strings.Contains(stdout, "cur ingest --source "+want) {
			t.Fatalf("generate: code %d, stdout lacks the export path %s:\n%s\n%s", code, want, stdout, stderr)
		}
		return want
	}
	if _, _, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal("tenant create")
	}
	out := filepath.Join(dir, "bucket")
	want := gen(out)
	for _, src := range []string{out, filepath.Join(out, "cur"), want} {
		stdout, stderr, code := runCLI(t, dir, "cur", "ingest", "--source", src, "--tenant", "acme")
		if code != 0 || !strings.Contains(stdout, "source "+want) {
			t.Fatalf("ingest --source %s: code %d\n%s\n%s", src, code, stdout, stderr)
		}
	}
	// --focus writes a second export beside the first.
	both := filepath.Join(dir, "both")
	want = gen(both, "--focus")
	_, stderr, code := runCLI(t, dir, "cur", "ingest", "--source", both, "--tenant", "acme")
	if code != 2 || !strings.Contains(stderr, "holds 2 exports") || !strings.Contains(stderr, want) {
		t.Fatalf("ingest of a directory with two exports: code %d, %s", code, stderr)
	}
}
