package commitments

import (
	"testing"
	"time"
)

// TestDailyView: rows of one day (several commitments, classes) add up,
// days come out in order, and the ratios are of the sums, not means of
// ratios.
func TestDailyView(t *testing.T) {
	d1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	rows := []UtilizationRow{
		{Period: d2, ARN: "a", Commitment: 10, Used: 10},
		{Period: d1, ARN: "a", Commitment: 10, Used: 5, Unused: 5, NetSavings: 1},
		{Period: d1, ARN: "b", Commitment: 30, Used: 30, NetSavings: 4},
	}
	cov := []CoverageRow{
		{Period: d2, Class: "ec2", Eligible: 10, CoveredBySP: 5},
		{Period: d1, Class: "ec2", Eligible: 10, CoveredBySP: 10},
		{Period: d1, Class: "rds", Eligible: 30, CoveredByRI: 0, OnDemand: 30},
	}
	v := dailyView(Window{Start: d1, End: d2.AddDate(0, 0, 1)}, rows, cov)
	if len(v.Daily) != 2 || !v.Daily[0].Period.Equal(d1) || v.Daily[0].Commitment != 40 || v.Daily[0].Used != 35 ||
		v.Daily[0].NetSavings != 5 || v.Daily[0].Utilization != 35.0/40 || v.Daily[1].Utilization != 1 {
		t.Errorf("daily: %+v", v.Daily)
	}
	if len(v.Coverage) != 2 || !v.Coverage[0].Period.Equal(d1) || v.Coverage[0].Eligible != 40 || v.Coverage[0].Coverage != 10.0/40 ||
		v.Coverage[0].OnDemand != 30 || v.CoverageTotal != 15.0/50 {
		t.Errorf("coverage: %+v total %v", v.Coverage, v.CoverageTotal)
	}
	if len(v.ByCommitment) != 2 || v.Total.Commitment != 50 {
		t.Errorf("summaries: %+v total %+v", v.ByCommitment, v.Total)
	}
}
