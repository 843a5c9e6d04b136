package commitments_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// FOCUS commitment scenarios, written from the tables of the FOCUS
// specification's appendix "Commitment Discounts" (24 hours of
// 2024-10-01):
//   - "AWS Savings Plan - All Upfront - 50% Utilization": a spend-based
//     plan of $79.11/hour paid $693,000 upfront; 12 hours Used (EffectiveCost
//     79.11, ListCost 118.67), 12 hours Unused (EffectiveCost 79.11), and 12
//     standard-priced rows worth $24.06;
//   - "AWS Reserved Instance - Partial Upfront - 100% Utilization": a
//     usage-based reservation paid $220,000 upfront plus $18,333.33 a month;
//     24 hours Used (EffectiveCost 50.23, ListCost 75.35), and 12 standard
//     rows worth $19.82;
//   - an Azure reservation with no upfront payment, fully used, on
//     "Virtual Machines" (no AWS x_ columns), for another tenant.
const (
	focusSPID = "arn:aws:savingsplans::123456789012:savingsplan/sp-50pct"
	focusRIID = "arn:aws:ec2:us-east-1:123456789012:reserved-instances/ri-100pct"
	azureRIID = "/providers/Microsoft.Capacity/reservationOrders/o-1/reservations/r-1"
)

func focusHour(h int, category string, extra costtest.Row) costtest.Row {
	start := time.Date(2024, 10, 1, h, 0, 0, 0, time.UTC)
	ts := func(t time.Time) string { return "TIMESTAMP '" + t.Format("2006-01-02 15:04:05") + "'" }
	r := costtest.Row{
		cur.FocusBillingAccountID: "'123456789012'", cur.FocusSubAccountID: "'123456789012'",
		cur.FocusBillingPeriodStart: "TIMESTAMP '2024-10-01 00:00:00'", cur.FocusBillingPeriodEnd: "TIMESTAMP '2024-11-01 00:00:00'",
		cur.FocusChargePeriodStart: ts(start), cur.FocusChargePeriodEnd: ts(start.Add(time.Hour)),
		cur.FocusChargeCategory: "'" + category + "'", cur.FocusServiceName: "'Amazon Elastic Compute Cloud'",
		cur.FocusXServiceCode: "'AmazonEC2'", cur.FocusXUsageType: "'BoxUsage:m5.24xlarge'", cur.FocusRegionID: "'us-east-1'",
		cur.FocusProviderName: "'AWS'",
	}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func money(v float64) string { return fmt.Sprint(v) }

func coveredRow(id, category, typ, status string, effective, list float64) costtest.Row {
	r := costtest.Row{
		cur.FocusCommitmentDiscountID: "'" + id + "'", cur.FocusCommitmentDiscountCategory: "'" + category + "'",
		cur.FocusCommitmentDiscountType: "'" + typ + "'", cur.FocusCommitmentDiscountStatus: "'" + status + "'",
		cur.FocusBilledCost: "0", cur.FocusEffectiveCost: money(effective), cur.FocusPricingCategory: "'Committed'",
	}
	if status == "Used" {
		r[cur.FocusListCost] = money(list)
		r[cur.FocusConsumedQuantity] = "1"
	}
	return r
}

func standard(cost float64) costtest.Row {
	return costtest.Row{cur.FocusBilledCost: money(cost), cur.FocusEffectiveCost: money(cost), cur.FocusListCost: money(cost),
		cur.FocusPricingCategory: "'Standard'"}
}

func purchase(id, category, typ, frequency string, billed, qty float64) costtest.Row {
	return costtest.Row{
		cur.FocusCommitmentDiscountID: "'" + id + "'", cur.FocusCommitmentDiscountCategory: "'" + category + "'",
		cur.FocusCommitmentDiscountType: "'" + typ + "'", cur.FocusChargeFrequency: "'" + frequency + "'",
		cur.FocusBilledCost: money(billed), cur.FocusEffectiveCost: "0", cur.FocusListCost: money(billed),
		cur.FocusCommitmentDiscountQuantity: money(qty),
	}
}

func focusScenarios() (aws, azure []costtest.Row) {
	aws = append(aws,
		focusHour(0, "Purchase", purchase(focusSPID, "Spend", "Savings Plan", "One-Time", 693000, 693000)),
		focusHour(0, "Purchase", purchase(focusRIID, "Usage", "Reserved Instance", "One-Time", 220000, 1)),
		focusHour(0, "Purchase", purchase(focusRIID, "Usage", "Reserved Instance", "Recurring", 18333.33, 1)))
	for h := range 24 {
		status := "Used"
		if h >= 12 {
			status = "Unused"
		}
		aws = append(aws, focusHour(h, "Usage", coveredRow(focusSPID, "Spend", "Savings Plan", status, 79.11, 118.67)),
			focusHour(h, "Usage", coveredRow(focusRIID, "Usage", "Reserved Instance", "Used", 50.23, 75.35)))
		if h < 12 {
			aws = append(aws, focusHour(h, "Usage", standard(24.06/12)), focusHour(h, "Usage", standard(19.82/12)))
		}
	}
	vm := costtest.Row{cur.FocusServiceName: "'Virtual Machines'", cur.FocusXServiceCode: "NULL", cur.FocusXUsageType: "NULL",
		cur.FocusProviderName: "'Microsoft'", cur.FocusSubAccountID: "'sub-1'"}
	with := func(r costtest.Row) costtest.Row {
		for k, v := range vm {
			r[k] = v
		}
		return r
	}
	azure = append(azure, with(focusHour(0, "Purchase", purchase(azureRIID, "Usage", "Reservation", "Recurring", 876, 1))))
	for h := range 24 {
		azure = append(azure, with(focusHour(h, "Usage", coveredRow(azureRIID, "Usage", "Reservation", "Used", 1.2, 2))))
	}
	azure = append(azure, with(focusHour(3, "Usage", standard(2))), with(focusHour(4, "Usage", standard(2))))
	return aws, azure
}

// loadFOCUS loads rows as a FOCUS period of tenant into a real cost store.
func loadFOCUS(tb testing.TB, s *costs.Store, tenant string, rows []costtest.Row) {
	tb.Helper()
	dir, err := s.StageDir()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "part.parquet")
	costtest.WriteParquet(tb, path, cur.FOCUSColumns(), rows)
	if _, err := s.ReplacePeriod(context.Background(), costs.Load{Tenant: tenant, Source: "fixture-" + tenant, Period: "2024-10",
		Format: costs.FormatFOCUS, Dir: dir, Files: []string{path}, ExecutionID: "exec-" + tenant, Fingerprint: "fp-" + tenant}); err != nil {
		tb.Fatal(err)
	}
}

