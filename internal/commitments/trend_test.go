package commitments_test

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
)

// shapes are the hourly on-demand spend ($/h) of the four account shapes of
// the trend backtest, as functions of the hour: each has a daily swing of
// ±15% and ±5% noise on top (seeded, so the table is reproducible).
var shapes = []struct {
	name  string
	level func(h int) float64
}{
	// 100 $/h falling 40 $/h every 37 days (to 60 after 30 days to learn
	// and 7 to score).
	{"declining", func(h int) float64 { return 100 - 40*float64(h)/(37*24) }},
	{"growing", func(h int) float64 { return 60 + 40*float64(h)/(37*24) }},
	// Weekends at 55% of weekdays.
	{"seasonal", func(h int) float64 {
		if d := (h / 24) % 7; d == 5 || d == 6 {
			return 55
		}
		return 100
	}},
	// 70 $/h with a +150 $/h batch burst in about 3% of the hours.
	{"spiky", func(h int) float64 {
		if rand.New(rand.NewSource(int64(h))).Float64() < 0.03 {
			return 220
		}
		return 70
	}},
	// 100 $/h, then 70 $/h from day 26 on (a workload moved away).
	{"level drop", func(h int) float64 {
		if h >= 25*24 {
			return 70
		}
		return 100
	}},
}

func series(level func(int) float64, hours int, seed int64) []float64 {
	rng := rand.New(rand.NewSource(seed))
	s := make([]float64, hours)
	for h := range s {
		s[h] = level(h) * (1 + 0.15*math.Sin(2*math.Pi*float64(h%24)/24)) * (1 + 0.1*(rng.Float64()-0.5))
	}
	return s
}

func ec2Usage(spend []float64) []commitments.Usage {
	return []commitments.Usage{{Class: "ec2", InstanceType: "m5.xlarge", Family: "m5", Region: "us-east-1", Spend: spend, Units: spend}}
}

