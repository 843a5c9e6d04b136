package costs_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* files")

// lineItem builds a CUR 2.0 row with the columns every row needs.
func lineItem(day int, typ, service, region string, unblended float64, extra costtest.Row) costtest.Row {
	r := costtest.Row{
		cur.ColBillBillType:               "'Anniversary'",
		cur.ColBillPayerAccountID:         "'999999999999'",
		cur.ColBillBillingPeriodStartDate: "TIMESTAMP '2026-01-01 00:00:00'",
		cur.ColBillBillingPeriodEndDate:   "TIMESTAMP '2026-02-01 00:00:00'",
		cur.ColLineItemUsageAccountID:     "'111111111111'",
		cur.ColLineItemType:               quote(typ),
		cur.ColLineItemProductCode:        quote(service),
		cur.ColProductRegionCode:          quote(region),
		cur.ColLineItemUsageType:          quote(service + ":usage"),
		cur.ColLineItemOperation:          "'RunInstances'",
		cur.ColLineItemUsageStartDate:     fmt.Sprintf("TIMESTAMP '2026-01-%02d 00:00:00'", day),
		cur.ColLineItemUsageEndDate:       fmt.Sprintf("TIMESTAMP '2026-01-%02d 01:00:00'", day),
		cur.ColLineItemUnblendedCost:      fmt.Sprint(unblended),
		cur.ColLineItemUsageAmount:        "1",
		cur.ColLineItemCurrencyCode:       "'USD'",
		cur.ColPricingUnit:                "'Hrs'",
		cur.ColPricingPublicOnDemandCost:  "0",
	}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func quote(s string) string { return "'" + s + "'" }

const (
	spARN = "'arn:aws:savingsplans::999999999999:savingsplan/sp-1'"
	riARN = "'arn:aws:rds:us-east-1:999999999999:ri:ri-1'"
)

// commitmentScenario is January 2026 of one account, after the FOCUS
// commitment-discount scenarios:
//   - a Compute Savings Plan of $10/hour, partly used: $8 of it covers EC2
//     usage worth $12 on demand, $2 goes unused;
//   - an RDS RI for 2 instances (upfront $0.50 + recurring $0.75 per
//     instance-hour amortized): one instance is used, one is not;
//   - the RI's upfront payment (Fee) and an SP upfront fee, which must not
//     be counted in amortized cost;
//   - on-demand usage, tax and a credit.
//
// Unblended: 5 + 12 - 12 + 10 + 0 + 1.5 + 720 + 100 + 2 - 1 + 7 = 844.5
// Amortized: 5 + 8 + 0 + 2 + 1.25 + 1.25 + 0 + 0 + 2 - 1 + 7 = 25.5
func commitmentScenario() []costtest.Row {
	return []costtest.Row{
		lineItem(1, "Usage", "AmazonEC2", "us-east-1", 5, costtest.Row{
			cur.ColPricingPublicOnDemandCost: "5", cur.ColLineItemNetUnblendedCost: "4.5",
			cur.ColResourceTags: "MAP {'user_team': 'web'}"}),
		lineItem(1, "SavingsPlanCoveredUsage", "AmazonEC2", "us-east-1", 12, costtest.Row{
			cur.ColPricingPublicOnDemandCost: "12", cur.ColSavingsPlanEffectiveCost: "8", cur.ColSavingsPlanARN: spARN,
			cur.ColResourceTags: "MAP {'user_team': 'api'}"}),
		lineItem(1, "SavingsPlanNegation", "AmazonEC2", "us-east-1", -12, costtest.Row{
			cur.ColSavingsPlanARN: spARN, cur.ColResourceTags: "MAP {'user_team': 'api'}"}),
		lineItem(1, "SavingsPlanRecurringFee", "ComputeSavingsPlans", "", 10, costtest.Row{
			cur.ColSavingsPlanARN: spARN, cur.ColSavingsPlanTotalCommitment: "10", cur.ColSavingsPlanUsedCommitment: "8"}),
		lineItem(1, "SavingsPlanUpfrontFee", "ComputeSavingsPlans", "", 100, costtest.Row{cur.ColSavingsPlanARN: spARN}),
		lineItem(1, "DiscountedUsage", "AmazonRDS", "us-east-1", 0, costtest.Row{
			cur.ColPricingPublicOnDemandCost: "3", cur.ColReservationEffectiveCost: "1.25", cur.ColReservationARN: riARN}),
		lineItem(1, "RIFee", "AmazonRDS", "us-east-1", 1.5, costtest.Row{
			cur.ColReservationARN: riARN, cur.ColLineItemUsageAmount: "2",
			cur.ColReservationUnusedAmortizedFee: "0.5", cur.ColReservationUnusedRecurringFee: "0.75"}),
		lineItem(1, "Fee", "AmazonRDS", "us-east-1", 720, costtest.Row{cur.ColReservationARN: riARN}),
		lineItem(1, "Tax", "AmazonEC2", "", 2, nil),
		lineItem(1, "Credit", "AmazonEC2", "", -1, nil),
		lineItem(2, "Usage", "AmazonEC2", "us-west-2", 7, costtest.Row{
			cur.ColPricingPublicOnDemandCost: "7", cur.ColLineItemUsageAmount: "2",
			cur.ColResourceTags: "MAP {'user_team': 'web'}", cur.ColCostCategory: "MAP {'env': 'prod'}"}),
	}
}

// openStore opens a store in a fresh data directory.
func openStore(tb testing.TB) *costs.Store {
	tb.Helper()
	s, err := costs.OpenWith(context.Background(), tb.TempDir(), costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// loadRows writes rows as a period's Parquet file and loads it.
func loadRows(tb testing.TB, s *costs.Store, tenant, period, execID string, rows []costtest.Row) int64 {
	tb.Helper()
	dir, err := s.StageDir()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "part.parquet")
	costtest.WriteParquet(tb, path, cur.Columns(), rows)
	n, err := s.ReplacePeriod(context.Background(), costs.Load{Tenant: tenant, Source: "fixture", Period: period,
		Format: costs.FormatCUR2, Dir: dir, Files: []string{path}, ExecutionID: execID, Fingerprint: execID})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		tb.Errorf("%s differs from the output (run go test -update after checking):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
