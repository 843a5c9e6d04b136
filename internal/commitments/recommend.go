package commitments

import (
	"context"
	"math"
	"sort"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments/optimize"
)

// HoursPerMonth is AWS's billing month for monthly figures (8760 / 12).
const HoursPerMonth = 730

// Options selects what to recommend.
type Options struct {
	Types    []string  // option types; empty means all
	Terms    []int     // 1 and/or 3; empty means both
	Payments []Payment // empty means all three
	// Ladder, when > 1, splits each purchase into that many tranches bought
	// a month apart.
	Ladder int
	// Rank is RankRisk (default) or RankOptimum; see Rank.
	Rank string
	// MaxBreakEven hides, under RankRisk, options that break even after
	// this month (or never); 0 means DefaultMaxBreakEven, negative no limit.
	MaxBreakEven int
	// AllowLoss keeps, under RankRisk, options that lose money if usage
	// drops 20%.
	AllowLoss bool
}

// Ranks.
const (
	// RankRisk applies the trend policy, hides options beyond the risk
	// limits and sorts by monthly savings if usage drops 20%.
	RankRisk = "risk"
	// RankOptimum is the exact optimum over the lookback for every option,
	// sorted by expected monthly savings, nothing hidden.
	RankOptimum = "optimum"
)

// DefaultMaxBreakEven is the latest break-even month RankRisk shows unless
// told otherwise: a year.
const DefaultMaxBreakEven = 12

// DownsideDrop is the usage drop RankRisk ranks by.
const DownsideDrop = 0.2

func (o Options) withDefaults() Options {
	if len(o.Types) == 0 {
		o.Types = []string{OptionComputeSP, OptionEC2InstanceSP, OptionRDSRI, OptionElastiCacheRI, OptionOpenSearchRI, OptionRedshiftRI}
	}
	if len(o.Terms) == 0 {
		o.Terms = []int{1, 3}
	}
	if len(o.Payments) == 0 {
		o.Payments = []Payment{NoUpfront, PartialUpfront, AllUpfront}
	}
	if o.Rank == "" {
		o.Rank = RankRisk
	}
	if o.MaxBreakEven == 0 {
		o.MaxBreakEven = DefaultMaxBreakEven
	}
	return o
}

// Validate checks the option types and terms.
func (o Options) Validate() error {
	for _, t := range o.Types {
		if optionClasses(t) == nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "commitments recommend",
				"unknown type %q: use COMPUTE_SP, EC2_INSTANCE_SP, RDS_RI, ELASTICACHE_RI, OPENSEARCH_RI or REDSHIFT_RI", t)
		}
	}
	if o.Rank != "" && o.Rank != RankRisk && o.Rank != RankOptimum {
		return crossbill.Errorf(crossbill.CodeInvalid, "commitments recommend", "rank %q: use risk (default) or optimum", o.Rank)
	}
	for _, t := range o.Terms {
		if t != 1 && t != 3 {
			return crossbill.Errorf(crossbill.CodeInvalid, "commitments recommend", "term %d: AWS sells 1- and 3-year terms", t)
		}
	}
	return nil
}

// Scenario is what a commitment does if usage falls.
type Scenario struct {
	UsageDrop      float64 `json:"usage_drop"`
	MonthlySavings float64 `json:"monthly_savings"`
	Utilization    float64 `json:"utilization"`
}

// Tranche is one purchase of a staggered plan.
type Tranche struct {
	Month            int     `json:"month"`
	HourlyCommitment float64 `json:"hourly_commitment"`
}

// Recommendation is one purchase option and what it is expected to do.
type Recommendation struct {
	Type    string  `json:"type"`
	Term    int     `json:"term_years"`
	Payment Payment `json:"payment_option"`
	// Scope is "payer" or the linked account the usage was limited to.
	Scope string `json:"scope"`
	// Key names the family/region (EC2 Instance SP) or the instance
	// type/region (reservations); empty for Compute SP.
	Key          string  `json:"key,omitempty"`
	Region       string  `json:"region,omitempty"`
	Family       string  `json:"family,omitempty"`
	InstanceType string  `json:"instance_type,omitempty"`
	Discount     float64 `json:"discount"`
	// HourlyCommitment is $/h at commitment rates; Count is the number of
	// reservations (reservations only).
	HourlyCommitment float64 `json:"hourly_commitment"`
	Count            int     `json:"count,omitempty"`
	Upfront          float64 `json:"upfront_cost"`
	MonthlySavings   float64 `json:"monthly_savings"`
	// SavingsPercent is the net savings over the eligible on-demand spend.
	SavingsPercent float64 `json:"savings_percent"`
	// BreakEvenMonth is the first month whose cumulative savings cover
	// what was paid; 0 means never.
	BreakEvenMonth  int        `json:"break_even_month"`
	Utilization     float64    `json:"expected_utilization"`
	Coverage        float64    `json:"expected_coverage"`
	EligibleMonthly float64    `json:"eligible_on_demand_monthly"`
	LookbackHours   int        `json:"lookback_hours"`
	Scenarios       []Scenario `json:"if_usage_drops"`
	// Downside20 and Downside30 are the monthly savings if usage drops 20%
	// and 30% (negative: the commitment loses money); RankRisk sorts by
	// Downside20.
	Downside20 float64   `json:"downside_monthly_savings_20"`
	Downside30 float64   `json:"downside_monthly_savings_30"`
	Ladder     []Tranche `json:"ladder,omitempty"`
	// Trend is what the lookback's usage is doing; Why repeats its reason
	// when it moved the commitment off the lookback optimum.
	Trend *Trend `json:"trend,omitempty"`
	Why   string `json:"why,omitempty"`
}

