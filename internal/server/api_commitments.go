package server

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/store"
)

// costSourceHeader tells, on a commitments answer of a tenant whose cost
// engine is Athena, where it comes from: "athena; why" (engineSource).
// Every commitments use case runs in the tenant's engine
// (athena.Engines.Commitments): the analyses, renewals, Marketplace sales
// and the comparison with Cost Explorer's figures.
const costSourceHeader = "Crossbill-Cost-Source"

// athenaCommitmentsSource is costSourceHeader on the commitments answers
// Athena gives (the web UI shows it).
const athenaCommitmentsSource = "athena; the tenant's cost engine is athena: these commitments analyses run in Amazon Athena over the CUR in place, through the connection's role (what each costs: the answer's athena object, or GET .../costs/engine)"

// engineSource says in costSourceHeader that an Athena tenant's
// commitments answer comes from Athena (nothing for a local tenant).
func (s *Server) engineSource(w http.ResponseWriter, r *http.Request) error {
	e, err := s.store.CostEngine(r.Context(), tenantOf(r).ID)
	if err != nil {
		return err
	}
	if e.Engine == store.EngineAthena {
		w.Header().Set(costSourceHeader, athenaCommitmentsSource)
	}
	return nil
}

// commitmentsIn runs a commitments analysis in the tenant's engine
// (athena.Engines.Commitments), saying so in costSourceHeader for an
// Athena tenant, and returns the cache key of its answer: key, prefixed
// with the engine (s.engineKey).
func (s *Server) commitmentsIn(w http.ResponseWriter, r *http.Request, key string) (string, error) {
	if err := s.engineSource(w, r); err != nil {
		return "", err
	}
	return s.engineKey(r.Context(), tenantOf(r).ID, key)
}

// commitmentWindowIn is the tenant's CUR history in r up to its last
// hour: all of it (lookbackDays 0) or its last lookbackDays days.
func commitmentWindowIn(ctx context.Context, r commitments.Reader, tenant crossbill.TenantID, lookbackDays int) (commitments.Window, error) {
	end, err := commitments.DataEnd(ctx, r, tenant)
	if err != nil {
		return commitments.Window{}, err
	}
	w := commitments.Window{Tenant: tenant, End: end}
	if lookbackDays > 0 {
		w.Start = end.AddDate(0, 0, -lookbackDays)
		return w, nil
	}
	w.Start, err = commitments.DataStart(ctx, r, tenant)
	return w, err
}

type commitmentInventory struct {
	Inventory   []commitments.Commitment        `json:"inventory"`
	Expirations []commitments.ExpirationBuckets `json:"expirations"`
	Source      string                          `json:"source"`
	Athena      *costs.EngineCost               `json:"athena,omitempty"`
}

func (s *Server) listCommitments(w http.ResponseWriter, r *http.Request) error {
	key, err := s.commitmentsIn(w, r, "commitments")
	if err != nil {
		return err
	}
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		var inv commitmentInventory
		_, err := s.engines().Commitments(ctx, tenantOf(r).ID, s.localFor(r), func(cr commitments.Reader) error {
			win, err := commitmentWindowIn(ctx, cr, tenantOf(r).ID, 0)
			if err != nil {
				return err
			}
			list, err := commitments.FromCUR(ctx, cr, win)
			if err != nil {
				return err
			}
			if list == nil {
				list = []commitments.Commitment{}
			}
			inv = commitmentInventory{Inventory: list, Expirations: commitments.Expirations(list, s.now()), Source: "cur", Athena: athena.Spent(cr)}
			return nil
		})
		return inv, err
	})
}

// utilizationAnswer is the daily view with what it cost in Athena.
type utilizationAnswer struct {
	commitments.UtilizationView
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

func (s *Server) commitmentUtilization(w http.ResponseWriter, r *http.Request) error {
	key, err := s.commitmentsIn(w, r, "utilization")
	if err != nil {
		return err
	}
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		var out utilizationAnswer
		_, err := s.engines().Commitments(ctx, tenantOf(r).ID, s.localFor(r), func(cr commitments.Reader) error {
			win, err := commitmentWindowIn(ctx, cr, tenantOf(r).ID, 0)
			if err != nil {
				return err
			}
			out.UtilizationView, err = commitments.DailyUtilization(ctx, cr, win)
			out.Athena = athena.Spent(cr)
			return err
		})
		return out, err
	})
}

