package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// TestOptimizeJobEvaluatesDaily: a scheduled optimize job evaluates the
// tenant's inventory, stores its recommendations and is due again a day
// later; a server without an inventory schedules none.
func TestOptimizeJobEvaluatesDaily(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inv := &optimize.Memory{}
	ts := startServer(t, func(m *server.Main) {
		m.Inventory = inv
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	st := ts.Store()
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	inv.Save(tn.ID, []inventory.Resource{{ARN: "arn:aws:ec2:us-east-1:111122223333:elastic-ip/eipalloc-9", AccountID: "111122223333", Region: "us-east-1", Service: "ec2", Type: "elastic-ip", ID: "eipalloc-9"}}, nil)
	if err := ts.Server().ScheduleOptimize(ctx, tn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := optimize.List(ctx, st, tn.ID, optimize.Filter{})
		if err == nil && len(l.Recommendations) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no evaluation after 30 s: %+v, %v", l, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		jobs, err := st.Jobs(ctx, tn.ID, store.JobFilter{Kind: server.JobOptimize})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 2 && jobs[0].Status == store.JobQueued && jobs[0].Interval == 24*time.Hour {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the finished optimize job did not enqueue its successor a day later")
}

// TestOptimizeReadsTheInventoryStore: without a Source of its own the
// server evaluates what the inventory store holds (what the inventory job
// writes), and an inventory sync's runner asks for an evaluation now.
func TestOptimizeReadsTheInventoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := startServer(t, func(m *server.Main) {
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	st := ts.Store()
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := inventory.Save(ctx, st, tn.ID, []inventory.Resource{{ARN: "arn:aws:ec2:us-east-1:111122223333:elastic-ip/eipalloc-7", AccountID: "111122223333", Region: "us-east-1",
		Service: "ec2", Type: "elastic-ip", ID: "eipalloc-7", State: "unassociated"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.Server().ScheduleOptimize(ctx, tn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if l, err := optimize.List(ctx, st, tn.ID, optimize.Filter{}); err == nil && len(l.Recommendations) == 1 && l.Recommendations[0].ResourceID == "eipalloc-7" {
			return
		}
	}
	t.Fatal("the inventory store's free address was not evaluated in 30 s")
}
