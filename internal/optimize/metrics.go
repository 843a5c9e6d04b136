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

// day is one UTC day's value of a series; at is the day's start in Unix
// seconds (small: a million resources' days are folded per evaluation).
type day struct {
	at    int64
	value float64
}

// daily folds a series into UTC days within [from, to): Sum adds the
// periods of a day, Maximum takes the largest, Average (and anything
// else) averages them. Days without points are absent, so callers count
// the days they have.
func daily(out []day, s *inventory.Series, from, to time.Time) []day {
	out = out[:0]
	if s == nil {
		return out
	}
	n := 0
	for _, p := range s.Points {
		if p.At.Before(from) || !p.At.Before(to) {
			continue
		}
		d := p.At.Unix() - p.At.Unix()%86400
		if len(out) == 0 || out[len(out)-1].at != d {
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
// counts as missing: it is not evidence of idleness). Both are in day
// order, as daily returns them.
func sumDaily(out, a, b []day) []day {
	out = out[:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].at < b[j].at:
			i++
		case b[j].at < a[i].at:
			j++
		default:
			out = append(out, day{at: a[i].at, value: a[i].value + b[j].value})
			i++
			j++
		}
	}
	return out
}

// daily folds s into the evaluation's scratch buffer slot (rules run
// one at a time; a rule's days are read before the next rule runs).
func (c *evalCtx) daily(slot int, s *inventory.Series, from, to time.Time) []day {
	c.bufs[slot] = daily(c.bufs[slot], s, from, to)
	return c.bufs[slot]
}

// sumDaily is sumDaily into the scratch buffer slot.
func (c *evalCtx) sumDaily(slot int, a, b []day) []day {
	c.bufs[slot] = sumDaily(c.bufs[slot], a, b)
	return c.bufs[slot]
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
