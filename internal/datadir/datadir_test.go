package datadir

import (
	"github.com/crossbill/crossbill"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSecureTightens(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "costs"), 0o700); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "costs", "x.parquet")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o755, filepath.Join(dir, "costs"): 0o777, f: 0o666} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := Secure(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "costs"): 0o700, f: 0o600} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %s", p, info.Mode().Perm(), err, want)
		}
	}
}

// TestSecureRefusesOthersOpenDirectory: crossbill cannot make another
// user's directory private, so it refuses to keep its data there.
func TestSecureRefusesOthersOpenDirectory(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := Secure(dir)
	if err == nil || !strings.Contains(err.Error(), "chmod 700") || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("Secure = %v, want a refusal that says what to do", err)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o755 {
		t.Errorf("another user's directory was changed to %s", info.Mode().Perm())
	}
}

// BenchmarkSecure: the walk at every start over a data directory of 1,000
// files already private (the common case: one stat each, no chmod).
func BenchmarkSecure(b *testing.B) {
	dir := b.TempDir()
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := Secure(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSecureRefusesFile: --data naming a file, or a path through one, is
// bad input (exit 2), not a passing fault (it was exit 6).
func TestSecureRefusesFile(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{f, filepath.Join(f, "data")} {
		if err := Secure(dir); crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "--data") {
			t.Errorf("Secure(%s) = %v, want invalid input naming --data", dir, err)
		}
	}
}
