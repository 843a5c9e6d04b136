package server_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// jobBlock is the job kind of the kill tests: in the child it runs until
// the process is killed, in the restarted server it succeeds at once. The
// ingest's own atomicity under kill -9 is internal/costs' TestKillMidLoad;
// here it is the server's part: the store, the cost store and the job
// queue after the process dies mid-start or mid-job.
const jobBlock = "block"

var killTestScheduler = scheduler.Options{Poll: 10 * time.Millisecond, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

// TestServerKillChild is the process TestServerKill kills: it starts a
// server on the directory named by the environment and reports on stdout.
func TestServerKillChild(t *testing.T) {
	dir, mode := os.Getenv("CROSSBILL_KILL_DIR"), os.Getenv("CROSSBILL_KILL_MODE")
	if dir == "" {
		t.Skip("run by TestServerKill")
	}
	say := func(format string, args ...any) { fmt.Fprintf(os.Stdout, format+"\n", args...) }
	m := &server.Main{Addr: "127.0.0.1:0", DataDir: dir, Scheduler: killTestScheduler, Runners: map[string]scheduler.Runner{
		jobBlock: func(_ context.Context, j store.Job, _ scheduler.Progress) error {
			say("RUNNING %s", j.ID)
			time.Sleep(time.Hour)
			return nil
		},
	}}
	say("STARTING")
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	say("TOKEN %s", m.BootstrapToken)
	if mode == "job" {
		ctx := context.Background()
		tn, err := m.Store().CreateTenant(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Store().EnqueueJob(ctx, store.JobSpec{TenantID: tn.ID, Kind: jobBlock}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Hour)
}

// killChild starts TestServerKillChild on dir and SIGKILLs it once it has
// printed a line starting with at, after delay. It returns the lines read.
func killChild(t *testing.T, dir, mode, at string, delay time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CROSSBILL_KILL_DIR="+dir, "CROSSBILL_KILL_MODE="+mode)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stdout)
	reached := false
	for !reached && sc.Scan() {
		lines = append(lines, sc.Text())
		reached = strings.HasPrefix(sc.Text(), at)
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // what it printed before it died
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child exited cleanly; it should have been killed")
	}
	if !reached {
		t.Fatalf("the child never printed %q: %q", at, lines)
	}
	return lines
}

// TestServerKill kills (SIGKILL) a server process while it starts and
// while it runs a job; the next start on the same data directory must
// come up ready with one operator token, and resume the killed job.
func TestServerKill(t *testing.T) {
	t.Parallel()
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 40 * time.Millisecond, 150 * time.Millisecond} {
		t.Run(fmt.Sprintf("starting+%s", delay), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			lines := killChild(t, dir, "start", "STARTING", delay)
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "TOKEN") }) {
				t.Log("killed before the server was up")
			}
			m := restart(t, dir)
			ops, err := m.Store().Tokens(context.Background(), "", false)
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) != 1 {
				t.Fatalf("%d operator tokens after a kill at start, want 1: %+v", len(ops), ops)
			}
		})
	}
	t.Run("running-job", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		lines := killChild(t, dir, "job", "RUNNING", 0)
		var token, job string
		for _, l := range lines {
			if v, ok := strings.CutPrefix(l, "TOKEN "); ok {
				token = v
			}
			if v, ok := strings.CutPrefix(l, "RUNNING "); ok {
				job = v
			}
		}
		if token == "" || job == "" {
			t.Fatalf("child output %q lacks the token or the job", lines)
		}
		m := restart(t, dir)
		if m.BootstrapToken != "" {
			t.Fatal("a second operator token was bootstrapped after the kill")
		}
		ts := &testServer{Main: m}
		if st := ts.do(t, "GET", "/api/v1/me", token, nil, nil); st != 200 {
			t.Fatalf("the killed process's token after restart: %d", st)
		}
		tn, err := m.Store().TenantByName(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			j, err := m.Store().JobByID(context.Background(), tn.ID, job)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status == store.JobSucceeded {
				if j.Attempts != 2 {
					t.Fatalf("resumed job: %d attempts, want 2 (the killed one and this)", j.Attempts)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the killed job did not resume: %+v", j)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// restart starts a server on dir as the next process would, and checks it
// is ready.
func restart(t *testing.T, dir string) *server.Main {
	t.Helper()
	m := &server.Main{Addr: "127.0.0.1:0", DataDir: dir, Scheduler: killTestScheduler, Runners: map[string]scheduler.Runner{
		jobBlock: func(context.Context, store.Job, scheduler.Progress) error { return nil },
	}}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start after kill -9: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	if st := (&testServer{Main: m}).do(t, "GET", "/readyz", "", nil, nil); st != 200 {
		t.Fatalf("readyz after kill -9: %d", st)
	}
	return m
}
