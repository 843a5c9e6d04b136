package cur

import (
	"fmt"
	"strings"
	"time"
)

// The generator's in-memory DuckDB tables: facts (one narrow row per line
// item) joined with the resource and commitment dimensions make the export.
const generatorDDL = `
CREATE TABLE res (
	id INTEGER, account_id VARCHAR, account_name VARCHAR, product_code VARCHAR, servicecode VARCHAR,
	product_name VARCHAR, product_family VARCHAR, usage_type VARCHAR, operation VARCHAR, region VARCHAR,
	region_name VARCHAR, az VARCHAR, resource_id VARCHAR, resource_type VARCHAR, description VARCHAR,
	pricing_unit VARCHAR, od_rate DOUBLE, od_rate_str VARCHAR, instance_type VARCHAR, instance_family VARCHAR, nf DOUBLE,
	sku VARCHAR, product MAP(VARCHAR, VARCHAR), tags MAP(VARCHAR, VARCHAR), cost_category MAP(VARCHAR, VARCHAR),
	from_location VARCHAR, to_location VARCHAR, tax_type VARCHAR, bill_type VARCHAR,
	service_name VARCHAR, service_category VARCHAR,
	edp DOUBLE, private_rate DOUBLE, bundled DOUBLE, principal VARCHAR, all_tags MAP(VARCHAR, VARCHAR));
CREATE TABLE cmt (
	id INTEGER, arn VARCHAR, type VARCHAR, payment VARCHAR, term VARCHAR, start_str VARCHAR, end_str VARCHAR,
	region VARCHAR, region_name VARCHAR, family VARCHAR, commit_h DOUBLE, recurring_h DOUBLE, upfront_h DOUBLE,
	upfront_total DOUBLE, count INTEGER, nf DOUBLE, sub_id VARCHAR, focus_type VARCHAR, focus_category VARCHAR,
	description VARCHAR);
CREATE TABLE hours (h INTEGER, iv VARCHAR);
`

// factDDL is run for every month, so that the facts' rowids start at 0 and
// a data file can take a rowid range.
const factDDL = `CREATE OR REPLACE TABLE fact (
	res INTEGER, h INTEGER, n INTEGER, lit UTINYINT, cmt INTEGER,
	usage DOUBLE, cost DOUBLE, rate DOUBLE, od DOUBLE, eff DOUBLE, a DOUBLE, b DOUBLE, c DOUBLE);
DELETE FROM hours;`

