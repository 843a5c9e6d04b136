package commitments

import (
	"fmt"
	"math"
	"sort"

	"github.com/crossbill/crossbill/internal/commitments/optimize"
)

// Trend directions and the actions the policy takes on them.
const (
	TrendFlat      = "flat"
	TrendDeclining = "declining"
	TrendGrowing   = "growing"
	TrendUnknown   = "unknown" // too few full days to judge

	ActionNone   = "none"
	ActionShrink = "shrink" // level fell: size on the recent window
	ActionHold   = "hold"   // falling steadily: commit only to the recent floor
	ActionGrow   = "grow"   // rising steadily: size on the recent window, never beyond it
)

const (
	// mkCritical is the two-sided 5% critical value of the Mann–Kendall
	// statistic: a trend weaker than this is noise or seasonality.
	mkCritical = 1.96
	// levelShift is how far the recent median day may sit from the
	// lookback's before the level counts as moved.
	levelShift = 0.05
	// minTrendDays is the shortest lookback (in full days) judged at all.
	minTrendDays = 6
)

// Trend is what the lookback's daily totals say about where usage is going.
type Trend struct {
	Direction string `json:"direction"`
	// SlopePerDay is the Theil–Sen slope of the daily totals as a fraction
	// of the median day (−0.01: one percent less each day).
	SlopePerDay float64 `json:"slope_per_day"`
	// MannKendallZ is the trend's significance; beyond ±1.96 it is not
	// chance at the 5% level.
	MannKendallZ float64 `json:"mann_kendall_z"`
	// RecentDays is the recent window compared with the whole lookback;
	// RecentRatio is its median day over the lookback's median day.
	RecentDays  int     `json:"recent_days"`
	RecentRatio float64 `json:"recent_vs_lookback"`
	Action      string  `json:"action"`
	// LookbackOptimum is the exact optimum over the whole lookback: the
	// commitment before any trend adjustment.
	LookbackOptimum float64 `json:"lookback_optimum_hourly"`
	// Why says in words what was seen and what was done about it.
	Why string `json:"why,omitempty"`
}

