// Package cur holds the AWS Cost and Usage Report 2.0 and FOCUS 1.2 schemas,
// the Data Exports manifest format, and a synthetic organization generator
// that writes real-shaped exports.
package cur

import (
	"fmt"
	"sort"
	"strings"

	"github.com/crossbill/crossbill"
)

// DuckDB types of CUR 2.0 columns, spelled as DuckDB's DESCRIBE prints them.
const (
	TypeVarchar   = "VARCHAR"
	TypeDouble    = "DOUBLE"
	TypeTimestamp = "TIMESTAMP"
	TypeMapString = "MAP(VARCHAR, VARCHAR)"
	TypeMapDouble = "MAP(VARCHAR, DOUBLE)"
)

// Column groups: CUR 2.0 has a fixed schema, but two table properties of the
// export add columns (INCLUDE_RESOURCES, INCLUDE_SPLIT_COST_ALLOCATION_DATA).
const (
	GroupBase      = ""
	GroupResources = "resources"
	GroupSplit     = "split_cost_allocation"
)

// Column is one column of an export table.
type Column struct {
	Name     string `json:"name"`
	Type     string `json:"type"`               // DuckDB type
	Group    string `json:"group,omitempty"`    // which table property adds it
	Required bool   `json:"required,omitempty"` // crossbill's cost model reads it
}

// Column names that crossbill reads (the full list is Columns()).
const (
	ColBillBillType                   = "bill_bill_type"
	ColBillBillingEntity              = "bill_billing_entity"
	ColBillBillingPeriodEndDate       = "bill_billing_period_end_date"
	ColBillBillingPeriodStartDate     = "bill_billing_period_start_date"
	ColBillInvoiceID                  = "bill_invoice_id"
	ColBillInvoicingEntity            = "bill_invoicing_entity"
	ColBillPayerAccountID             = "bill_payer_account_id"
	ColBillPayerAccountName           = "bill_payer_account_name"
	ColCostCategory                   = "cost_category"
	ColDiscount                       = "discount"
	ColDiscountBundledDiscount        = "discount_bundled_discount"
	ColDiscountTotalDiscount          = "discount_total_discount"
	ColIdentityLineItemID             = "identity_line_item_id"
	ColIdentityTimeInterval           = "identity_time_interval"
	ColLineItemAvailabilityZone       = "line_item_availability_zone"
	ColLineItemBlendedCost            = "line_item_blended_cost"
	ColLineItemBlendedRate            = "line_item_blended_rate"
	ColLineItemCurrencyCode           = "line_item_currency_code"
	ColLineItemIAMPrincipal           = "line_item_iam_principal"
	ColLineItemLegalEntity            = "line_item_legal_entity"
	ColLineItemDescription            = "line_item_line_item_description"
	ColLineItemType                   = "line_item_line_item_type"
	ColLineItemNetUnblendedCost       = "line_item_net_unblended_cost"
	ColLineItemNetUnblendedRate       = "line_item_net_unblended_rate"
	ColLineItemNormalizationFactor    = "line_item_normalization_factor"
	ColLineItemNormalizedUsageAmount  = "line_item_normalized_usage_amount"
	ColLineItemOperation              = "line_item_operation"
	ColLineItemProductCode            = "line_item_product_code"
	ColLineItemResourceID             = "line_item_resource_id"
	ColLineItemTaxType                = "line_item_tax_type"
	ColLineItemUnblendedCost          = "line_item_unblended_cost"
	ColLineItemUnblendedRate          = "line_item_unblended_rate"
	ColLineItemUsageAccountID         = "line_item_usage_account_id"
	ColLineItemUsageAccountName       = "line_item_usage_account_name"
	ColLineItemUsageAmount            = "line_item_usage_amount"
	ColLineItemUsageEndDate           = "line_item_usage_end_date"
	ColLineItemUsageStartDate         = "line_item_usage_start_date"
	ColLineItemUsageType              = "line_item_usage_type"
	ColPricingPublicOnDemandCost      = "pricing_public_on_demand_cost"
	ColPricingPublicOnDemandRate      = "pricing_public_on_demand_rate"
	ColPricingTerm                    = "pricing_term"
	ColPricingUnit                    = "pricing_unit"
	ColProduct                        = "product"
	ColProductInstanceFamily          = "product_instance_family"
	ColProductInstanceType            = "product_instance_type"
	ColProductProductFamily           = "product_product_family"
	ColProductRegionCode              = "product_region_code"
	ColProductServicecode             = "product_servicecode"
	ColProductSKU                     = "product_sku"
	ColResourceTags                   = "resource_tags"
	ColReservationAmortizedUpfrontFee = "reservation_amortized_upfront_fee_for_billing_period"
	ColReservationEffectiveCost       = "reservation_effective_cost"
	ColReservationARN                 = "reservation_reservation_a_r_n"
	ColReservationUnusedAmortizedFee  = "reservation_unused_amortized_upfront_fee_for_billing_period"
	ColReservationUnusedRecurringFee  = "reservation_unused_recurring_fee"
	ColReservationUnusedQuantity      = "reservation_unused_quantity"
	ColSavingsPlanAmortizedUpfront    = "savings_plan_amortized_upfront_commitment_for_billing_period"
	ColSavingsPlanRecurringCommitment = "savings_plan_recurring_commitment_for_billing_period"
	ColSavingsPlanARN                 = "savings_plan_savings_plan_a_r_n"
	ColSavingsPlanEffectiveCost       = "savings_plan_savings_plan_effective_cost"
	ColSavingsPlanRate                = "savings_plan_savings_plan_rate"
	ColSavingsPlanTotalCommitment     = "savings_plan_total_commitment_to_date"
	ColSavingsPlanUsedCommitment      = "savings_plan_used_commitment"
	ColSavingsPlanOfferingType        = "savings_plan_offering_type"
	// ColTags holds every cost allocation tag of the line item: the
	// resource's (as in resource_tags) and the tags of the IAM principal
	// that made the request ("iamPrincipal/KEY").
	ColTags = "tags"
)