// RecommendWith builds the eligible usage of the window (net of existing
// commitments) and, for every requested type, term and payment option,
// the commitment that maximizes net savings over it.
func RecommendWith(ctx context.Context, rd Reader, w Window, rates *Rates, o Options) ([]Recommendation, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := CheckData(ctx, rd, w); err != nil {
		return nil, err
	}
	usage, err := EligibleUsage(ctx, rd, w)
	if err != nil {
		return nil, err
	}
	return RecommendFrom(usage, w, rates, o)
}

// RecommendFrom is RecommendWith on usage already read.
func RecommendFrom(usage []Usage, w Window, rates *Rates, o Options) ([]Recommendation, error) {
	o = o.withDefaults()
	scope := "payer"
	if w.Account != "" {
		scope = string(w.Account)
	}
	var out []Recommendation
	for _, typ := range o.Types {
		for _, term := range o.Terms {
			for _, pay := range o.Payments {
				for _, g := range groups(usage, typ) {
					buckets, ok := bucketsFor(g.usage, typ, term, pay, rates)
					if !ok {
						continue // no rate known for this combination
					}
					r := Recommendation{Type: typ, Term: term, Payment: pay, Scope: scope, Key: g.key, Region: g.region, Family: g.family, InstanceType: g.itype}
					ch := choose(buckets, o.Rank == RankOptimum)
					var res optimize.Result
					if isReservation(typ) {
						res, r.Count = reservationCount(ch, buckets[0], g.usage)
					} else {
						res = optimize.Evaluate(ch.on, ch.commitment)
					}
					// A trend that holds a worthwhile purchase at zero is
					// still a row: it says why nothing is bought.
					if res.Commitment <= 0 && (ch.trend.Action == ActionNone || ch.trend.LookbackOptimum <= 0) {
						continue
					}
					fill(&r, ch.on, res, o.Ladder)
					t := ch.trend
					r.Trend, r.Why = &t, t.Why
					out = append(out, r)
				}
			}
		}
	}
	return Rank(out, o), nil
}

// Rank orders recommendations. RankOptimum: by expected monthly savings,
// all of them. RankRisk: by monthly savings if usage drops 20% (a choice
// that only pays when usage holds ranks below one that survives a dip),
// without the options that break even after o.MaxBreakEven months or lose
// money in that dip unless o.AllowLoss; a row the trend held at zero stays,
// for its why.
func Rank(recs []Recommendation, o Options) []Recommendation {
	o = o.withDefaults()
	out := make([]Recommendation, 0, len(recs))
	for _, r := range recs {
		if o.Rank == RankRisk && (r.HourlyCommitment > 0 || r.Why == "") {
			if o.MaxBreakEven > 0 && (r.BreakEvenMonth == 0 || r.BreakEvenMonth > o.MaxBreakEven) {
				continue
			}
			if !o.AllowLoss && r.Downside20 < 0 {
				continue
			}
		}
		out = append(out, r)
	}
	key := func(r Recommendation) float64 {
		if o.Rank == RankRisk {
			return r.Downside20
		}
		return r.MonthlySavings
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := key(out[i]), key(out[j]); a != b {
			return a > b
		}
		return out[i].MonthlySavings > out[j].MonthlySavings
	})
	return out
}

func isReservation(typ string) bool { return typ != OptionComputeSP && typ != OptionEC2InstanceSP }

type group struct {
	key, region, family, itype string
	usage                      []Usage
}

// groups splits usage into what one purchase covers: everything for a
// Compute Savings Plan, a family in a region for an EC2 Instance Savings
// Plan, an instance type in a region for a reservation.
func groups(usage []Usage, typ string) []group {
	classes := map[string]bool{}
	for _, c := range optionClasses(typ) {
		classes[c] = true
	}
	idx := map[string]int{}
	var out []group
	for _, u := range usage {
		if !classes[u.Class] {
			continue
		}
		g := group{}
		switch {
		case typ == OptionComputeSP:
		case typ == OptionEC2InstanceSP:
			g = group{key: u.Family + "/" + u.Region, region: u.Region, family: u.Family}
		default:
			g = group{key: u.InstanceType + "/" + u.Region, region: u.Region, family: u.Family, itype: u.InstanceType}
		}
		i, ok := idx[g.key]
		if !ok {
			i = len(out)
			idx[g.key] = i
			out = append(out, g)
		}
		out[i].usage = append(out[i].usage, u)
	}
	return out
}

