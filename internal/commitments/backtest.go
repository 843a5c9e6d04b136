package commitments

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments/optimize"
)

// Score is how one choice of commitments did over a window.
type Score struct {
	HourlyCommitment float64 `json:"hourly_commitment"`
	NetSavings       float64 `json:"net_savings"`
	Utilization      float64 `json:"utilization"`
	Coverage         float64 `json:"coverage"`
}

// BacktestResult compares, on a test window, the commitment recommended
// from the window before it (trend policy applied) with the exact optimum
// of that window (no trend policy), the best commitment in hindsight and
// two rules of thumb: "floor" commits to the lowest hour of the training
// window (always fully used), "mean" to its average hour.
type BacktestResult struct {
	Type        string    `json:"type"`
	Term        int       `json:"term_years"`
	Payment     Payment   `json:"payment_option"`
	TrainStart  time.Time `json:"train_start"`
	TrainEnd    time.Time `json:"train_end"`
	TestStart   time.Time `json:"test_start"`
	TestEnd     time.Time `json:"test_end"`
	Recommended Score     `json:"recommended"`
	Optimum     Score     `json:"lookback_optimum"`
	Hindsight   Score     `json:"hindsight_optimum"`
	Floor       Score     `json:"floor_rule"`
	Mean        Score     `json:"mean_rule"`
	// Efficiency is Recommended.NetSavings / Hindsight.NetSavings (1 when
	// nothing was worth buying and nothing was recommended).
	Efficiency float64 `json:"efficiency"`
	// OptimumEfficiency is Optimum.NetSavings / Hindsight.NetSavings.
	OptimumEfficiency float64 `json:"lookback_optimum_efficiency"`
	// Adjustments say, per group, why the trend policy moved the
	// commitment off the lookback optimum.
	Adjustments []string `json:"trend_adjustments"`
}

// Backtest recommends on train and scores on test, group by group (a
// Compute Savings Plan is one group; EC2 Instance Savings Plans are per
// family and region; reservations per instance type and region).
func Backtest(ctx context.Context, rd Reader, train, test Window, rates *Rates, typ string, term int, pay Payment) (BacktestResult, error) {
	if err := (Options{Types: []string{typ}, Terms: []int{term}}).Validate(); err != nil {
		return BacktestResult{}, err
	}
	for _, w := range []Window{train, test} {
		if err := CheckData(ctx, rd, w); err != nil {
			return BacktestResult{}, err
		}
	}
	trainUsage, err := EligibleUsage(ctx, rd, train)
	if err != nil {
		return BacktestResult{}, err
	}
	testUsage, err := EligibleUsage(ctx, rd, test)
	if err != nil {
		return BacktestResult{}, err
	}
	return BacktestFrom(trainUsage, testUsage, train, test, rates, typ, term, pay)
}

// BacktestFrom is Backtest on usage already read.
func BacktestFrom(trainUsage, testUsage []Usage, train, test Window, rates *Rates, typ string, term int, pay Payment) (BacktestResult, error) {
	if err := (Options{Types: []string{typ}, Terms: []int{term}}).Validate(); err != nil {
		return BacktestResult{}, err
	}
	res := BacktestResult{Type: typ, Term: term, Payment: pay, TrainStart: train.Start, TrainEnd: train.End, TestStart: test.Start, TestEnd: test.End}
	type picks struct{ rec, opt, floor, mean float64 }
	chosen := map[string]picks{}
	res.Adjustments = []string{}
	for _, g := range groups(trainUsage, typ) {
		b, ok := bucketsFor(g.usage, typ, term, pay, rates)
		if !ok {
			return res, crossbill.Errorf(crossbill.CodeInvalid, "commitments backtest", "no discount rate for %s %dy %s on %s: add it with --rates", typ, term, pay, g.key)
		}
		floor, mean := rulesOfThumb(b)
		ch := choose(b, false)
		if ch.trend.Why != "" {
			name := g.key
			if name == "" {
				name = typ
			}
			res.Adjustments = append(res.Adjustments, name+": "+ch.trend.Why)
		}
		chosen[g.key] = picks{rec: ch.commitment, opt: ch.trend.LookbackOptimum, floor: floor, mean: mean}
	}
	testGroups := groups(testUsage, typ)
	seen := map[string]bool{}
	var rec, opt, hind, fl, mn []optimize.Result
	for _, g := range testGroups {
		seen[g.key] = true
		b, ok := bucketsFor(g.usage, typ, term, pay, rates)
		if !ok {
			return res, crossbill.Errorf(crossbill.CodeInvalid, "commitments backtest", "no discount rate for %s %dy %s on %s: add it with --rates", typ, term, pay, g.key)
		}
		c := chosen[g.key]
		rec = append(rec, optimize.Evaluate(b, c.rec))
		opt = append(opt, optimize.Evaluate(b, c.opt))
		fl = append(fl, optimize.Evaluate(b, c.floor))
		mn = append(mn, optimize.Evaluate(b, c.mean))
		hind = append(hind, optimize.Optimal(b))
	}
	// Commitments bought for usage that vanished are paid for nothing.
	for key, c := range chosen {
		if !seen[key] {
			idle := func(x float64) optimize.Result {
				return optimize.Result{Commitment: x, Hours: test.Hours(), NetSavings: -x * float64(test.Hours())}
			}
			rec, opt, fl, mn = append(rec, idle(c.rec)), append(opt, idle(c.opt)), append(fl, idle(c.floor)), append(mn, idle(c.mean))
		}
	}
	res.Recommended, res.Optimum, res.Hindsight, res.Floor, res.Mean = score(rec), score(opt), score(hind), score(fl), score(mn)
	res.Efficiency = efficiency(res.Recommended, res.Hindsight)
	res.OptimumEfficiency = efficiency(res.Optimum, res.Hindsight)
	return res, nil
}

