package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

// Month over month and anomalies: `crossbill costs mom` and `costs
// anomalies`, in the tenant's engine (athena.Engines), cached as GET
// .../costs is (an Athena answer for the hour).

// costMoM answers GET .../costs/mom.
func (s *Server) costMoM(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := parseCostQuery(tenantOf(r).ID, v)
	if err != nil {
		return err
	}
	month, err := monthParam(v)
	if err != nil {
		return err
	}
	key, err := queryKey("mom", struct {
		Q     costs.Query
		Month time.Time
	}{q.Canonical(), month})
	if err != nil {
		return err
	}
	if key, err = s.engineKey(r.Context(), q.Tenant, key); err != nil {
		return err
	}
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		return s.engines().MonthOverMonth(ctx, q, month, s.localFor(r))
	})
}

// costAnomaliesAnswer is GET .../costs/anomalies' answer: the anomalies
// (`costs anomalies --json` prints the list) and what Athena charged.
type costAnomaliesAnswer struct {
	Anomalies []costs.Anomaly   `json:"anomalies"`
	Athena    *costs.EngineCost `json:"athena,omitempty"`
}

// costAnomalies answers GET .../costs/anomalies.
func (s *Server) costAnomalies(w http.ResponseWriter, r *http.Request) error {
	const op = "cost anomalies"
	v := r.URL.Query()
	q, err := parseCostQuery(tenantOf(r).ID, v)
	if err != nil {
		return err
	}
	o := costs.AnomalyOptions{Tenant: q.Tenant, Metric: q.Metric, From: q.From, To: q.To, Filters: q.Filters}
	for _, b := range v["by"] {
		d, err := costs.ParseDim(b)
		if err != nil {
			return err
		}
		o.Dims = append(o.Dims, d)
	}
	if x := v.Get("window"); x != "" {
		if o.Window, err = strconv.Atoi(x); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "window %q: use a number of days, at least 7", x)
		}
	}
	for name, dst := range map[string]*float64{"threshold": &o.Threshold, "min_delta": &o.MinDelta} {
		if x := v.Get(name); x != "" {
			if *dst, err = strconv.ParseFloat(x, 64); err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "%s %q: use a number", name, x)
			}
		}
	}
	key, err := queryKey("anomalies", o)
	if err != nil {
		return err
	}
	if key, err = s.engineKey(r.Context(), q.Tenant, key); err != nil {
		return err
	}
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		as, spent, err := s.engines().Anomalies(ctx, o, s.localFor(r))
		if err != nil {
			return nil, err
		}
		if as == nil {
			as = []costs.Anomaly{}
		}
		return costAnomaliesAnswer{Anomalies: as, Athena: spent}, nil
	})
}

// monthParam reads ?month=YYYY-MM (zero when absent).
func monthParam(v url.Values) (time.Time, error) {
	m := v.Get("month")
	if m == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return time.Time{}, crossbill.Errorf(crossbill.CodeInvalid, "month", "%q is not a month; use YYYY-MM", m)
	}
	return t, nil
}
