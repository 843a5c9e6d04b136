package purchase_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/purchase"
)

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// computeSP is a hand-written plan: $3/h of Compute Savings Plans for a
// year, No Upfront.
func computeSP() purchase.Request {
	return purchase.Request{Type: commitments.TypeComputeSP, TermYears: 1, Payment: commitments.NoUpfront, HourlyCommitment: 3}
}

// Savings Plans: STUBBED (moto serves no Savings Plans API, see fakeAWS).
// A plan cannot be executed before approval, its author cannot approve
// it, another person can; then it is bought once and done only once the
// inventory shows it, with every step in the audit chain.
func TestApprovalRequiredByAnotherPerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	req := computeSP()
	req.Tenant, req.Connection = fx.tenant, fx.conn
	v, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != purchase.StatePending || v.Approval == nil || v.Approval.Kind != approval.KindPurchase || v.Approval.Subject != v.ID ||
		v.Plan.Offering.ID != "off-Compute-1-No Upfront" || v.Plan.MonthlyRecurring != 2190 || v.Plan.Upfront != 0 {
		t.Fatalf("draft: %+v", v)
	}
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); crossbill.ErrorCode(err) != crossbill.CodeConflict || !strings.Contains(err.Error(), "not approved") {
		t.Fatalf("execute before approval: %v", err)
	}
	if _, err := purchase.Approve(ctx, fx.st, fx.tenant, v.ID, true, "", fx.ann); err == nil {
		t.Fatal("the author approved their own plan")
	}
	if fx.aws.purchases() != 0 {
		t.Fatal("bought before approval")
	}
	if v, err = purchase.Approve(ctx, fx.st, fx.tenant, v.ID, true, "ok", fx.bob); err != nil || v.State != purchase.StateApproved {
		t.Fatalf("approve: %+v, %v", v, err)
	}
	if v, err = purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil {
		t.Fatal(err)
	}
	if v.State != purchase.StateDone || v.Tranches[0].State != purchase.TrancheDone || v.Tranches[0].CommitmentID != "sp-1" || fx.aws.purchases() != 1 {
		t.Fatalf("executed: %+v, %d purchases", v, fx.aws.purchases())
	}
	if c := fx.aws.creates[0]; aws.ToString(c.Commitment) != "3.000" || aws.ToString(c.ClientToken) != v.Tranches[0].ClientToken || c.PurchaseTime != nil {
		t.Fatalf("CreateSavingsPlan sent %+v", c)
	}
	// A second execution of a done plan buys nothing.
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil || fx.aws.purchases() != 1 || len(fx.aws.creates) != 1 {
		t.Fatalf("second execute: %v, %d creates", err, len(fx.aws.creates))
	}
	lines, err := fx.st.AuditLog(ctx, "", fx.tenant)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		if strings.HasPrefix(l.Action, "purchase.") {
			got = append(got, l.Action)
		}
	}
	want := "purchase.plan.created purchase.plan.approved purchase.plan.executing purchase.tranche.buying purchase.tranche.bought purchase.tranche.done purchase.plan.done"
	if strings.Join(reverse(got), " ") != want && strings.Join(got, " ") != want {
		t.Errorf("audit lines %v, want %s", got, want)
	}
	if chk, err := fx.st.VerifyAudit(ctx); err != nil || !chk.OK {
		t.Fatalf("audit chain: %+v, %v", chk, err)
	}
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[len(s)-1-i] = x
	}
	return out
}

// STUBBED Savings Plans (see fakeAWS). A denied plan is never bought.
func TestDeniedPlanIsNotBought(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	req := computeSP()
	req.Tenant, req.Connection = fx.tenant, fx.conn
	v, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = purchase.Approve(ctx, fx.st, fx.tenant, v.ID, false, "wait for the Q3 budget", fx.bob); err != nil || v.State != purchase.StateDenied {
		t.Fatalf("deny: %+v, %v", v, err)
	}
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); crossbill.ErrorCode(err) != crossbill.CodeConflict || fx.aws.purchases() != 0 {
		t.Fatalf("execute a denied plan: %v, %d purchases", err, fx.aws.purchases())
	}
}