// efficiency is a choice's net savings over the hindsight optimum's.
func efficiency(s, hindsight Score) float64 {
	switch {
	case hindsight.NetSavings > 0:
		return s.NetSavings / hindsight.NetSavings
	case s.NetSavings >= hindsight.NetSavings-1e-9:
		return 1 // nothing was worth buying, and nothing was bought
	}
	return 0
}

// rulesOfThumb returns the commitments that cover the lowest hour and the
// average hour of the buckets fully.
func rulesOfThumb(b []optimize.Bucket) (floor, mean float64) {
	H := 0
	for _, x := range b {
		H = max(H, len(x.Spend))
	}
	if H == 0 {
		return 0, 0
	}
	floor = -1
	for h := 0; h < H; h++ {
		need := 0.0
		for _, x := range b {
			if h < len(x.Spend) {
				need += (1 - x.Discount) * x.Spend[h]
			}
		}
		mean += need / float64(H)
		if floor < 0 || need < floor {
			floor = need
		}
	}
	return floor, mean
}

func score(rs []optimize.Result) Score {
	var s Score
	var used, committed, covered, eligible float64
	for _, r := range rs {
		s.HourlyCommitment += r.Commitment
		s.NetSavings += r.NetSavings
		used += r.Used
		committed += r.Commitment * float64(r.Hours)
		covered += r.Covered
		eligible += r.Eligible
	}
	if committed > 0 {
		s.Utilization = used / committed
	}
	if eligible > 0 {
		s.Coverage = covered / eligible
	}
	return s
}

// maxHourlyCommitment is far above any real commitment (a billion dollars
// an hour).
const maxHourlyCommitment = 1e9

// CheckHourlyCommitment accepts a simulated commitment: positive, and
// small enough that the savings arithmetic stays finite (1e308 would
// overflow to +Inf, which JSON cannot carry). NaN fails too.
func CheckHourlyCommitment(commitment float64) error {
	if !(commitment > 0 && commitment <= maxHourlyCommitment) {
		return crossbill.Errorf(crossbill.CodeInvalid, "commitments simulate", "--commitment (hourly_commitment) must be a positive hourly amount in dollars, at most %.0f", float64(maxHourlyCommitment))
	}
	return nil
}

// Simulate reports what an hourly commitment of the given type would have
// done over the window: over all eligible usage for a Compute Savings Plan,
// over one family/region (EC2 Instance SP) or instance type/region
// (reservation) named by key.
func Simulate(ctx context.Context, rd Reader, w Window, rates *Rates, typ string, term int, pay Payment, key string, commitment float64) (Recommendation, error) {
	const op = "commitments simulate"
	if err := (Options{Types: []string{typ}, Terms: []int{term}}).Validate(); err != nil {
		return Recommendation{}, err
	}
	if err := CheckHourlyCommitment(commitment); err != nil {
		return Recommendation{}, err
	}
	if err := CheckData(ctx, rd, w); err != nil {
		return Recommendation{}, err
	}
	usage, err := EligibleUsage(ctx, rd, w)
	if err != nil {
		return Recommendation{}, err
	}
	var keys []string
	for _, g := range groups(usage, typ) {
		keys = append(keys, g.key)
		if g.key != key {
			continue
		}
		b, ok := bucketsFor(g.usage, typ, term, pay, rates)
		if !ok {
			return Recommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no discount rate for %s %dy %s: add it with --rates", typ, term, pay)
		}
		r := Recommendation{Type: typ, Term: term, Payment: pay, Scope: "payer", Key: g.key, Region: g.region, Family: g.family, InstanceType: g.itype}
		if w.Account != "" {
			r.Scope = string(w.Account)
		}
		fill(&r, b, optimize.Evaluate(b, commitment), 0)
		return r, nil
	}
	if key == "" && typ != OptionComputeSP {
		return Recommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s needs --key, one of %v", typ, keys)
	}
	return Recommendation{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no eligible %s usage for key %q in the window; keys with usage: %v", typ, key, keys)
}
