package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// twoReplicas opens two stores on one database (two connection pools, as
// two `crossbill serve` processes have) sharing a settable clock, which
// also stands in for the database's clock (leases are measured by it):
// the tests move time on rather than wait. On the SQLite pass both open
// the same file, which is how the lease logic is exercised there too.
func twoReplicas(t *testing.T, now *time.Time) (a, b *store.Store) {
	t.Helper()
	ctx := context.Background()
	dir, db := t.TempDir(), database(t)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return *now }
	open := func() *store.Store {
		s, err := store.OpenDatabase(ctx, dir, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.SetClock(clock)
		store.SetDatabaseClock(s, clock)
		return s
	}
	return open(), open()
}

var (
	leaseA = store.Lease{Owner: "replica-a", TTL: time.Minute}
	leaseB = store.Lease{Owner: "replica-b", TTL: time.Minute}
)

// TestExpiredLeaseIsTakenOver: a job whose replica stops heartbeating is
// claimed by another once the lease expires, not before; the first
// replica's late outcome is refused (it cannot finish the job twice or
// enqueue a second successor), the second's is recorded.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a, b := twoReplicas(t, &now)
	acme, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	j, err := a.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "ingest", Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := a.ClaimDueJobs(ctx, leaseA, 5)
	if err != nil || len(ca) != 1 || ca[0].LeaseOwner != "replica-a" || ca[0].LeaseToken != 1 {
		t.Fatalf("A's claim: %+v, %v", ca, err)
	}
	now = now.Add(59 * time.Second)
	if cb, err := b.ClaimDueJobs(ctx, leaseB, 5); err != nil || len(cb) != 0 {
		t.Fatalf("B took a job under a live lease: %+v, %v", cb, err)
	}
	now = now.Add(2 * time.Second) // A's lease expired: A is dead or cut off
	cb, err := b.ClaimDueJobs(ctx, leaseB, 5)
	if err != nil || len(cb) != 1 || cb[0].ID != j.ID || cb[0].LeaseToken != 2 || cb[0].Attempts != 2 {
		t.Fatalf("B's takeover: %+v, %v", cb, err)
	}
	if got, _ := b.JobByID(ctx, acme.ID, j.ID); got.LeaseOwner != "replica-b" || got.Message == "" {
		t.Fatalf("after takeover: owner %q message %q", got.LeaseOwner, got.Message)
	}
	// A comes back and tries to record its run: refused, nothing written.
	if err := a.HeartbeatJob(ctx, ca[0], time.Minute); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("A's heartbeat after takeover: %v", err)
	}
	if err := a.JobProgress(ctx, ca[0], 0.9, "stale"); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("A's progress after takeover: %v", err)
	}
	if next, err := a.FinishJob(ctx, ca[0], store.JobOutcome{NextRunAt: now.Add(time.Hour)}); crossbill.ErrorCode(err) != crossbill.CodeConflict || next != nil {
		t.Fatalf("A's finish after takeover: %v, %v", next, err)
	}
	if got, _ := b.JobByID(ctx, acme.ID, j.ID); got.Status != store.JobRunning {
		t.Fatalf("A's late finish changed B's job: %s", got.Status)
	}
	next, err := b.FinishJob(ctx, cb[0], store.JobOutcome{NextRunAt: now.Add(time.Hour)})
	if err != nil || next == nil {
		t.Fatalf("B's finish: %v, %v", next, err)
	}
	jobs, err := b.Jobs(ctx, acme.ID, store.JobFilter{Kind: "ingest"})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("want the finished job and one successor: %+v, %v", jobs, err)
	}
}

// TestHeartbeatKeepsTheLease: a replica that heartbeats keeps its job past
// the first lease's end.
func TestHeartbeatKeepsTheLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a, b := twoReplicas(t, &now)
	acme, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, Kind: "verify"}); err != nil {
		t.Fatal(err)
	}
	ca, err := a.ClaimDueJobs(ctx, leaseA, 5)
	if err != nil || len(ca) != 1 {
		t.Fatalf("claim: %+v, %v", ca, err)
	}
	for range 5 {
		now = now.Add(40 * time.Second)
		if err := a.HeartbeatJob(ctx, ca[0], time.Minute); err != nil {
			t.Fatal(err)
		}
		if cb, err := b.ClaimDueJobs(ctx, leaseB, 5); err != nil || len(cb) != 0 {
			t.Fatalf("B took a heartbeating job: %+v, %v", cb, err)
		}
	}
	if _, err := a.FinishJob(ctx, ca[0], store.JobOutcome{}); err != nil {
		t.Fatal(err)
	}
	if err := a.HeartbeatJob(ctx, ca[0], time.Minute); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("heartbeat of a finished job: %v", err)
	}
}

// TestRequeueLeavesLiveReplicasJobs: a replica starting requeues its own
// previous process's jobs and expired ones, never a job another live
// replica holds (before leases, a restart of any replica stole them all).
func TestRequeueLeavesLiveReplicasJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a, b := twoReplicas(t, &now)
	acme, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"verify", "ingest"} {
		if _, err := a.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, Kind: kind}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := a.ClaimDueJobs(ctx, leaseA, 1); err != nil || len(c) != 1 {
		t.Fatalf("A's claim: %+v, %v", c, err)
	}
	if c, err := b.ClaimDueJobs(ctx, leaseB, 1); err != nil || len(c) != 1 {
		t.Fatalf("B's claim: %+v, %v", c, err)
	}
	// B restarts (same replica ID): its own job comes back, A's stays A's.
	if n, err := b.RequeueRunningJobs(ctx, leaseB.Owner); err != nil || n != 1 {
		t.Fatalf("B's restart requeued %d, %v; want only its own job", n, err)
	}
	if n, err := b.RequeueRunningJobs(ctx, "replica-c"); err != nil || n != 0 {
		t.Fatalf("a new replica requeued %d live jobs, %v", n, err)
	}
	now = now.Add(2 * time.Minute)
	if n, err := b.RequeueRunningJobs(ctx, "replica-c"); err != nil || n != 1 {
		t.Fatalf("after A's lease expired: requeued %d, %v; want 1", n, err)
	}
}

