package costs

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/crossbill/crossbill"
)

// AnomalyOptions tunes anomaly detection. Zero values take the defaults.
type AnomalyOptions struct {
	Tenant   crossbill.TenantID
	Metric   string // default amortized
	Dims     []Dim  // default service and account
	From, To time.Time
	// Window is how many preceding days form a day's baseline (default 14).
	Window int
	// Threshold is the robust z-score to flag (default 3.5).
	Threshold float64
	// MinDelta is the smallest absolute change worth flagging, in the
	// metric's unit (default 10).
	MinDelta float64
	Filters  []Filter
}

// Source answers the cost queries the analyses below ask (month over
// month, forecast, anomalies): *Store, or the tenant's other query engine
// (Amazon Athena over the CUR in place, internal/costs/athena), so that
// every engine's analyses are computed alike from its own answers.
type Source interface {
	Query(ctx context.Context, q Query) (Result, error)
	// LatestDay is the last day with cost data (NotFound when none).
	LatestDay(ctx context.Context, tenant crossbill.TenantID) (time.Time, error)
}

// ExplorerForecaster holds Cost Explorer's own forecasts (*Store, after a
// Cost Explorer load).
type ExplorerForecaster interface {
	ExplorerForecasts(ctx context.Context, tenant crossbill.TenantID, connection crossbill.ConnectionID) ([]ExplorerForecast, error)
}

// Anomaly is one day of one group whose cost left its usual range.
type Anomaly struct {
	Day       string  `json:"day"`
	Dim       string  `json:"dim"`
	Group     string  `json:"group"`
	Value     float64 `json:"value"`
	Baseline  float64 `json:"baseline"` // median of the window
	Delta     float64 `json:"delta"`    // value - baseline
	Score     float64 `json:"score"`    // robust z-score
	Direction string  `json:"direction"`
	// Name is an account group's name from the tenant's organizations
	// (AnomaliesNamed).
	Name string `json:"name,omitempty"`
}

// Label is the group as shown to a person: "name (group)" when named.
func (a Anomaly) Label() string {
	if a.Name != "" {
		return a.Name + " (" + a.Group + ")"
	}
	return a.Group
}

// Anomalies finds days whose cost is far from the recent norm, per group of
// each dimension (default: per service and per account).
//
// Method: only usage line items are judged unless a charge-type filter says
// otherwise (Usage, SavingsPlanCoveredUsage, DiscountedUsage; FOCUS: Usage),
// because monthly rows (tax, RI fees, credits) all land on the first day of
// the month. Each group's daily series is first divided by its weekday
// factor (the median of that weekday over the 28 days before the judged
// day, over the median of those 28 days, within 0.5-2; 1 with less than 14
// days of history), so quiet weekends are not drops. Then for each day d in
// [From, To) the baseline is the median of the Window adjusted days before d
// and the spread is 1.4826 x their median absolute deviation (MAD), which
// estimates a standard deviation without being moved by the outliers it
// looks for; it is floored at 5% of the baseline (and 0.01) so a flat series
// does not make every cent an anomaly. A day is flagged when |value -
// baseline| / spread >= Threshold and |value - baseline| >= MinDelta (in
// the metric's unit, on the unadjusted scale: baseline x the day's weekday
// factor). Days with no cost count as 0; a group needs 7 days of history.
// By default To is the latest day with data (exclusive), because the last
// day of a CUR delivery is usually partial, and From is 30 days before To.
func (s *Store) Anomalies(ctx context.Context, o AnomalyOptions) ([]Anomaly, error) {
	return AnomaliesIn(ctx, s, o)
}

