package costs

// This file is the cost model: how each metric is computed from CUR 2.0 and
// from FOCUS 1.2 line items. Everything else (rollups, queries, forecast,
// anomalies) reads the line_items view built here, so the metrics are
// defined exactly once.
//
// Metrics (CUR 2.0 line item -> value):
//
//	unblended  line_item_unblended_cost, what the bill says for the row.
//	amortized  AWS's amortized cost, as Cost Explorer computes it:
//	             SavingsPlanCoveredUsage  savings_plan_savings_plan_effective_cost
//	             SavingsPlanRecurringFee  savings_plan_total_commitment_to_date
//	                                        - savings_plan_used_commitment
//	                                        (the unused part of the commitment)
//	             SavingsPlanNegation      0 (it cancels the on-demand cost of
//	                                        covered usage, which the effective
//	                                        cost above replaces)
//	             SavingsPlanUpfrontFee    0 (spread over the term through the
//	                                        effective cost and the unused part)
//	             DiscountedUsage          reservation_effective_cost
//	             RIFee                    reservation_unused_amortized_upfront_fee_for_billing_period
//	                                        + reservation_unused_recurring_fee
//	             Fee with a reservation   0 (the RI upfront payment; amortized
//	               ARN                      through the effective cost)
//	             anything else            line_item_unblended_cost
//	           So used commitment shows up on the usage it covered, unused
//	           commitment on the fee row, and no fee is counted twice.
//	net        line_item_net_unblended_cost where AWS writes it (accounts
//	           with discounts), else line_item_unblended_cost.
//	list       pricing_public_on_demand_cost: the public on-demand price of
//	           the usage (0 on fee, tax and credit rows).
//	usage      line_item_usage_amount on usage rows only (Usage,
//	           SavingsPlanCoveredUsage, DiscountedUsage), so that fee rows'
//	           commitment hours are not added to usage.
//
// FOCUS 1.2 exports map BilledCost -> unblended and net, EffectiveCost ->
// amortized, ListCost -> list, ConsumedQuantity -> usage (usage rows that
// are not unused commitment).

// amortizedSQL is the amortized-cost expression over the cur table.
const amortizedSQL = `CASE line_item_line_item_type
	WHEN 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_savings_plan_effective_cost, 0)
	WHEN 'SavingsPlanRecurringFee' THEN coalesce(savings_plan_total_commitment_to_date, 0) - coalesce(savings_plan_used_commitment, 0)
	WHEN 'SavingsPlanNegation' THEN 0
	WHEN 'SavingsPlanUpfrontFee' THEN 0
	WHEN 'DiscountedUsage' THEN coalesce(reservation_effective_cost, 0)
	WHEN 'RIFee' THEN coalesce(reservation_unused_amortized_upfront_fee_for_billing_period, 0) + coalesce(reservation_unused_recurring_fee, 0)
	WHEN 'Fee' THEN CASE WHEN coalesce(reservation_reservation_a_r_n, '') <> '' THEN 0 ELSE coalesce(line_item_unblended_cost, 0) END
	ELSE coalesce(line_item_unblended_cost, 0) END`

// curTagsSQL is a CUR 2.0 line item's tags: the tags column when the export
// has it (resource tags and the IAM principal's tags, "iamPrincipal/KEY"),
// else resource_tags.
const curTagsSQL = `CASE WHEN cardinality(tags) > 0 THEN tags ELSE resource_tags END`

// lineItemsViewSQL normalizes both line-item tables to one shape: the
// dimensions crossbill groups by and the five metrics.
func lineItemsViewSQL() string {
	return "CREATE OR REPLACE VIEW line_items AS\n" + lineItemsSelectSQL()
}

// lineItemsSelectSQL is the line_items view's body, over the views (or
// CTEs) named cur and focus_export.
func lineItemsSelectSQL() string {
	return `SELECT tenant, source, billing_period,
	line_item_usage_start_date::TIMESTAMP AS usage_start,
	coalesce(line_item_usage_account_id, '') AS account,
	coalesce(line_item_product_code, '') AS service,
	coalesce(product_region_code, '') AS region,
	coalesce(line_item_usage_type, '') AS usage_type,
	coalesce(line_item_operation, '') AS operation,
	coalesce(line_item_line_item_type, '') AS charge_type,
	` + curTagsSQL + ` AS tags,
	cost_category AS cost_categories,
	coalesce(line_item_unblended_cost, 0) AS unblended,
	` + amortizedSQL + ` AS amortized,
	coalesce(line_item_net_unblended_cost, line_item_unblended_cost, 0) AS net,
	coalesce(pricing_public_on_demand_cost, 0) AS list,
	CASE WHEN line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')
		THEN coalesce(line_item_usage_amount, 0) ELSE 0 END AS usage
FROM cur
UNION ALL BY NAME
SELECT tenant, source, billing_period,
	ChargePeriodStart::TIMESTAMP AS usage_start,
	coalesce(SubAccountId, '') AS account,
	coalesce(x_ServiceCode, ServiceName, '') AS service,
	coalesce(RegionId, '') AS region,
	coalesce(x_UsageType, '') AS usage_type,
	coalesce(x_Operation, '') AS operation,
	coalesce(ChargeCategory, '') AS charge_type,
	Tags AS tags,
	x_CostCategories AS cost_categories,
	coalesce(BilledCost, 0) AS unblended,
	coalesce(EffectiveCost, 0) AS amortized,
	coalesce(BilledCost, 0) AS net,
	coalesce(ListCost, 0) AS list,
	CASE WHEN ChargeCategory = 'Usage' AND coalesce(CommitmentDiscountStatus, 'Used') = 'Used'
		THEN coalesce(ConsumedQuantity, 0) ELSE 0 END AS usage
FROM focus_export`
}

// Metric names accepted by queries.
const (
	MetricUnblended = "unblended"
	MetricAmortized = "amortized"
	MetricNet       = "net"
	MetricList      = "list"
	MetricUsage     = "usage"
)

// Metrics lists the metrics in documentation order.
func Metrics() []string {
	return []string{MetricUnblended, MetricAmortized, MetricNet, MetricList, MetricUsage}
}
