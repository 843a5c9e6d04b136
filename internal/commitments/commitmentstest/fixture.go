// Package commitmentstest holds a small CUR fixture with known commitment
// facts, for the tests of the commitments package and of the CLI.
package commitmentstest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
)

// Columns are the CUR 2.0 columns (real Data Exports names) the
// commitments SQL reads, plus the cost store's tenant and billing_period.
const Columns = `
  line_item_usage_start_date TIMESTAMP, line_item_usage_end_date TIMESTAMP, line_item_usage_account_id VARCHAR, line_item_line_item_type VARCHAR,
  line_item_product_code VARCHAR, line_item_usage_type VARCHAR, line_item_unblended_cost DOUBLE, line_item_usage_amount DOUBLE,
  pricing_public_on_demand_cost DOUBLE, pricing_lease_contract_length VARCHAR, pricing_purchase_option VARCHAR,
  product_instance_type VARCHAR, product_region_code VARCHAR,
  savings_plan_savings_plan_a_r_n VARCHAR, savings_plan_offering_type VARCHAR, savings_plan_purchase_term VARCHAR,
  savings_plan_payment_option VARCHAR, savings_plan_region VARCHAR, savings_plan_instance_type_family VARCHAR,
  savings_plan_start_time VARCHAR, savings_plan_end_time VARCHAR, savings_plan_total_commitment_to_date DOUBLE,
  savings_plan_used_commitment DOUBLE, savings_plan_savings_plan_effective_cost DOUBLE,
  reservation_reservation_a_r_n VARCHAR, reservation_effective_cost DOUBLE, reservation_amortized_upfront_fee_for_billing_period DOUBLE,
  reservation_start_time VARCHAR, reservation_end_time VARCHAR, reservation_number_of_reservations VARCHAR,
  tenant VARCHAR, source VARCHAR, billing_period VARCHAR`

// The fixture's facts, asserted by the tests.
const (
	Start         = "2026-01-01 00:00:00"
	Hours         = 24 * 14
	M5Rate        = 0.096 // m5.large on-demand $/h
	RDSRate       = 0.48  // db.r6g.xlarge on-demand $/h
	SPARN         = "arn:aws:savingsplans::111111111111:savingsplan/sp-1"
	RIARN         = "arn:aws:rds:us-east-1:111111111111:ri:db-ri-1"
	SPCommitment  = 1.0  // $/h
	SPUsed        = 0.9  // $/h used every hour
	SPDiscount    = 0.28 // the plan's effective discount
	RIRate        = 0.30 // $/h effective per reserved DB instance
	RIUsedPercent = 0.75 // the RI covers usage in 3 of 4 hours
)