// AnomaliesIn is Anomalies over src's answers.
func AnomaliesIn(ctx context.Context, src Source, o AnomalyOptions) ([]Anomaly, error) {
	const op = "cost anomalies"
	if o.Window <= 0 {
		o.Window = 14
	}
	if o.Window < 7 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "the window must be at least 7 days")
	}
	if o.Threshold <= 0 {
		o.Threshold = 3.5
	}
	if o.MinDelta < 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "the minimum delta cannot be negative")
	}
	if o.MinDelta == 0 {
		o.MinDelta = 10
	}
	if len(o.Dims) == 0 {
		o.Dims = []Dim{{Kind: DimService}, {Kind: DimAccount}}
	}
	if o.To.IsZero() {
		latest, err := src.LatestDay(ctx, o.Tenant)
		if err != nil {
			return nil, err
		}
		o.To = latest
	}
	if o.From.IsZero() {
		o.From = o.To.AddDate(0, 0, -30)
	}
	filters := o.Filters
	if !hasDim(filters, DimChargeType) {
		filters = append(append([]Filter(nil), filters...), Filter{Dim: Dim{Kind: DimChargeType},
			Values: []string{"Usage", "SavingsPlanCoveredUsage", "DiscountedUsage"}})
	}
	history := max(o.Window, 28)
	out := []Anomaly{}
	for _, d := range o.Dims {
		res, err := src.Query(ctx, Query{Tenant: o.Tenant, Metric: o.Metric, GroupBy: d, Granularity: Daily,
			From: o.From.AddDate(0, 0, -history), To: o.To, Filters: filters})
		if err != nil {
			return nil, err
		}
		series := map[string]map[time.Time]float64{}
		for _, r := range res.Rows {
			if series[r.Group] == nil {
				series[r.Group] = map[time.Time]float64{}
			}
			series[r.Group][r.Period] += r.Value
		}
		for group, byDay := range series {
			first := firstDay(byDay)
			for day := o.From; day.Before(o.To); day = day.AddDate(0, 0, 1) {
				factor := weekdayFactors(byDay, first, day)
				var hist []float64
				for i := o.Window; i >= 1; i-- {
					if p := day.AddDate(0, 0, -i); !p.Before(first) {
						hist = append(hist, byDay[p]/factor[p.Weekday()])
					}
				}
				if len(hist) < 7 {
					continue
				}
				f := factor[day.Weekday()]
				v := byDay[day]
				med := median(hist)
				spread := 1.4826 * mad(hist, med)
				spread = math.Max(spread, math.Max(0.05*math.Abs(med), 0.01))
				z := (v/f - med) / spread
				med *= f
				delta := v - med
				if math.Abs(z) < o.Threshold || math.Abs(delta) < o.MinDelta {
					continue
				}
				dir := "spike"
				if delta < 0 {
					dir = "drop"
				}
				out = append(out, Anomaly{Day: day.Format("2006-01-02"), Dim: d.String(), Group: group, Value: v,
					Baseline: med, Delta: delta, Score: z, Direction: dir})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if math.Abs(out[i].Delta) != math.Abs(out[j].Delta) {
			return math.Abs(out[i].Delta) > math.Abs(out[j].Delta)
		}
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Dim+out[i].Group < out[j].Dim+out[j].Group
	})
	return out, nil
}

// weekdayFactors is each weekday's median over the 28 days before day
// divided by the median of those days (0.5-2), or 1 everywhere with less
// than 14 days of history or a zero median.
func weekdayFactors(byDay map[time.Time]float64, first, day time.Time) [7]float64 {
	f := [7]float64{1, 1, 1, 1, 1, 1, 1}
	var all []float64
	var per [7][]float64
	for i := 28; i >= 1; i-- {
		p := day.AddDate(0, 0, -i)
		if p.Before(first) {
			continue
		}
		all = append(all, byDay[p])
		per[p.Weekday()] = append(per[p.Weekday()], byDay[p])
	}
	m := median(all)
	if len(all) < 14 || m <= 0 {
		return f
	}
	for wd := range per {
		if len(per[wd]) > 0 {
			f[wd] = math.Min(2, math.Max(0.5, median(per[wd])/m))
		}
	}
	return f
}

func hasDim(fs []Filter, kind string) bool {
	for _, f := range fs {
		if f.Dim.Kind == kind {
			return true
		}
	}
	return false
}

func firstDay(m map[time.Time]float64) time.Time {
	var first time.Time
	for d := range m {
		if first.IsZero() || d.Before(first) {
			first = d
		}
	}
	return first
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mad(v []float64, med float64) float64 {
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - med)
	}
	return median(dev)
}

// Forecast is an end-of-month projection.
type Forecast struct {
	Month        string  `json:"month"`
	Metric       string  `json:"metric"`
	ActualToDate float64 `json:"actual_to_date"`
	Forecast     float64 `json:"forecast"` // whole month: actual + projected
	Low          float64 `json:"low"`      // ~95% interval
	High         float64 `json:"high"`
	DaysActual   int     `json:"days_actual"`
	DaysInMonth  int     `json:"days_in_month"`
	Method       string  `json:"method"`
	// CostExplorer is Cost Explorer's own forecast of the month beside
	// this one (unblended cost, no filter, after a Cost Explorer load).
	CostExplorer *ExplorerMonthEnd `json:"cost_explorer,omitempty"`
	// Athena is what answering cost in Amazon Athena (the Athena engine's
	// answers only).
	Athena *EngineCost `json:"athena,omitempty"`
}

