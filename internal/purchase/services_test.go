package purchase_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
)

// svcCase is one service's reservation plan and how its purchase is made
// idempotent.
type svcCase struct {
	typ, itype, platform, buyOp string
	// buyCalls is the purchase calls a crash and its retry make: RDS and
	// ElastiCache buy again and are refused as already existing (2);
	// OpenSearch and Redshift find the first purchase before buying (1).
	buyCalls int
}

var svcCases = []svcCase{
	{commitments.TypeRDSRI, "db.r6g.xlarge", "postgresql", "rds:PurchaseReservedDBInstancesOffering", 2},
	{commitments.TypeElastiCacheRI, "cache.r6g.large", "redis", "elasticache:PurchaseReservedCacheNodesOffering", 2},
	{commitments.TypeOpenSearchRI, "r6g.large.search", "", "es:PurchaseReservedInstanceOffering", 1},
	{commitments.TypeRedshiftRI, "ra3.xlplus", "", "redshift:PurchaseReservedNodeOffering", 1},
}

func (c svcCase) request(count int) purchase.Request {
	return purchase.Request{Type: c.typ, TermYears: 1, Payment: commitments.PartialUpfront, Count: count, InstanceType: c.itype, Platform: c.platform, Region: "us-east-1"}
}

// RDS, ElastiCache, OpenSearch and Redshift reservations, all STUBBED
// (moto serves none of their reservation calls, see fake_services_test.go):
// the plan names the exact offering with its prices; the first execution's
// purchase reaches AWS but its answer is lost, and the retry buys nothing
// more; the plan is done once the service's reservations show it.
func TestServiceReservationCrashBuysOnce(t *testing.T) {
	t.Parallel()
	for _, c := range svcCases {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fx := newFixture(t)
			v := fx.approved(t, c.request(3))
			if !strings.Contains(v.Plan.Offering.ID, c.itype) || !strings.HasSuffix(v.Plan.Offering.ID, "-pu") || v.Plan.Upfront != 900 || v.Plan.MonthlyRecurring != 219 {
				t.Fatalf("plan: %+v", v.Plan)
			}
			fx.aws.crash = true
			if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err == nil {
				t.Fatal("the lost answer was not reported")
			}
			got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
			if err != nil || got.State != purchase.StateDone || got.Tranches[0].CommitmentID == "" {
				t.Fatalf("retry: %+v, %v", got, err)
			}
			if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil {
				t.Fatal(err)
			}
			if fx.aws.purchases() != 1 || fx.aws.svcCalls[c.buyOp] != c.buyCalls || fx.aws.svcRes[0].count != 3 || fx.aws.svcRes[0].offering != v.Plan.Offering.ID {
				t.Fatalf("%d purchases, %d calls of %s: %+v", fx.aws.purchases(), fx.aws.svcCalls[c.buyOp], c.buyOp, fx.aws.svcRes)
			}
			if c.typ == commitments.TypeRDSRI || c.typ == commitments.TypeOpenSearchRI {
				// The reservation is named after the tranche.
				if name := fx.aws.svcRes[0].id + fx.aws.svcRes[0].name; !strings.Contains(name, "crossbill-pp-") {
					t.Errorf("reservation %+v is not named after its tranche", fx.aws.svcRes[0])
				}
			}
		})
	}
}

// STUBBED (see fake_services_test.go). A bought service reservation is
// done only once the service's reservations show it.
func TestServiceReservationDoneOnlyOnceShown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	v := fx.approved(t, svcCases[0].request(1))
	fx.aws.hideInventory = true
	got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
	if err != nil || got.State != purchase.StateExecuting || got.Tranches[0].State != purchase.TrancheBought {
		t.Fatalf("bought, not shown: %+v, %v", got, err)
	}
	fx.aws.hideInventory = false
	if got, err = purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil || got.State != purchase.StateDone || fx.aws.purchases() != 1 {
		t.Fatalf("shown: %+v, %v", got, err)
	}
}