// TestConcurrentEnqueueMakesOneJob: replicas enqueueing the same scheduled
// tick at once get one live job between them (the unique index on the job
// key); without it, each transaction's SELECT saw no job and each inserted
// one. PostgreSQL only: replicas share PostgreSQL, never a SQLite file.
func TestConcurrentEnqueueMakesOneJob(t *testing.T) {
	t.Parallel()
	postgresOnly(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a, b := twoReplicas(t, &now)
	acme, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	const keys, tries = 8, 128
	ids := make([]string, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			s := a
			if i%2 == 1 {
				s = b
			}
			j, err := s.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: fmt.Sprint("verify-", i%keys), Interval: time.Hour})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = j.ID
		})
	}
	wg.Wait()
	jobs, err := a.Jobs(ctx, acme.ID, store.JobFilter{})
	if err != nil || len(jobs) != keys {
		t.Fatalf("%d jobs for %d keys, %v", len(jobs), keys, err)
	}
	byKind := map[string]string{}
	for _, j := range jobs {
		byKind[j.Kind] = j.ID
	}
	for i, id := range ids {
		if want := byKind[fmt.Sprint("verify-", i%keys)]; id != want {
			t.Errorf("enqueue %d returned %q, not the key's one job %q", i, id, want)
		}
	}
}

// TestSkewedReplicaClocks: leases are measured by the database's own clock
// (PostgreSQL's now(), SQLite's reading), not the replicas'. A replica
// whose clock runs half an hour behind claims a job: its lease is live by
// the database's clock, so a replica running half an hour ahead cannot
// take it (by their own clocks it would have expired twenty-five minutes
// ago), nor requeue it on restart; its heartbeat keeps it live. The
// replica running ahead claims a job too: its lease ends five minutes
// after the database's now, not thirty-five, so a dead holder's job is
// not held past its lease. Real database clock, skewed replica clocks.
func TestSkewedReplicaClocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, db := t.TempDir(), database(t)
	const skew, ttl = 30 * time.Minute, 5 * time.Minute
	open := func(offset time.Duration) *store.Store {
		s, err := store.OpenDatabase(ctx, dir, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.SetClock(func() time.Time { return time.Now().UTC().Add(offset) })
		return s
	}
	behind, ahead := open(-skew), open(skew)
	leaseBehind, leaseAhead := store.Lease{Owner: "replica-behind", TTL: ttl}, store.Lease{Owner: "replica-ahead", TTL: ttl}
	acme, err := behind.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().UTC().Add(-2 * skew) // due by every clock
	if _, err := behind.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "ingest", RunAt: due}); err != nil {
		t.Fatal(err)
	}
	cb, err := behind.ClaimDueJobs(ctx, leaseBehind, 5)
	if err != nil || len(cb) != 1 {
		t.Fatalf("behind's claim: %+v, %v", cb, err)
	}
	liveFor := func(j store.Job) time.Duration { return time.Until(*j.LeaseUntil) }
	if d := liveFor(cb[0]); d <= 0 || d > ttl {
		t.Fatalf("behind's lease ends in %v by the real clock, want within (0, %v]", d, ttl)
	}
	if ca, err := ahead.ClaimDueJobs(ctx, leaseAhead, 5); err != nil || len(ca) != 0 {
		t.Fatalf("the replica running ahead took a job under a live lease: %+v, %v", ca, err)
	}
	if n, err := ahead.RequeueRunningJobs(ctx, leaseAhead.Owner); err != nil || n != 0 {
		t.Fatalf("the replica running ahead requeued %d live jobs at start: %v", n, err)
	}
	if err := behind.HeartbeatJob(ctx, cb[0], ttl); err != nil {
		t.Fatal(err)
	}
	if got, err := ahead.JobByID(ctx, acme.ID, cb[0].ID); err != nil || got.LeaseOwner != leaseBehind.Owner || liveFor(got) <= 0 {
		t.Fatalf("after behind's heartbeat: %+v, %v", got, err)
	}
	if ca, err := ahead.ClaimDueJobs(ctx, leaseAhead, 5); err != nil || len(ca) != 0 {
		t.Fatalf("the replica running ahead took a heartbeating job: %+v, %v", ca, err)
	}

	if _, err := ahead.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c2", Kind: "ingest", RunAt: due}); err != nil {
		t.Fatal(err)
	}
	ca, err := ahead.ClaimDueJobs(ctx, leaseAhead, 5)
	if err != nil || len(ca) != 1 {
		t.Fatalf("ahead's claim: %+v, %v", ca, err)
	}
	if d := liveFor(ca[0]); d <= 0 || d > ttl {
		t.Fatalf("ahead's lease ends in %v by the real clock, want within (0, %v]", d, ttl)
	}
}