// ForecastMethod documents how Forecast projects.
const ForecastMethod = "actual cost of complete days + for each remaining day the median of the last 7 complete days " +
	"times that weekday's factor (median of the weekday over the last 28 days / median of those 28 days, 0.5-1.5, " +
	"when 14+ days of history exist); interval +-1.96 x 1.4826 x MAD(last 14 days) x sqrt(remaining days)"

// ForecastMonth projects the month's total cost (zero month: the month of
// the latest data). The latest day with data is treated as partial (CUR is
// delivered during the day) and projected, unless it ends the month.
func (s *Store) ForecastMonth(ctx context.Context, tenant crossbill.TenantID, metric string, month time.Time, filters []Filter) (Forecast, error) {
	return ForecastIn(ctx, s, s, tenant, metric, month, filters)
}

// ForecastIn is ForecastMonth over src's answers, with Cost Explorer's
// forecasts from ce (nil: none beside it).
func ForecastIn(ctx context.Context, src Source, ce ExplorerForecaster, tenant crossbill.TenantID, metric string, month time.Time, filters []Filter) (Forecast, error) {
	latest, err := src.LatestDay(ctx, tenant)
	if err != nil {
		return Forecast{}, err
	}
	if month.IsZero() {
		month = latest
	}
	start, end, complete := monthSpan(latest, month)
	// Complete days end before the latest day, unless the month is over.
	completeEnd := latest
	if complete {
		completeEnd = end
	}
	res, err := src.Query(ctx, Query{Tenant: tenant, Metric: metric, Granularity: Daily,
		From: start.AddDate(0, 0, -28), To: end, Filters: filters})
	if err != nil {
		return Forecast{}, err
	}
	daily := map[time.Time]float64{}
	for _, r := range res.Rows {
		daily[r.Period] += r.Value
	}
	f := Forecast{Month: start.Format("2006-01"), Metric: res.Metric, DaysInMonth: end.AddDate(0, 0, -1).Day(), Method: ForecastMethod}
	for d := start; d.Before(completeEnd); d = d.AddDate(0, 0, 1) {
		f.ActualToDate += daily[d]
		f.DaysActual++
	}
	if !completeEnd.Before(end) {
		f.Forecast, f.Low, f.High = f.ActualToDate, f.ActualToDate, f.ActualToDate
		return f, nil
	}
	if len(filters) == 0 && f.Metric == MetricUnblended && ce != nil {
		// Cost Explorer forecasts the whole account's unblended cost only.
		fs, err := ce.ExplorerForecasts(ctx, tenant, "")
		if err != nil {
			return Forecast{}, err
		}
		f.CostExplorer = explorerMonthEnd(fs, f.Month, daily)
	}
	// History: complete days before completeEnd that have data coverage.
	first := firstDay(daily)
	hist := func(n int) []float64 {
		var h []float64
		for i := n; i >= 1; i-- {
			if d := completeEnd.AddDate(0, 0, -i); !d.Before(first) {
				h = append(h, daily[d])
			}
		}
		return h
	}
	last7 := hist(7)
	if len(last7) == 0 {
		return Forecast{}, crossbill.Errorf(crossbill.CodeNotFound, "cost forecast", "no complete day of data before %s to forecast from", completeEnd.Format("2006-01-02"))
	}
	base := median(last7)
	last28 := hist(28)
	factor := func(time.Weekday) float64 { return 1 }
	if len(last28) >= 14 {
		med28 := median(last28)
		factor = func(wd time.Weekday) float64 {
			var same []float64
			for i := 28; i >= 1; i-- {
				if d := completeEnd.AddDate(0, 0, -i); d.Weekday() == wd && !d.Before(first) {
					same = append(same, daily[d])
				}
			}
			if len(same) == 0 || med28 == 0 {
				return 1
			}
			return math.Min(1.5, math.Max(0.5, median(same)/med28))
		}
	}
	remaining := 0
	projected := 0.0
	for d := completeEnd; d.Before(end); d = d.AddDate(0, 0, 1) {
		projected += base * factor(d.Weekday())
		remaining++
	}
	h14 := hist(14)
	spread := 1.96 * 1.4826 * mad(h14, median(h14)) * math.Sqrt(float64(remaining))
	f.Forecast = f.ActualToDate + projected
	f.Low, f.High = f.Forecast-spread, f.Forecast+spread
	return f, nil
}

