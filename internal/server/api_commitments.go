package server

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// costSourceHeader tells, on the commitments answers of a tenant whose
// cost engine is Athena, that they come from crossbill's local cost store
// (athena.LocalOnly).
const costSourceHeader = "Crossbill-Cost-Source"

// commitmentsSource sets costSourceHeader for an Athena tenant.
func (s *Server) commitmentsSource(w http.ResponseWriter, r *http.Request) error {
	note, err := athena.LocalOnly(r.Context(), s.store, tenantOf(r).ID)
	if err != nil || note == "" {
		return err
	}
	w.Header().Set(costSourceHeader, "local; "+note)
	return nil
}

// commitmentWindow is the tenant's whole CUR history up to its last hour,
// or the last lookback days of it.
func (s *Server) commitmentWindow(ctx context.Context, r *http.Request, lookbackDays int) (commitments.Window, error) {
	cs, release, err := s.costStore(r)
	if err != nil {
		return commitments.Window{}, err
	}
	defer release()
	tenant := tenantOf(r).ID
	end, err := commitments.DataEnd(ctx, commitments.DB(cs.DB()), tenant)
	if err != nil {
		return commitments.Window{}, athena.LocalOnlyErr(ctx, s.store, tenant, err)
	}
	w := commitments.Window{Tenant: tenant, End: end}
	if lookbackDays > 0 {
		w.Start = end.AddDate(0, 0, -lookbackDays)
		return w, nil
	}
	ps, err := cs.Periods(ctx, tenantOf(r).ID)
	if err != nil {
		return commitments.Window{}, err
	}
	w.Start = end.AddDate(0, -1, 0)
	if len(ps) > 0 {
		if first, err := time.Parse("2006-01", ps[0].Period); err == nil {
			w.Start = first
		}
	}
	return w, nil
}

type commitmentInventory struct {
	Inventory   []commitments.Commitment        `json:"inventory"`
	Expirations []commitments.ExpirationBuckets `json:"expirations"`
	Source      string                          `json:"source"`
}

func (s *Server) listCommitments(w http.ResponseWriter, r *http.Request) error {
	if err := s.commitmentsSource(w, r); err != nil {
		return err
	}
	return s.cached(w, r, "commitments", func(ctx context.Context) (any, error) {
		win, err := s.commitmentWindow(ctx, r, 0)
		if err != nil {
			return nil, err
		}
		cs, release, err := s.costStore(r)
		if err != nil {
			return nil, err
		}
		defer release()
		inv, err := commitments.FromCUR(ctx, commitments.DB(cs.DB()), win)
		if err != nil {
			return nil, err
		}
		if inv == nil {
			inv = []commitments.Commitment{}
		}
		return commitmentInventory{Inventory: inv, Expirations: commitments.Expirations(inv, s.now()), Source: "cur"}, nil
	})
}

func (s *Server) commitmentUtilization(w http.ResponseWriter, r *http.Request) error {
	if err := s.commitmentsSource(w, r); err != nil {
		return err
	}
	return s.cached(w, r, "utilization", func(ctx context.Context) (any, error) {
		win, err := s.commitmentWindow(ctx, r, 0)
		if err != nil {
			return nil, err
		}
		cs, release, err := s.costStore(r)
		if err != nil {
			return nil, err
		}
		defer release()
		return commitments.DailyUtilization(ctx, commitments.DB(cs.DB()), win)
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
	if err := s.commitmentsSource(w, r); err != nil {
		return err
	}
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
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		win, err := s.commitmentWindow(ctx, r, days)
		if err != nil {
			return nil, err
		}
		cs, release, err := s.costStore(r)
		if err != nil {
			return nil, err
		}
		defer release()
		rep, err := commitments.Recommend(ctx, commitments.DB(cs.DB()), commitments.Request{Window: win, Options: o})
		return rep.Recommendations, err
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
	if err := s.commitmentsSource(w, r); err != nil {
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
	win, err := s.commitmentWindow(r.Context(), r, in.LookbackDays)
	if err != nil {
		return err
	}
	cs, release, err := s.costStore(r)
	if err != nil {
		return err
	}
	defer release()
	rates, err := commitments.LoadRates(r.Context(), commitments.DB(cs.DB()), win, commitments.RateSources{})
	if err != nil {
		return err
	}
	rec, err := commitments.Simulate(r.Context(), commitments.DB(cs.DB()), win, rates, in.Type, in.Term, pay, in.Key, in.HourlyCommitment)
	if err != nil {
		return err
	}
	return ok(w, r, rec)
}