// STUBBED Savings Plans (see fakeAWS). Three tranches a month apart are
// queued with their start dates, each a third of the commitment.
func TestLadderedTranchesOnSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	start := day(time.Now()).AddDate(0, 0, 10)
	req := computeSP()
	req.Tranches, req.Start, req.HourlyCommitment = 3, start, 3.001
	v := fx.approved(t, req)
	if len(v.Tranches) != 3 {
		t.Fatalf("tranches: %+v", v.Tranches)
	}
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil {
		t.Fatal(err)
	}
	if len(fx.aws.creates) != 3 {
		t.Fatalf("%d purchases, want 3", len(fx.aws.creates))
	}
	sum := 0.0
	for i, c := range fx.aws.creates {
		due := start.AddDate(0, i, 0)
		if c.PurchaseTime == nil || !c.PurchaseTime.Equal(due) {
			t.Errorf("tranche %d queued for %v, want %v", i, c.PurchaseTime, due)
		}
		f, err := strconv.ParseFloat(aws.ToString(c.Commitment), 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += f
	}
	// $3.001 in three: 1.000 each, the first takes the rounding's rest.
	if aws.ToString(fx.aws.creates[0].Commitment) != "1.001" || aws.ToString(fx.aws.creates[2].Commitment) != "1.000" || sum < 3.0009 || sum > 3.0011 {
		t.Errorf("commitments %q %q %q", aws.ToString(fx.aws.creates[0].Commitment), aws.ToString(fx.aws.creates[1].Commitment), aws.ToString(fx.aws.creates[2].Commitment))
	}
}

// STUBBED Savings Plans (see fakeAWS). The first execution's purchase
// reaches AWS but its answer is lost (the process could as well have
// crashed there): the tranche stays "buying". The retry sends the same
// client token, AWS returns the same Savings Plan, one purchase in all.
func TestDoubleExecutionAfterCrashBuysOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	v := fx.approved(t, computeSP())
	fx.aws.crash = true
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err == nil {
		t.Fatal("the lost answer was not reported")
	}
	got, _ := purchase.Get(ctx, fx.st, fx.tenant, v.ID)
	if got.State != purchase.StateExecuting || got.Tranches[0].State != purchase.TrancheBuying {
		t.Fatalf("after the crash: %+v", got)
	}
	for range 2 {
		if got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil || got.State != purchase.StateDone {
			t.Fatalf("retry: %+v, %v", got, err)
		}
	}
	if fx.aws.purchases() != 1 || len(fx.aws.creates) != 2 || aws.ToString(fx.aws.creates[0].ClientToken) != aws.ToString(fx.aws.creates[1].ClientToken) {
		t.Fatalf("%d purchases from %d calls: %+v", fx.aws.purchases(), len(fx.aws.creates), fx.aws.creates)
	}
}

// STUBBED Savings Plans (see fakeAWS). A bought plan is done only once
// the inventory shows it.
func TestDoneOnlyOnceInInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	v := fx.approved(t, computeSP())
	fx.aws.hideInventory = true
	got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
	if err != nil || got.State != purchase.StateExecuting || got.Tranches[0].State != purchase.TrancheBought || len(got.Notes) != 1 {
		t.Fatalf("bought, not in the inventory: %+v, %v", got, err)
	}
	fx.aws.hideInventory = false
	if got, err = purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil || got.State != purchase.StateDone || fx.aws.purchases() != 1 {
		t.Fatalf("in the inventory: %+v, %v", got, err)
	}
}