// STUBBED (see fake_services_test.go). These services cannot queue a
// purchase: a laddered plan buys each tranche once it is due.
func TestServiceReservationTranchesWhenDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	req := svcCases[1].request(2)
	req.Tranches = 2
	v := fx.approved(t, req)
	got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
	if err != nil || got.State != purchase.StateExecuting || got.Tranches[0].State != purchase.TrancheDone || got.Tranches[1].State != purchase.TranchePlanned ||
		fx.aws.purchases() != 1 || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "cannot be queued") {
		t.Fatalf("first tranche: %+v, %v", got, err)
	}
	fx.st.SetClock(func() time.Time { return v.Tranches[1].Due.Add(time.Minute) })
	if got, err = purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil || got.State != purchase.StateDone || fx.aws.purchases() != 2 {
		t.Fatalf("second tranche: %+v, %v", got, err)
	}
}

// The scheduler's pass (ExecuteDue), purchase calls STUBBED as above:
// a plan a person started executing gets its next tranche bought once
// due, without anyone running execute; an approved plan nobody started is
// left alone (the first execute stays a person's), and a second pass finds
// nothing to do.
func TestExecuteDueCarriesStartedPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	req := svcCases[1].request(2)
	req.Tranches = 2
	started := fx.approved(t, req)
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, started.ID, fx.bob); err != nil || fx.aws.purchases() != 1 {
		t.Fatalf("first execute: %v, %d purchases", err, fx.aws.purchases())
	}
	idle := fx.approved(t, svcCases[1].request(1))
	open := func(context.Context, crossbill.ConnectionID) (purchase.Account, error) { return fx.acct, nil }
	sched := store.AuditEntry{Actor: "scheduler"}
	rep, err := purchase.ExecuteDue(ctx, fx.st, open, fx.tenant, sched)
	if err != nil || rep.Plans != 1 || rep.Done != 0 || fx.aws.purchases() != 1 {
		t.Fatalf("before the second tranche is due: %+v, %v, %d purchases", rep, err, fx.aws.purchases())
	}
	fx.st.SetClock(func() time.Time { return started.Tranches[1].Due.Add(time.Minute) })
	rep, err = purchase.ExecuteDue(ctx, fx.st, open, fx.tenant, sched)
	if err != nil || rep.Plans != 1 || rep.Done != 1 || fx.aws.purchases() != 2 {
		t.Fatalf("once due: %+v, %v, %d purchases", rep, err, fx.aws.purchases())
	}
	if v, err := purchase.Get(ctx, fx.st, fx.tenant, idle.ID); err != nil || v.State != purchase.StateApproved {
		t.Fatalf("the plan nobody started: %+v, %v", v, err)
	}
	if rep, err = purchase.ExecuteDue(ctx, fx.st, open, fx.tenant, sched); err != nil || rep.Plans != 0 || fx.aws.purchases() != 2 {
		t.Fatalf("second pass: %+v, %v", rep, err)
	}
}

