package cluster_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// Cost Explorer's day-zero rows in cluster mode: loaded on one replica
// and published, every replica answers them; a load on another replica
// (incremental) keeps the days loaded before; a CUR period ingested
// later replaces its Cost Explorer days on every replica, reconciled.
func TestExplorerPublished(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, b, c := e.replica(1<<30, 4), e.replica(1<<30, 4), e.replica(1<<30, 4)
	acme := e.tenant("acme")
	days := func(s *costs.Store, conn crossbill.ConnectionID, from time.Time, n int, cost float64) {
		t.Helper()
		var rows []costs.ExplorerRow
		for i := range n {
			rows = append(rows, costs.ExplorerRow{Day: from.AddDate(0, 0, i), Account: "111122223333", Service: "AmazonEC2", Unblended: cost, Amortized: cost, Net: cost})
		}
		if _, err := s.ReplaceExplorerDays(ctx, acme, conn, costs.GroupingAccountService, from, from.AddDate(0, 0, n), rows); err != nil {
			t.Fatal(err)
		}
	}
	jan, mar, apr := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	total := func(r interface {
		Tenant(context.Context, crossbill.TenantID) (*costs.Store, func(), error)
	}, from, to time.Time) float64 {
		t.Helper()
		s, release, err := r.Tenant(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		res, err := s.Query(ctx, costs.Query{Tenant: acme, Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimService},
			Granularity: costs.Monthly, From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}

	// Replica a loads January and March, publishes; b answers them.
	days(e.staging, "conn-1", jan, 31, 10)
	days(e.staging, "conn-1", mar, 31, 1)
	if err := a.PublishExplorer(ctx, e.staging, acme, "conn-1"); err != nil {
		t.Fatal(err)
	}
	if got := total(b, mar, apr); math.Abs(got-31) > 1e-9 {
		t.Fatalf("replica b answers March %v, want the 31 Cost Explorer loaded on a", got)
	}

	// Replica c, with a staging store of its own, loads April only (an
	// incremental load) after pulling: March is kept.
	other, err := costs.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := c.PullExplorer(ctx, other, acme); err != nil {
		t.Fatal(err)
	}
	// Meanwhile a loads May for its connection and publishes first: c's
	// publish of another connection keeps it.
	may := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	days(e.staging, "conn-1", may, 31, 3)
	if err := a.PublishExplorer(ctx, e.staging, acme, "conn-1"); err != nil {
		t.Fatal(err)
	}
	days(other, "conn-2", apr, 30, 2)
	if err := c.PublishExplorer(ctx, other, acme, "conn-2"); err != nil {
		t.Fatal(err)
	}
	if got := total(b, mar, apr.AddDate(0, 1, 0)); math.Abs(got-(31+60)) > 1e-9 {
		t.Fatalf("replica b answers March-April %v, want 91 (March kept by the incremental load)", got)
	}
	if got := total(b, may, may.AddDate(0, 1, 0)); math.Abs(got-93) > 1e-9 {
		t.Fatalf("replica b answers May %v, want the 93 of a's load, published before c's", got)
	}

	// The CUR arrives for January-February through replica c's ingest:
	// January counts from the CUR only, on every replica, reconciled.
	dir := t.TempDir()
	os.RemoveAll(dir)
	if _, err := cur.Generate(ctx, cur.GenerateOptions{Dir: dir, Seed: 1, Accounts: 1, Months: 2, ResourcesPerAccount: 4, Start: jan}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(ctx, other, ingest.Options{Source: filepath.Join(dir, "cur", "crossbill-cur2"), Tenant: acme}); err != nil {
		t.Fatal(err)
	}
	var curJan float64
	if err := other.DB().QueryRowContext(ctx, `SELECT sum(unblended) FROM cost_daily WHERE tenant = ? AND billing_period = '2026-01'`, string(acme)).Scan(&curJan); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]interface {
		Tenant(context.Context, crossbill.TenantID) (*costs.Store, func(), error)
	}{"a": a, "b": b, "fresh": e.replica(1<<30, 4)} {
		if got := total(r, jan, jan.AddDate(0, 1, 0)); math.Abs(got-curJan) > 1e-6 {
			t.Errorf("replica %s answers January %v, want the CUR's %v alone", name, got, curJan)
		}
		if got := total(r, mar, apr.AddDate(0, 1, 0)); math.Abs(got-91) > 1e-9 {
			t.Errorf("replica %s answers March-April %v after the CUR load, want 91", name, got)
		}
		s, release, err := r.Tenant(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := s.Reconciliations(ctx, acme)
		release()
		if err != nil || len(rec) == 0 || rec[0].Period != "2026-01" || math.Abs(rec[0].Explorer-310) > 1e-9 {
			t.Errorf("replica %s reconciliations %+v, %v; want January's 310 from Cost Explorer", name, rec, err)
		}
	}
}

// TestExplorerPublishCompareAndSwap: replica b publishes connection 2's
// Cost Explorer load in the moment between replica a's merge of the
// committed version and its commit (the hook). a's commit, a
// compare-and-swap on the version it merged, loses; a merges b's version
// and commits again: both loads are in the result (before, a's commit
// dropped b's rows). A publisher that keeps losing is told to run the
// load again (CodeConflict), and the winner's data stands.
func TestExplorerPublishCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, b := e.replica(1<<30, 4), e.replica(1<<30, 4)
	acme := e.tenant("acme")
	other, err := costs.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	jan, feb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	load := func(s *costs.Store, conn crossbill.ConnectionID, from time.Time, n int, cost float64) {
		t.Helper()
		var rows []costs.ExplorerRow
		for i := range n {
			rows = append(rows, costs.ExplorerRow{Day: from.AddDate(0, 0, i), Account: "111122223333", Service: "AmazonEC2", Unblended: cost, Amortized: cost, Net: cost})
		}
		if _, err := s.ReplaceExplorerDays(ctx, acme, conn, costs.GroupingAccountService, from, from.AddDate(0, 0, n), rows); err != nil {
			t.Fatal(err)
		}
	}
	total := func() float64 {
		t.Helper()
		s, release, err := e.replica(1<<30, 4).Tenant(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		res, err := s.Query(ctx, costs.Query{Tenant: acme, Metric: costs.MetricUnblended, Granularity: costs.Monthly, From: jan, To: feb.AddDate(0, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	load(e.staging, "conn-1", jan, 31, 10)
	load(other, "conn-2", feb, 28, 2)
	rounds := 0
	a.SetBeforeCommit(func() {
		rounds++
		if rounds == 1 {
			if err := b.PublishExplorer(ctx, other, acme, "conn-2"); err != nil {
				t.Error(err)
			}
		}
	})
	if err := a.PublishExplorer(ctx, e.staging, acme, "conn-1"); err != nil {
		t.Fatal(err)
	}
	if got := total(); rounds != 2 || math.Abs(got-(310+56)) > 1e-9 {
		t.Fatalf("after %d rounds the committed data total %v, want 366: a's 310 and b's 56", rounds, got)
	}

	// b publishes before every one of a's commits: a gives up and says so.
	load(e.staging, "conn-1", jan, 31, 20)
	a.SetBeforeCommit(func() {
		if err := b.PublishExplorer(ctx, other, acme, "conn-2"); err != nil {
			t.Error(err)
		}
	})
	err = a.PublishExplorer(ctx, e.staging, acme, "conn-1")
	if crossbill.ErrorCode(err) != crossbill.CodeConflict || !strings.Contains(err.Error(), "run the load again") {
		t.Fatalf("a publisher that keeps losing: %v", err)
	}
	if got := total(); math.Abs(got-366) > 1e-9 {
		t.Fatalf("after a's lost publishes the committed total is %v, want b's latest (366)", got)
	}
}
