package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// TestServerPrunesOldJobs: a server started on a database holding weeks of
// finished jobs deletes the old ones (its first sweep runs at start),
// keeping the newest JobKeep of the key and the live job.
func TestServerPrunesOldJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	acme, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-30 * 24 * time.Hour)
	st.SetClock(func() time.Time { return now })
	lease := store.Lease{Owner: "old", TTL: time.Minute}
	for i := range 10 {
		if _, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: "c1", Kind: "jit-reconcile", Interval: time.Minute}); err != nil {
			t.Fatal(err)
		}
		c, err := st.ClaimDueJobs(ctx, lease, 1)
		if err != nil || len(c) != 1 {
			t.Fatalf("claim: %v, %v", c, err)
		}
		// Each run enqueues its successor a minute later; the last one's
		// waits a day (so that the server does not run it).
		next := now.Add(time.Minute)
		if i == 9 {
			next = time.Now().Add(24 * time.Hour)
		}
		if _, err := st.FinishJob(ctx, c[0], store.JobOutcome{NextRunAt: next}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	st.Close()

	ts := startServer(t, func(m *server.Main) { m.DataDir, m.JobKeep = dir, 3 })
	deadline := time.Now().Add(20 * time.Second)
	for {
		js, err := ts.Store().Jobs(ctx, acme.ID, store.JobFilter{Kind: "jit-reconcile"})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jit-reconcile jobs after 20s, want the newest 3 finished and the queued one", len(js))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
