package cur

// FOCUS 1.2 column names (FinOps Open Cost and Usage Specification), as the
// AWS Data Exports table FOCUS_1_2_AWS writes them.
const (
	FocusAvailabilityZone           = "AvailabilityZone"
	FocusBilledCost                 = "BilledCost"
	FocusBillingAccountID           = "BillingAccountId"
	FocusBillingAccountName         = "BillingAccountName"
	FocusBillingAccountType         = "BillingAccountType"
	FocusBillingCurrency            = "BillingCurrency"
	FocusBillingPeriodEnd           = "BillingPeriodEnd"
	FocusBillingPeriodStart         = "BillingPeriodStart"
	FocusCapacityReservationID      = "CapacityReservationId"
	FocusCapacityReservationStatus  = "CapacityReservationStatus"
	FocusChargeCategory             = "ChargeCategory"
	FocusChargeClass                = "ChargeClass"
	FocusChargeDescription          = "ChargeDescription"
	FocusChargeFrequency            = "ChargeFrequency"
	FocusChargePeriodEnd            = "ChargePeriodEnd"
	FocusChargePeriodStart          = "ChargePeriodStart"
	FocusCommitmentDiscountCategory = "CommitmentDiscountCategory"
	FocusCommitmentDiscountID       = "CommitmentDiscountId"
	FocusCommitmentDiscountName     = "CommitmentDiscountName"
	FocusCommitmentDiscountQuantity = "CommitmentDiscountQuantity"
	FocusCommitmentDiscountStatus   = "CommitmentDiscountStatus"
	FocusCommitmentDiscountType     = "CommitmentDiscountType"
	FocusCommitmentDiscountUnit     = "CommitmentDiscountUnit"
	FocusConsumedQuantity           = "ConsumedQuantity"
	FocusConsumedUnit               = "ConsumedUnit"
	FocusContractedCost             = "ContractedCost"
	FocusContractedUnitPrice        = "ContractedUnitPrice"
	FocusEffectiveCost              = "EffectiveCost"
	FocusInvoiceID                  = "InvoiceId"
	FocusInvoiceIssuerName          = "InvoiceIssuerName"
	FocusListCost                   = "ListCost"
	FocusListUnitPrice              = "ListUnitPrice"
	FocusPricingCategory            = "PricingCategory"
	FocusPricingCurrency            = "PricingCurrency"
	FocusPricingCurrencyContracted  = "PricingCurrencyContractedUnitPrice"
	FocusPricingCurrencyEffective   = "PricingCurrencyEffectiveCost"
	FocusPricingCurrencyListUnit    = "PricingCurrencyListUnitPrice"
	FocusPricingQuantity            = "PricingQuantity"
	FocusPricingUnit                = "PricingUnit"
	FocusProviderName               = "ProviderName"
	FocusPublisherName              = "PublisherName"
	FocusRegionID                   = "RegionId"
	FocusRegionName                 = "RegionName"
	FocusResourceID                 = "ResourceId"
	FocusResourceName               = "ResourceName"
	FocusResourceType               = "ResourceType"
	FocusServiceCategory            = "ServiceCategory"
	FocusServiceName                = "ServiceName"
	FocusServiceSubcategory         = "ServiceSubcategory"
	FocusSkuID                      = "SkuId"
	FocusSkuMeter                   = "SkuMeter"
	FocusSkuPriceDetails            = "SkuPriceDetails"
	FocusSkuPriceID                 = "SkuPriceId"
	FocusSubAccountID               = "SubAccountId"
	FocusSubAccountName             = "SubAccountName"
	FocusSubAccountType             = "SubAccountType"
	FocusTags                       = "Tags"
	FocusXCostCategories            = "x_CostCategories"
	FocusXDiscounts                 = "x_Discounts"
	FocusXOperation                 = "x_Operation"
	FocusXServiceCode               = "x_ServiceCode"
	FocusXUsageType                 = "x_UsageType"
)

// FOCUS ChargeCategory values.
const (
	ChargeCategoryUsage      = "Usage"
	ChargeCategoryPurchase   = "Purchase"
	ChargeCategoryTax        = "Tax"
	ChargeCategoryCredit     = "Credit"
	ChargeCategoryAdjustment = "Adjustment"
)