// trendBacktest learns on 30 days and scores on the testDays after them.
func trendBacktest(t *testing.T, level func(int) float64, testDays int) commitments.BacktestResult {
	t.Helper()
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	trainH, testH := 30*24, testDays*24
	s := series(level, trainH+testH, 7)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	train := commitments.Window{Start: start, End: start.Add(time.Duration(trainH) * time.Hour)}
	test := commitments.Window{Start: train.End, End: train.End.Add(time.Duration(testH) * time.Hour)}
	res, err := commitments.BacktestFrom(ec2Usage(s[:trainH]), ec2Usage(s[trainH:]), train, test, rates, commitments.OptionComputeSP, 1, commitments.NoUpfront)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestTrendBacktestTable is the table: on each shape, net savings
// over the test window (7 and 30 days) of crossbill's trend-aware choice
// (after), of the exact lookback optimum (before), of the hindsight optimum
// and of the floor rule. Print it with -v.
func TestTrendBacktestTable(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	fmt.Fprintf(&b, "\n| shape | test | after (trend-aware) | before (lookback optimum) | hindsight | floor rule | after/hindsight | before/hindsight | floor/hindsight | action |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, testDays := range []int{7, 30} {
		for _, sh := range shapes {
			res := trendBacktest(t, sh.level, testDays)
			h := res.Hindsight.NetSavings
			action := "none"
			if len(res.Adjustments) > 0 {
				action = strings.SplitN(res.Adjustments[0], ": ", 2)[1]
			}
			fmt.Fprintf(&b, "| %s | %dd | $%.0f | $%.0f | $%.0f | $%.0f | %.0f%% | %.0f%% | %.0f%% | %s |\n", sh.name, testDays, res.Recommended.NetSavings, res.Optimum.NetSavings, h,
				res.Floor.NetSavings, 100*res.Efficiency, 100*res.OptimumEfficiency, 100*res.Floor.NetSavings/h, action)
			name := fmt.Sprintf("%s, %d-day test", sh.name, testDays)
			switch sh.name {
			case "declining", "level drop":
				// The lookback optimum overcommits as usage falls; the
				// policy must beat it, earn, and do at least as well as the
				// floor rule.
				if want := map[string]string{"declining": "holding", "level drop": "below the lookback's (no steady trend)"}[sh.name]; len(res.Adjustments) != 1 || !strings.Contains(res.Adjustments[0], want) {
					t.Errorf("%s: adjustments %q", name, res.Adjustments)
				}
				if res.Recommended.NetSavings <= res.Optimum.NetSavings || res.Recommended.NetSavings <= 0 || res.Recommended.NetSavings < res.Floor.NetSavings-1e-6 {
					t.Errorf("%s: after %+v, before %+v, floor %+v, hindsight %+v", name, res.Recommended, res.Optimum, res.Floor, res.Hindsight)
				}
				if testDays == 30 && sh.name == "declining" && res.Optimum.NetSavings >= 0 {
					t.Errorf("%s: the lookback optimum was expected to lose money, got %+v", name, res.Optimum)
				}
			case "growing":
				if len(res.Adjustments) != 1 || !strings.Contains(res.Adjustments[0], "growing") {
					t.Errorf("%s: adjustments %q", name, res.Adjustments)
				}
				if res.Recommended.NetSavings <= res.Optimum.NetSavings || res.Recommended.Utilization < 0.99 {
					t.Errorf("%s: after %+v, before %+v", name, res.Recommended, res.Optimum)
				}
			default:
				// Weekly seasonality and bursts are not trends: no adjustment.
				if len(res.Adjustments) != 0 || res.Recommended != res.Optimum {
					t.Errorf("%s: adjustments %q, after %+v, before %+v", name, res.Adjustments, res.Recommended, res.Optimum)
				}
			}
		}
	}
	t.Log(b.String())
}

func TestDetectTrend(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		hours int
		level func(int) float64
		dir   string
	}{
		{"declining", 30 * 24, shapes[0].level, commitments.TrendDeclining},
		{"growing", 30 * 24, shapes[1].level, commitments.TrendGrowing},
		{"seasonal", 30 * 24, shapes[2].level, commitments.TrendFlat},
		{"spiky", 30 * 24, shapes[3].level, commitments.TrendFlat},
		{"flat", 30 * 24, func(int) float64 { return 50 }, commitments.TrendFlat},
		{"five days", 5 * 24, shapes[0].level, commitments.TrendUnknown},
	} {
		tr := commitments.DetectTrend(series(tt.level, tt.hours, 3))
		if tr.Direction != tt.dir {
			t.Errorf("%s: %+v, want %s", tt.name, tr, tt.dir)
		}
	}
	// A level drop in the last week without a steady trend before it.
	drop := series(func(h int) float64 {
		if h >= 23*24 {
			return 70
		}
		return 100
	}, 30*24, 3)
	if tr := commitments.DetectTrend(drop); tr.RecentRatio > 0.75 || tr.RecentDays != 7 {
		t.Errorf("level drop: %+v", tr)
	}
}

// TestRecommendTrendPolicy: on a declining series the recommendation is
// held below the lookback optimum and says why; RankOptimum keeps the exact
// optimum.
func TestRecommendTrendPolicy(t *testing.T) {
	t.Parallel()
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	w := commitments.Window{Start: start, End: start.Add(30 * 24 * time.Hour)}
	usage := ec2Usage(series(shapes[0].level, 30*24, 7))
	one := commitments.Options{Types: []string{commitments.OptionComputeSP}, Terms: []int{1}, Payments: []commitments.Payment{commitments.NoUpfront}}
	recs, err := commitments.RecommendFrom(usage, w, rates, one)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %+v", err, recs)
	}
	r := recs[0]
	if r.Trend == nil || r.Trend.Action != commitments.ActionHold || !strings.Contains(r.Why, "declining") ||
		r.HourlyCommitment >= 0.95*r.Trend.LookbackOptimum || r.Utilization < 0.999 {
		t.Errorf("declining: %+v trend %+v", r, r.Trend)
	}
	exact := one
	exact.Rank = commitments.RankOptimum
	recs, err = commitments.RecommendFrom(usage, w, rates, exact)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %+v", err, recs)
	}
	if recs[0].HourlyCommitment != r.Trend.LookbackOptimum || recs[0].Why != "" || recs[0].Trend.Direction != commitments.TrendDeclining {
		t.Errorf("optimum: %+v, want hourly %v", recs[0], r.Trend.LookbackOptimum)
	}
}

