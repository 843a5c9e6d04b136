package commitments

import (
	"fmt"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments/optimize"
)

// Sizing is a purchase as written (by hand or from a recommendation) whose
// expected figures are computed from the tenant's own usage, so that what
// a client claims never reaches a guardrail.
type Sizing struct {
	// Type is the commitment type as the inventory names it
	// (TypeComputeSP, TypeEC2InstanceSP, TypeEC2RI, TypeRDSRI, ...).
	Type    string
	Term    int
	Payment Payment
	// Region and Family (EC2 Instance Savings Plans) or Region and
	// InstanceType (reservations) name the usage it covers.
	Region, Family, InstanceType string
	// HourlyCommitment sizes a Savings Plan.
	HourlyCommitment float64
	// Count sizes reservations; UnitHourly is one reservation's cost an
	// hour, upfront amortized over the term (from the AWS offering), which
	// replaces the discount table for them.
	Count      int
	UnitHourly float64
}

// sizingClasses are the usage classes each commitment type covers.
var sizingClasses = map[string]string{
	TypeEC2RI: ClassEC2, TypeRDSRI: ClassRDS, TypeElastiCacheRI: ClassElastiCache, TypeOpenSearchRI: ClassOpenSearch, TypeRedshiftRI: ClassRedshift,
}

// Expect computes what a sized purchase would have done over the usage
// (read with EligibleUsage over the window): utilization, coverage, net
// savings a month, the downside if usage drops and the break-even month.
// Savings Plans use the discount table (rates); reservations use their
// offering's price against the usage's own on-demand rate. No usage of
// what the purchase covers is a NotFound error saying so.
func Expect(usage []Usage, rates *Rates, s Sizing) (Recommendation, error) {
	const op = "purchase expectation"
	r := Recommendation{Type: s.Type, Term: s.Term, Payment: s.Payment, Scope: "payer", Region: s.Region, Family: s.Family, InstanceType: s.InstanceType}
	switch s.Type {
	case TypeComputeSP, TypeEC2InstanceSP:
		option := OptionComputeSP
		if s.Type == TypeEC2InstanceSP {
			option = OptionEC2InstanceSP
		}
		var mine []Usage
		for _, g := range groups(usage, option) {
			if option == OptionComputeSP || (g.region == s.Region && g.family == s.Family) {
				mine = append(mine, g.usage...)
			}
		}
		if len(mine) == 0 {
			return Recommendation{}, noUsage(op, s)
		}
		b, ok := bucketsFor(mine, option, s.Term, s.Payment, rates)
		if !ok {
			return Recommendation{}, crossbill.Errorf(crossbill.CodeNotFound, op, "crossbill has no discount rate for %s %d year(s) %s", s.Type, s.Term, s.Payment)
		}
		fill(&r, b, optimize.Evaluate(b, s.HourlyCommitment), 0)
		return r, nil
	}
	class, ok := sizingClasses[s.Type]
	if !ok {
		return Recommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "unknown commitment type %q", s.Type)
	}
	b := optimize.Bucket{Key: class + "/" + s.InstanceType + "/" + s.Region}
	spend, units := 0.0, 0.0
	for _, u := range usage {
		if u.Class != class || u.InstanceType != s.InstanceType || u.Region != s.Region {
			continue
		}
		if b.Spend == nil {
			b.Spend = make([]float64, len(u.Spend))
		}
		for h := range u.Spend {
			b.Spend[h] += u.Spend[h]
			spend += u.Spend[h]
			units += u.Units[h]
		}
	}
	if units <= 0 || spend <= 0 {
		return Recommendation{}, noUsage(op, s)
	}
	// One reservation covers one unit an hour: its discount is its price
	// against the usage's average on-demand price of a unit, so N
	// reservations are a commitment of N × its hourly cost.
	b.Discount = 1 - s.UnitHourly/(spend/units)
	if b.Discount <= 0 {
		return Recommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a %s reservation costs $%.4f an hour, no less than the $%.4f on-demand price the usage paid: it would save nothing", s.InstanceType, s.UnitHourly, spend/units)
	}
	c := float64(s.Count) * s.UnitHourly
	fill(&r, []optimize.Bucket{b}, optimize.Evaluate([]optimize.Bucket{b}, c), 0)
	r.Count = s.Count
	return r, nil
}

func noUsage(op string, s Sizing) error {
	what := s.Type
	switch {
	case s.InstanceType != "":
		what = fmt.Sprintf("%s %s in %s", s.Type, s.InstanceType, s.Region)
	case s.Family != "":
		what = fmt.Sprintf("%s %s in %s", s.Type, s.Family, s.Region)
	}
	return crossbill.Errorf(crossbill.CodeNotFound, op, "the cost store has no eligible on-demand usage of %s in the window", what)
}