// FOCUSColumns returns the FOCUS 1.2 columns (with AWS's x_ columns) in the
// order the generator writes them. It returns a new slice on every call.
func FOCUSColumns() []Column {
	v, d, t := TypeVarchar, TypeDouble, TypeTimestamp
	return []Column{
		{Name: FocusAvailabilityZone, Type: v},
		{Name: FocusBilledCost, Type: d, Required: true},
		{Name: FocusBillingAccountID, Type: v, Required: true},
		{Name: FocusBillingAccountName, Type: v},
		{Name: FocusBillingAccountType, Type: v},
		{Name: FocusBillingCurrency, Type: v},
		{Name: FocusBillingPeriodEnd, Type: t, Required: true},
		{Name: FocusBillingPeriodStart, Type: t, Required: true},
		{Name: FocusCapacityReservationID, Type: v},
		{Name: FocusCapacityReservationStatus, Type: v},
		{Name: FocusChargeCategory, Type: v, Required: true},
		{Name: FocusChargeClass, Type: v},
		{Name: FocusChargeDescription, Type: v},
		{Name: FocusChargeFrequency, Type: v},
		{Name: FocusChargePeriodEnd, Type: t, Required: true},
		{Name: FocusChargePeriodStart, Type: t, Required: true},
		{Name: FocusCommitmentDiscountCategory, Type: v},
		{Name: FocusCommitmentDiscountID, Type: v},
		{Name: FocusCommitmentDiscountName, Type: v},
		{Name: FocusCommitmentDiscountQuantity, Type: d},
		{Name: FocusCommitmentDiscountStatus, Type: v},
		{Name: FocusCommitmentDiscountType, Type: v},
		{Name: FocusCommitmentDiscountUnit, Type: v},
		{Name: FocusConsumedQuantity, Type: d},
		{Name: FocusConsumedUnit, Type: v},
		{Name: FocusContractedCost, Type: d},
		{Name: FocusContractedUnitPrice, Type: d},
		{Name: FocusEffectiveCost, Type: d, Required: true},
		{Name: FocusInvoiceID, Type: v},
		{Name: FocusInvoiceIssuerName, Type: v},
		{Name: FocusListCost, Type: d, Required: true},
		{Name: FocusListUnitPrice, Type: d},
		{Name: FocusPricingCategory, Type: v},
		{Name: FocusPricingCurrency, Type: v},
		{Name: FocusPricingCurrencyContracted, Type: d},
		{Name: FocusPricingCurrencyEffective, Type: d},
		{Name: FocusPricingCurrencyListUnit, Type: d},
		{Name: FocusPricingQuantity, Type: d},
		{Name: FocusPricingUnit, Type: v},
		{Name: FocusProviderName, Type: v},
		{Name: FocusPublisherName, Type: v},
		{Name: FocusRegionID, Type: v},
		{Name: FocusRegionName, Type: v},
		{Name: FocusResourceID, Type: v},
		{Name: FocusResourceName, Type: v},
		{Name: FocusResourceType, Type: v},
		{Name: FocusServiceCategory, Type: v},
		{Name: FocusServiceName, Type: v, Required: true},
		{Name: FocusServiceSubcategory, Type: v},
		{Name: FocusSkuID, Type: v},
		{Name: FocusSkuMeter, Type: v},
		{Name: FocusSkuPriceDetails, Type: TypeMapString},
		{Name: FocusSkuPriceID, Type: v},
		{Name: FocusSubAccountID, Type: v, Required: true},
		{Name: FocusSubAccountName, Type: v},
		{Name: FocusSubAccountType, Type: v},
		{Name: FocusTags, Type: TypeMapString},
		{Name: FocusXCostCategories, Type: TypeMapString},
		{Name: FocusXDiscounts, Type: TypeMapDouble},
		{Name: FocusXOperation, Type: v},
		{Name: FocusXServiceCode, Type: v},
		{Name: FocusXUsageType, Type: v},
	}
}

// ValidateFOCUS checks the columns of a FOCUS 1.2 export like Validate does
// for CUR 2.0.
func ValidateFOCUS(columns map[string]string) error {
	return validate("focus schema", "FOCUS 1.2", FOCUSColumns(), columns)
}