// STUBBED Savings Plans (see fakeAWS). A laddered plan's queued Savings
// Plans are deleted on cancel; a started one is not, and is named.
func TestCancelQueuedPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	req := computeSP()
	req.Tranches, req.Start = 2, day(time.Now()).AddDate(0, 0, 5)
	v := fx.approved(t, req)
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil {
		t.Fatal(err)
	}
	got, err := purchase.Cancel(ctx, fx.st, fx.open, fx.tenant, v.ID, "budget cut", fx.bob)
	if err != nil || got.State != purchase.StateCancelled || len(fx.aws.deleted) != 2 || got.Tranches[0].State != purchase.TrancheCancelled {
		t.Fatalf("cancel: %+v, %v, deleted %v", got, err, fx.aws.deleted)
	}
	// Now starting at once: active, so it stays and the answer says so.
	v = fx.approved(t, computeSP())
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil {
		t.Fatal(err)
	}
	got, err = purchase.Cancel(ctx, fx.st, fx.open, fx.tenant, v.ID, "budget cut", fx.bob)
	if err != nil || got.State != purchase.StateDone || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "active") || len(fx.aws.deleted) != 2 {
		t.Fatalf("cancel an active plan: %+v, %v", got, err)
	}
	// A plan not yet approved is cancelled with its approval.
	req = computeSP()
	req.Tenant, req.Connection = fx.tenant, fx.conn
	v, err = purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = purchase.Cancel(ctx, fx.st, fx.open, fx.tenant, v.ID, "not needed", fx.ann); err != nil || got.State != purchase.StateCancelled || got.Approval.State != approval.Cancelled {
		t.Fatalf("cancel a pending plan: %+v, %v", got, err)
	}
}

// Guardrails refuse with the reason, and nothing is stored or bought.
// Expected utilization comes from the tenant's usage (the commitments
// fixture's CUR in DuckDB, see withUsage), not from the request.
// STUBBED Savings Plans offerings (see fakeAWS).
func TestGuardrailRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	fx.withUsage(t)
	if _, err := purchase.SetGuardrails(ctx, fx.st, fx.tenant, purchase.Guardrails{MinUtilization: 1.5}, fx.bob); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("utilization 150%%: %v", err)
	}
	if _, err := purchase.SetGuardrails(ctx, fx.st, fx.tenant, purchase.Guardrails{MaxHourlyPerMonth: 0.8, MaxUpfront: 1000, MinUtilization: 0.9}, fx.bob); err != nil {
		t.Fatal(err)
	}
	draft := func(r purchase.Request) error {
		r.Tenant, r.Connection = fx.tenant, fx.conn
		_, err := purchase.Draft(ctx, fx.st, fx.acct, r, fx.ann)
		return err
	}
	sized := func(hourly float64) purchase.Request { r := computeSP(); r.HourlyCommitment = hourly; return r }
	allUp := sized(0.5)
	allUp.Payment = commitments.AllUpfront
	// The client claims full use of $3/h; the tenant's usage (about $1.5/h
	// of eligible on-demand spend) cannot fill it.
	claimed := sized(3)
	claimed.Expected = &purchase.Expectation{Utilization: 1, Coverage: 1}
	noUsage := purchase.Request{Type: commitments.TypeEC2InstanceSP, TermYears: 1, Payment: commitments.NoUpfront, HourlyCommitment: 0.2, Region: "us-east-1", Family: "c5",
		Expected: &purchase.Expectation{Utilization: 1}}
	for name, tc := range map[string]struct {
		req  purchase.Request
		want string
	}{
		"upfront":         {allUp, "upfront payment of $4380.00 is over the tenant's maximum of $1000.00"},
		"claimed use":     {claimed, "is below the tenant's minimum of 90%"},
		"unknown use":     {noUsage, "its expected utilization is unknown (no usage to estimate from: the cost store has no eligible on-demand usage of EC2InstanceSavingsPlans c5 in us-east-1 in the window)"},
		"hourly in month": {sized(0.9), "over the tenant's maximum of $0.800/h a month"},
	} {
		if err := draft(tc.req); crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// The monthly limit counts the month's other plans: $0.5/h passes, a
	// second $0.5/h the same month does not, $0.6/h over the next two
	// months ($0.3/h each) does.
	ok := sized(0.5)
	if err := draft(ok); err != nil {
		t.Fatal(err)
	}
	if err := draft(ok); err == nil || !strings.Contains(err.Error(), "with $0.500/h already planned that month") {
		t.Fatalf("second plan in the month: %v", err)
	}
	ladder := sized(0.6)
	ladder.Tranches, ladder.Start = 2, day(time.Now()).AddDate(0, 1, 2)
	if err := draft(ladder); err != nil {
		t.Fatalf("laddered: %v", err)
	}
	if ps, _ := purchase.List(ctx, fx.st, fx.tenant); len(ps) != 2 || fx.aws.purchases() != 0 {
		t.Fatalf("%d plans stored, %d purchases", len(ps), fx.aws.purchases())
	}
}

