package optimize_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/crossbill/crossbill/internal/commitments/optimize"
)

// shapes generate real-shaped hourly spend series (dollars per hour).
var shapes = map[string]func(r *rand.Rand, hours int) []float64{
	"flat": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(int) float64 { return 10 + r.Float64() })
	},
	"random": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(int) float64 { return r.Float64() * 20 })
	},
	"diurnal": func(r *rand.Rand, n int) []float64 {
		base, amp := 5+r.Float64()*20, 2+r.Float64()*10
		return fill(n, func(h int) float64 {
			return base + amp*math.Sin(2*math.Pi*float64(h%24)/24) + r.NormFloat64()
		})
	},
	"weekly": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(h int) float64 {
			v := 30 + 10*math.Sin(2*math.Pi*float64(h%24)/24)
			if d := (h / 24) % 7; d >= 5 {
				v *= 0.4
			}
			return v + r.NormFloat64()*2
		})
	},
	"spiky": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(int) float64 {
			if r.Float64() < 0.05 {
				return 50 + r.Float64()*200
			}
			return 8 + r.Float64()*2
		})
	},
	"growth": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(h int) float64 { return 5 + 20*float64(h)/float64(n) + r.NormFloat64() })
	},
	"drop": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(h int) float64 {
			if h > n*2/3 {
				return 2 + r.Float64()
			}
			return 15 + r.Float64()*3
		})
	},
	"sparse": func(r *rand.Rand, n int) []float64 {
		return fill(n, func(int) float64 {
			if r.Float64() < 0.8 {
				return 0
			}
			return r.Float64() * 40
		})
	},
}

func fill(n int, f func(h int) float64) []float64 {
	s := make([]float64, n)
	for h := range s {
		s[h] = math.Max(0, f(h))
	}
	return s
}

// gridOptimum is the exhaustive search the optimizer is checked against: a
// coarse grid over every commitment that could matter, then a fine grid
// around the best coarse point.
func gridOptimum(buckets []optimize.Bucket) float64 {
	upper := 0.0 // the commitment that covers the busiest hour entirely
	for h := range buckets[0].Spend {
		need := 0.0
		for _, b := range buckets {
			need += (1 - b.Discount) * b.Spend[h]
		}
		upper = math.Max(upper, need)
	}
	const n = 1000
	best, bestC := math.Inf(-1), 0.0
	for i := 0; i <= n; i++ {
		c := upper * float64(i) / n
		if s := naiveSavings(buckets, c); s > best {
			best, bestC = s, c
		}
	}
	// Fine grid: ±2 coarse steps at 1/100 of a step.
	step := upper / n
	for i := -200; i <= 200; i++ {
		c := bestC + step*float64(i)/100
		if c < 0 {
			continue
		}
		if s := naiveSavings(buckets, c); s > best {
			best = s
		}
	}
	return best
}

