package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestJobLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	spec := store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "verify", MaxAttempts: 2, Interval: time.Hour}
	j, err := s.EnqueueJob(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	// A second request for the same work returns the waiting job.
	if dup, err := s.EnqueueJob(ctx, spec); err != nil || dup.ID != j.ID {
		t.Fatalf("dedup: %v, %v", dup.ID, err)
	}
	claimed, err := s.ClaimDueJobs(ctx, testLease, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Attempts != 1 || claimed[0].Status != store.JobRunning {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	if again, err := s.ClaimDueJobs(ctx, testLease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed twice: %+v, %v", again, err)
	}
	if err := s.JobProgress(ctx, claimed[0], 0.5, "half"); err != nil {
		t.Fatal(err)
	}
	fail := crossbill.Errorf(crossbill.CodeThrottled, "verify", "slow down")
	if next, err := s.FinishJob(ctx, claimed[0], store.JobOutcome{Err: fail, RetryAt: now.Add(time.Minute)}); err != nil || next != nil {
		t.Fatalf("retry: %v, %v", next, err)
	}
	got, err := s.JobByID(ctx, acme.ID, j.ID)
	if err != nil || got.Status != store.JobRetrying || got.ErrorCode != crossbill.CodeThrottled || got.Progress != 0.5 {
		t.Fatalf("after retry: %+v, %v", got, err)
	}
	if due, _ := s.ClaimDueJobs(ctx, testLease, 10); len(due) != 0 {
		t.Fatalf("retry ran before its time: %+v", due)
	}
	now = now.Add(2 * time.Minute)
	claimed, err = s.ClaimDueJobs(ctx, testLease, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Attempts != 2 {
		t.Fatalf("second claim: %+v, %v", claimed, err)
	}
	// Out of attempts: failed for good, and the periodic successor is queued.
	next, err := s.FinishJob(ctx, claimed[0], store.JobOutcome{Err: errors.New("boom"), RetryAt: now.Add(time.Minute), NextRunAt: now.Add(time.Hour)})
	if err != nil || next == nil || next.Status != store.JobQueued || !next.NextRunAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("final failure: %+v, %v", next, err)
	}
	if got, _ := s.JobByID(ctx, acme.ID, j.ID); got.Status != store.JobFailed || got.FinishedAt == nil {
		t.Fatalf("after failure: %+v", got)
	}
	if at, err := s.NextJobRun(ctx); err != nil || !at.Equal(now.Add(time.Hour)) {
		t.Fatalf("next run %v, %v", at, err)
	}
	// Another tenant sees none of it.
	beta, err := s.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.JobByID(ctx, beta.ID, j.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("cross-tenant: code %q", crossbill.ErrorCode(err))
	}
	if list, err := s.Jobs(ctx, beta.ID, store.JobFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("cross-tenant list: %+v, %v", list, err)
	}
	if list, err := s.Jobs(ctx, acme.ID, store.JobFilter{Kind: "verify"}); err != nil || len(list) != 2 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
}

func TestRequeueRunningJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, db := t.TempDir(), database(t)
	s, err := store.OpenDatabase(ctx, dir, db)
	if err != nil {
		t.Fatal(err)
	}
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, Kind: "ingest"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ClaimDueJobs(ctx, testLease, 1); err != nil || len(c) != 1 {
		t.Fatalf("claim: %v %v", c, err)
	}
	s.Close() // the process dies mid-job
	s, err = store.OpenDatabase(ctx, dir, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.RequeueRunningJobs(ctx, testLease.Owner); err != nil || n != 1 {
		t.Fatalf("requeue: %d, %v", n, err)
	}
	if c, err := s.ClaimDueJobs(ctx, testLease, 1); err != nil || len(c) != 1 || c[0].Attempts != 2 {
		t.Fatalf("resumed claim: %+v, %v", c, err)
	}
}

// TestEnqueueMovesWaitingJobEarlier: a verify asked for in five minutes
// while the daily one waits moves that one up; a later request changes
// nothing. Without it the re-verify promised after a failed verification
// waited a day.
func TestEnqueueMovesWaitingJobEarlier(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	daily := store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "verify", RunAt: now.Add(24 * time.Hour), Interval: 24 * time.Hour}
	j, err := s.EnqueueJob(ctx, daily)
	if err != nil {
		t.Fatal(err)
	}
	soon := daily
	soon.RunAt = now.Add(5 * time.Minute)
	got, err := s.EnqueueJob(ctx, soon)
	if err != nil || got.ID != j.ID || !got.NextRunAt.Equal(soon.RunAt) {
		t.Fatalf("sooner request: %+v, %v", got, err)
	}
	if got, err = s.EnqueueJob(ctx, daily); err != nil || !got.NextRunAt.Equal(soon.RunAt) {
		t.Fatalf("a later request moved the job back: %+v, %v", got, err)
	}
	if at, err := s.NextJobRun(ctx); err != nil || !at.Equal(soon.RunAt) {
		t.Fatalf("stored next run %v, %v", at, err)
	}
}

// TestDeferredJobKeepsItsAttempts: a run deferred (its connection awaits a
// re-verify) goes back to the queue without spending an attempt.
func TestDeferredJobKeepsItsAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "ingest", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		claimed, err := s.ClaimDueJobs(ctx, testLease, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %+v, %v", claimed, err)
		}
		why := crossbill.Errorf(crossbill.CodeUnavailable, "ingest", "connection c1 is failed: re-verifying first")
		if _, err := s.FinishJob(ctx, claimed[0], store.JobOutcome{Err: why, Defer: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.JobByID(ctx, acme.ID, j.ID)
		if err != nil || got.Status != store.JobQueued || got.Attempts != 0 || !got.NextRunAt.Equal(now.Add(time.Minute)) || got.Message == "" {
			t.Fatalf("deferred job %+v, %v", got, err)
		}
		now = now.Add(time.Minute)
	}
}

// testLease is the claim of the tests that run one replica.
var testLease = store.Lease{Owner: "replica-a", TTL: time.Minute}