// The plan's expected figures are crossbill's, from the tenant's usage:
// a client's claim is replaced (and the answer says so); without usage
// they are unknown, with the reason. STUBBED Savings Plans offerings (see
// fakeAWS); the usage is the commitments fixture's CUR in DuckDB.
func TestExpectedFromTenantUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	fx.withUsage(t)
	req := computeSP()
	req.HourlyCommitment, req.Expected = 0.5, &purchase.Expectation{Utilization: 0.3}
	req.Tenant, req.Connection = fx.tenant, fx.conn
	v, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
	if err != nil {
		t.Fatal(err)
	}
	e := v.Plan.Expected
	// $0.5/h at the Compute SP discount covers less than the 10 m5.large
	// always running: fully used every hour.
	if e == nil || e.Utilization < 0.999 || e.Coverage <= 0 || e.Coverage >= 1 || e.MonthlySavings <= 0 ||
		!strings.Contains(v.Plan.ExpectedBasis, "from the tenant's usage 2026-01-01 to 2026-01-15") {
		t.Fatalf("expected %+v (%s)", e, v.Plan.ExpectedBasis)
	}
	if !strings.Contains(strings.Join(v.Notes, "\n"), "the request's expected utilization of 30.0% was not used") {
		t.Errorf("notes %v", v.Notes)
	}
	got, err := purchase.Get(ctx, fx.st, fx.tenant, v.ID)
	if err != nil || got.Plan.Expected == nil || got.Plan.Expected.Utilization != e.Utilization {
		t.Fatalf("stored: %+v, %v", got.Plan.Expected, err)
	}
	// No usage reader at all (no cost store): unknown, with the reason.
	bare := newFixture(t)
	req.Tenant, req.Connection = bare.tenant, bare.conn
	if v, err = purchase.Draft(ctx, bare.st, bare.acct, req, bare.ann); err != nil || v.Plan.Expected != nil || !strings.HasPrefix(v.Plan.ExpectedBasis, "no usage to estimate from: ") {
		t.Fatalf("without usage: %+v, %v", v.Plan, err)
	}
}