// TestRankByRisk: on steady usage the biggest expected saving is a 3-year
// All Upfront plan that needs more than a year to break even; the default
// rank hides it, puts the best saving under a 20% drop first and shows the
// downside, and RankOptimum still lists it first.
func TestRankByRisk(t *testing.T) {
	t.Parallel()
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	w := commitments.Window{Start: start, End: start.Add(30 * 24 * time.Hour)}
	usage := ec2Usage(series(func(int) float64 { return 100 }, 30*24, 7))
	o := commitments.Options{Types: []string{commitments.OptionComputeSP}}
	o.Rank = commitments.RankOptimum
	all, err := commitments.RecommendFrom(usage, w, rates, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 || all[0].Term != 3 || all[0].Payment != commitments.AllUpfront || all[0].BreakEvenMonth <= commitments.DefaultMaxBreakEven {
		t.Fatalf("optimum rank: top %+v of %d", all[0], len(all))
	}
	o.Rank = ""
	risk, err := commitments.RecommendFrom(usage, w, rates, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(risk) == 0 || len(risk) >= len(all) {
		t.Fatalf("risk rank kept %d of %d", len(risk), len(all))
	}
	for i, r := range risk {
		if r.BreakEvenMonth == 0 || r.BreakEvenMonth > commitments.DefaultMaxBreakEven || r.Downside20 < 0 ||
			r.Downside20 != r.Scenarios[1].MonthlySavings || r.Downside30 != r.Scenarios[2].MonthlySavings || r.Downside20 >= r.MonthlySavings {
			t.Errorf("risk row %d: %+v", i, r)
		}
		if i > 0 && r.Downside20 > risk[i-1].Downside20 {
			t.Errorf("risk rank not sorted by downside: %v after %v", r.Downside20, risk[i-1].Downside20)
		}
	}
	o.MaxBreakEven = -1
	if loose, _ := commitments.RecommendFrom(usage, w, rates, o); len(loose) != len(all) {
		t.Errorf("no break-even limit: %d rows, want %d", len(loose), len(all))
	}
	if err := (commitments.Options{Rank: "best"}).Validate(); err == nil {
		t.Error("rank best accepted")
	}
}

// TestRecommendHoldAtZero: when usage declines and stops for some hours of
// the recent week, the policy buys nothing, and the row says so rather than
// vanishing.
func TestRecommendHoldAtZero(t *testing.T) {
	t.Parallel()
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	w := commitments.Window{Start: start, End: start.Add(30 * 24 * time.Hour)}
	s := series(shapes[0].level, 30*24, 7)
	for h := 23 * 24; h < len(s); h++ {
		if h%24 < 6 {
			s[h] = 0 // nights switched off in the last week
		}
	}
	recs, err := commitments.RecommendFrom(ec2Usage(s), w, rates, commitments.Options{Types: []string{commitments.OptionComputeSP}, Terms: []int{1}, Payments: []commitments.Payment{commitments.NoUpfront}})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %+v", err, recs)
	}
	if r := recs[0]; r.HourlyCommitment != 0 || r.Trend.Action != commitments.ActionHold || r.Trend.LookbackOptimum <= 0 || !strings.Contains(r.Why, "holding") {
		t.Errorf("hold at zero: %+v %+v", r, r.Trend)
	}
}
