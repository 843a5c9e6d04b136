package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a worker or a job running.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openStore(tb testing.TB) (*store.Store, crossbill.TenantID) {
	tb.Helper()
	s, err := store.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	t, err := s.CreateTenant(context.Background(), "acme")
	if err != nil {
		tb.Fatal(err)
	}
	return s, t.ID
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fast() scheduler.Options {
	return scheduler.Options{Poll: 5 * time.Millisecond, BaseBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
}

// waitJob polls until the job reaches a final status.
func waitJob(tb testing.TB, s *store.Store, tenant crossbill.TenantID, id string) store.Job {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		j, err := s.JobByID(context.Background(), tenant, id)
		if err != nil {
			tb.Fatal(err)
		}
		if j.Status == store.JobSucceeded || j.Status == store.JobFailed {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("job %s did not finish", id)
	return store.Job{}
}

func TestRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	s, tenant := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	sch := scheduler.New(s, quiet(), fast())
	var calls atomic.Int32
	sch.Handle("verify", func(ctx context.Context, j store.Job, p scheduler.Progress) error {
		p(0.5, "assuming role")
		if calls.Add(1) < 3 {
			return crossbill.Errorf(crossbill.CodeThrottled, "verify", "rate exceeded")
		}
		return nil
	})
	if err := sch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); sch.Wait() }()
	j, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, ConnectionID: "c1", Kind: "verify", MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	got := waitJob(t, s, tenant, j.ID)
	if got.Status != store.JobSucceeded || got.Attempts != 3 || got.Progress != 1 || got.LastError != "" {
		t.Fatalf("job %+v: want succeeded on attempt 3", got)
	}
}

func TestGivesUpAndSchedulesNextPeriodicRun(t *testing.T) {
	t.Parallel()
	s, tenant := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	sch := scheduler.New(s, quiet(), fast())
	var calls atomic.Int32
	sch.Handle("ingest", func(context.Context, store.Job, scheduler.Progress) error {
		calls.Add(1)
		return crossbill.Errorf(crossbill.CodeAccessDenied, "ingest", "s3:GetObject denied")
	})
	sch.Handle("bad", func(context.Context, store.Job, scheduler.Progress) error {
		return crossbill.Errorf(crossbill.CodeInvalid, "bad", "bad params")
	})
	if err := sch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); sch.Wait() }()
	j, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "ingest", MaxAttempts: 3, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got := waitJob(t, s, tenant, j.ID)
	if got.Status != store.JobFailed || got.Attempts != 3 || got.ErrorCode != crossbill.CodeAccessDenied || calls.Load() != 3 {
		t.Fatalf("job %+v after %d calls: want failed after 3 attempts", got, calls.Load())
	}
	jobs, err := s.Jobs(ctx, tenant, store.JobFilter{Kind: "ingest"})
	if err != nil || len(jobs) != 2 || jobs[0].Status != store.JobQueued {
		t.Fatalf("periodic successor: %+v, %v", jobs, err)
	}
	if d := time.Until(jobs[0].NextRunAt); d < 50*time.Minute || d > 70*time.Minute {
		t.Fatalf("successor due in %s; want about an hour", d)
	}
	// Invalid input is not retried.
	b, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "bad", MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, tenant, b.ID); got.Attempts != 1 || got.Status != store.JobFailed {
		t.Fatalf("invalid job: %+v", got)
	}
	if _, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "nope"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("unknown kind: %v", err)
	}
}

// TestShutdownReleasesJob: a job interrupted by shutdown goes back to the
// queue at once, its attempt not counted, for another replica or the next
// start (not after its lease expires).
func TestShutdownReleasesJob(t *testing.T) {
	t.Parallel()
	s, tenant := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	sch := scheduler.New(s, quiet(), fast())
	started := make(chan struct{})
	sch.Handle("ingest", func(ctx context.Context, _ store.Job, _ scheduler.Progress) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	if err := sch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	sch.Wait()
	if got, _ := s.JobByID(context.Background(), tenant, j.ID); got.Status != store.JobQueued || got.Attempts != 0 {
		t.Fatalf("after shutdown: %s after %d attempts, want queued after 0 (released)", got.Status, got.Attempts)
	}
	// A new scheduler (the restarted process) resumes and finishes it.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	sch2 := scheduler.New(s, quiet(), fast())
	sch2.Handle("ingest", func(context.Context, store.Job, scheduler.Progress) error { return nil })
	if err := sch2.Start(ctx2); err != nil {
		t.Fatal(err)
	}
	got := waitJob(t, s, tenant, j.ID)
	cancel2()
	sch2.Wait()
	if got.Status != store.JobSucceeded || got.Attempts != 1 {
		t.Fatalf("resumed job %+v", got)
	}
}

// cutOff is a replica's view of the store once its network to the
// database drops heartbeats and claims after its first claim (a partition);
// its progress and outcome writes still get through, as a zombie's would.
type cutOff struct {
	*store.Store
	claimed *atomic.Bool
}

func (cutOff) HeartbeatJob(context.Context, store.Job, time.Duration) error {
	return crossbill.Errorf(crossbill.CodeUnavailable, "job heartbeat", "connection refused")
}

func (c cutOff) ClaimDueJobs(ctx context.Context, l store.Lease, limit int) ([]store.Job, error) {
	if c.claimed.Load() {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "job claim", "connection refused")
	}
	jobs, err := c.Store.ClaimDueJobs(ctx, l, limit)
	if len(jobs) > 0 {
		c.claimed.Store(true)
	}
	return jobs, err
}

