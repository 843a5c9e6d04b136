package commitments_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/commitments/optimize"
)

func fixtureWindow() commitments.Window { return commitmentstest.Window() }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestFromCUR(t *testing.T) {
	t.Parallel()
	db := newCUR(t)
	cs, err := commitments.FromCUR(context.Background(), commitments.DB(db), fixtureWindow())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("got %d commitments, want 2: %+v", len(cs), cs)
	}
	ri, sp := cs[0], cs[1] // ordered by ARN: arn:aws:rds < arn:aws:savingsplans
	if sp.ARN != spARN || sp.Type != commitments.TypeComputeSP || sp.TermYears != 1 || sp.Payment != commitments.NoUpfront ||
		!near(sp.HourlyCommitment, spCommitment) || sp.Account != "111111111111" || sp.End != time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC) || sp.ID != "sp-1" {
		t.Errorf("savings plan: %+v", sp)
	}
	if ri.ARN != riARN || ri.Type != commitments.TypeRDSRI || ri.InstanceType != "db.r6g.xlarge" || ri.Family != "r6g" || ri.Count != 1 || !near(ri.HourlyCommitment, riRate) ||
		ri.Region != "us-east-1" || ri.Account != "222222222222" || ri.End != time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("reservation: %+v", ri)
	}
	// Expirations from 2026-01-15: the plan ends within 30 days, the RI within 60.
	now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	exp := commitments.Expirations(cs, now)
	if exp[0].Count != 1 || exp[1].Count != 2 || exp[2].Count != 2 || !near(exp[0].HourlyLost, spCommitment) {
		t.Errorf("expirations: %+v", exp)
	}
}

func TestUtilization(t *testing.T) {
	t.Parallel()
	db := newCUR(t)
	for _, g := range []commitments.Granularity{commitments.Hourly, commitments.Daily} {
		rows, err := commitments.Utilization(context.Background(), commitments.DB(db), fixtureWindow(), g)
		if err != nil {
			t.Fatal(err)
		}
		want := fixtureHours * 2
		if g == commitments.Daily {
			want = fixtureHours / 24 * 2
		}
		if len(rows) != want {
			t.Fatalf("%s: %d rows, want %d", g, len(rows), want)
		}
		per := commitments.Summarize(rows, func(r commitments.UtilizationRow) string { return r.ARN })
		byARN := map[string]commitments.Summary{}
		for _, s := range per {
			byARN[s.Key] = s
		}
		sp, ri := byARN[spARN], byARN[riARN]
		if !near(sp.Utilization, spUsed/spCommitment) || !near(sp.Unused, (spCommitment-spUsed)*fixtureHours) ||
			!near(sp.NetSavings, (1.25-spCommitment)*fixtureHours) {
			t.Errorf("%s: savings plan %+v", g, sp)
		}
		if !near(ri.Utilization, riUsedPercent) || !near(ri.Commitment, riRate*fixtureHours) ||
			!near(ri.NetSavings, rdsRate*fixtureHours*riUsedPercent-riRate*fixtureHours) {
			t.Errorf("%s: reservation %+v", g, ri)
		}
		perAccount := commitments.Summarize(rows, func(r commitments.UtilizationRow) string { return string(r.Account) })
		if len(perAccount) != 2 {
			t.Errorf("%s: per account %+v", g, perAccount)
		}
	}
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	db := newCUR(t)
	rows, err := commitments.Coverage(context.Background(), commitments.DB(db), fixtureWindow(), commitments.Daily, false)
	if err != nil {
		t.Fatal(err)
	}
	byClass := map[string]commitments.CoverageRow{}
	for _, r := range rows {
		if r.Period.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
			byClass[r.Class] = r
		}
	}
	rds := byClass["rds"]
	if !near(rds.CoveredByRI, rdsRate*18) || !near(rds.OnDemand, 3*rdsRate*24) || !near(rds.Coverage, rdsRate*18/(rdsRate*18+3*rdsRate*24)) {
		t.Errorf("rds: %+v", rds)
	}
	if ec2 := byClass["ec2"]; !near(ec2.CoveredBySP, 1.25*24) || ec2.CoveredByRI != 0 || ec2.OnDemand < 10*m5Rate*24 {
		t.Errorf("ec2: %+v (Spot must be excluded)", ec2)
	}
	if l := byClass["lambda"]; !near(l.OnDemand, 0.5*24) {
		t.Errorf("lambda: %+v (requests are not eligible)", l)
	}
	perAccount, err := commitments.Coverage(context.Background(), commitments.DB(db), fixtureWindow(), commitments.Hourly, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range perAccount {
		if r.Account == "999999999999" {
			t.Fatalf("another tenant's account leaked: %+v", r)
		}
	}
}

