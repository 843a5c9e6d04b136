package purchase_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/purchase"
)

// Renewals: alerts at 90/60/30 days, once per threshold, and the renewal
// sized gross (the expiring commitment's used part), starting at its end.
func TestRenewalSizing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	inv := []commitments.Commitment{
		{ID: "sp-a", Type: commitments.TypeComputeSP, TermYears: 1, Payment: commitments.NoUpfront, HourlyCommitment: 10, End: now.AddDate(0, 0, 25)},
		{ID: "sp-b", Type: commitments.TypeEC2InstanceSP, TermYears: 3, Payment: commitments.AllUpfront, HourlyCommitment: 2, Region: "us-east-1", Family: "m5", End: now.AddDate(0, 0, 75)},
		{ID: "ri-c", Type: commitments.TypeEC2RI, TermYears: 1, Payment: commitments.PartialUpfront, InstanceType: "m5.large", Count: 10, Region: "us-east-1", End: now.AddDate(0, 0, 59)},
		{ID: "rds-d", Type: commitments.TypeRDSRI, TermYears: 1, Count: 2, End: now.AddDate(0, 0, 89)},
		{ID: "sp-late", Type: commitments.TypeComputeSP, TermYears: 1, HourlyCommitment: 5, End: now.AddDate(0, 0, 120)},
	}
	util := map[string]float64{"sp-a": 0.8, "ri-c": 0.75, "rds-d": 1}
	rs := purchase.Renewals(inv, util, "conn_1", now)
	if len(rs) != 4 {
		t.Fatalf("%d renewals, want the 4 ending within 90 days: %+v", len(rs), rs)
	}
	byID := map[string]purchase.Renewal{}
	for _, r := range rs {
		byID[r.Commitment.ID] = r
	}
	a := byID["sp-a"]
	if a.Alert != 30 || a.DaysLeft != 25 || a.Plan == nil || a.Plan.HourlyCommitment != 8 || !a.Plan.Start.Equal(inv[0].End) || a.Plan.Kind != purchase.KindRenewal || a.Plan.Connection != "conn_1" {
		t.Errorf("sp-a: %+v %+v", a, a.Plan)
	}
	if b := byID["sp-b"]; b.Alert != 90 || b.Plan.HourlyCommitment != 2 || b.Utilization != -1 || !strings.Contains(b.Why, "same size") || b.Plan.TermYears != 3 || b.Plan.Family != "m5" {
		t.Errorf("sp-b (utilization unknown): %+v %+v", b, b.Plan)
	}
	if c := byID["ri-c"]; c.Alert != 60 || c.Plan.Count != 7 || c.Plan.InstanceType != "m5.large" {
		t.Errorf("ri-c: 75%% of 10 reservations renews 7: %+v %+v", c, c.Plan)
	}
	if d := byID["rds-d"]; d.Plan != nil || !strings.Contains(d.Why, "cannot buy RDS") {
		t.Errorf("rds-d: %+v", d)
	}
	msgs := purchase.RenewalAlerts("ten_1", rs)
	if len(msgs) != 4 || msgs[0].DedupKey != "renewal/sp-a/30" || msgs[0].Topic != purchase.TopicRenewal || !strings.Contains(msgs[0].Text, "in 25 days") {
		t.Fatalf("alerts: %+v", msgs)
	}
	var sent []string
	n, err := purchase.SendRenewalAlerts(context.Background(), func(_ context.Context, m purchase.Message) error {
		sent = append(sent, m.DedupKey)
		return nil
	}, "ten_1", rs)
	if err != nil || n != 4 || len(sent) != 4 {
		t.Fatalf("sent %v, %v", sent, err)
	}
}