// bucketsFor turns usage into optimizer buckets with the discounts of one
// type, term and payment; reservations get one bucket (one instance type).
func bucketsFor(usage []Usage, typ string, term int, pay Payment, rates *Rates) ([]optimize.Bucket, bool) {
	var out []optimize.Bucket
	for _, u := range usage {
		rate, ok := rates.Lookup(typ, u.Class, term, pay)
		if !ok {
			return nil, false
		}
		out = append(out, optimize.Bucket{Key: u.Class + "/" + u.InstanceType + "/" + u.Region, Discount: rate.Discount, Spend: u.Spend})
	}
	if isReservation(typ) && len(out) > 1 {
		merged := optimize.Bucket{Key: out[0].Key, Discount: out[0].Discount, Spend: make([]float64, len(out[0].Spend))}
		for _, b := range out {
			for h, s := range b.Spend {
				merged.Spend[h] += s
			}
		}
		out = []optimize.Bucket{merged}
	}
	return out, len(out) > 0
}

// reservationCount turns a choice into whole reservations: around the
// exact optimum, the better of the two whole counts (N is concave in the
// count, so the best integer is the floor or the ceiling of the continuous
// optimum); for a trend-moved choice, rounded down.
func reservationCount(ch choice, b optimize.Bucket, usage []Usage) (optimize.Result, int) {
	spend, units := 0.0, 0.0
	for _, u := range usage {
		for h := range u.Spend {
			spend += u.Spend[h]
			units += u.Units[h]
		}
	}
	if units <= 0 || ch.commitment <= 0 {
		return optimize.Evaluate(ch.on, ch.commitment), 0
	}
	perUnit := (1 - b.Discount) * spend / units // commitment $/h of one reservation
	candidates := []float64{math.Floor(ch.commitment / perUnit), math.Ceil(ch.commitment / perUnit)}
	if ch.trend.Action != ActionNone {
		candidates = candidates[:1]
	}
	best, bestN := optimize.Evaluate(ch.on, 0), 0
	for _, n := range candidates {
		if n <= 0 {
			continue
		}
		if r := optimize.Evaluate(ch.on, n*perUnit); r.NetSavings > best.NetSavings {
			best, bestN = r, int(n)
		}
	}
	return best, bestN
}

// fill computes the financial figures of a chosen commitment.
func fill(r *Recommendation, buckets []optimize.Bucket, res optimize.Result, ladder int) {
	H := float64(res.Hours)
	c := res.Commitment
	share := r.Payment.UpfrontShare()
	r.HourlyCommitment = c
	r.LookbackHours = res.Hours
	r.Upfront = share * c * 8760 * float64(r.Term)
	r.MonthlySavings = res.NetSavings / H * HoursPerMonth
	r.EligibleMonthly = res.Eligible / H * HoursPerMonth
	if res.Eligible > 0 {
		r.SavingsPercent = res.NetSavings / res.Eligible
	}
	if res.Covered > 0 {
		r.Discount = 1 - res.Used/res.Covered
	}
	r.Utilization, r.Coverage = res.Utilization(), res.Coverage()
	r.BreakEvenMonth = breakEven(res.Covered/H, c, share, r.Term)
	for _, drop := range []float64{0.1, 0.2, 0.3} {
		d := optimize.Evaluate(optimize.Scale(buckets, 1-drop), c)
		r.Scenarios = append(r.Scenarios, Scenario{UsageDrop: drop, MonthlySavings: d.NetSavings / H * HoursPerMonth, Utilization: d.Utilization()})
	}
	r.Downside20, r.Downside30 = r.Scenarios[1].MonthlySavings, r.Scenarios[2].MonthlySavings
	r.Ladder = Ladder(c, ladder)
}

// breakEven is the first month m in which the on-demand cost avoided
// (covered per hour × 730 × m) reaches what was paid (the upfront part plus
// m months of the recurring part); 0 if it never does within the term.
func breakEven(coveredPerHour, c, upfrontShare float64, term int) int {
	upfront := upfrontShare * c * 8760 * float64(term)
	margin := (coveredPerHour - c*(1-upfrontShare)) * HoursPerMonth
	if margin <= 0 {
		return 0
	}
	m := int(math.Ceil(upfront/margin - 1e-9))
	if m < 1 {
		m = 1
	}
	if m > 12*term {
		return 0
	}
	return m
}

// Ladder splits an hourly commitment into n equal tranches bought a month
// apart, so renewals fall in different months and each later tranche can
// be resized on fresher data before it is bought. n ≤ 1 means no ladder.
func Ladder(c float64, n int) []Tranche {
	if n <= 1 || c <= 0 {
		return nil
	}
	out := make([]Tranche, n)
	for i := range out {
		out[i] = Tranche{Month: i, HourlyCommitment: c / float64(n)}
	}
	return out
}
