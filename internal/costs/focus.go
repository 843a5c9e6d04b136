package costs

// focusViewSQL defines the view focus: FOCUS 1.2 columns over CUR 2.0 line
// items, plus the rows of FOCUS exports ingested as they are.
//
// Mapping from CUR 2.0 (crossbill's reading of the FOCUS commitment-discount
// scenarios, which is also how AWS's own FOCUS export shapes the data):
//   - SavingsPlanNegation rows are dropped: FOCUS bills covered usage at 0
//     instead of on-demand cost plus a negation, so covered usage rows carry
//     BilledCost 0 and EffectiveCost = the commitment's effective cost.
//   - A commitment fee row (SavingsPlanRecurringFee, RIFee) becomes a
//     Purchase row (BilledCost = the fee, EffectiveCost 0) and, when part of
//     the commitment went unused, a second Usage row with
//     CommitmentDiscountStatus 'Unused', BilledCost 0 and EffectiveCost = the
//     unused amount. Upfront fees (SavingsPlanUpfrontFee, RI Fee) are
//     Purchase rows with EffectiveCost 0.
//   - Hence sum(BilledCost) = unblended and sum(EffectiveCost) = amortized.
//   - ContractedCost: no negotiated rates are visible in CUR beyond the net
//     columns, so it is the net unblended cost of usage at the rate the bill
//     shows (the on-demand equivalent for covered usage) and BilledCost for
//     every other row.
//   - PricingCategory as the spec has it: Committed on the rows a
//     commitment applies to (its unused part included), Dynamic on spot
//     usage, Standard on other usage and on purchases (buying a commitment
//     is not Committed), none on tax.
//   - ChargeClass is 'Correction' for rows whose usage started before the
//     billing period (restatements of an earlier period), else NULL.
func focusViewSQL() string {
	return `CREATE OR REPLACE VIEW focus AS
WITH base AS (
	SELECT *,
		CASE line_item_line_item_type
			WHEN 'Usage' THEN 'Usage' WHEN 'SavingsPlanCoveredUsage' THEN 'Usage' WHEN 'DiscountedUsage' THEN 'Usage'
			WHEN 'SavingsPlanRecurringFee' THEN 'Purchase' WHEN 'SavingsPlanUpfrontFee' THEN 'Purchase'
			WHEN 'RIFee' THEN 'Purchase' WHEN 'Fee' THEN 'Purchase'
			WHEN 'Tax' THEN 'Tax' WHEN 'Credit' THEN 'Credit'
			ELSE 'Adjustment' END AS charge_category,
		CASE WHEN coalesce(savings_plan_savings_plan_a_r_n, '') <> '' THEN savings_plan_savings_plan_a_r_n
			WHEN coalesce(reservation_reservation_a_r_n, '') <> '' THEN reservation_reservation_a_r_n END AS commitment_id,
		CASE WHEN coalesce(savings_plan_savings_plan_a_r_n, '') <> '' THEN 'Savings Plan'
			WHEN coalesce(reservation_reservation_a_r_n, '') <> '' THEN 'Reserved Instance' END AS commitment_type,
		CASE WHEN coalesce(savings_plan_savings_plan_a_r_n, '') <> '' THEN 'Spend'
			WHEN coalesce(reservation_reservation_a_r_n, '') <> '' THEN 'Usage' END AS commitment_category
	FROM cur
	WHERE line_item_line_item_type <> 'SavingsPlanNegation'
), rows AS (
	SELECT b.*, false AS unused_part FROM base b
	UNION ALL
	SELECT b.*, true AS unused_part FROM base b
	WHERE (line_item_line_item_type = 'SavingsPlanRecurringFee'
			AND coalesce(savings_plan_total_commitment_to_date, 0) - coalesce(savings_plan_used_commitment, 0) <> 0)
		OR (line_item_line_item_type = 'RIFee'
			AND coalesce(reservation_unused_amortized_upfront_fee_for_billing_period, 0) + coalesce(reservation_unused_recurring_fee, 0) <> 0)
)
SELECT tenant, source, billing_period,
	CASE WHEN unused_part THEN 0
		WHEN line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 0
		ELSE coalesce(line_item_unblended_cost, 0) END AS BilledCost,
	CASE WHEN unused_part THEN ` + amortizedSQL + `
		WHEN charge_category = 'Purchase' THEN 0
		ELSE ` + amortizedSQL + ` END AS EffectiveCost,
	CASE WHEN unused_part THEN 0 ELSE coalesce(pricing_public_on_demand_cost, 0) END AS ListCost,
	CASE WHEN unused_part THEN 0
		WHEN charge_category = 'Usage' THEN coalesce(TRY_CAST(line_item_net_unblended_rate AS DOUBLE) * line_item_usage_amount, line_item_net_unblended_cost, line_item_unblended_cost, 0)
		ELSE coalesce(line_item_unblended_cost, 0) END AS ContractedCost,
	coalesce(line_item_currency_code, 'USD') AS BillingCurrency,
	bill_payer_account_id AS BillingAccountId,
	bill_billing_period_start_date::TIMESTAMP AS BillingPeriodStart,
	bill_billing_period_end_date::TIMESTAMP AS BillingPeriodEnd,
	CASE WHEN unused_part THEN 'Usage' ELSE charge_category END AS ChargeCategory,
	CASE WHEN line_item_usage_start_date < bill_billing_period_start_date THEN 'Correction' END AS ChargeClass,
	line_item_line_item_description AS ChargeDescription,
	CASE WHEN unused_part THEN 'Usage-Based'
		WHEN line_item_line_item_type IN ('SavingsPlanUpfrontFee') THEN 'One-Time'
		WHEN line_item_line_item_type = 'Fee' AND commitment_id IS NOT NULL THEN 'One-Time'
		WHEN line_item_line_item_type IN ('SavingsPlanRecurringFee', 'RIFee') THEN 'Recurring'
		ELSE 'Usage-Based' END AS ChargeFrequency,
	CASE WHEN charge_category = 'Tax' THEN NULL
		WHEN unused_part OR line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 'Committed'
		WHEN charge_category = 'Usage' AND line_item_usage_type ILIKE '%SpotUsage%' THEN 'Dynamic'
		WHEN charge_category IN ('Usage', 'Purchase') THEN 'Standard' END AS PricingCategory,
	line_item_usage_start_date::TIMESTAMP AS ChargePeriodStart,
	line_item_usage_end_date::TIMESTAMP AS ChargePeriodEnd,
	commitment_id AS CommitmentDiscountId,
	commitment_type AS CommitmentDiscountType,
	commitment_category AS CommitmentDiscountCategory,
	CASE WHEN unused_part THEN 'Unused'
		WHEN line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 'Used' END AS CommitmentDiscountStatus,
	CASE WHEN charge_category = 'Usage' AND NOT unused_part THEN line_item_usage_amount END AS ConsumedQuantity,
	CASE WHEN charge_category = 'Usage' AND NOT unused_part THEN pricing_unit END AS ConsumedUnit,
	line_item_usage_amount AS PricingQuantity,
	pricing_unit AS PricingUnit,
	'AWS' AS ProviderName,
	coalesce(line_item_legal_entity, 'Amazon Web Services, Inc.') AS PublisherName,
	coalesce(bill_invoicing_entity, 'Amazon Web Services, Inc.') AS InvoiceIssuerName,
	product_region_code AS RegionId,
	line_item_availability_zone AS AvailabilityZone,
	line_item_resource_id AS ResourceId,
	coalesce(product['product_name'], line_item_product_code) AS ServiceName,
	line_item_usage_account_id AS SubAccountId,
	line_item_usage_account_name AS SubAccountName,
	product_sku AS SkuId,
	` + curTagsSQL + ` AS Tags,
	line_item_product_code AS x_ServiceCode,
	line_item_usage_type AS x_UsageType,
	line_item_operation AS x_Operation,
	cost_category AS x_CostCategories
FROM rows
UNION ALL BY NAME
SELECT * EXCLUDE (tenant, source, billing_period), tenant, source, billing_period FROM focus_export`
}
