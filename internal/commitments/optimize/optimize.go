// Package optimize chooses the Savings Plan or reservation commitment that
// maximizes net savings over an hourly usage history; it is pure arithmetic,
// with no AWS SDK or database imports, so it tests fast and alone.
//
// # The model
//
// Usage is given as buckets: a bucket is a slice of eligible usage (say EC2
// m5 in us-east-1) with its on-demand-equivalent spend s_{k,h} in dollars for
// every hour h of the lookback, and the discount d_k (0 < d_k < 1) that the
// commitment gets on it: covering u dollars of its on-demand spend consumes
// (1 − d_k)·u dollars of commitment.
//
// A commitment is c dollars per hour at commitment rates, paid every hour
// whether used or not. In each hour AWS applies it to the eligible usage with
// the highest discount first (Savings Plans: "to the usage with the highest
// savings percentage first"; reservations are applied before Savings Plans,
// so the buckets a plan sees are already net of them). With buckets sorted by
// decreasing discount and B_{h,k} = Σ_{j≤k} (1 − d_j)·s_{j,h} the commitment
// needed to cover buckets 1..k fully in hour h, the on-demand spend covered in
// hour h is the piecewise-linear function
//
//	V_h(c) = Σ_{j<k} s_{j,h} + (c − B_{h,k−1})/(1 − d_k)   for B_{h,k−1} ≤ c ≤ B_{h,k}
//	V_h(c) = Σ_j s_{j,h}                                   for c ≥ B_{h,K}
//
// and the net savings over H hours versus paying on-demand are
//
//	N(c) = Σ_h V_h(c) − H·c.
//
// V_h has slope 1/(1 − d_k) on its k-th segment; the slopes fall as k grows
// (discounts are sorted) and drop to 0 past B_{h,K}, so V_h, and N, are
// concave. N'(c) = Σ_h V_h'(c) − H, so the optimum is the smallest c where the
// summed slope falls to H or below. Only the H·K breakpoints B_{h,k} can be
// that point: Optimal sorts them and sweeps once, which finds the exact
// maximizer in O(HK log HK).
//
// # The quantile rule
//
// With one bucket (one discount d), V_h(c) = min(c/(1 − d), s_h). Writing
// x = c/(1 − d) for the commitment in on-demand dollars,
//
//	N = Σ_h min(x, s_h) − H·(1 − d)·x,    N'(x) = #{h : s_h > x} − (1 − d)·H,
//
// so the best x leaves a fraction (1 − d) of the hours above it: x is the
// d-quantile of the hourly spend (the newsvendor rule). With d = 0.3, cover
// up to the 30th percentile hour; deep discounts justify covering peaks.
package optimize

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// Bucket is one slice of usage a commitment can cover.
type Bucket struct {
	// Key names the slice, e.g. "AmazonEC2/m5/us-east-1".
	Key string `json:"key"`
	// Discount is the fraction off on-demand the commitment gives on this
	// usage, in (0, 1).
	Discount float64 `json:"discount"`
	// Spend is the on-demand-equivalent spend in dollars of each hour.
	Spend []float64 `json:"-"`
}

// Result is what a commitment does over the buckets' hours.
type Result struct {
	// Commitment is the hourly commitment in dollars at commitment rates.
	Commitment float64 `json:"commitment_per_hour"`
	// Hours is the length of the series.
	Hours int `json:"hours"`
	// Eligible is the on-demand-equivalent spend the commitment could cover.
	Eligible float64 `json:"eligible_spend"`
	// Covered is the on-demand-equivalent spend it covered.
	Covered float64 `json:"covered_spend"`
	// Used is the commitment dollars consumed (≤ Commitment·Hours).
	Used float64 `json:"used_commitment"`
	// NetSavings is Covered − Commitment·Hours: what the commitment saves
	// over paying on-demand for the same usage (negative if it loses money).
	NetSavings float64 `json:"net_savings"`
}

// Utilization is the share of the commitment that was used.
func (r Result) Utilization() float64 {
	if r.Commitment <= 0 || r.Hours == 0 {
		return 0
	}
	return r.Used / (r.Commitment * float64(r.Hours))
}

// Coverage is the share of eligible spend the commitment covered.
func (r Result) Coverage() float64 {
	if r.Eligible <= 0 {
		return 0
	}
	return r.Covered / r.Eligible
}