// factRange selects the facts with rowid in [from, to).
func factRange(from, to int64) string {
	return fmt.Sprintf("(SELECT * FROM fact WHERE rowid >= %d AND rowid < %d)", from, to)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlTimestamp(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05") + "'"
}

func litList() string {
	var q []string
	for _, s := range lineItemTypes() {
		q = append(q, sqlString(s))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// when makes "CASE WHEN f.lit IN (lits) THEN expr END".
func when(expr string, lits ...uint8) string {
	var s []string
	for _, l := range lits {
		s = append(s, fmt.Sprint(l))
	}
	return "CASE WHEN f.lit IN (" + strings.Join(s, ", ") + ") THEN " + expr + " END"
}

type monthInfo struct {
	period    time.Time
	payerID   string
	payerName string
	invoiceID string
}

// curExpressions maps each CUR 2.0 column to its SQL over fact f, res r and
// cmt c. Columns absent from the map are NULL.
func curExpressions(m monthInfo) map[string]string {
	start := "(" + sqlTimestamp(m.period) + " + to_hours(f.h))"
	end := "(" + sqlTimestamp(m.period) + " + to_hours(f.h + f.n))"
	ts := func(e string) string { return "strftime(" + e + ", '%Y-%m-%dT%H:%M:%SZ')" }
	usageLits := []uint8{litUsage, litSPCovered, litSPNegation, litDiscounted}
	spLits := []uint8{litSPCovered, litSPNegation, litSPRecurring, litSPUpfront}
	riLits := []uint8{litDiscounted, litRIFee, litFee}
	// Formatting doubles and timestamps is the costliest part of writing a
	// row, so usage rows take their rate string from the resource and their
	// time interval from the hours table.
	rate := fmt.Sprintf("CASE WHEN f.lit IN (%d, %d) THEN r.od_rate_str WHEN f.lit IN (%d, %d) THEN '0.0' ELSE CAST(f.rate AS VARCHAR) END",
		litUsage, litSPCovered, litSPNegation, litDiscounted)
	return map[string]string{
		ColBillBillType:                                    fmt.Sprintf("CASE WHEN f.lit IN (%d, %d) THEN 'Purchase' ELSE r.bill_type END", litSPUpfront, litFee),
		ColBillBillingEntity:                               "'AWS'",
		ColBillBillingPeriodEndDate:                        sqlTimestamp(m.period.AddDate(0, 1, 0)),
		ColBillBillingPeriodStartDate:                      sqlTimestamp(m.period),
		ColBillInvoiceID:                                   sqlString(m.invoiceID),
		ColBillInvoicingEntity:                             "'Amazon Web Services, Inc.'",
		ColBillPayerAccountID:                              sqlString(m.payerID),
		ColBillPayerAccountName:                            sqlString(m.payerName),
		ColCostCategory:                                    "r.cost_category",
		ColIdentityLineItemID:                              "md5(concat_ws(':', f.res, f.lit, f.cmt, f.h, " + sqlString(m.period.Format("2006-01")) + "))",
		ColIdentityTimeInterval:                            ts(start) + " || '/' || " + ts(end),
		ColLineItemAvailabilityZone:                        when("r.az", usageLits...),
		ColLineItemBlendedCost:                             "f.cost",
		ColLineItemBlendedRate:                             fmt.Sprintf("CASE WHEN f.lit < %d THEN %s END", litTax, rate),
		ColLineItemCurrencyCode:                            "'USD'",
		ColLineItemLegalEntity:                             "'Amazon Web Services, Inc.'",
		ColLineItemDescription:                             fmt.Sprintf("CASE f.lit WHEN %d THEN 'SavingsPlanNegation used by AccountId : ' || r.account_id || ' and UsageSku : ' || r.sku WHEN %d THEN c.description WHEN %d THEN 'Savings Plan upfront fee: ' || c.description WHEN %d THEN 'Sign up charge for subscription: ' || c.sub_id ELSE r.description END", litSPNegation, litSPRecurring, litSPUpfront, litFee),
		ColLineItemType:                                    litList() + "[f.lit + 1]",
		ColLineItemNetUnblendedCost:                        fmt.Sprintf("CASE WHEN f.lit = %d THEN f.cost * (1 - r.edp - r.private_rate - r.bundled) ELSE f.cost END", litUsage),
		ColLineItemNetUnblendedRate:                        fmt.Sprintf("CASE WHEN f.lit = %d THEN CAST(r.od_rate * (1 - r.edp - r.private_rate - r.bundled) AS VARCHAR) WHEN f.lit < %d THEN %s END", litUsage, litTax, rate),
		ColLineItemIAMPrincipal:                            when("r.principal", usageLits...),
		ColDiscount:                                        fmt.Sprintf("CASE WHEN f.lit = %d AND r.edp + r.private_rate > 0 THEN map_from_entries(list_filter([{'key': 'edp_discount', 'value': -f.cost * r.edp}, {'key': 'private_rate_discount', 'value': -f.cost * r.private_rate}], lambda e: e.value <> 0)) END", litUsage),
		ColDiscountBundledDiscount:                         fmt.Sprintf("CASE WHEN f.lit = %d AND r.bundled > 0 THEN -f.cost * r.bundled END", litUsage),
		ColDiscountTotalDiscount:                           fmt.Sprintf("CASE WHEN f.lit = %d AND r.edp + r.private_rate + r.bundled > 0 THEN -f.cost * (r.edp + r.private_rate + r.bundled) END", litUsage),
		ColTags:                                            "r.all_tags",
		ColLineItemNormalizationFactor:                     "NULLIF(r.nf, 0)",
		ColLineItemNormalizedUsageAmount:                   "CASE WHEN r.nf > 0 THEN f.usage * r.nf END",
		ColLineItemOperation:                               "r.operation",
		ColLineItemProductCode:                             "r.product_code",
		ColLineItemResourceID:                              "r.resource_id",
		ColLineItemTaxType:                                 "r.tax_type",
		ColLineItemUnblendedCost:                           "f.cost",
		ColLineItemUnblendedRate:                           fmt.Sprintf("CASE WHEN f.lit < %d THEN %s END", litTax, rate),
		ColLineItemUsageAccountID:                          "r.account_id",
		ColLineItemUsageAccountName:                        "r.account_name",
		ColLineItemUsageAmount:                             "f.usage",
		ColLineItemUsageEndDate:                            end,
		ColLineItemUsageStartDate:                          start,
		ColLineItemUsageType:                               "r.usage_type",
		"pricing_currency":                                 "'USD'",
		"pricing_lease_contract_length":                    when("c.term", riLits...),
		"pricing_offering_class":                           when("'standard'", riLits...),
		ColPricingPublicOnDemandCost:                       "f.od",
		ColPricingPublicOnDemandRate:                       when("CAST(r.od_rate AS VARCHAR)", usageLits...),
		"pricing_purchase_option":                          when("c.payment", riLits...),
		"pricing_rate_code":                                when("r.sku || '.JRTCKXETXF.6YS6EN2CT7'", litUsage, litSPCovered),
		"pricing_rate_id":                                  when("CAST(hash(r.sku) % 100000000 AS VARCHAR)", litUsage, litSPCovered),
		ColPricingTerm:                                     fmt.Sprintf("CASE WHEN f.lit IN (%d, %d, %d) THEN 'OnDemand' WHEN f.lit IN (%d, %d, %d) THEN 'Reserved' END", litUsage, litSPCovered, litSPNegation, litDiscounted, litRIFee, litFee),
		ColPricingUnit:                                     "r.pricing_unit",
		ColProduct:                                         "r.product",
		"product_from_location":                            "r.from_location",
		"product_from_location_type":                       "CASE WHEN r.from_location IS NOT NULL THEN 'AWS Region' END",
		"product_from_region_code":                         "CASE WHEN r.from_location IS NOT NULL THEN r.region END",
		ColProductInstanceFamily:                           "r.instance_family",
		ColProductInstanceType:                             "r.instance_type",
		"product_location":                                 "r.region_name",
		"product_location_type":                            "CASE WHEN r.region_name <> '' THEN 'AWS Region' END",
		"product_operation":                                "r.operation",
		"product_pricing_unit":                             "r.pricing_unit",
		ColProductProductFamily:                            "r.product_family",
		ColProductRegionCode:                               "NULLIF(r.region, '')",
		ColProductServicecode:                              "r.servicecode",
		ColProductSKU:                                      "r.sku",
		"product_to_location":                              "r.to_location",
		"product_to_location_type":                         "CASE WHEN r.to_location = 'External' THEN 'Other' WHEN r.to_location IS NOT NULL THEN 'AWS Region' END",
		"product_to_region_code":                           "CASE WHEN r.to_location <> 'External' THEN r.region END",
		"product_usagetype":                                "r.usage_type",
		"reservation_amortized_upfront_cost_for_usage":     when("f.b", litDiscounted),
		ColReservationAmortizedUpfrontFee:                  when("c.upfront_h * f.n", litRIFee),
		ColReservationEffectiveCost:                        when("f.eff", litDiscounted),
		"reservation_end_time":                             when("c.end_str", riLits...),
		"reservation_modification_status":                  when("'Original'", riLits...),
		"reservation_net_amortized_upfront_cost_for_usage": when("f.b", litDiscounted),
		"reservation_net_amortized_upfront_fee_for_billing_period":         when("c.upfront_h * f.n", litRIFee),
		"reservation_net_effective_cost":                                   when("f.eff", litDiscounted),
		"reservation_net_recurring_fee_for_usage":                          when("f.a", litDiscounted),
		"reservation_net_unused_amortized_upfront_fee_for_billing_period":  when("f.c", litRIFee),
		"reservation_net_unused_recurring_fee":                             when("f.b", litRIFee),
		"reservation_net_upfront_value":                                    when("c.upfront_total", litRIFee, litFee),
		"reservation_normalized_units_per_reservation":                     when("CAST(c.nf AS VARCHAR)", riLits...),
		"reservation_number_of_reservations":                               when("CAST(c.count AS VARCHAR)", litRIFee, litFee),
		"reservation_recurring_fee_for_usage":                              when("f.a", litDiscounted),
		ColReservationARN:                                                  when("c.arn", riLits...),
		"reservation_start_time":                                           when("c.start_str", riLits...),
		"reservation_subscription_id":                                      when("c.sub_id", riLits...),
		"reservation_total_reserved_normalized_units":                      when("CAST(c.count * c.nf * f.n AS VARCHAR)", litRIFee),
		"reservation_total_reserved_units":                                 when("CAST(c.count * f.n AS VARCHAR)", litRIFee),
		"reservation_units_per_reservation":                                when("CAST(f.n AS VARCHAR)", litRIFee),
		ColReservationUnusedAmortizedFee:                                   when("f.c", litRIFee),
		"reservation_unused_normalized_unit_quantity":                      when("f.a * c.nf", litRIFee),
		ColReservationUnusedQuantity:                                       when("f.a", litRIFee),
		ColReservationUnusedRecurringFee:                                   when("f.b", litRIFee),
		"reservation_upfront_value":                                        when("c.upfront_total", litRIFee, litFee),
		ColResourceTags:                                                    "r.tags",
		ColSavingsPlanAmortizedUpfront:                                     when("c.upfront_h * f.n", litSPRecurring),
		"savings_plan_end_time":                                            when("c.end_str", spLits...),
		"savings_plan_instance_type_family":                                when("c.family", spLits...),
		"savings_plan_net_amortized_upfront_commitment_for_billing_period": when("c.upfront_h * f.n", litSPRecurring),
		"savings_plan_net_recurring_commitment_for_billing_period":         when("c.recurring_h * f.n", litSPRecurring),
		"savings_plan_net_savings_plan_effective_cost":                     when("f.eff", litSPCovered),
		ColSavingsPlanOfferingType:                                         when("c.type", spLits...),
		"savings_plan_payment_option":                                      when("c.payment", spLits...),
		"savings_plan_purchase_term":                                       when("c.term", spLits...),
		ColSavingsPlanRecurringCommitment:                                  when("c.recurring_h * f.n", litSPRecurring),
		"savings_plan_region":                                              when("c.region_name", spLits...),
		ColSavingsPlanARN:                                                  when("c.arn", spLits...),
		ColSavingsPlanEffectiveCost:                                        when("f.eff", litSPCovered),
		ColSavingsPlanRate:                                                 when("f.a", litSPCovered),
		"savings_plan_start_time":                                          when("c.start_str", spLits...),
		ColSavingsPlanTotalCommitment:                                      when("f.eff", litSPRecurring),
		ColSavingsPlanUsedCommitment:                                       when("f.a", litSPRecurring),
	}
}

func curSelect(m monthInfo, facts string) string {
	exprs := curExpressions(m)
	var cols []string
	for _, c := range Columns() {
		e, ok := exprs[c.Name]
		if !ok {
			e = "NULL"
		}
		cols = append(cols, fmt.Sprintf("CAST(%s AS %s) AS %s", e, c.Type, c.Name))
	}
	return "SELECT " + strings.Join(cols, ",\n  ") +
		"\nFROM " + facts + " f JOIN res r ON r.id = f.res LEFT JOIN cmt c ON c.id = f.cmt LEFT JOIN hours hr ON hr.h = f.h"
}

// focusSelect maps the same facts to FOCUS 1.2. Savings Plan negation rows
// have no FOCUS counterpart (covered usage is billed at 0 instead), and each
// recurring commitment fee also yields a row for its unused part, as in the
// FOCUS commitment-discount scenarios.
func focusSelect(m monthInfo, facts string) string {
	start := "(" + sqlTimestamp(m.period) + " + to_hours(f.h))"
	end := "(" + sqlTimestamp(m.period) + " + to_hours(f.h + f.n))"
	unusedAmount := fmt.Sprintf("CASE f.lit WHEN %d THEN f.eff - f.a WHEN %d THEN f.b + f.c END", litSPRecurring, litRIFee)
	usage := fmt.Sprintf("(f.lit IN (%d, %d, %d) OR f.unused)", litUsage, litSPCovered, litDiscounted)
	exprs := map[string]string{
		FocusAvailabilityZone:   "r.az",
		FocusBilledCost:         fmt.Sprintf("CASE WHEN f.unused OR f.lit = %d THEN 0 ELSE f.cost END", litSPCovered),
		FocusBillingAccountID:   sqlString(m.payerID),
		FocusBillingAccountName: sqlString(m.payerName),
		FocusBillingAccountType: "'Billing Account'",
		FocusBillingCurrency:    "'USD'",
		FocusBillingPeriodEnd:   sqlTimestamp(m.period.AddDate(0, 1, 0)),
		FocusBillingPeriodStart: sqlTimestamp(m.period),
		FocusChargeCategory: fmt.Sprintf("CASE WHEN %s THEN 'Usage' WHEN f.lit IN (%d, %d, %d, %d) THEN 'Purchase' WHEN f.lit = %d THEN 'Tax' WHEN f.lit = %d THEN 'Credit' ELSE 'Adjustment' END",
			usage, litSPRecurring, litSPUpfront, litRIFee, litFee, litTax, litCredit),
		FocusChargeDescription: "r.description",
		FocusChargeFrequency: fmt.Sprintf("CASE WHEN f.unused THEN 'Usage-Based' WHEN f.lit IN (%d, %d) THEN 'One-Time' WHEN f.lit IN (%d, %d) THEN 'Recurring' WHEN f.lit IN (%d, %d, %d) THEN 'Usage-Based' ELSE 'One-Time' END",
			litSPUpfront, litFee, litSPRecurring, litRIFee, litUsage, litSPCovered, litDiscounted),
		FocusChargePeriodEnd:            end,
		FocusChargePeriodStart:          start,
		FocusCommitmentDiscountCategory: "c.focus_category",
		FocusCommitmentDiscountID:       "c.arn",
		FocusCommitmentDiscountName:     "c.sub_id",
		FocusCommitmentDiscountQuantity: fmt.Sprintf("CASE WHEN f.unused AND f.lit = %d THEN f.eff - f.a WHEN f.unused THEN f.a WHEN f.lit = %d THEN f.eff WHEN f.lit = %d THEN f.usage END", litSPRecurring, litSPCovered, litDiscounted),
		FocusCommitmentDiscountStatus:   fmt.Sprintf("CASE WHEN f.unused THEN 'Unused' WHEN f.lit IN (%d, %d) THEN 'Used' END", litSPCovered, litDiscounted),
		FocusCommitmentDiscountType:     "c.focus_type",
		FocusCommitmentDiscountUnit:     "CASE WHEN c.focus_category = 'Spend' THEN 'USD' WHEN c.focus_category = 'Usage' THEN 'Hours' END",
		FocusConsumedQuantity:           fmt.Sprintf("CASE WHEN f.lit IN (%d, %d, %d) AND NOT f.unused THEN f.usage END", litUsage, litSPCovered, litDiscounted),
		FocusConsumedUnit:               fmt.Sprintf("CASE WHEN f.lit IN (%d, %d, %d) AND NOT f.unused THEN r.pricing_unit END", litUsage, litSPCovered, litDiscounted),
		// Contracted: the rates the bill shows after negotiated discounts
		// (EDP, private rates) but before commitments.
		FocusContractedCost: fmt.Sprintf("CASE WHEN f.unused THEN 0 WHEN f.lit = %d THEN f.cost * (1 - r.edp - r.private_rate - r.bundled) WHEN f.lit IN (%d, %d) THEN f.od ELSE f.cost END",
			litUsage, litSPCovered, litDiscounted),
		FocusContractedUnitPrice: fmt.Sprintf("CASE WHEN f.lit = %d AND NOT f.unused THEN r.od_rate * (1 - r.edp - r.private_rate - r.bundled) WHEN f.lit IN (%d, %d) AND NOT f.unused THEN r.od_rate END",
			litUsage, litSPCovered, litDiscounted),
		FocusEffectiveCost: fmt.Sprintf("CASE WHEN f.unused THEN %s WHEN f.lit IN (%d, %d) THEN f.eff WHEN f.lit IN (%d, %d, %d, %d) THEN 0 ELSE f.cost END",
			unusedAmount, litSPCovered, litDiscounted, litSPRecurring, litSPUpfront, litRIFee, litFee),
		FocusInvoiceID:         sqlString(m.invoiceID),
		FocusInvoiceIssuerName: "'Amazon Web Services, Inc.'",
		FocusListCost:          fmt.Sprintf("CASE WHEN f.unused THEN 0 WHEN f.lit IN (%d, %d, %d) THEN f.od ELSE f.cost END", litUsage, litSPCovered, litDiscounted),
		FocusListUnitPrice:     fmt.Sprintf("CASE WHEN f.lit IN (%d, %d, %d) AND NOT f.unused THEN r.od_rate END", litUsage, litSPCovered, litDiscounted),
		// The spec: Committed for charges a commitment discount applies to
		// (its unused part too), Standard for usage at the agreed rates and
		// for purchases (a commitment's purchase is not Committed), null on
		// tax.
		FocusPricingCategory: fmt.Sprintf("CASE WHEN f.unused OR f.lit IN (%d, %d) THEN 'Committed' WHEN f.lit IN (%d, %d, %d, %d, %d) THEN 'Standard' END",
			litSPCovered, litDiscounted, litUsage, litSPRecurring, litSPUpfront, litRIFee, litFee),
		FocusPricingCurrency: "'USD'",
		FocusPricingQuantity: fmt.Sprintf("CASE WHEN f.lit IN (%d, %d, %d) AND NOT f.unused THEN f.usage END", litUsage, litSPCovered, litDiscounted),
		FocusPricingUnit:     "r.pricing_unit",
		FocusProviderName:    "'AWS'",
		FocusPublisherName:   "'AWS'",
		FocusRegionID:        "NULLIF(r.region, '')",
		FocusRegionName:      "NULLIF(r.region_name, '')",
		FocusResourceID:      "r.resource_id",
		FocusResourceType:    "r.resource_type",
		FocusServiceCategory: "r.service_category",
		FocusServiceName:     "r.service_name",
		FocusSkuID:           "r.sku",
		FocusSkuMeter:        "r.usage_type",
		FocusSkuPriceID:      "r.sku || '.JRTCKXETXF'",
		FocusSubAccountID:    "r.account_id",
		FocusSubAccountName:  "r.account_name",
		FocusSubAccountType:  "'Linked Account'",
		FocusTags:            "r.all_tags",
		FocusXCostCategories: "r.cost_category",
		FocusXOperation:      "r.operation",
		FocusXServiceCode:    "r.servicecode",
		FocusXUsageType:      "r.usage_type",
	}
	// the PricingCurrency* columns equal their billing-currency twins (USD)
	exprs[FocusPricingCurrencyEffective] = exprs[FocusEffectiveCost]
	exprs[FocusPricingCurrencyContracted] = exprs[FocusContractedUnitPrice]
	exprs[FocusPricingCurrencyListUnit] = exprs[FocusListUnitPrice]
	var cols []string
	for _, c := range FOCUSColumns() {
		e, ok := exprs[c.Name]
		if !ok {
			e = "NULL"
		}
		cols = append(cols, fmt.Sprintf("CAST(%s AS %s) AS %s", e, c.Type, c.Name))
	}
	return "SELECT " + strings.Join(cols, ",\n  ") + fmt.Sprintf(`
FROM (
  SELECT *, false AS unused FROM %[1]s WHERE lit <> %[2]d
  UNION ALL
  SELECT *, true AS unused FROM %[1]s
  WHERE (lit = %[3]d AND eff - a > 1e-9) OR (lit = %[4]d AND b + c > 1e-9)
) f JOIN res r ON r.id = f.res LEFT JOIN cmt c ON c.id = f.cmt`, facts, litSPNegation, litSPRecurring, litRIFee)
}

// focusCountQuery counts the rows focusSelect makes from all facts.
func focusCountQuery() string {
	return fmt.Sprintf(`SELECT count(*) FILTER (WHERE lit <> %d)
	+ count(*) FILTER (WHERE (lit = %d AND eff - a > 1e-9) OR (lit = %d AND b + c > 1e-9)) FROM fact`, litSPNegation, litSPRecurring, litRIFee)
}