// Bad input is refused with a clear error and nothing is stored or
// bought. EC2 offerings come from moto for real (it offers t2.micro,
// t3.small and m5.large for one year only); Savings Plans offerings are
// STUBBED (see fakeAWS).
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	ec2RI := func(typ string, years int) purchase.Request {
		return purchase.Request{Type: commitments.TypeEC2RI, TermYears: years, Payment: commitments.PartialUpfront, Count: 2, InstanceType: typ, Region: "us-east-1"}
	}
	ec2SP := purchase.Request{Type: commitments.TypeEC2InstanceSP, TermYears: 3, Payment: commitments.NoUpfront, HourlyCommitment: 1, Region: "us-east-1", Family: "m5"}
	tiny := computeSP()
	tiny.HourlyCommitment = 0.0005
	split := computeSP()
	split.HourlyCommitment, split.Tranches = 0.002, 3
	for name, tc := range map[string]struct {
		req  purchase.Request
		want string
	}{
		"unknown offering":       {ec2RI("m9.huge", 1), "AWS offers no m9.huge Linux/UNIX reservation in us-east-1"},
		"term not offered":       {ec2RI("t3.small", 3), "none of 3 year(s) partial upfront"},
		"SP payment not offered": {ec2SP, "AWS offers no EC2InstanceSavingsPlans Savings Plan of 3 year(s) No Upfront for m5 in us-east-1"},
		"below minimum":          {tiny, "below AWS's minimum of $0.001 an hour"},
		"below minimum split":    {split, "over 3 tranches is below AWS's minimum"},
		"term":                   {func() purchase.Request { r := computeSP(); r.TermYears = 2; return r }(), "AWS sells 1- and 3-year commitments"},
		"payment":                {func() purchase.Request { r := computeSP(); r.Payment = "Monthly"; return r }(), "unknown payment option"},
		"type":                   {func() purchase.Request { r := computeSP(); r.Type = "Spot"; return r }(), "unknown commitment type"},
		"count per tranche":      {func() purchase.Request { r := ec2RI("t3.small", 1); r.Tranches = 3; return r }(), "cannot be split into 3 tranches"},
		"note":                   {func() purchase.Request { r := computeSP(); r.Note = "bad\x00"; return r }(), "note"},
	} {
		tc.req.Tenant, tc.req.Connection = fx.tenant, fx.conn
		_, err := purchase.Draft(ctx, fx.st, fx.acct, tc.req, fx.ann)
		if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if ps, _ := purchase.List(ctx, fx.st, fx.tenant); len(ps) != 0 || fx.aws.purchases() != 0 || fx.rec.Count("ec2:DescribeReservedInstancesOfferings") == 0 {
		t.Fatalf("%d plans stored, %d purchases, %d offering reads", len(ps), fx.aws.purchases(), fx.rec.Count("ec2:DescribeReservedInstancesOfferings"))
	}
	// A connection without the opt-in module cannot plan purchases.
	ro := newFixture(t, manifest.ModuleCommitments)
	r := computeSP()
	r.Tenant, r.Connection = ro.tenant, ro.conn
	if _, err := purchase.Draft(ctx, ro.st, ro.acct, r, ro.ann); crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "commitments-purchase") {
		t.Fatalf("without the module: %v", err)
	}
}

// EC2 reservations: the offering is read from moto for real (moto's
// regional t3.small Partial Upfront offering: $100 upfront, $0.05/h);
// PurchaseReservedInstancesOffering and DescribeReservedInstances are
// STUBBED (moto raises NotImplementedError). EC2 takes no client token,
// so after a lost answer the retry finds the reservation in the
// inventory instead of buying again.
func TestEC2ReservationCrashBuysOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	v := fx.approved(t, purchase.Request{Type: commitments.TypeEC2RI, TermYears: 1, Payment: commitments.PartialUpfront, Count: 3, InstanceType: "t3.small", Region: "us-east-1"})
	if v.Plan.Offering.FixedPrice != 100 || v.Plan.Offering.HourlyPrice < 0.0499 || v.Plan.Upfront != 300 || v.Plan.MonthlyRecurring != 109.5 {
		t.Fatalf("priced from moto's offering: %+v", v.Plan)
	}
	fx.aws.crash = true
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err == nil {
		t.Fatal("the lost answer was not reported")
	}
	got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
	if err != nil || got.State != purchase.StateDone || got.Tranches[0].CommitmentID != "ri-1" {
		t.Fatalf("retry: %+v, %v", got, err)
	}
	if len(fx.aws.riBuys) != 1 || aws.ToInt32(fx.aws.riBuys[0].InstanceCount) != 3 || aws.ToString(fx.aws.riBuys[0].ReservedInstancesOfferingId) != v.Plan.Offering.ID {
		t.Fatalf("EC2 purchases: %+v", fx.aws.riBuys)
	}
}