// TestLostLeaseStopsTheJob: replica A's heartbeats do not reach the
// database; after a lease, replica B takes the job over and finishes it,
// A's run is cancelled, and A's outcome is never recorded: the job
// succeeds once and has one successor.
func TestLostLeaseStopsTheJob(t *testing.T) {
	t.Parallel()
	s, tenant := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lease := time.Second // long beside a heartbeat on a loaded machine; short for a test
	optsA, optsB := fast(), fast()
	// B's lease is long: on a loaded machine its own one-second lease could
	// expire between its claim and its finish, and B would (rightly) run
	// the job again, which is not what this test is about.
	optsA.Owner, optsA.Lease = "replica-a", lease
	optsB.Owner, optsB.Lease = "replica-b", 30*time.Second
	a := scheduler.New(cutOff{s, new(atomic.Bool)}, quiet(), optsA)
	b := scheduler.New(s, quiet(), optsB)
	var aStarted = make(chan struct{})
	var aStopped atomic.Bool
	a.Handle("ingest", func(ctx context.Context, _ store.Job, _ scheduler.Progress) error {
		close(aStarted)
		<-ctx.Done()
		aStopped.Store(true)
		return nil // a zombie claiming success: must not be recorded
	})
	var bRuns atomic.Int32
	b.Handle("ingest", func(context.Context, store.Job, scheduler.Progress) error {
		bRuns.Add(1)
		return nil
	})
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := a.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "ingest", Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	<-aStarted
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got := waitJob(t, s, tenant, j.ID)
	deadline := time.Now().Add(10 * time.Second)
	for !aStopped.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	a.Wait()
	b.Wait()
	if got.Status != store.JobSucceeded || got.LeaseOwner != "replica-b" || bRuns.Load() != 1 {
		t.Fatalf("job %+v after %d runs on B", got, bRuns.Load())
	}
	if !aStopped.Load() {
		t.Fatal("A's run was not cancelled when its lease was lost")
	}
	jobs, err := s.Jobs(context.Background(), tenant, store.JobFilter{Kind: "ingest"})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("want the job and one successor, got %d: %v", len(jobs), err)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t)
	for _, r := range []float64{0, 0.5, 0.999} {
		sch := scheduler.New(s, quiet(), scheduler.Options{BaseBackoff: 10 * time.Second, MaxBackoff: time.Minute, Jitter: 0.2, Rand: func() float64 { return r }})
		for attempts, base := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 9: time.Minute} {
			got := sch.Backoff(attempts)
			lo, hi := time.Duration(float64(base)*0.9), time.Duration(float64(base)*1.1)
			if got < lo || got > hi {
				t.Errorf("rand %v attempts %d: backoff %s outside [%s, %s]", r, attempts, got, lo, hi)
			}
		}
	}
}

// TestNetworkUnauthorizedIsRetried: refused credentials are permanent, but
// an "unauthorized" whose cause is the network (a credentials refresh cut
// off) is a passing fault and is retried.
func TestNetworkUnauthorizedIsRetried(t *testing.T) {
	t.Parallel()
	s, tenant := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	sch := scheduler.New(s, quiet(), fast())
	var calls atomic.Int32
	sch.Handle("verify", func(context.Context, store.Job, scheduler.Progress) error {
		if calls.Add(1) < 3 {
			return crossbill.Errorf(crossbill.CodeUnauthorized, "verify", "failed to refresh cached credentials: %w",
				&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
		}
		return nil
	})
	sch.Handle("bad-key", func(context.Context, store.Job, scheduler.Progress) error {
		return crossbill.Errorf(crossbill.CodeUnauthorized, "verify", "InvalidClientTokenId: the security token is invalid")
	})
	if err := sch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); sch.Wait() }()
	j, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "verify", MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, tenant, j.ID); got.Status != store.JobSucceeded || got.Attempts != 3 {
		t.Fatalf("network-derived unauthorized: %+v", got)
	}
	b, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "bad-key", MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, tenant, b.ID); got.Status != store.JobFailed || got.Attempts != 1 {
		t.Fatalf("refused key: %+v", got)
	}
}

// TestDeferredRunsSpendNoAttempts: a runner that defers (its connection
// awaits a re-verify) runs again later with its attempts intact.
func TestDeferredRunsSpendNoAttempts(t *testing.T) {
	t.Parallel()
	s, tenant := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	sch := scheduler.New(s, quiet(), fast())
	var calls atomic.Int32
	sch.Handle("ingest", func(context.Context, store.Job, scheduler.Progress) error {
		if calls.Add(1) <= 4 {
			return &scheduler.DeferError{Until: time.Now().Add(5 * time.Millisecond), Err: crossbill.Errorf(crossbill.CodeUnavailable, "ingest", "connection is failed")}
		}
		return nil
	})
	if err := sch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); sch.Wait() }()
	j, err := sch.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: "ingest", MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitJob(t, s, tenant, j.ID); got.Status != store.JobSucceeded || got.Attempts != 1 || calls.Load() != 5 {
		t.Fatalf("job %+v after %d runs: want succeeded with 1 attempt counted", got, calls.Load())
	}
}