// A Marketplace plan asks the remaining share of the upfront price, less
// the discount, for each month that can remain, falling month by month.
func TestMarketplacePriceSchedule(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ri := commitments.Commitment{ID: "ri-1", Type: commitments.TypeEC2RI, TermYears: 1, Upfront: 1200, InstanceType: "m5.large", Count: 2,
		Start: now.AddDate(0, -8, 0), End: now.AddDate(0, 4, 0).Add(12 * time.Hour)}
	s, err := purchase.SalePlan(ri, 0.1, 0.1, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []purchase.Price{{4, 360}, {3, 270}, {2, 180}, {1, 90}}
	if s.MonthsRemaining != 4 || len(s.Schedule) != len(want) {
		t.Fatalf("schedule %+v", s)
	}
	for i, p := range want {
		if s.Schedule[i] != p {
			t.Errorf("step %d: %+v, want %+v", i, s.Schedule[i], p)
		}
	}
	for name, tc := range map[string]struct {
		c    commitments.Commitment
		u    float64
		want string
	}{
		"used":       {ri, 0.9, "90% used"},
		"new":        {func() commitments.Commitment { c := ri; c.Start = now.AddDate(0, 0, -10); return c }(), 0, "30 days after purchase"},
		"no upfront": {func() commitments.Commitment { c := ri; c.Upfront = 0; return c }(), 0, "nothing to sell"},
		"ending":     {func() commitments.Commitment { c := ri; c.End = now.AddDate(0, 0, 20); return c }(), 0, "less than a month"},
		"not EC2":    {func() commitments.Commitment { c := ri; c.Type = commitments.TypeRDSRI; return c }(), 0, "only EC2 Standard"},
	} {
		if _, err := purchase.SalePlan(tc.c, tc.u, 0.1, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	sales, skipped := purchase.UnusedReservations([]commitments.Commitment{ri, func() commitments.Commitment { c := ri; c.ID = "ri-busy"; return c }()},
		map[string]float64{"ri-1": 0.1, "ri-busy": 0.95}, 0.1, now)
	if len(sales) != 1 || sales[0].Reservation.ID != "ri-1" || len(skipped) != 0 {
		t.Fatalf("unused: %+v, %v", sales, skipped)
	}
}

// A sale plan goes through the same approval, is listed once with its
// price schedule even when the first answer is lost (STUBBED: moto raises
// NotImplementedError for CreateReservedInstancesListing and
// CancelReservedInstancesListing; see fakeAWS), and cancelling it
// withdraws the listing.
func TestMarketplaceSaleFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t)
	now := time.Now().UTC()
	ri := commitments.Commitment{ID: "ri-idle", Type: commitments.TypeEC2RI, TermYears: 1, Payment: commitments.AllUpfront, Upfront: 1200, InstanceType: "m5.large", Count: 2,
		Region: "us-east-1", Start: now.AddDate(0, -8, 0), End: now.AddDate(0, 4, 0).Add(12 * time.Hour)}
	sale, err := purchase.SalePlan(ri, 0.05, 0.1, now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := purchase.DraftSale(ctx, fx.st, fx.tenant, fx.conn, sale, "idle since the migration", fx.ann)
	if err != nil || v.Kind != purchase.KindSale || v.Approval == nil || !strings.Contains(v.Approval.Summary, "Reserved Instance Marketplace") {
		t.Fatalf("draft: %+v, %v", v, err)
	}
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err == nil || fx.aws.listCalls != 0 {
		t.Fatalf("listed before approval: %v", err)
	}
	if _, err := purchase.Approve(ctx, fx.st, fx.tenant, v.ID, true, "sell it", fx.bob); err != nil {
		t.Fatal(err)
	}
	fx.aws.crash = true
	if _, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob); err == nil {
		t.Fatal("the lost answer was not reported")
	}
	got, err := purchase.Execute(ctx, fx.st, fx.acct, fx.tenant, v.ID, fx.bob)
	if err != nil || got.State != purchase.StateDone || fx.aws.listCalls != 2 || len(fx.aws.listings) != 1 {
		t.Fatalf("retry: %+v, %v, %d calls, %d listings", got, err, fx.aws.listCalls, len(fx.aws.listings))
	}
	l := fx.aws.listings[got.Tranches[0].ClientToken]
	if aws.ToString(l.ReservedInstancesId) != "ri-idle" || aws.ToInt32(l.InstanceCount) != 2 || len(l.PriceSchedules) != 4 ||
		aws.ToInt64(l.PriceSchedules[0].Term) != 4 || aws.ToFloat64(l.PriceSchedules[0].Price) != 360 {
		t.Fatalf("listing sent: %+v", l)
	}
	got, err = purchase.Cancel(ctx, fx.st, fx.open, fx.tenant, v.ID, "keep it", fx.bob)
	if err != nil || got.State != purchase.StateCancelled || len(fx.aws.cancelled) != 1 || fx.aws.cancelled[0] != got.Tranches[0].CommitmentID {
		t.Fatalf("cancel: %+v, %v, %v", got, err, fx.aws.cancelled)
	}
}