func TestObservedRates(t *testing.T) {
	t.Parallel()
	rates, err := commitments.ObservedRates(context.Background(), commitments.DB(newCUR(t)), fixtureWindow(), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range rates {
		got[r.Type+"/"+r.Class] = r.Discount
	}
	if !near(got["COMPUTE_SP/ec2"], spDiscount) || !near(got["RDS_RI/rds"], 1-riRate/rdsRate) || len(got) != 2 {
		t.Errorf("observed rates %v", got)
	}
}

func TestRecommendFromFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newCUR(t)
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := commitments.RecommendWith(ctx, commitments.DB(db), fixtureWindow(), rates, commitments.Options{
		Types: []string{commitments.OptionEC2InstanceSP, commitments.OptionRDSRI, commitments.OptionComputeSP},
		Terms: []int{1}, Payments: []commitments.Payment{commitments.NoUpfront, commitments.AllUpfront}, Ladder: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	usage, err := commitments.EligibleUsage(ctx, commitments.DB(db), fixtureWindow())
	if err != nil {
		t.Fatal(err)
	}
	var m5 []float64
	for _, u := range usage {
		if u.InstanceType == "m5.large" {
			m5 = u.Spend
		}
	}
	found := map[string]commitments.Recommendation{}
	for _, r := range recs {
		found[r.Type+"/"+string(r.Payment)] = r
	}
	ec2, ok := found["EC2_INSTANCE_SP/No Upfront"]
	d, _ := rates.Lookup(commitments.OptionEC2InstanceSP, "ec2", 1, commitments.NoUpfront)
	if !ok || ec2.Key != "m5/us-east-1" || !near(ec2.HourlyCommitment, (1-d.Discount)*optimize.Quantile(m5, d.Discount)) {
		t.Fatalf("EC2 Instance SP: %+v (m5 quantile rule)", ec2)
	}
	if ec2.BreakEvenMonth != 1 || ec2.Upfront != 0 || ec2.MonthlySavings <= 0 || len(ec2.Scenarios) != 3 || len(ec2.Ladder) != 3 {
		t.Errorf("EC2 Instance SP figures: %+v", ec2)
	}
	if s := ec2.Scenarios; !(s[0].MonthlySavings < ec2.MonthlySavings && s[2].MonthlySavings < s[0].MonthlySavings) {
		t.Errorf("savings must fall as usage drops: %+v", s)
	}
	au := found["EC2_INSTANCE_SP/All Upfront"]
	if !near(au.Upfront, au.HourlyCommitment*8760) || au.BreakEvenMonth < 2 || au.BreakEvenMonth > 12 {
		t.Errorf("All Upfront: upfront %v for %v/h, break-even month %d", au.Upfront, au.HourlyCommitment, au.BreakEvenMonth)
	}
	if rds := found["RDS_RI/No Upfront"]; rds.Count != 3 || rds.InstanceType != "db.r6g.xlarge" || !near(rds.Utilization, 1) {
		t.Errorf("RDS RI: %+v; want 3 steady instances reserved", rds)
	}
	if c := found["COMPUTE_SP/No Upfront"]; c.HourlyCommitment <= ec2.HourlyCommitment*0.5 || c.Coverage <= 0 {
		t.Errorf("Compute SP: %+v", c)
	}
}

func TestMissingMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newCUR(t)
	rates, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	w := fixtureWindow()
	w.Start = w.Start.AddDate(0, -2, 0) // 60-day lookback reaching into November
	if _, err := commitments.RecommendWith(ctx, commitments.DB(db), w, rates, commitments.Options{}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("lookback beyond the data: %v, want NotFound", err)
	}
	w = fixtureWindow()
	w.Tenant = "nobody"
	if _, err := commitments.RecommendWith(ctx, commitments.DB(db), w, rates, commitments.Options{}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("unknown tenant: %v, want NotFound", err)
	}
	if _, err := commitments.RecommendWith(ctx, commitments.DB(db), fixtureWindow(), rates, commitments.Options{Types: []string{"SPOT_SP"}}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("bad type: %v, want Invalid", err)
	}
}
