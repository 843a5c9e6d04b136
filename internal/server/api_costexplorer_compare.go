package server

import (
	"context"
	"net/http"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// figuresAnswer is the comparison with Cost Explorer's figures with what
// crossbill's side cost in Athena.
type figuresAnswer struct {
	commitments.FiguresReport
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

// compareCommitments puts Cost Explorer's utilization and coverage (asked
// through the connection's role, metered) beside crossbill's, read in the
// tenant's engine: the use case `crossbill commitments compare` runs.
func (s *Server) compareCommitments(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// Opening checks the connection (cost module, verified) before any
	// paid request (Athena's included).
	ce, err := costexplorer.Open(ctx, s.store, s.cfg.AWS, c.TenantID, c.ID, s.now)
	if err != nil {
		return err
	}
	var out figuresAnswer
	err = s.lookbackIn(w, r, func(cr commitments.Reader, win commitments.Window) error {
		var err error
		out.FiguresReport, err = commitments.CompareFiguresWithAWS(ctx, cr, win, ce)
		out.Athena = athena.Spent(cr)
		return err
	})
	if err != nil {
		return err
	}
	return ok(w, r, out)
}

// costForecast projects a month's total, with Cost Explorer's own
// forecast beside it when a Cost Explorer load fetched one: the use case
// `crossbill costs forecast` runs.
func (s *Server) costForecast(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := parseCostQuery(tenantOf(r).ID, v)
	if err != nil {
		return err
	}
	var month time.Time
	if m := v.Get("month"); m != "" {
		if month, err = time.Parse("2006-01", m); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "month", "%q is not a month; use YYYY-MM", m)
		}
	}
	// Cached as GET .../costs is: an Athena tenant's forecast is asked
	// of Athena once an hour.
	key, err := queryKey("forecast", struct {
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
		return s.engines().Forecast(ctx, q.Tenant, q.Metric, month, q.Filters, s.localFor(r))
	})
}

// awsRecommendations is Cost Explorer's own purchase recommendation for
// each type, term and payment option asked (all of each by default), asked
// through the connection's role, one request each: the use case
// `crossbill commitments recommend --aws-compare` runs beside crossbill's.
func (s *Server) awsRecommendations(w http.ResponseWriter, r *http.Request) error {
	if err := s.engineSource(w, r); err != nil {
		return err
	}
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	o, err := purchaseOptions(r.URL.Query())
	if err != nil {
		return err
	}
	days, err := lookbackOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	ce, err := costexplorer.Open(ctx, s.store, s.cfg.AWS, c.TenantID, c.ID, s.now)
	if err != nil {
		return err
	}
	// The window is read in the tenant's engine, as the CLI's
	// (recommend --aws-compare) is.
	var win commitments.Window
	if _, err := s.engines().Commitments(ctx, c.TenantID, s.localFor(r), func(cr commitments.Reader) error {
		var err error
		win, err = commitmentWindowIn(ctx, cr, c.TenantID, days)
		return err
	}); err != nil {
		return err
	}
	recs, err := commitments.CompareWithAWS(ctx, ce, o, win, nil)
	if err != nil {
		return err
	}
	return ok(w, r, recs)
}
