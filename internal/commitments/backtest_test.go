package commitments_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

func TestBacktestOnFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newCUR(t)
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	w := fixtureWindow()
	mid := w.Start.Add(7 * 24 * time.Hour)
	train, test := w, w
	train.End, test.Start = mid, mid
	res, err := commitments.Backtest(ctx, commitments.DB(db), train, test, rates, commitments.OptionEC2InstanceSP, 1, commitments.NoUpfront)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture repeats every day: last week's optimum is this week's.
	if math.Abs(res.Efficiency-1) > 1e-9 || res.Recommended.NetSavings <= res.Floor.NetSavings || res.Recommended.NetSavings < res.Mean.NetSavings {
		t.Errorf("backtest %+v", res)
	}
}

func TestBacktestWhenUsageDrops(t *testing.T) {
	t.Parallel()
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	train := commitments.Window{Start: start, End: start.Add(24 * 7 * time.Hour)}
	test := commitments.Window{Start: train.End, End: train.End.Add(24 * 7 * time.Hour)}
	series := func(level float64, hours int) []float64 {
		s := make([]float64, hours)
		for h := range s {
			s[h] = level + 5*math.Sin(2*math.Pi*float64(h%24)/24)
		}
		return s
	}
	u := func(level float64) []commitments.Usage {
		return []commitments.Usage{{Class: "ec2", InstanceType: "c5.xlarge", Family: "c5", Region: "eu-west-1", Spend: series(level, 168), Units: series(level, 168)},
			// Fargate disappears in the test week: a commitment sized for it
			// is partly wasted.
			{Class: "fargate", Region: "eu-west-1", Spend: series(level/2, 168), Units: series(level/2, 168)}}
	}
	testUsage := u(20)[:1]
	res, err := commitments.BacktestFrom(u(20), testUsage, train, test, rates, commitments.OptionComputeSP, 1, commitments.NoUpfront)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recommended.NetSavings >= res.Hindsight.NetSavings || res.Recommended.Utilization >= 1 || res.Hindsight.Utilization > 1+1e-9 {
		t.Errorf("usage fell: recommended %+v must trail hindsight %+v", res.Recommended, res.Hindsight)
	}
	if res.Floor.Utilization < res.Recommended.Utilization {
		t.Errorf("the floor rule commits less and is used more: floor %+v, recommended %+v", res.Floor, res.Recommended)
	}
	_, err = commitments.BacktestFrom(u(20), testUsage, train, test, rates, "NOPE", 1, commitments.NoUpfront)
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("unknown type: %v", err)
	}
}

func TestSimulate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newCUR(t)
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	w := fixtureWindow()
	r, err := commitments.Simulate(ctx, commitments.DB(db), w, rates, commitments.OptionEC2InstanceSP, 1, commitments.NoUpfront, "m5/us-east-1", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// $0.50/h at 36% off covers $0.78/h, always below the 10-instance floor ($0.96/h).
	if !near(r.Utilization, 1) || !near(r.MonthlySavings, (0.5/0.64-0.5)*730) {
		t.Errorf("simulate: %+v", r)
	}
	tests := []struct {
		typ, key string
		c        float64
		code     crossbill.Code
	}{
		{commitments.OptionEC2InstanceSP, "", 1, crossbill.CodeInvalid},
		{commitments.OptionEC2InstanceSP, "z9/mars-1", 1, crossbill.CodeNotFound},
		{commitments.OptionComputeSP, "", -1, crossbill.CodeInvalid},
		{commitments.OptionComputeSP, "", math.NaN(), crossbill.CodeInvalid},
		{commitments.OptionComputeSP, "", 1e308, crossbill.CodeInvalid}, // savings would overflow to +Inf
		{"BOGUS", "", 1, crossbill.CodeInvalid},
	}
	for _, tt := range tests {
		if _, err := commitments.Simulate(ctx, commitments.DB(db), w, rates, tt.typ, 1, commitments.NoUpfront, tt.key, tt.c); crossbill.ErrorCode(err) != tt.code {
			t.Errorf("%s %q %v: %v, want %s", tt.typ, tt.key, tt.c, err, tt.code)
		}
	}
}
