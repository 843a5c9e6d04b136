package optimize

import (
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
)

// findSeries is the resource's series of metric with stat (any namespace
// when namespace is empty), or nil.
func findSeries(u *inventory.Utilization, namespace, metric, stat string) *inventory.Series {
	if u == nil {
		return nil
	}
	for i := range u.Series {
		s := &u.Series[i]
		if s.Metric == metric && (stat == "" || s.Stat == stat) && (namespace == "" || s.Namespace == namespace) {
			return s
		}
	}
	return nil
}

// day is one UTC day's value of a series.
type day struct {
	at    time.Time
	value float64
}

// daily folds a series into UTC days within [from, to): Sum adds the
// periods of a day, Maximum takes the largest, Average (and anything
// else) averages them. Days without points are absent, so callers count
// the days they have.
func daily(s *inventory.Series, from, to time.Time) []day {
	if s == nil {
		return nil
	}
	var out []day
	n := 0
	for _, p := range s.Points {
		if p.At.Before(from) || !p.At.Before(to) {
			continue
		}
		d := p.At.UTC().Truncate(24 * time.Hour)
		if len(out) == 0 || !out[len(out)-1].at.Equal(d) {
			if n > 1 && s.Stat != "Sum" && s.Stat != "Maximum" {
				out[len(out)-1].value /= float64(n)
			}
			out = append(out, day{at: d, value: p.Value})
			n = 1
			continue
		}
		n++
		last := &out[len(out)-1]
		switch s.Stat {
		case "Maximum":
			last.value = max(last.value, p.Value)
		default: // Sum, and Average summed here then divided
			last.value += p.Value
		}
	}
	if n > 1 && s.Stat != "Sum" && s.Stat != "Maximum" {
		out[len(out)-1].value /= float64(n)
	}
	return out
}

// sumDaily adds two daily series day by day (a day missing from one
// counts as missing: it is not evidence of idleness).
func sumDaily(a, b []day) []day {
	bm := make(map[int64]float64, len(b))
	for _, d := range b {
		bm[d.at.Unix()] = d.value
	}
	var out []day
	for _, d := range a {
		if v, ok := bm[d.at.Unix()]; ok {
			out = append(out, day{at: d.at, value: d.value + v})
		}
	}
	return out
}

// peakRate is the largest per-second rate of Sum series a plus b over
// their common periods: consumed IOPS from VolumeReadOps and
// VolumeWriteOps.
func peakRate(a, b *inventory.Series, from, to time.Time) (float64, int) {
	if a == nil || a.Period <= 0 {
		return 0, 0
	}
	bm := map[int64]float64{}
	if b != nil {
		for _, p := range b.Points {
			bm[p.At.Unix()] = p.Value
		}
	}
	peak, n := 0.0, 0
	for _, p := range a.Points {
		if p.At.Before(from) || !p.At.Before(to) {
			continue
		}
		n++
		peak = max(peak, (p.Value+bm[p.At.Unix()])/float64(a.Period))
	}
	return peak, n
}

// maxOf is the largest value of days.
func maxOf(days []day) float64 {
	m := 0.0
	for i, d := range days {
		if i == 0 || d.value > m {
			m = d.value
		}
	}
	return m
}
