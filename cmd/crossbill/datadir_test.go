package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestReadOnlyCommandsKeepAMistypedDataDir: a command that only reads, given
// a --data that does not exist, says so (exit 3) and creates nothing there;
// a command that writes creates it (issue 11).
func TestReadOnlyCommandsKeepAMistypedDataDir(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "crosbill-typo")
	for _, args := range [][]string{{"tenant", "list"}, {"token", "list"}, {"connect", "list"}, {"costs"}, {"costs", "periods"}, {"commitments", "inventory"}} {
		_, stderr, code := runCLI(t, missing, args...)
		if code != 3 || !strings.Contains(stderr, "mistyped") || !strings.Contains(stderr, "tenant create") {
			t.Errorf("%v on a missing --data: exit %d, stderr %q; want 3 saying it may be mistyped and which commands create it", args, code, stderr)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v created the mistyped data directory (%v)", args, err)
		}
	}
	if _, stderr, code := runCLI(t, missing, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant create on a new --data: exit %d, %s", code, stderr)
	}
	if out, _, code := runCLI(t, missing, "tenant", "list"); code != 0 || !strings.Contains(out, "acme") {
		t.Fatalf("tenant list after create: exit %d, %q", code, out)
	}
}

// TestDemoUsesTheDefaultDataDir: the demo keeps its data where every other
// command looks by default, so `crossbill costs` finds it without --data
// (issue 11). The demo stops at its listen (the port is taken) after
// preparing the data directory.
func TestDemoUsesTheDefaultDataDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("CROSSBILL_DATA", "")
	t.Setenv("XDG_DATA_HOME", home)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out, errb strings.Builder
	code := run(t.Context(), []string{"demo", "--addr", busy.Addr().String(), "--quiet"}, &out, &errb)
	if code != 6 || !strings.Contains(errb.String(), "in use") {
		t.Fatalf("demo on a taken port: exit %d, stderr %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(home, "crossbill", "crossbill.db")); err != nil {
		t.Fatalf("the demo did not use the default data directory %s: %v", filepath.Join(home, "crossbill"), err)
	}
}

// TestHelpReadsWell walks every command's --help as a user reads it: each
// flag's value placeholder is a word (cobra turns a backquoted phrase of
// the usage into the placeholder), no default is printed as a raw Go
// value such as -1ns, and every command has a one-line summary that ends
// as a sentence does not trail off into a list (issue 11).
func TestHelpReadsWell(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&App{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" && c.HasParent() && c.Name() != "help" {
			t.Errorf("%s has no summary", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if strings.ContainsAny(name, " `") {
				t.Errorf("%s --%s shows the placeholder %q", c.CommandPath(), f.Name, name)
			}
			if f.Value.Type() == "duration" && strings.HasPrefix(f.DefValue, "-") {
				t.Errorf("%s --%s shows its default as %s", c.CommandPath(), f.Name, f.DefValue)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if !strings.Contains(root.Short, "costs, commitments and third-party access") {
		t.Errorf("root tagline %q", root.Short)
	}
}
