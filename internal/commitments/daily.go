package commitments

import (
	"context"
	"sort"
	"time"
)

// DayUse is one day's commitment use, all commitments together.
type DayUse struct {
	Period      time.Time `json:"period"`
	Commitment  float64   `json:"commitment"`
	Used        float64   `json:"used"`
	Unused      float64   `json:"unused"`
	Utilization float64   `json:"utilization"`
	NetSavings  float64   `json:"net_savings"`
}

// DayCoverage is one day's coverage of eligible usage, all accounts together.
type DayCoverage struct {
	Period      time.Time `json:"period"`
	OnDemand    float64   `json:"on_demand"`
	CoveredBySP float64   `json:"covered_by_savings_plans"`
	CoveredByRI float64   `json:"covered_by_reservations"`
	Eligible    float64   `json:"eligible"`
	Coverage    float64   `json:"coverage"`
}

// UtilizationView is the window's daily utilization and coverage.
type UtilizationView struct {
	From          time.Time     `json:"from"`
	To            time.Time     `json:"to"`
	Daily         []DayUse      `json:"daily"`
	Total         Summary       `json:"total"`
	ByCommitment  []Summary     `json:"by_commitment"`
	Coverage      []DayCoverage `json:"coverage"`
	CoverageTotal float64       `json:"coverage_total"`
}

// DailyUtilization rolls the window's commitment utilization and coverage
// up to days (all commitments and accounts together), with the totals and
// the per-commitment summaries: the utilization page's view.
func DailyUtilization(ctx context.Context, r Reader, win Window) (UtilizationView, error) {
	rows, err := Utilization(ctx, r, win, Daily)
	if err != nil {
		return UtilizationView{}, err
	}
	cov, err := Coverage(ctx, r, win, Daily, false)
	if err != nil {
		return UtilizationView{}, err
	}
	return dailyView(win, rows, cov), nil
}

// dailyView sums the rows of each day.
func dailyView(win Window, rows []UtilizationRow, cov []CoverageRow) UtilizationView {
	v := UtilizationView{From: win.Start, To: win.End, Daily: []DayUse{}, Coverage: []DayCoverage{}}
	days := map[time.Time]*DayUse{}
	for _, row := range rows {
		d := days[row.Period]
		if d == nil {
			d = &DayUse{Period: row.Period}
			days[row.Period] = d
		}
		d.Commitment += row.Commitment
		d.Used += row.Used
		d.Unused += row.Unused
		d.NetSavings += row.NetSavings
	}
	for _, d := range days {
		if d.Commitment > 0 {
			d.Utilization = d.Used / d.Commitment
		}
		v.Daily = append(v.Daily, *d)
	}
	sort.Slice(v.Daily, func(i, j int) bool { return v.Daily[i].Period.Before(v.Daily[j].Period) })
	v.ByCommitment = Summarize(rows, func(u UtilizationRow) string { return u.ARN })
	if all := Summarize(rows, func(UtilizationRow) string { return "all" }); len(all) == 1 {
		v.Total = all[0]
	}
	cdays := map[time.Time]*DayCoverage{}
	var covered, eligible float64
	for _, c := range cov {
		d := cdays[c.Period]
		if d == nil {
			d = &DayCoverage{Period: c.Period}
			cdays[c.Period] = d
		}
		d.OnDemand += c.OnDemand
		d.CoveredBySP += c.CoveredBySP
		d.CoveredByRI += c.CoveredByRI
		d.Eligible += c.Eligible
		covered += c.CoveredBySP + c.CoveredByRI
		eligible += c.Eligible
	}
	for _, d := range cdays {
		if d.Eligible > 0 {
			d.Coverage = (d.CoveredBySP + d.CoveredByRI) / d.Eligible
		}
		v.Coverage = append(v.Coverage, *d)
	}
	sort.Slice(v.Coverage, func(i, j int) bool { return v.Coverage[i].Period.Before(v.Coverage[j].Period) })
	if eligible > 0 {
		v.CoverageTotal = covered / eligible
	}
	return v
}