// sortedBuckets returns the buckets with usable discounts, highest first:
// the order in which AWS applies a commitment within an hour. Buckets with
// the same discount are summed: within an hour it does not matter which of
// them a dollar of commitment covers, and fewer buckets mean fewer
// breakpoints to sort.
func sortedBuckets(buckets []Bucket) []Bucket {
	byDiscount := map[float64]int{}
	out := make([]Bucket, 0, len(buckets))
	H := hours(buckets)
	for _, b := range buckets {
		if !(b.Discount > 0 && b.Discount < 1) {
			continue
		}
		i, ok := byDiscount[b.Discount]
		if !ok {
			i = len(out)
			byDiscount[b.Discount] = i
			out = append(out, Bucket{Key: b.Key, Discount: b.Discount, Spend: make([]float64, H)})
		}
		for h, s := range b.Spend {
			if s > 0 {
				out[i].Spend[h] += s
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Discount > out[j].Discount })
	return out
}

// hours is the length of the longest series.
func hours(buckets []Bucket) int {
	n := 0
	for _, b := range buckets {
		n = max(n, len(b.Spend))
	}
	return n
}

func spendAt(b Bucket, h int) float64 {
	if h < len(b.Spend) && b.Spend[h] > 0 {
		return b.Spend[h]
	}
	return 0
}

// Evaluate applies the hourly commitment c to the buckets hour by hour,
// highest discount first, and reports what it covers and saves. Buckets
// whose discount is outside (0, 1) are not eligible.
func Evaluate(buckets []Bucket, c float64) Result {
	bs := sortedBuckets(buckets)
	H := hours(buckets)
	c = math.Max(c, 0)
	r := Result{Commitment: c, Hours: H}
	for h := 0; h < H; h++ {
		left := c
		for _, b := range bs {
			s := spendAt(b, h)
			r.Eligible += s
			if left <= 0 || s == 0 {
				continue
			}
			cost := (1 - b.Discount) * s
			if cost <= left {
				left -= cost
				r.Covered += s
				r.Used += cost
				continue
			}
			r.Covered += left / (1 - b.Discount)
			r.Used += left
			left = 0
		}
	}
	r.NetSavings = r.Covered - c*float64(H)
	return r
}

// breakpoint is where one hour's coverage slope drops by delta.
type breakpoint struct {
	at, delta float64
}

// Optimal returns the hourly commitment that maximizes net savings over the
// buckets' history (the smallest such commitment when several tie), found
// exactly by the breakpoint sweep described in the package comment.
func Optimal(buckets []Bucket) Result {
	bs := sortedBuckets(buckets)
	H := hours(buckets)
	if H == 0 || len(bs) == 0 {
		return Evaluate(buckets, 0)
	}
	points := make([]breakpoint, 0, H*len(bs))
	slope := -float64(H) // N'(0+) = Σ_h V_h'(0+) − H
	for h := 0; h < H; h++ {
		level := 0.0
		prev := 0.0 // the slope of V_h on the previous segment
		for _, b := range bs {
			s := spendAt(b, h)
			if s == 0 {
				continue
			}
			k := 1 / (1 - b.Discount)
			if prev == 0 {
				slope += k // the first non-empty segment starts at c = 0
			} else {
				points = append(points, breakpoint{at: level, delta: prev - k})
			}
			level += (1 - b.Discount) * s
			prev = k
		}
		if prev != 0 {
			points = append(points, breakpoint{at: level, delta: prev})
		}
	}
	if slope <= 0 {
		return Evaluate(buckets, 0)
	}
	slices.SortFunc(points, func(a, b breakpoint) int { return cmp.Compare(a.at, b.at) })
	best := 0.0
	for _, p := range points {
		slope -= p.delta
		if slope <= 1e-9*float64(H) {
			best = p.at
			break
		}
	}
	return Evaluate(buckets, best)
}

// Quantile returns the smallest spend value x of the series such that at
// most a fraction 1 − q of the hours exceed it: the q-quantile the
// single-discount optimum covers up to (in on-demand dollars).
func Quantile(spend []float64, q float64) float64 {
	if len(spend) == 0 {
		return 0
	}
	s := append([]float64(nil), spend...)
	sort.Float64s(s)
	j := int(math.Ceil(q*float64(len(s)) - 1e-9))
	if j < 1 {
		j = 1
	}
	if j > len(s) {
		j = len(s)
	}
	return s[j-1]
}

// Scale returns the buckets with every hour's spend multiplied by f, for
// "what if usage drops 20%" questions.
func Scale(buckets []Bucket, f float64) []Bucket {
	out := make([]Bucket, len(buckets))
	for i, b := range buckets {
		out[i] = b
		out[i].Spend = make([]float64, len(b.Spend))
		for h, s := range b.Spend {
			out[i].Spend[h] = s * f
		}
	}
	return out
}
