package commitmentstest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// The recent fixture's commitments (RecentExport).
const (
	// RecentSPARN is a Compute Savings Plan ($2/h, 1yr No Upfront) used
	// $1.50/h, ending RecentSPDays days after now's day: its 30-day
	// renewal alert is due.
	RecentSPARN  = "arn:aws:savingsplans::111111111111:savingsplan/sp-recent-expiring"
	RecentSPDays = 20
	// RecentRIARN is an EC2 Standard reservation (m5.large, 1yr No
	// Upfront, $0.05/h) used one hour in four, bought 200 days before
	// now's day: a Marketplace candidate, yet not listable (the CUR shows
	// no upfront payment).
	RecentRIARN = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/ri-recent-low"
)

// RecentExport writes tenant acme's week of CUR lines up to now's hour
// (billing period: now's month) with the recent fixture's commitments as
// a CUR 2.0 export under root, as Export does: for the use cases that
// count from today (renewals, sales) and for Athena, which reads the
// billing periods up to now.
func RecentExport(tb testing.TB, root string, now time.Time) string {
	tb.Helper()
	now = now.UTC().Truncate(time.Hour)
	today := now.Truncate(24 * time.Hour)
	from := now.AddDate(0, 0, -7).Format("2006-01-02 15:04:05")
	period := now.Format("2006-01")
	iso := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }
	spEnd := iso(today.AddDate(0, 0, RecentSPDays))
	riStart, riEnd := iso(today.AddDate(0, 0, -200)), iso(today.AddDate(0, 0, 165))
	return ExportLines(tb, root, period, func(ctx context.Context, db *sql.DB) error {
		for _, q := range []string{
			`CREATE TEMP TABLE recent_hours AS SELECT ts, hour(ts) AS hod FROM generate_series(TIMESTAMP '` + from + `', TIMESTAMP '` + from + `' + INTERVAL 167 HOUR, INTERVAL 1 HOUR) g(ts)`,
			`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
			  line_item_unblended_cost, savings_plan_savings_plan_a_r_n, savings_plan_offering_type, savings_plan_purchase_term, savings_plan_payment_option,
			  savings_plan_start_time, savings_plan_end_time, savings_plan_total_commitment_to_date, savings_plan_used_commitment, tenant, source, billing_period)
			 SELECT ts, '111111111111', 'SavingsPlanRecurringFee', 'ComputeSavingsPlans', 'ComputeSP:1yrNoUpfront', 2.0, '` + RecentSPARN + `',
			  'ComputeSavingsPlans', '1yr', 'No Upfront', '2025-12-24T00:00:00.000Z', '` + spEnd + `', 2.0, 1.5, 'acme', 'recent', '` + period + `' FROM recent_hours`,
			`INSERT INTO cur (line_item_usage_start_date, line_item_usage_end_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
			  line_item_usage_amount, line_item_unblended_cost, pricing_lease_contract_length, pricing_purchase_option, product_instance_type, product_region_code,
			  reservation_reservation_a_r_n, reservation_amortized_upfront_fee_for_billing_period, reservation_start_time, reservation_end_time,
			  reservation_number_of_reservations, tenant, source, billing_period)
			 VALUES (TIMESTAMP '` + from + `', TIMESTAMP '` + from + `' + INTERVAL 168 HOUR, '111111111111', 'RIFee', 'AmazonEC2', 'HeavyUsage:m5.large', 168, 168 * 0.05,
			  '1yr', 'No Upfront', 'm5.large', 'us-east-1', '` + RecentRIARN + `', 0, '` + riStart + `', '` + riEnd + `', '1', 'acme', 'recent', '` + period + `')`,
			`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
			  line_item_usage_amount, line_item_unblended_cost, pricing_public_on_demand_cost, pricing_lease_contract_length, pricing_purchase_option,
			  product_instance_type, product_region_code, reservation_reservation_a_r_n, reservation_effective_cost, tenant, source, billing_period)
			 SELECT ts, '111111111111', 'DiscountedUsage', 'AmazonEC2', 'BoxUsage:m5.large', 1, 0, 0.096, '1yr', 'No Upfront',
			  'm5.large', 'us-east-1', '` + RecentRIARN + `', 0.05, 'acme', 'recent', '` + period + `' FROM recent_hours WHERE hod % 4 = 0`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("loading the recent commitments fixture: %w\n%s", err, q)
			}
		}
		return nil
	})
}