// Line item types (line_item_line_item_type) that AWS writes.
const (
	LineItemUsage                   = "Usage"
	LineItemDiscountedUsage         = "DiscountedUsage"
	LineItemRIFee                   = "RIFee"
	LineItemFee                     = "Fee"
	LineItemSavingsPlanCoveredUsage = "SavingsPlanCoveredUsage"
	LineItemSavingsPlanNegation     = "SavingsPlanNegation"
	LineItemSavingsPlanRecurringFee = "SavingsPlanRecurringFee"
	LineItemSavingsPlanUpfrontFee   = "SavingsPlanUpfrontFee"
	LineItemTax                     = "Tax"
	LineItemCredit                  = "Credit"
	LineItemRefund                  = "Refund"
)

// Columns returns the CUR 2.0 columns in the order an export with
// INCLUDE_RESOURCES and INCLUDE_SPLIT_COST_ALLOCATION_DATA writes them
// (alphabetical, as the Data Exports table dictionary lists them). It returns
// a new slice on every call.
func Columns() []Column {
	v, d, t := TypeVarchar, TypeDouble, TypeTimestamp
	cols := []Column{
		{Name: ColBillBillType, Type: v, Required: true},
		{Name: ColBillBillingEntity, Type: v},
		{Name: ColBillBillingPeriodEndDate, Type: t, Required: true},
		{Name: ColBillBillingPeriodStartDate, Type: t, Required: true},
		{Name: ColBillInvoiceID, Type: v},
		{Name: ColBillInvoicingEntity, Type: v},
		{Name: ColBillPayerAccountID, Type: v, Required: true},
		{Name: ColBillPayerAccountName, Type: v},
		{Name: ColCostCategory, Type: TypeMapString},
		{Name: ColDiscount, Type: TypeMapDouble},
		{Name: ColDiscountBundledDiscount, Type: d},
		{Name: ColDiscountTotalDiscount, Type: d},
		{Name: ColIdentityLineItemID, Type: v},
		{Name: ColIdentityTimeInterval, Type: v},
		{Name: ColLineItemAvailabilityZone, Type: v},
		{Name: ColLineItemBlendedCost, Type: d},
		{Name: ColLineItemBlendedRate, Type: v},
		{Name: ColLineItemCurrencyCode, Type: v},
		{Name: ColLineItemIAMPrincipal, Type: v},
		{Name: ColLineItemLegalEntity, Type: v},
		{Name: ColLineItemDescription, Type: v},
		{Name: ColLineItemType, Type: v, Required: true},
		{Name: ColLineItemNetUnblendedCost, Type: d},
		{Name: ColLineItemNetUnblendedRate, Type: v},
		{Name: ColLineItemNormalizationFactor, Type: d},
		{Name: ColLineItemNormalizedUsageAmount, Type: d},
		{Name: ColLineItemOperation, Type: v, Required: true},
		{Name: ColLineItemProductCode, Type: v, Required: true},
		{Name: ColLineItemResourceID, Type: v, Group: GroupResources},
		{Name: ColLineItemTaxType, Type: v},
		{Name: ColLineItemUnblendedCost, Type: d, Required: true},
		{Name: ColLineItemUnblendedRate, Type: v},
		{Name: ColLineItemUsageAccountID, Type: v, Required: true},
		{Name: ColLineItemUsageAccountName, Type: v},
		{Name: ColLineItemUsageAmount, Type: d, Required: true},
		{Name: ColLineItemUsageEndDate, Type: t, Required: true},
		{Name: ColLineItemUsageStartDate, Type: t, Required: true},
		{Name: ColLineItemUsageType, Type: v, Required: true},
		{Name: "pricing_currency", Type: v},
		{Name: "pricing_lease_contract_length", Type: v},
		{Name: "pricing_offering_class", Type: v},
		{Name: ColPricingPublicOnDemandCost, Type: d, Required: true},
		{Name: ColPricingPublicOnDemandRate, Type: v},
		{Name: "pricing_purchase_option", Type: v},
		{Name: "pricing_rate_code", Type: v},
		{Name: "pricing_rate_id", Type: v},
		{Name: ColPricingTerm, Type: v},
		{Name: ColPricingUnit, Type: v},
		{Name: ColProduct, Type: TypeMapString},
		{Name: "product_comment", Type: v},
		{Name: "product_fee_code", Type: v},
		{Name: "product_fee_description", Type: v},
		{Name: "product_from_location", Type: v},
		{Name: "product_from_location_type", Type: v},
		{Name: "product_from_region_code", Type: v},
		{Name: ColProductInstanceFamily, Type: v},
		{Name: ColProductInstanceType, Type: v},
		{Name: "product_instancesku", Type: v},
		{Name: "product_location", Type: v},
		{Name: "product_location_type", Type: v},
		{Name: "product_operation", Type: v},
		{Name: "product_pricing_unit", Type: v},
		{Name: ColProductProductFamily, Type: v},
		{Name: ColProductRegionCode, Type: v, Required: true},
		{Name: ColProductServicecode, Type: v},
		{Name: ColProductSKU, Type: v},
		{Name: "product_to_location", Type: v},
		{Name: "product_to_location_type", Type: v},
		{Name: "product_to_region_code", Type: v},
		{Name: "product_usagetype", Type: v},
		{Name: "reservation_amortized_upfront_cost_for_usage", Type: d},
		{Name: ColReservationAmortizedUpfrontFee, Type: d, Required: true},
		{Name: "reservation_availability_zone", Type: v},
		{Name: ColReservationEffectiveCost, Type: d, Required: true},
		{Name: "reservation_end_time", Type: v},
		{Name: "reservation_modification_status", Type: v},
		{Name: "reservation_net_amortized_upfront_cost_for_usage", Type: d},
		{Name: "reservation_net_amortized_upfront_fee_for_billing_period", Type: d},
		{Name: "reservation_net_effective_cost", Type: d},
		{Name: "reservation_net_recurring_fee_for_usage", Type: d},
		{Name: "reservation_net_unused_amortized_upfront_fee_for_billing_period", Type: d},
		{Name: "reservation_net_unused_recurring_fee", Type: d},
		{Name: "reservation_net_upfront_value", Type: d},
		{Name: "reservation_normalized_units_per_reservation", Type: v},
		{Name: "reservation_number_of_reservations", Type: v},
		{Name: "reservation_recurring_fee_for_usage", Type: d},
		{Name: ColReservationARN, Type: v, Required: true},
		{Name: "reservation_start_time", Type: v},
		{Name: "reservation_subscription_id", Type: v},
		{Name: "reservation_total_reserved_normalized_units", Type: v},
		{Name: "reservation_total_reserved_units", Type: v},
		{Name: "reservation_units_per_reservation", Type: v},
		{Name: ColReservationUnusedAmortizedFee, Type: d, Required: true},
		{Name: "reservation_unused_normalized_unit_quantity", Type: d},
		{Name: ColReservationUnusedQuantity, Type: d},
		{Name: ColReservationUnusedRecurringFee, Type: d, Required: true},
		{Name: "reservation_upfront_value", Type: d},
		{Name: ColResourceTags, Type: TypeMapString, Required: true},
		{Name: ColSavingsPlanAmortizedUpfront, Type: d},
		{Name: "savings_plan_end_time", Type: v},
		{Name: "savings_plan_instance_type_family", Type: v},
		{Name: "savings_plan_net_amortized_upfront_commitment_for_billing_period", Type: d},
		{Name: "savings_plan_net_recurring_commitment_for_billing_period", Type: d},
		{Name: "savings_plan_net_savings_plan_effective_cost", Type: d},
		{Name: ColSavingsPlanOfferingType, Type: v},
		{Name: "savings_plan_payment_option", Type: v},
		{Name: "savings_plan_purchase_term", Type: v},
		{Name: ColSavingsPlanRecurringCommitment, Type: d},
		{Name: "savings_plan_region", Type: v},
		{Name: ColSavingsPlanARN, Type: v, Required: true},
		{Name: ColSavingsPlanEffectiveCost, Type: d, Required: true},
		{Name: ColSavingsPlanRate, Type: d},
		{Name: "savings_plan_start_time", Type: v},
		{Name: ColSavingsPlanTotalCommitment, Type: d, Required: true},
		{Name: ColSavingsPlanUsedCommitment, Type: d, Required: true},
		{Name: "split_line_item_actual_usage", Type: d, Group: GroupSplit},
		{Name: "split_line_item_net_split_cost", Type: d, Group: GroupSplit},
		{Name: "split_line_item_net_unused_cost", Type: d, Group: GroupSplit},
		{Name: "split_line_item_parent_resource_id", Type: v, Group: GroupSplit},
		{Name: "split_line_item_public_on_demand_split_cost", Type: d, Group: GroupSplit},
		{Name: "split_line_item_public_on_demand_unused_cost", Type: d, Group: GroupSplit},
		{Name: "split_line_item_reserved_usage", Type: d, Group: GroupSplit},
		{Name: "split_line_item_split_cost", Type: d, Group: GroupSplit},
		{Name: "split_line_item_split_usage", Type: d, Group: GroupSplit},
		{Name: "split_line_item_split_usage_ratio", Type: d, Group: GroupSplit},
		{Name: "split_line_item_unused_cost", Type: d, Group: GroupSplit},
		{Name: ColTags, Type: TypeMapString},
	}
	return cols
}

