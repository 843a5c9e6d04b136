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

// TestIngestKill kills (SIGKILL) an ingest of a two-month export after the
// first month is loaded, as the second is fetched and as it is about to be
// loaded. Committing every month by itself, the first month must be there
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
	for _, at := range []string{second.Period + ": fetching", second.Period + ": loading", "batch " + second.Period + ": loading"} {
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