// Load creates the cur table unless it exists (the cost store has its
// own) and adds two weeks of tenant acme's CUR 2.0 lines:
//   - account 111111111111: m5.large in us-east-1, 10 instances all the
//     time plus 0..6 more following the day (on-demand Usage); Lambda
//     GB-seconds at $0.50/h; Spot m5 (never eligible);
//   - a Compute Savings Plan (1yr, No Upfront, $1/h) using $0.90/h, covering
//     $1.25/h of on-demand m5 usage;
//   - account 222222222222: 3 db.r6g.xlarge on demand all the time; one
//     RDS reservation (1yr, No Upfront, $0.30/h) used in 3 hours of 4;
//   - tenant other: usage that must never leak into acme's figures.
func Load(ctx context.Context, db *sql.DB) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS cur (` + Columns + `)`,
		`CREATE TEMP TABLE IF NOT EXISTS hours AS SELECT ts, hour(ts) AS hod FROM generate_series(TIMESTAMP '` + Start + `', TIMESTAMP '` + Start + `' + INTERVAL 335 HOUR, INTERVAL 1 HOUR) g(ts)`,
		// m5 on demand: 10 + round(3 + 3 sin(2π hod / 24)) instances.
		`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_usage_amount, line_item_unblended_cost, pricing_public_on_demand_cost, product_instance_type, product_region_code, tenant, source, billing_period)
		 SELECT ts, '111111111111', 'Usage', 'AmazonEC2', 'BoxUsage:m5.large', n, n * 0.096, n * 0.096, 'm5.large', 'us-east-1', 'acme', 'fixture', '2026-01'
		 FROM (SELECT ts, 10 + round(3 + 3 * sin(2 * pi() * hod / 24)) AS n FROM hours)`,
		`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_usage_amount, line_item_unblended_cost, pricing_public_on_demand_cost, product_instance_type, product_region_code, tenant, source, billing_period)
		 SELECT ts, '111111111111', 'Usage', 'AmazonEC2', 'SpotUsage:m5.large', 5, 0.15, 0.48, 'm5.large', 'us-east-1', 'acme', 'fixture', '2026-01' FROM hours
		 UNION ALL
		 SELECT ts, '111111111111', 'Usage', 'AWSLambda', 'Lambda-GB-Second', 30000, 0.5, 0.5, '', 'us-east-1', 'acme', 'fixture', '2026-01' FROM hours
		 UNION ALL
		 SELECT ts, '111111111111', 'Usage', 'AWSLambda', 'Request', 1000000, 0.2, 0.2, '', 'us-east-1', 'acme', 'fixture', '2026-01' FROM hours
		 UNION ALL
		 SELECT ts, '222222222222', 'Usage', 'AmazonRDS', 'InstanceUsage:db.r6g.xlarge', 3, 3 * 0.48, 3 * 0.48, 'db.r6g.xlarge', 'us-east-1', 'acme', 'fixture', '2026-01' FROM hours
		 UNION ALL
		 SELECT ts, '999999999999', 'Usage', 'AmazonEC2', 'BoxUsage:m5.large', 100, 9.6, 9.6, 'm5.large', 'us-east-1', 'other', 'fixture', '2026-01' FROM hours`,
		// The Compute Savings Plan: an hourly fee line and a covered line.
		`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_unblended_cost, savings_plan_savings_plan_a_r_n, savings_plan_offering_type, savings_plan_purchase_term, savings_plan_payment_option,
		  savings_plan_start_time, savings_plan_end_time, savings_plan_total_commitment_to_date, savings_plan_used_commitment, tenant, source, billing_period)
		 SELECT ts, '111111111111', 'SavingsPlanRecurringFee', 'ComputeSavingsPlans', 'ComputeSP:1yrNoUpfront', 1.0, '` + SPARN + `',
		  'ComputeSavingsPlans', '1yr', 'No Upfront', '2025-02-10T00:00:00.000Z', '2026-02-10T00:00:00.000Z', 1.0, 0.9, 'acme', 'fixture', '2026-01' FROM hours`,
		`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_usage_amount, line_item_unblended_cost, pricing_public_on_demand_cost, product_instance_type, product_region_code,
		  savings_plan_savings_plan_a_r_n, savings_plan_offering_type, savings_plan_purchase_term, savings_plan_payment_option,
		  savings_plan_savings_plan_effective_cost, tenant, source, billing_period)
		 SELECT ts, '111111111111', 'SavingsPlanCoveredUsage', 'AmazonEC2', 'BoxUsage:m5.large', 1.25 / 0.096, 1.25, 1.25, 'm5.large', 'us-east-1',
		  '` + SPARN + `', 'ComputeSavingsPlans', '1yr', 'No Upfront', 0.9, 'acme', 'fixture', '2026-01' FROM hours`,
		// The RDS reservation: its monthly RIFee line (744 hours of January
		// at $0.30) and DiscountedUsage in 3 of 4 hours.
		`INSERT INTO cur (line_item_usage_start_date, line_item_usage_end_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_usage_amount, line_item_unblended_cost, pricing_lease_contract_length, pricing_purchase_option, product_instance_type, product_region_code,
		  reservation_reservation_a_r_n, reservation_amortized_upfront_fee_for_billing_period, reservation_start_time, reservation_end_time,
		  reservation_number_of_reservations, tenant, source, billing_period)
		 VALUES (TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-02-01 00:00:00', '222222222222', 'RIFee', 'AmazonRDS', 'HeavyUsage:db.r6g.xlarge', 744, 744 * 0.30, '1yr', 'No Upfront',
		  'db.r6g.xlarge', 'us-east-1', '` + RIARN + `', 0, '2025-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '1', 'acme', 'fixture', '2026-01')`,
		`INSERT INTO cur (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code, line_item_usage_type,
		  line_item_usage_amount, line_item_unblended_cost, pricing_public_on_demand_cost, pricing_lease_contract_length, pricing_purchase_option,
		  product_instance_type, product_region_code, reservation_reservation_a_r_n, reservation_effective_cost, tenant, source, billing_period)
		 SELECT ts, '222222222222', 'DiscountedUsage', 'AmazonRDS', 'InstanceUsage:db.r6g.xlarge', 1, 0, 0.48, '1yr', 'No Upfront',
		  'db.r6g.xlarge', 'us-east-1', '` + RIARN + `', 0.30, 'acme', 'fixture', '2026-01' FROM hours WHERE hod % 4 <> 0`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("loading the commitments fixture: %w\n%s", err, s)
		}
	}
	return nil
}

// Window is the fixture's two weeks for tenant acme.
func Window() commitments.Window {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return commitments.Window{Tenant: "acme", Start: start, End: start.Add(Hours * time.Hour)}
}