// Validate checks the columns of a CUR 2.0 export (name -> DuckDB type, as
// DESCRIBE reports them for the Parquet files): every required column must be
// present and every known column must have a compatible type. Extra columns
// are allowed; CUR 2.0 exports may select more or fewer columns.
func Validate(columns map[string]string) error {
	return validate("cur schema", "CUR 2.0", Columns(), columns)
}

func validate(op, table string, schema []Column, columns map[string]string) error {
	var missing, mistyped []string
	for _, c := range schema {
		got, ok := columns[c.Name]
		if !ok {
			if c.Required {
				missing = append(missing, c.Name)
			}
			continue
		}
		if !Compatible(c.Type, got) {
			mistyped = append(mistyped, fmt.Sprintf("%s is %s, want %s", c.Name, got, c.Type))
		}
	}
	if len(missing) == 0 && len(mistyped) == 0 {
		return nil
	}
	sort.Strings(missing)
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing required columns: "+strings.Join(missing, ", "))
	}
	if len(mistyped) > 0 {
		parts = append(parts, "mistyped columns: "+strings.Join(mistyped, "; "))
	}
	return crossbill.Errorf(crossbill.CodeInvalid, op,
		"the files are not a %s export (%s); check that the export's table is %s and its format is Parquet",
		table, strings.Join(parts, "; "), table)
}

// Compatible reports whether a column of DuckDB type got can be read as
// want by a plain cast. Writers differ in details that do not change
// meaning: timestamps with or without time zone and of any precision,
// decimals and integers for doubles, and the discount map, which some
// exports write with string values.
func Compatible(want, got string) bool {
	w, g := normType(want), normType(got)
	if w == g {
		return true
	}
	switch w {
	case "DOUBLE":
		return isNumber(g)
	case "TIMESTAMP":
		return strings.HasPrefix(g, "TIMESTAMP")
	case "MAP(VARCHAR,DOUBLE)":
		if v, ok := strings.CutPrefix(g, "MAP(VARCHAR,"); ok {
			v = strings.TrimSuffix(v, ")")
			return isNumber(v) || v == "VARCHAR"
		}
	}
	return false
}

func isNumber(t string) bool {
	switch strings.TrimPrefix(t, "U") {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT":
		return true
	}
	return t == "DOUBLE" || t == "FLOAT" || t == "REAL" || strings.HasPrefix(t, "DECIMAL")
}

func normType(t string) string {
	t = strings.ToUpper(strings.ReplaceAll(t, " ", ""))
	t = strings.ReplaceAll(t, "STRING", "VARCHAR")
	return t
}