// naiveSavings recomputes net savings from first principles, independently
// of Evaluate: each hour, pick the best-discount bucket with spend left, buy
// as much of it as the remaining commitment allows.
func naiveSavings(buckets []optimize.Bucket, c float64) float64 {
	total := 0.0
	left := make([]float64, len(buckets))
	for h := range buckets[0].Spend {
		for i, b := range buckets {
			left[i] = b.Spend[h]
		}
		budget := c
		for budget > 1e-12 {
			best := -1
			for i, b := range buckets {
				if left[i] > 0 && (best < 0 || b.Discount > buckets[best].Discount) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			rate := 1 - buckets[best].Discount
			cover := math.Min(left[best], budget/rate)
			total += cover
			left[best] -= cover
			budget -= cover * rate
		}
		total -= c
	}
	return total
}

func TestOptimalMatchesExhaustiveSearch(t *testing.T) {
	t.Parallel()
	names := make([]string, 0, len(shapes))
	for name := range shapes {
		names = append(names, name)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 120; i++ {
		k := 1 + r.IntN(3)
		buckets := make([]optimize.Bucket, k)
		label := ""
		for j := range buckets {
			name := names[r.IntN(len(names))]
			label += name + "+"
			buckets[j] = optimize.Bucket{Key: name, Discount: 0.05 + 0.7*r.Float64(), Spend: shapes[name](r, 24*14)}
		}
		t.Run(fmt.Sprintf("%03d_%s", i, label), func(t *testing.T) {
			got := optimize.Optimal(buckets)
			grid := gridOptimum(buckets)
			naive := naiveSavings(buckets, got.Commitment)
			if math.Abs(naive-got.NetSavings) > 1e-6*math.Max(1, math.Abs(naive)) {
				t.Fatalf("Evaluate says %.6f, first principles %.6f at c=%.6f", got.NetSavings, naive, got.Commitment)
			}
			// Exact optimum: never beaten by the grid, and within 0.1% of it.
			if grid > got.NetSavings+1e-6*math.Max(1, math.Abs(grid)) {
				t.Fatalf("grid found %.6f > optimizer %.6f (c=%.4f)", grid, got.NetSavings, got.Commitment)
			}
			if got.NetSavings-grid > 0.001*math.Max(math.Abs(grid), 1e-3) {
				t.Fatalf("optimizer %.6f differs from exhaustive %.6f by more than 0.1%%", got.NetSavings, grid)
			}
		})
	}
}

func TestQuantileRule(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for name, shape := range shapes {
		for _, d := range []float64{0.1, 0.27, 0.5, 0.72} {
			t.Run(fmt.Sprintf("%s/d=%.2f", name, d), func(t *testing.T) {
				spend := shape(r, 24*30)
				got := optimize.Optimal([]optimize.Bucket{{Discount: d, Spend: spend}})
				want := (1 - d) * optimize.Quantile(spend, d)
				if math.Abs(got.Commitment-want) > 1e-9*math.Max(1, want) {
					t.Fatalf("commitment %.6f, want (1-d)·q_d = %.6f", got.Commitment, want)
				}
			})
		}
	}
}

func TestQuantileRuleSmall(t *testing.T) {
	t.Parallel()
	// Ten hours of 1..10 $/h at 30% off: cover up to the 3rd-smallest hour.
	spend := []float64{7, 1, 9, 3, 2, 10, 4, 8, 6, 5}
	tests := []struct {
		d          float64
		wantOD     float64 // commitment in on-demand dollars
		wantSaving float64
	}{
		{0.3, 3, 1 + 2 + 3*8 - 0.7*3*10},
		{0.05, 1, 10 - 0.95*10},
		{0.9, 9, 36 + 9 + 9 - 0.1*9*10},
	}
	for _, tt := range tests {
		got := optimize.Optimal([]optimize.Bucket{{Discount: tt.d, Spend: spend}})
		if math.Abs(got.Commitment/(1-tt.d)-tt.wantOD) > 1e-9 || math.Abs(got.NetSavings-tt.wantSaving) > 1e-9 {
			t.Errorf("d=%v: covers %.4f OD$/h saving %.4f; want %.4f saving %.4f",
				tt.d, got.Commitment/(1-tt.d), got.NetSavings, tt.wantOD, tt.wantSaving)
		}
	}
	if got := optimize.Optimal([]optimize.Bucket{{Discount: 0.3, Spend: make([]float64, 5)}}); got.Commitment != 0 {
		t.Errorf("no usage: commitment %v, want 0", got.Commitment)
	}
}

func TestApplicationOrder(t *testing.T) {
	t.Parallel()
	// One hour, two buckets of $10 on-demand each: m5 at 40% off, lambda at
	// 10% off. A $6/h commitment covers m5 entirely (costs 6) and nothing
	// of lambda; $10.5/h covers m5 then 5 of lambda (4.5/0.9).
	buckets := []optimize.Bucket{
		{Key: "lambda", Discount: 0.10, Spend: []float64{10}},
		{Key: "m5", Discount: 0.40, Spend: []float64{10}},
	}
	tests := []struct {
		c, covered, used float64
	}{
		{3, 5, 3},
		{6, 10, 6},
		{10.5, 15, 10.5},
		{20, 20, 15},
	}
	for _, tt := range tests {
		got := optimize.Evaluate(buckets, tt.c)
		if math.Abs(got.Covered-tt.covered) > 1e-9 || math.Abs(got.Used-tt.used) > 1e-9 {
			t.Errorf("c=%v: covered %v used %v; want %v and %v", tt.c, got.Covered, got.Used, tt.covered, tt.used)
		}
		if want := tt.covered - tt.c; math.Abs(got.NetSavings-want) > 1e-9 {
			t.Errorf("c=%v: net savings %v, want %v", tt.c, got.NetSavings, want)
		}
	}
	// The optimum stops where the cheap usage would cost more than it saves:
	// covering lambda at 0.9 per dollar in the only hour pays (slope 1/0.9 > 1),
	// so everything is covered: c = 6 + 9 = 15.
	if got := optimize.Optimal(buckets); math.Abs(got.Commitment-15) > 1e-9 {
		t.Errorf("optimal %v, want 15", got.Commitment)
	}
}

func BenchmarkOptimal60Days(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	buckets := make([]optimize.Bucket, 40)
	for i := range buckets {
		buckets[i] = optimize.Bucket{Discount: 0.1 + 0.5*r.Float64(), Spend: shapes["diurnal"](r, 24*60)}
	}
	b.ResetTimer()
	for b.Loop() {
		optimize.Optimal(buckets)
	}
}
