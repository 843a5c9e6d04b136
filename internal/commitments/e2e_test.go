package commitments_test

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// TestEndToEnd generates a synthetic organization's CUR 2.0 export,
// ingests it into a cost store and checks what commitments reads from it
// against what the generator put in.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests two months of CUR")
	}
	t.Parallel()
	ctx := context.Background()
	out := t.TempDir()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: out, Seed: 7, Accounts: 3, Months: 2, Start: start, ResourcesPerAccount: 20})
	if err != nil {
		t.Fatal(err)
	}
	store, err := costs.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := ingest.Ingest(ctx, store, ingest.Options{Source: filepath.Join(out, "cur", "crossbill-cur2"), Tenant: "default"}); err != nil {
		t.Fatal(err)
	}
	db := store.DB()
	end, err := commitments.DataEnd(ctx, commitments.DB(db), "default")
	if err != nil {
		t.Fatal(err)
	}
	if want := start.AddDate(0, 2, 0); !end.Equal(want) {
		t.Fatalf("data ends %s, want %s", end, want)
	}
	month2 := commitments.Window{Tenant: "default", Start: start.AddDate(0, 1, 0), End: end}

	// Inventory: every generated commitment active in month 2, with its
	// terms and hourly commitment.
	inv, err := commitments.FromCUR(ctx, commitments.DB(db), month2)
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]commitments.Commitment{}
	for _, c := range inv {
		byARN[c.ARN] = c
	}
	for _, g := range gen.Commitments {
		if !g.End.After(month2.Start) || !g.Start.Before(month2.End) {
			continue
		}
		c, ok := byARN[g.ARN]
		if !ok {
			t.Errorf("generated %s %s missing from the CUR inventory", g.Type, g.ARN)
			continue
		}
		pay, _ := commitments.ParsePayment(g.Payment)
		wantTerm := 1.0
		if g.Term == "3yr" {
			wantTerm = 3
		}
		if c.Payment != pay || c.TermYears != wantTerm || math.Abs(c.HourlyCommitment-g.HourlyCommitment) > 0.01*g.HourlyCommitment+1e-6 {
			t.Errorf("%s: read %+v, generated %+v", g.ARN, c, g)
		}
		if g.Type == cur.CommitmentEC2SP && (c.Family != g.InstanceFamily || c.Region != g.Region) {
			t.Errorf("EC2 Instance SP scope: read %s/%s, generated %s/%s", c.Family, c.Region, g.InstanceFamily, g.Region)
		}
	}

	// Utilization: each plan used between 0 and 100%.
	rows, err := commitments.Utilization(ctx, commitments.DB(db), month2, commitments.Daily)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range commitments.Summarize(rows, func(r commitments.UtilizationRow) string { return r.ARN }) {
		if s.Utilization < 0 || s.Utilization > 1+1e-6 || s.Commitment <= 0 {
			t.Errorf("utilization of %s: %+v", s.Key, s)
		}
	}

	// Observed discounts are the generator's: 1 − its SP rate share per
	// class; on EC2 at most 1 − share (the Windows licence is not
	// discounted). Since issue 12 the shares follow rates.json's order (the
	// 1-year All Upfront plan gets at least 1-year No Upfront's discounts,
	// where it used to get 6% on Lambda and 16% on Fargate).
	rates, err := commitments.ObservedRates(ctx, commitments.DB(db), month2, 1)
	if err != nil {
		t.Fatal(err)
	}
	type shares struct{ ec2, lambda, fargate float64 }
	share := map[string]shares{"COMPUTE_SP/3/No Upfront": {0.66, 0.85, 0.55}, "EC2_INSTANCE_SP/3/Partial Upfront": {0.52, 1, 1},
		"COMPUTE_SP/1/All Upfront": {0.68, 0.88, 0.77}}
	for _, r := range rates {
		key := r.Type + "/" + strconv.Itoa(r.Term) + "/" + string(r.Payment)
		sh, ok := share[key]
		if !ok {
			continue
		}
		var want float64
		switch r.Class {
		case commitments.ClassLambda:
			want = 1 - sh.lambda
		case commitments.ClassFargate:
			want = 1 - sh.fargate
		default:
			if r.Discount <= 0 || r.Discount > 1-sh.ec2+1e-9 {
				t.Errorf("observed %s on %s: %.4f, want in (0, %.2f]", key, r.Class, r.Discount, 1-sh.ec2)
			}
			continue
		}
		if math.Abs(r.Discount-want) > 1e-6 {
			t.Errorf("observed %s on %s: %.4f, generated %.2f", key, r.Class, r.Discount, want)
		}
	}

	// Recommendations on month 2 are sensible: positive savings, used
	// mostly, and no more than the eligible on-demand spend could absorb.
	def, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := commitments.RecommendWith(ctx, commitments.DB(db), month2, def, commitments.Options{Terms: []int{1}, Payments: []commitments.Payment{commitments.NoUpfront}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == commitments.OptionComputeSP && r.HourlyCommitment > committed(gen.Commitments, month2) {
			t.Errorf("existing plans cover the base: a new Compute SP of %.2f $/h is not sensible", r.HourlyCommitment)
		}
	}

	// Sized from scratch (as if nothing were committed), the Compute SP is
	// of the order of the Savings Plans the generator bought at the 25th
	// to 30th percentile of usage.
	gross := month2
	gross.Gross = true
	recs, err = commitments.RecommendWith(ctx, commitments.DB(db), gross, def, commitments.Options{Types: []string{commitments.OptionComputeSP},
		Terms: []int{3}, Payments: []commitments.Payment{commitments.NoUpfront}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("gross Compute SP: %+v", recs)
	}
	compute := recs[0]
	existing := committed(gen.Commitments, month2)
	if ratio := compute.HourlyCommitment / existing; ratio < 0.5 || ratio > 2.5 {
		t.Errorf("from scratch: Compute SP %.2f $/h vs %.2f $/h of generated plans (ratio %.2f)", compute.HourlyCommitment, existing, ratio)
	}

	// Backtest from scratch: recommend on month 1, score on month 2.
	month1 := commitments.Window{Tenant: "default", Start: start, End: month2.Start, Gross: true}
	bt, err := commitments.Backtest(ctx, commitments.DB(db), month1, gross, def, commitments.OptionComputeSP, 1, commitments.NoUpfront)
	if err != nil {
		t.Fatal(err)
	}
	if bt.Efficiency < 0.8 || bt.Recommended.NetSavings < bt.Floor.NetSavings {
		t.Errorf("backtest: %+v", bt)
	}
	t.Logf("gross compute SP: %.2f $/h (generated plans %.2f $/h), %.0f $/month saved, utilization %.1f%%; backtest efficiency %.1f%% (floor rule %.0f, mean rule %.0f, crossbill %.0f, hindsight %.0f)",
		compute.HourlyCommitment, existing, compute.MonthlySavings, 100*compute.Utilization, 100*bt.Efficiency,
		bt.Floor.NetSavings, bt.Mean.NetSavings, bt.Recommended.NetSavings, bt.Hindsight.NetSavings)
}

const HoursPerMonthF = float64(commitments.HoursPerMonth)

// committed is the hourly commitment of the generated Savings Plans active
// through the window.
func committed(cs []cur.Commitment, w commitments.Window) float64 {
	total := 0.0
	for _, c := range cs {
		if (c.Type == cur.CommitmentComputeSP || c.Type == cur.CommitmentEC2SP) && !c.Start.After(w.Start) && !c.End.Before(w.End) {
			total += c.HourlyCommitment
		}
	}
	return total
}