// Bad input per service, offerings STUBBED (see fake_services_test.go):
// a type the service does not sell, a term or payment it does not offer,
// a count below 1, an ambiguous engine; a clear error and nothing stored
// or bought.
func TestServiceReservationBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	for _, c := range svcCases {
		unknown := c.request(1)
		unknown.InstanceType = "x9.huge"
		term := c.request(1)
		term.TermYears = 3
		pay := c.request(1)
		pay.Payment = commitments.AllUpfront
		for name, tc := range map[string]struct {
			req  purchase.Request
			want string
		}{
			"unknown type": {unknown, "AWS offers no " + c.typ},
			"term":         {term, "but none of 3 year(s) partial upfront"},
			"payment":      {pay, "but none of 1 year(s) all upfront"},
			"count":        {c.request(0), "buy at least one (--count)"},
			"hourly":       {func() purchase.Request { r := c.request(1); r.HourlyCommitment = 1; return r }(), "sized by its count"},
		} {
			tc.req.Tenant, tc.req.Connection = fx.tenant, fx.conn
			_, err := purchase.Draft(ctx, fx.st, fx.acct, tc.req, fx.ann)
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %s: %v, want %q", c.typ, name, err, tc.want)
			}
		}
	}
	engine := svcCases[0].request(1)
	engine.Platform = ""
	multiAZ := svcCases[0].request(1)
	multiAZ.MultiAZ = true
	cacheAZ := svcCases[1].request(1)
	cacheAZ.MultiAZ = true
	for name, tc := range map[string]struct {
		req  purchase.Request
		want string
	}{
		"RDS engine":         {engine, "for several engines (mysql, postgresql): name one with --platform"},
		"RDS Multi-AZ":       {multiAZ, "AWS offers no RDS postgresql db.r6g.xlarge reservation"},
		"Multi-AZ elsewhere": {cacheAZ, "only RDS reservations are Multi-AZ"},
	} {
		tc.req.Tenant, tc.req.Connection = fx.tenant, fx.conn
		_, err := purchase.Draft(ctx, fx.st, fx.acct, tc.req, fx.ann)
		if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if ps, _ := purchase.List(ctx, fx.st, fx.tenant); len(ps) != 0 || fx.aws.purchases() != 0 {
		t.Fatalf("%d plans stored, %d purchases", len(ps), fx.aws.purchases())
	}
}

// A reservation plan's expected figures come from the tenant's usage
// with the offering's price (STUBBED offerings, see
// fake_services_test.go): 3 db.r6g.xlarge run all the time on demand in
// the commitments fixture, so 3 reservations are fully used and 6 half;
// a 90% minimum refuses the 6.
func TestServiceReservationExpectedFromUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	fx.withUsage(t)
	if _, err := purchase.SetGuardrails(ctx, fx.st, fx.tenant, purchase.Guardrails{MinUtilization: 0.9}, fx.bob); err != nil {
		t.Fatal(err)
	}
	req := svcCases[0].request(3)
	req.Tenant, req.Connection = fx.tenant, fx.conn
	v, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
	if err != nil || v.Plan.Expected == nil || v.Plan.Expected.Utilization < 0.999 || v.Plan.Expected.MonthlySavings <= 0 {
		t.Fatalf("3 reservations: %+v, %v", v.Plan.Expected, err)
	}
	req.Count = 6
	req.Expected = &purchase.Expectation{Utilization: 1}
	if _, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann); err == nil || !strings.Contains(err.Error(), "expected utilization of 50.0% is below the tenant's minimum of 90%") {
		t.Fatalf("6 reservations: %v", err)
	}
}

// Recommendations of every reservation type become plans.
func TestServicePlanFromRecommendation(t *testing.T) {
	t.Parallel()
	for option, typ := range map[string]string{commitments.OptionRDSRI: commitments.TypeRDSRI, commitments.OptionElastiCacheRI: commitments.TypeElastiCacheRI,
		commitments.OptionOpenSearchRI: commitments.TypeOpenSearchRI, commitments.OptionRedshiftRI: commitments.TypeRedshiftRI} {
		req, err := purchase.FromRecommendation(commitments.Recommendation{Type: option, Term: 1, Payment: commitments.NoUpfront, Region: "us-east-1", InstanceType: "x.large",
			Count: 2, Ladder: commitments.Ladder(1, 3)})
		if err != nil || req.Type != typ || req.Count != 2 || req.Tranches != 2 || req.InstanceType != "x.large" {
			t.Errorf("%s: %+v, %v", option, req, err)
		}
	}
	if _, err := purchase.FromRecommendation(commitments.Recommendation{Type: commitments.OptionRDSRI, Count: 0}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("no reservation: %v", err)
	}
}
