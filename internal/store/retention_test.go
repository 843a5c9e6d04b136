package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/store"
)

// TestPruneJobs: finished jobs past the retention go, in batches, except
// each key's newest Keep; live jobs (queued, running) stay however old.
func TestPruneJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	start := now
	// run enqueues a job of kind at now, claims it and finishes it.
	run := func(kind string, fail bool) store.Job {
		t.Helper()
		if _, err := s.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: kind, MaxAttempts: 1}); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimDueJobs(ctx, testLease, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %+v, %v", claimed, err)
		}
		out := store.JobOutcome{}
		if fail {
			out.Err = errors.New("boom")
		}
		if _, err := s.FinishJob(ctx, claimed[0], out); err != nil {
			t.Fatal(err)
		}
		return claimed[0]
	}
	var reconcile []store.Job // oldest first, one a day for 30 days
	for day := range 30 {
		now = start.Add(time.Duration(day) * 24 * time.Hour)
		reconcile = append(reconcile, run("jit-reconcile", day%7 == 0))
		if day == 2 {
			run("verify", false) // 27 days old, but among the newest 5 of its key
		}
	}
	// A job left running and one queued, both older than the retention.
	now = start.Add(29*24*time.Hour + time.Hour)
	if _, err := s.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "ingest", RunAt: start}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "members", RunAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ClaimDueJobs(ctx, testLease, 10); err != nil || len(c) != 1 || c[0].Kind != "ingest" {
		t.Fatalf("claim ingest: %+v, %v", c, err)
	}
	now = start.Add(29*24*time.Hour + 2*time.Hour)

	n, err := s.PruneJobs(ctx, store.JobRetention{Age: 14 * 24 * time.Hour, Keep: 5, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Days 0..15 ended more than 14 days ago (day 15: 14 days and 2
	// hours): 16 rows, all outside the newest 5.
	if n != 16 {
		t.Fatalf("pruned %d rows, want 16", n)
	}
	left, err := s.Jobs(ctx, acme.ID, store.JobFilter{Kind: "jit-reconcile", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 14 || left[len(left)-1].ID != reconcile[16].ID || left[0].ID != reconcile[29].ID {
		t.Fatalf("left %d reconcile jobs, oldest %s (want %s)", len(left), left[len(left)-1].ID, reconcile[16].ID)
	}
	for _, kind := range []string{"verify", "ingest", "members"} {
		if js, err := s.Jobs(ctx, acme.ID, store.JobFilter{Kind: kind}); err != nil || len(js) != 1 {
			t.Fatalf("%s jobs after the prune: %+v, %v", kind, js, err)
		}
	}
	// Keep holds whatever the age: with everything old, 5 per key stay.
	now = start.Add(90 * 24 * time.Hour)
	if n, err := s.PruneJobs(ctx, store.JobRetention{Age: 14 * 24 * time.Hour, Keep: 5}); err != nil || n != 9 {
		t.Fatalf("second prune: %d, %v (want 9)", n, err)
	}
	if left, _ := s.Jobs(ctx, acme.ID, store.JobFilter{Kind: "jit-reconcile"}); len(left) != 5 || left[0].ID != reconcile[29].ID {
		t.Fatalf("kept %d, newest %v", len(left), left)
	}
	// Keep 0: every old finished job goes; the live ones stay.
	if n, err := s.PruneJobs(ctx, store.JobRetention{Age: time.Hour}); err != nil || n != 6 {
		t.Fatalf("keep-0 prune: %d, %v (want 6)", n, err)
	}
	all, _ := s.Jobs(ctx, acme.ID, store.JobFilter{})
	if len(all) != 2 {
		t.Fatalf("left %+v, want the running ingest and the queued members jobs", all)
	}
	for _, j := range all {
		if j.Status != store.JobRunning && j.Status != store.JobQueued {
			t.Fatalf("left a %s job", j.Status)
		}
	}
	if _, err := s.PruneJobs(ctx, store.JobRetention{}); err == nil {
		t.Fatal("a zero retention was accepted")
	}
}

// TestClaimSweepOnce: of two replicas asking for the same sweep, one runs
// it; nobody again until the period has passed.
func TestClaimSweepOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a, b := twoReplicas(t, &now)
	claim := func(s *store.Store, owner string) bool {
		t.Helper()
		ok, err := s.ClaimSweep(ctx, "job-retention", owner, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim(a, "a") || claim(b, "b") || claim(a, "a") {
		t.Fatal("first period: want A alone to run the sweep")
	}
	now = now.Add(59 * time.Minute)
	if claim(b, "b") {
		t.Fatal("B ran the sweep before the period ended")
	}
	now = now.Add(2 * time.Minute)
	if !claim(b, "b") || claim(a, "a") {
		t.Fatal("second period: want B alone to run the sweep")
	}
	// Another sweep has its own period.
	if ok, err := a.ClaimSweep(ctx, "other", "a", time.Hour); err != nil || !ok {
		t.Fatalf("another sweep: %v, %v", ok, err)
	}
}