// A recommendation becomes a request with its ladder and expected figures.
func TestPlanFromRecommendation(t *testing.T) {
	t.Parallel()
	req, err := purchase.FromRecommendation(commitments.Recommendation{Type: commitments.OptionComputeSP, Term: 3, Payment: commitments.PartialUpfront,
		HourlyCommitment: 4.2, Utilization: 0.95, Coverage: 0.7, MonthlySavings: 900, Downside20: 300, Downside30: -50, BreakEvenMonth: 7,
		Ladder: commitments.Ladder(4.2, 3)})
	if err != nil || req.Type != commitments.TypeComputeSP || req.Tranches != 3 || req.Expected.Downside30 != -50 || req.HourlyCommitment != 4.2 {
		t.Fatalf("%+v, %v", req, err)
	}
	if _, err := purchase.FromRecommendation(commitments.Recommendation{Type: "SPOT"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("unknown type: %v", err)
	}
}

// STUBBED Savings Plans offerings (see fakeAWS). A plan decided in the
// shared approvals inbox (approval.Decide, not purchase.Approve) shows the
// decision in Get and List before execute reads it.
func TestInboxDecisionShownBeforeExecute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	draft := func() purchase.View {
		req := computeSP()
		req.HourlyCommitment = 0.5
		req.Tenant, req.Connection = fx.tenant, fx.conn
		v, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	yes, no, late := draft(), draft(), draft()
	if _, err := approval.Decide(ctx, fx.st, fx.tenant, yes.Approval.ID, true, "ok", fx.bob); err != nil {
		t.Fatal(err)
	}
	if _, err := approval.Decide(ctx, fx.st, fx.tenant, no.Approval.ID, false, "no", fx.bob); err != nil {
		t.Fatal(err)
	}
	fx.st.SetClock(func() time.Time { return late.Approval.ExpiresAt.Add(time.Minute) })
	want := map[string]string{yes.ID: purchase.StateApproved, no.ID: purchase.StateDenied, late.ID: purchase.StateExpired}
	list, err := purchase.List(ctx, fx.st, fx.tenant)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d plans, %v", len(list), err)
	}
	for _, v := range list {
		got, err := purchase.Get(ctx, fx.st, fx.tenant, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != want[v.ID] || got.State != want[v.ID] {
			t.Errorf("plan %s: list shows %s, get %s, want %s", v.ID, v.State, got.State, want[v.ID])
		}
	}
}

// EC2 queued reservations: the offering is moto's (read for real);
// PurchaseReservedInstancesOffering, DescribeReservedInstances and
// DeleteQueuedReservedInstances are STUBBED (moto raises
// NotImplementedError, see fakeAWS). Tranches with a future start are
// bought with their PurchaseTime (queued); cancelling the plan deletes
// them; a reservation that started is named, not deleted.
func TestEC2QueuedReservationsCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	start := day(time.Now()).AddDate(0, 0, 5)
	req := purchase.Request{Type: commitments.TypeEC2RI, TermYears: 1, Payment: commitments.PartialUpfront, Count: 2, Tranches: 2, Start: start, InstanceType: "t3.small", Region: "us-east-1"}
	v := fx.approved(t, req)
	got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
	if err != nil || got.State != purchase.StateDone || len(fx.aws.riBuys) != 2 {
		t.Fatalf("execute: %+v, %v, %d purchases", got, err, len(fx.aws.riBuys))
	}
	for i, b := range fx.aws.riBuys {
		if b.PurchaseTime == nil || !b.PurchaseTime.Equal(start.AddDate(0, i, 0)) {
			t.Errorf("tranche %d queued for %v", i, b.PurchaseTime)
		}
	}
	if got, err = purchase.Cancel(ctx, fx.st, fx.open, fx.tenant, v.ID, "budget cut", fx.bob); err != nil || got.State != purchase.StateCancelled ||
		len(fx.aws.riDeleted) != 2 || got.Tranches[1].State != purchase.TrancheCancelled {
		t.Fatalf("cancel: %+v, %v, deleted %v", got, err, fx.aws.riDeleted)
	}
	// Bought to start at once: active, not deleted, named in the answer.
	req.Start, req.Tranches, req.Count = time.Time{}, 1, 1
	v = fx.approved(t, req)
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err != nil {
		t.Fatal(err)
	}
	got, err = purchase.Cancel(ctx, fx.st, fx.open, fx.tenant, v.ID, "budget cut", fx.bob)
	if err != nil || got.State != purchase.StateDone || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "active") || len(fx.aws.riDeleted) != 2 {
		t.Fatalf("cancel an active reservation: %+v, %v", got, err)
	}
}