// monthSpan is the month holding month, [start, end), and whether it is
// complete: its last day has data (or later data exists). The latest day
// of a month that goes on is partial, as CUR is delivered during the day.
// Forecast and month over month share this rule, so a month that one calls
// complete the other compares whole.
func monthSpan(latest, month time.Time) (start, end time.Time, complete bool) {
	start = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	end = start.AddDate(0, 1, 0)
	return start, end, !latest.Before(end.AddDate(0, 0, -1))
}

// Change is one group's cost in a month and the month before.
type Change struct {
	Group    string   `json:"group"`
	Previous float64  `json:"previous"`
	Current  float64  `json:"current"`
	Delta    float64  `json:"delta"`
	Percent  *float64 `json:"percent"` // nil when the previous month is 0
}

// MonthOverMonth compares a month (zero: the month of the latest data) with
// the month before, by q.GroupBy. A complete month (see monthSpan) is
// compared with the whole previous month; a month not complete yet is
// compared like for like: the same number of days from the previous
// month's start. Top N applies to the current month.
func (s *Store) MonthOverMonth(ctx context.Context, q Query, month time.Time) (MoM, error) {
	return MonthOverMonthIn(ctx, s, q, month)
}

// MonthOverMonthIn is MonthOverMonth over src's answers.
func MonthOverMonthIn(ctx context.Context, src Source, q Query, month time.Time) (MoM, error) {
	latest, err := src.LatestDay(ctx, q.Tenant)
	if err != nil {
		return MoM{}, err
	}
	if month.IsZero() {
		month = latest
	}
	start, end, complete := monthSpan(latest, month)
	prevStart := start.AddDate(0, -1, 0)
	prevEnd := start
	if !complete && !latest.Before(start) {
		// Like for like: as many days of the previous month as this one
		// has data for (including the partial latest day), at most all.
		end = latest.AddDate(0, 0, 1)
		days := int(end.Sub(start).Hours() / 24)
		if e := prevStart.AddDate(0, 0, days); e.Before(start) {
			prevEnd = e
		}
	}
	q.Granularity = Monthly
	top := q.Top
	q.Top = 0
	q.From, q.To = start, end
	cur, err := src.Query(ctx, q)
	if err != nil {
		return MoM{}, err
	}
	q.From, q.To = prevStart, prevEnd
	prev, err := src.Query(ctx, q)
	if err != nil {
		return MoM{}, err
	}
	var changes []Change
	byGroup := map[string]*Change{}
	get := func(g string) *Change {
		if byGroup[g] == nil {
			byGroup[g] = &Change{Group: g}
		}
		return byGroup[g]
	}
	for _, t := range cur.Totals {
		get(t.Group).Current = t.Value
	}
	for _, t := range prev.Totals {
		get(t.Group).Previous = t.Value
	}
	for _, c := range byGroup {
		changes = append(changes, *c)
	}
	sort.Slice(changes, func(i, j int) bool {
		if changes[i].Current != changes[j].Current {
			return changes[i].Current > changes[j].Current
		}
		return changes[i].Group < changes[j].Group
	})
	if top > 0 && len(changes) > top {
		others := Change{Group: OthersGroup}
		for _, c := range changes[top:] {
			others.Current += c.Current
			others.Previous += c.Previous
		}
		changes = append(changes[:top:top], others)
	}
	for i := range changes {
		c := &changes[i]
		c.Delta = c.Current - c.Previous
		if c.Previous != 0 {
			p := 100 * c.Delta / math.Abs(c.Previous)
			c.Percent = &p
		}
	}
	if changes == nil {
		changes = []Change{}
	}
	return MoM{Metric: cur.Metric, GroupBy: cur.GroupBy,
		Current:  Range{From: start.Format("2006-01-02"), To: end.Format("2006-01-02")},
		Previous: Range{From: prevStart.Format("2006-01-02"), To: prevEnd.Format("2006-01-02")},
		Changes:  changes}, nil
}

// Range is [From, To) as dates.
type Range struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MoM is a month-over-month comparison.
type MoM struct {
	Metric   string   `json:"metric"`
	GroupBy  string   `json:"group_by,omitempty"`
	Current  Range    `json:"current"`
	Previous Range    `json:"previous"`
	Changes  []Change `json:"changes"`
	// Names are the account groups' names from the tenant's
	// organizations (MonthOverMonthNamed), keyed by group.
	Names map[string]string `json:"names,omitempty"`
	// Athena is what answering cost in Amazon Athena (the Athena engine's
	// answers only).
	Athena *EngineCost `json:"athena,omitempty"`
}

// Label is a group as shown to a person: "name (group)" when named.
func (m MoM) Label(group string) string { return label(m.Names, group) }
