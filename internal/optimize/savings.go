package optimize

import (
	"math"

	"github.com/crossbill/crossbill/internal/inventory"
)

// savings states what removing fraction of r's monthly cost saves. The
// resource's own cost is used when inventory has one (amortized from its
// CUR line items, or a price the collector labelled); else listMonthly,
// crossbill's list price for its type. Monthly is after discounts when
// the CUR gave the cost, else before discounts, and Basis says which.
func (c *evalCtx) savings(r *inventory.Resource, listMonthly, fraction float64, note string) Savings {
	fraction = math.Max(0, math.Min(1, fraction))
	s := Savings{Currency: "USD", Hours: HoursPerMonth, Note: note}
	if rc := r.Cost; rc != nil && (rc.MonthlyAmortized > 0 || rc.MonthlyOnDemand > 0) {
		if rc.Currency != "" {
			s.Currency = rc.Currency
		}
		before := rc.MonthlyOnDemand
		if before == 0 {
			before = math.Max(rc.MonthlyAmortized, listMonthly)
		}
		s.BeforeDiscounts = round2(before * fraction)
		if rc.Source == inventory.CostFromCUR {
			s.AfterDiscounts = round2(rc.MonthlyAmortized * fraction)
			s.Monthly, s.Basis, s.CostSource, s.CostLabel, s.CurrentMonthly = s.AfterDiscounts, "after-discounts", inventory.CostFromCUR, CURLabel, round2(rc.MonthlyAmortized)
			return s
		}
		s.Monthly, s.Basis, s.CostSource, s.CostLabel, s.CurrentMonthly = s.BeforeDiscounts, "before-discounts", inventory.CostFromPriceList, PriceListLabel, round2(before)
		return s
	}
	s.BeforeDiscounts = round2(listMonthly * fraction)
	s.Monthly, s.Basis, s.CostSource, s.CostLabel, s.CurrentMonthly = s.BeforeDiscounts, "before-discounts", inventory.CostFromPriceList, PriceListLabel, round2(listMonthly)
	return s
}

// sumSavings adds the savings of several resources an action removes
// together. The sum is after discounts only when every part is.
func sumSavings(parts []Savings, note string) Savings {
	s := Savings{Currency: "USD", Hours: HoursPerMonth, Note: note, Basis: "after-discounts", CostSource: inventory.CostFromCUR, CostLabel: CURLabel}
	if len(parts) == 0 {
		s.Basis, s.CostSource, s.CostLabel = "before-discounts", inventory.CostFromPriceList, PriceListLabel
	}
	for _, p := range parts {
		s.BeforeDiscounts += p.BeforeDiscounts
		s.AfterDiscounts += p.AfterDiscounts
		if p.CostSource != inventory.CostFromCUR {
			s.Basis, s.CostSource, s.CostLabel = "before-discounts", inventory.CostFromPriceList, PriceListLabel
		}
	}
	s.BeforeDiscounts, s.AfterDiscounts = round2(s.BeforeDiscounts), round2(s.AfterDiscounts)
	if s.CostSource == inventory.CostFromCUR {
		s.Monthly = s.AfterDiscounts
	} else {
		s.Monthly, s.AfterDiscounts = s.BeforeDiscounts, 0
	}
	s.CurrentMonthly = s.Monthly
	return s
}