// DetectTrend judges an hourly spend series by its full days, counted back
// from the last hour: the Theil–Sen slope and Mann–Kendall test of the daily
// totals (robust to a few spiky days), and the median day of the recent
// window (7 days, or half a lookback shorter than 14 days) against the
// lookback's. A 7-day recent window holds a whole week, so weekday/weekend
// seasonality does not read as a level shift.
func DetectTrend(hourly []float64) Trend {
	days := len(hourly) / 24
	t := Trend{Direction: TrendUnknown, Action: ActionNone, RecentRatio: 1}
	if days < minTrendDays {
		return t
	}
	daily := make([]float64, days)
	off := len(hourly) - 24*days // a partial first day is left out
	for i := range daily {
		for _, s := range hourly[off+24*i : off+24*(i+1)] {
			daily[i] += s
		}
	}
	t.RecentDays = 7
	if days < 14 {
		t.RecentDays = days / 2
	}
	med := median(daily)
	if med <= 0 {
		t.Direction = TrendFlat
		return t
	}
	t.RecentRatio = median(daily[days-t.RecentDays:]) / med
	var slopes []float64
	s := 0.0
	for i := range daily {
		for j := i + 1; j < days; j++ {
			slopes = append(slopes, (daily[j]-daily[i])/float64(j-i))
			switch {
			case daily[j] > daily[i]:
				s++
			case daily[j] < daily[i]:
				s--
			}
		}
	}
	t.SlopePerDay = median(slopes) / med
	n := float64(days)
	if s != 0 { // continuity correction
		t.MannKendallZ = (s - math.Copysign(1, s)) / math.Sqrt(n*(n-1)*(2*n+5)/18)
	}
	// A steady trend is significant and moves usage at least levelShift
	// over a recent window: a one-off step scores a significant z with a
	// near-flat median slope, and is a level shift instead.
	steep := math.Abs(t.SlopePerDay)*float64(t.RecentDays) >= levelShift
	switch {
	case steep && t.MannKendallZ <= -mkCritical && t.RecentRatio < 1:
		t.Direction = TrendDeclining
	case steep && t.MannKendallZ >= mkCritical && t.RecentRatio > 1:
		t.Direction = TrendGrowing
	default:
		t.Direction = TrendFlat
	}
	return t
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// hourlyTotals is the on-demand spend of all buckets, hour by hour.
func hourlyTotals(b []optimize.Bucket) []float64 {
	out := make([]float64, 0)
	for _, x := range b {
		for h, s := range x.Spend {
			for len(out) <= h {
				out = append(out, 0)
			}
			out[h] += s
		}
	}
	return out
}

// tail keeps the last n hours of every bucket.
func tail(b []optimize.Bucket, n int) []optimize.Bucket {
	out := make([]optimize.Bucket, len(b))
	for i, x := range b {
		out[i] = x
		if len(x.Spend) > n {
			out[i].Spend = x.Spend[len(x.Spend)-n:]
		}
	}
	return out
}

// choice is a commitment and the usage its figures are computed on.
type choice struct {
	commitment float64
	on         []optimize.Bucket // the lookback, or its recent window when the trend moved the choice
	trend      Trend
}

// choose applies the trend policy to one group's buckets:
//
//   - steady decline (Mann–Kendall z ≤ −1.96, a slope worth 5% over the
//     recent window, recent days below the lookback): hold at the recent
//     window's floor, the spend every recent hour reached, capped by the
//     recent and the lookback optima;
//   - a level drop (recent median day 5% or more below the lookback's):
//     the smaller of the lookback and the recent optimum;
//   - steady growth (z ≥ 1.96, as steep, recent days above): the recent window's
//     optimum, which is observed usage; growth is never projected beyond it;
//   - otherwise, or with exact set, the exact optimum over the lookback.
//
// A moved choice is evaluated on the recent window, which is what the
// commitment will meet first.
func choose(b []optimize.Bucket, exact bool) choice {
	full := optimize.Optimal(b).Commitment
	ch := choice{commitment: full, on: b, trend: DetectTrend(hourlyTotals(b))}
	ch.trend.LookbackOptimum = full
	t := &ch.trend
	if exact || t.Direction == TrendUnknown {
		return ch
	}
	recentB := tail(b, 24*t.RecentDays)
	recent := optimize.Optimal(recentB).Commitment
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", 100*math.Abs(x)) }
	was := fmt.Sprintf("lookback optimum $%.4f/h", full)
	switch {
	case t.Direction == TrendDeclining:
		floor, _ := rulesOfThumb(recentB)
		ch.commitment = math.Min(floor, math.Min(recent, full))
		t.Action = ActionHold
		t.Why = fmt.Sprintf("usage declining %s a day (Theil–Sen; Mann–Kendall z=%.1f), last %d days' median day %s below the lookback's: holding at the last %d days' floor, $%.4f/h (%s); re-run when usage settles",
			pct(t.SlopePerDay), t.MannKendallZ, t.RecentDays, pct(1-t.RecentRatio), t.RecentDays, ch.commitment, was)
	case t.RecentRatio <= 1-levelShift:
		ch.commitment = math.Min(recent, full)
		t.Action = ActionShrink
		t.Why = fmt.Sprintf("last %d days' median day is %s below the lookback's (no steady trend): sized on the last %d days, $%.4f/h (%s)",
			t.RecentDays, pct(1-t.RecentRatio), t.RecentDays, ch.commitment, was)
	case t.Direction == TrendGrowing && recent > full:
		ch.commitment = recent
		t.Action = ActionGrow
		t.Why = fmt.Sprintf("usage growing %s a day (Theil–Sen; Mann–Kendall z=%.1f): sized on the last %d days, $%.4f/h (%s); no growth beyond what was observed",
			pct(t.SlopePerDay), t.MannKendallZ, t.RecentDays, ch.commitment, was)
	default:
		return ch
	}
	ch.on = recentB
	return ch
}
