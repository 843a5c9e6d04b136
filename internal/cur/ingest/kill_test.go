package ingest_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

func openKillStore(tb testing.TB, dir string) *costs.Store {
	tb.Helper()
	s, err := costs.OpenWith(context.Background(), dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		tb.Fatalf("opening the cost store: %v", err)
	}
	return s
}

// TestIngestKillChild is the process TestIngestKill kills: it ingests the
// export named by the environment and stops, until killed, at the first
// progress line starting with the named text.
func TestIngestKillChild(t *testing.T) {
	dir, source, at := os.Getenv("INGEST_KILL_DIR"), os.Getenv("INGEST_KILL_SOURCE"), os.Getenv("INGEST_KILL_AT")
	if dir == "" {
		t.Skip("run by TestIngestKill")
	}
	s := openKillStore(t, dir)
	commitRows := int64(1) // every month commits by itself
	if os.Getenv("INGEST_KILL_BATCH") != "" {
		commitRows = 0 // the default: both months in one batch
	}
	_, err := ingest.Ingest(context.Background(), s, ingest.Options{Source: source, Tenant: "acme", CommitRows: commitRows, Progress: func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if strings.HasPrefix(line, at) {
			os.Stdout.WriteString("AT " + line + "\n") //nolint:errcheck // the parent reads it
			time.Sleep(time.Hour)
		}
	}})
	t.Fatalf("the ingest finished (%v); it should have been killed", err)
}

// TestIngestKill kills (SIGKILL) an ingest of a two-month export as the
// first month is loaded (the second being fetched meanwhile, see
// preparePeriod) and as the second is about to be loaded. Committing every month by itself, the first month must be there
// whole, the second not at all; the next ingest skips the first, loads the
// second, and leaves no files of the killed one. With both months in one
// batch (the default for small months), neither is there, and the next
// ingest loads both. (A kill inside the load's transaction is
// internal/costs' TestKillMidLoad.)
func TestIngestKill(t *testing.T) {
	t.Parallel()
	gen := generate(t)
	source := filepath.Join(gen.Dir, gen.Prefix, gen.Export)
	first, second := gen.Months[0], gen.Months[1]
	for _, at := range []string{first.Period + ": loaded", second.Period + ": loading", "batch " + second.Period + ": loading"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			batch := strings.HasPrefix(at, "batch ")
			cmd := exec.Command(os.Args[0], "-test.run=^TestIngestKillChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "INGEST_KILL_DIR="+dir, "INGEST_KILL_SOURCE="+source, "INGEST_KILL_AT="+strings.TrimPrefix(at, "batch "))
			if batch {
				cmd.Env = append(cmd.Env, "INGEST_KILL_BATCH=1")
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			reached := false
			sc := bufio.NewScanner(stdout)
			for !reached && sc.Scan() {
				reached = strings.HasPrefix(sc.Text(), "AT ")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil {
				t.Fatal("the child exited cleanly; it should have been killed")
			}
			if !reached {
				t.Fatal("the child never reached the kill point")
			}

			s := openKillStore(t, dir)
			defer s.Close()
			amortized := func(period string) float64 {
				var v *float64
				if err := s.DB().QueryRowContext(ctx, `SELECT sum(amortized) FROM cost_daily WHERE tenant = 'acme' AND billing_period = ?`, period).Scan(&v); err != nil {
					t.Fatal(err)
				}
				if v == nil {
					return 0
				}
				return *v
			}
			if batch {
				if got := amortized(first.Period); got != 0 {
					t.Fatalf("after kill -9: %s has %.4f, want nothing (its batch was not committed)", first.Period, got)
				}
			} else if got := amortized(first.Period); math.Abs(got-first.AmortizedCost) > 0.01 {
				t.Fatalf("after kill -9: %s amortized %.4f, want %.4f (loaded before the kill)", first.Period, got, first.AmortizedCost)
			}
			if got := amortized(second.Period); got != 0 {
				t.Fatalf("after kill -9: %s has %.4f, want nothing (killed before its load)", second.Period, got)
			}

			res, err := ingest.Ingest(ctx, s, ingest.Options{Source: source, Tenant: "acme"})
			if err != nil {
				t.Fatalf("ingest after kill -9: %v", err)
			}
			want := ingest.StatusUnchanged
			if batch {
				want = ingest.StatusLoaded
			}
			if len(res.Periods) != 2 || res.Periods[0].Status != want || res.Periods[1].Status != ingest.StatusLoaded {
				t.Fatalf("ingest after kill -9: %+v; want the first month %s, the second loaded", res.Periods, want)
			}
			for _, m := range gen.Months[:2] {
				if got := amortized(m.Period); math.Abs(got-m.AmortizedCost) > 0.01 {
					t.Errorf("%s amortized %.4f, want %.4f", m.Period, got, m.AmortizedCost)
				}
			}
			// One load directory per month: the killed ingest's staged
			// files are gone.
			entries, err := os.ReadDir(filepath.Join(dir, "costs", "files"))
			if err != nil || len(entries) != 2 {
				t.Errorf("load directories: %d (%v); want 2, one per month", len(entries), err)
			}
		})
	}
}

// TestFailedLoadDiscardsPrefetch: the next month is fetched while one
// loads; when the load fails, the month fetched ahead is discarded with
// it (its preparation stopped, or its staged files removed), so no staged
// files are left, and the next ingest loads both months.
// The first month's staged file is truncated as its load starts (its
// checks passed), once the second month's staging directory exists.
func TestFailedLoadDiscardsPrefetch(t *testing.T) {
	t.Parallel()
	gen := generate(t)
	source := filepath.Join(gen.Dir, gen.Prefix, gen.Export)
	first := gen.Months[0]
	dir := t.TempDir()
	filesDir := filepath.Join(dir, "costs", "files")
	s := openKillStore(t, dir)
	defer s.Close()
	var lines []string
	truncated := false
	_, err := ingest.Ingest(context.Background(), s, ingest.Options{Source: source, Tenant: "acme", CommitRows: 1, Progress: func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		lines = append(lines, line)
		if !strings.HasPrefix(line, first.Period+": loading") {
			return
		}
		// The second month's preparation creates its directory, then
		// waits to report its fetch (progress is serialised): its
		// directory is the empty one.
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			entries, err := os.ReadDir(filesDir)
			if err != nil || len(entries) < 2 {
				continue
			}
			for _, e := range entries {
				parts, _ := filepath.Glob(filepath.Join(filesDir, e.Name(), "*.parquet"))
				for _, f := range parts {
					if err := os.Truncate(f, 0); err != nil {
						t.Error(err)
					}
					truncated = true
				}
			}
			return
		}
		t.Error("the second month's preparation never started while the first loaded")
	}})
	if !truncated {
		t.Fatalf("no staged file was truncated; progress: %q", lines)
	}
	if err == nil {
		t.Fatalf("the load of a truncated file succeeded; progress: %q", lines)
	}
	entries, rerr := os.ReadDir(filesDir)
	if rerr != nil || len(entries) != 0 {
		t.Fatalf("after the failed load: %d staged directories (%v), want none", len(entries), rerr)
	}
	res, err := ingest.Ingest(context.Background(), s, ingest.Options{Source: source, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Periods) != 2 || res.Periods[0].Status != ingest.StatusLoaded || res.Periods[1].Status != ingest.StatusLoaded {
		t.Fatalf("ingest after the failure: %+v, want both months loaded", res.Periods)
	}
}