// TestCommitmentsFromFOCUS: inventory, utilization and coverage of an
// ingested FOCUS export, from CommitmentDiscountId/Status/Category and
// EffectiveCost (issue 12: they returned nothing, or "run cur ingest").
func TestCommitmentsFromFOCUS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := costs.OpenWith(ctx, t.TempDir(), costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	aws, azure := focusScenarios()
	loadFOCUS(t, s, "aws", aws)
	loadFOCUS(t, s, "azure", azure)
	db := s.DB()

	end, err := commitments.DataEnd(ctx, commitments.DB(db), "aws")
	if err != nil || !end.Equal(time.Date(2024, 10, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("DataEnd = %v, %v; want the end of the FOCUS data, 2024-10-02", end, err)
	}
	w := commitments.Window{Tenant: "aws", Start: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), End: end}
	if err := commitments.CheckData(ctx, commitments.DB(db), w); err != nil {
		t.Fatalf("CheckData: %v", err)
	}

	inv, err := commitments.FromCUR(ctx, commitments.DB(db), w)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv) != 2 {
		t.Fatalf("inventory = %+v, want the plan and the reservation", inv)
	}
	byID := map[string]commitments.Commitment{}
	for _, c := range inv {
		byID[c.ARN] = c
	}
	if sp := byID[focusSPID]; sp.Kind != commitments.KindSavingsPlan || sp.Payment != commitments.AllUpfront || !near(sp.HourlyCommitment, 79.11) ||
		sp.Upfront != 693000 || sp.ID != "sp-50pct" || sp.Source != "focus" {
		t.Errorf("savings plan %+v", sp)
	}
	if ri := byID[focusRIID]; ri.Kind != commitments.KindReservation || ri.Payment != commitments.PartialUpfront || !near(ri.HourlyCommitment, 50.23) ||
		ri.Count != 1 || ri.Region != "us-east-1" {
		t.Errorf("reservation %+v", ri)
	}

	rows, err := commitments.Utilization(ctx, commitments.DB(db), w, commitments.Daily)
	if err != nil {
		t.Fatal(err)
	}
	sum := commitments.Summarize(rows, func(r commitments.UtilizationRow) string { return r.ARN })
	if len(sum) != 2 {
		t.Fatalf("utilization %+v", sum)
	}
	for _, u := range sum {
		switch u.Key {
		case focusSPID: // the spec's row summary: Used 949.32, Unused 949.32
			if !near(u.Commitment, 1898.64) || !near(u.Used, 949.32) || !near(u.Utilization, 0.5) || !near(u.CoveredOnDemand, 12*118.67) {
				t.Errorf("savings plan utilization %+v", u)
			}
		case focusRIID: // Used 1,205.52, fully used
			if !near(u.Commitment, 1205.52) || !near(u.Utilization, 1) || !near(u.NetSavings, 24*(75.35-50.23)) {
				t.Errorf("reservation utilization %+v", u)
			}
		}
	}

	cov, err := commitments.Coverage(ctx, commitments.DB(db), w, commitments.Daily, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cov) != 1 || cov[0].Class != "ec2" || !near(cov[0].OnDemand, 24.06+19.82) || !near(cov[0].CoveredBySP, 12*118.67) ||
		!near(cov[0].CoveredByRI, 24*75.35) {
		t.Errorf("coverage %+v, want ec2: 43.88 on demand, 1424.04 by the plan, 1808.40 by the reservation", cov)
	}

	// Another provider: classed by service, the unused-free reservation at 100%.
	w.Tenant = "azure"
	cov, err = commitments.Coverage(ctx, commitments.DB(db), w, commitments.Daily, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(cov) != 1 || cov[0].Class != "Virtual Machines" || cov[0].Account != "sub-1" || !near(cov[0].CoveredByRI, 48) || !near(cov[0].Coverage, 48.0/52) {
		t.Errorf("azure coverage %+v", cov)
	}
	inv, err = commitments.FromCUR(ctx, commitments.DB(db), w)
	if err != nil || len(inv) != 1 || inv[0].Payment != commitments.NoUpfront || inv[0].Type != "Reservation" || !near(inv[0].HourlyCommitment, 1.2) {
		t.Errorf("azure inventory %+v, %v", inv, err)
	}
}
