package costs_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// The child half of TestKillMidLoad: load the file named by the environment
// and stop at the named stage, inside the transaction, until killed.
func TestKillMidLoadChild(t *testing.T) {
	dir, file, stop := os.Getenv("COSTS_KILL_DIR"), os.Getenv("COSTS_KILL_FILE"), os.Getenv("COSTS_KILL_STAGE")
	if dir == "" {
		t.Skip("run by TestKillMidLoad")
	}
	s, err := costs.OpenWith(context.Background(), dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	costs.SetStageHook(s, func(stage string) {
		if stage == stop {
			os.Stdout.WriteString("STAGE " + stage + "\n") //nolint:errcheck // the parent reads it
			time.Sleep(time.Minute)
		}
	})
	stage, err := s.StageDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	staged := filepath.Join(stage, "part.parquet")
	if err := os.WriteFile(staged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReplacePeriod(context.Background(), costs.Load{Tenant: "acme", Source: "fixture", Period: "2026-01",
		Format: costs.FormatCUR2, Dir: stage, Files: []string{staged}, ExecutionID: "exec-2", Fingerprint: "exec-2"})
	t.Fatalf("the load finished (%v); it should have been killed", err)
}

// TestKillMidLoad kills (SIGKILL) a process in the middle of replacing a
// billing period and checks that the store still holds the previous load,
// whole, and accepts the next load.
func TestKillMidLoad(t *testing.T) {
	t.Parallel()
	for _, stage := range []string{"deleted", "before-commit"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			s, err := costs.OpenWith(ctx, dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario())
			before := storeState(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			restated := filepath.Join(t.TempDir(), "restated.parquet")
			costtest.WriteParquet(t, restated, cur.Columns(), commitmentScenario()[:3])
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidLoadChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "COSTS_KILL_DIR="+dir, "COSTS_KILL_FILE="+restated, "COSTS_KILL_STAGE="+stage)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			reached := false
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "STAGE "+stage) {
					reached = true
					break
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil {
				t.Fatal("the child exited cleanly; it should have been killed")
			}
			if !reached {
				t.Fatal("the child never reached the stage")
			}

			s, err = costs.OpenWith(ctx, dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
			if err != nil {
				t.Fatalf("reopening after kill -9: %v", err)
			}
			defer s.Close()
			if after := storeState(t, s); after != before {
				t.Fatalf("kill -9 at %s changed the store:\nbefore\n%s\nafter\n%s", stage, before, after)
			}
			loadRows(t, s, "acme", "2026-01", "exec-2", commitmentScenario()[:3])
			if after := storeState(t, s); after == before || !strings.Contains(after, "exec-2") {
				t.Fatalf("the next load did not replace the period:\n%s", after)
			}
			// The killed load's files and the replaced load's are gone.
			entries, err := os.ReadDir(filepath.Join(dir, "costs", "files"))
			if err != nil || len(entries) != 1 {
				t.Errorf("load directories after the next load: %v, %v; want only the live one", entries, err)
			}
		})
	}
}

// storeState summarizes every table a load writes.
func storeState(tb testing.TB, s *costs.Store) string {
	tb.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT string_agg(execution_id || ':' || rows, ',' ORDER BY billing_period) FROM ingest_ledger`,
		`SELECT count(*) || ':' || round(sum(line_item_unblended_cost), 6) FROM cur`,
		`SELECT count(*) || ':' || round(sum(amortized), 6) FROM cost_daily`,
		`SELECT count(*) || ':' || round(sum(amortized), 6) FROM cost_daily_dim`,
	} {
		var v *string
		if err := s.DB().QueryRowContext(context.Background(), q).Scan(&v); err != nil {
			tb.Fatal(err)
		}
		if v != nil {
			b.WriteString(*v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestBatchPublishesWhole loads two periods in one batch: readers see
// neither until the commit, then both, and the replaced load's files are
// gone; a batch whose second load fails leaves the store as it was and
// none of its files.
func TestBatchPublishesWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := costs.OpenWith(ctx, dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario())
	before := storeState(t, s)
	loadDirs := func() int {
		t.Helper()
		entries, err := os.ReadDir(filepath.Join(dir, "costs", "files"))
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	stage := func(rows []costtest.Row) (string, string) {
		t.Helper()
		d, err := s.StageDir()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(d, "part.parquet")
		costtest.WriteParquet(t, f, cur.Columns(), rows)
		return d, f
	}

	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ period, exec string }{{"2026-01", "exec-2"}, {"2026-02", "exec-3"}} {
		d, f := stage(commitmentScenario()[:3])
		if _, err := b.Replace(ctx, costs.Load{Tenant: "acme", Source: "fixture", Period: l.period, Format: costs.FormatCUR2,
			Dir: d, Files: []string{f}, ExecutionID: l.exec, Fingerprint: l.exec}); err != nil {
			t.Fatal(err)
		}
		if got := storeState(t, s); got != before {
			t.Fatalf("a reader saw the batch before its commit, after %s:\n%s\nwant\n%s", l.period, got, before)
		}
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	after := storeState(t, s)
	if !strings.HasPrefix(after, "exec-2:3,exec-3:3\n") {
		t.Fatalf("after the commit:\n%s; want both periods of the batch", after)
	}
	if n := loadDirs(); n != 2 {
		t.Fatalf("%d load directories after the commit; want 2 (the replaced one removed)", n)
	}

	b, err = s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, f := stage(commitmentScenario())
	if _, err := b.Replace(ctx, costs.Load{Tenant: "acme", Source: "fixture", Period: "2026-03", Format: costs.FormatCUR2,
		Dir: d, Files: []string{f}, ExecutionID: "exec-4", Fingerprint: "exec-4"}); err != nil {
		t.Fatal(err)
	}
	d, f = stage(nil)
	if err := os.WriteFile(f, []byte("not parquet"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Replace(ctx, costs.Load{Tenant: "acme", Source: "fixture", Period: "2026-04", Format: costs.FormatCUR2,
		Dir: d, Files: []string{f}, ExecutionID: "exec-5", Fingerprint: "exec-5"}); err == nil {
		t.Fatal("loading a file that is not Parquet succeeded")
	}
	if err := b.Commit(ctx); err == nil {
		t.Fatal("a batch rolled back by a failed load committed")
	}
	if got := storeState(t, s); got != after {
		t.Fatalf("a failed batch changed the store:\n%s\nwant\n%s", got, after)
	}
	if n := loadDirs(); n != 2 {
		t.Fatalf("%d load directories after the failed batch; want 2 (its staged ones removed)", n)
	}
}