func lookbackOf(r *http.Request) (int, error) {
	v := r.URL.Query().Get("lookback_days")
	if v == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 366 {
		return 0, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "lookback_days %q: use 7, 30, 60 or any number of days up to 366", v)
	}
	return n, nil
}

// purchaseOptions reads the types, terms and payments query parameters.
func purchaseOptions(q url.Values) (commitments.Options, error) {
	var o commitments.Options
	o.Types = splitList(q.Get("types"))
	for _, t := range splitList(q.Get("terms")) {
		n, err := strconv.Atoi(t)
		if err != nil {
			return o, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "term %q: use 1 or 3", t)
		}
		o.Terms = append(o.Terms, n)
	}
	for _, p := range splitList(q.Get("payments")) {
		pay, ok := commitments.ParsePayment(p)
		if !ok {
			return o, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "payment %q: use NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT", p)
		}
		o.Payments = append(o.Payments, pay)
	}
	return o, nil
}

func (s *Server) recommendCommitments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o, err := purchaseOptions(q)
	if err != nil {
		return err
	}
	if l := q.Get("ladder"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > 36 {
			return crossbill.Errorf(crossbill.CodeInvalid, "commitments", "ladder %q: use 0 to 36 tranches", l)
		}
		o.Ladder = n
	}
	if err := rankOptions(q, &o); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	days, err := lookbackOf(r)
	if err != nil {
		return err
	}
	// The lists are sets: one order and no repeats, for the answer and
	// the cache key alike.
	o.Types, o.Terms, o.Payments = set(o.Types), set(o.Terms), set(o.Payments)
	key, err := queryKey("recommend", struct {
		Options commitments.Options
		Days    int
	}{o, days})
	if err != nil {
		return err
	}
	if key, err = s.commitmentsIn(w, r, key); err != nil {
		return err
	}
	// The answer is a list: what it cost in Athena is counted in the
	// tenant's month (GET .../costs/engine).
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		var recs []commitments.Recommendation
		_, err := s.engines().Commitments(ctx, tenantOf(r).ID, s.localFor(r), func(cr commitments.Reader) error {
			win, err := commitmentWindowIn(ctx, cr, tenantOf(r).ID, days)
			if err != nil {
				return err
			}
			rep, err := commitments.Recommend(ctx, cr, commitments.Request{Window: win, Options: o})
			recs = rep.Recommendations
			return err
		})
		return recs, err
	})
}

// set sorts a list and drops repeats.
func set[T cmp.Ordered](xs []T) []T {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return slices.Compact(xs)
}

type simulateRequest struct {
	Type             string  `json:"type"`
	Term             int     `json:"term_years"`
	Payment          string  `json:"payment_option"`
	Key              string  `json:"key"`
	HourlyCommitment float64 `json:"hourly_commitment"`
	LookbackDays     int     `json:"lookback_days"`
}

func (s *Server) simulateCommitment(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.commitmentsIn(w, r, ""); err != nil {
		return err
	}
	var in simulateRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := commitments.CheckHourlyCommitment(in.HourlyCommitment); err != nil {
		return err // before reading any data: a bad number is the caller's mistake
	}
	pay, okPay := commitments.ParsePayment(in.Payment)
	if !okPay {
		return crossbill.Errorf(crossbill.CodeInvalid, "commitments simulate", "payment_option %q: use NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT", in.Payment)
	}
	if in.LookbackDays == 0 {
		in.LookbackDays = 30
	}
	if in.LookbackDays < 1 || in.LookbackDays > 366 {
		return crossbill.Errorf(crossbill.CodeInvalid, "commitments simulate", "lookback_days must be 1 to 366")
	}
	ctx := r.Context()
	var rec commitments.Recommendation
	_, err := s.engines().Commitments(ctx, tenantOf(r).ID, s.localFor(r), func(cr commitments.Reader) error {
		win, err := commitmentWindowIn(ctx, cr, tenantOf(r).ID, in.LookbackDays)
		if err != nil {
			return err
		}
		rates, err := commitments.LoadRates(ctx, cr, win, commitments.RateSources{})
		if err != nil {
			return err
		}
		rec, err = commitments.Simulate(ctx, cr, win, rates, in.Type, in.Term, pay, in.Key, in.HourlyCommitment)
		return err
	})
	if err != nil {
		return err
	}
	return ok(w, r, rec)
}
