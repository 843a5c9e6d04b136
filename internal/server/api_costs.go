package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// costStore is the store answering the request's tenant, and what to call
// once the answer is computed: the local store, or in cluster mode the
// replica's store of the tenant's committed versions (see costs/cluster).
func (s *Server) costStore(r *http.Request) (*costs.Store, func(), error) {
	if s.cfg.ClusterCosts != nil {
		return s.cfg.ClusterCosts.Tenant(r.Context(), tenantOf(r).ID)
	}
	if s.costsDB == nil {
		return nil, nil, crossbill.Errorf(crossbill.CodeUnavailable, "costs", "the cost store is not open (see the server log)")
	}
	return s.costsDB, func() {}, nil
}

// localCosts is this replica's own cost store, where loads write (ingest,
// Cost Explorer). In cluster mode they then publish what they loaded.
func (s *Server) localCosts() (*costs.Store, error) {
	if s.costsDB == nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "costs", "the cost store is not open (see the server log)")
	}
	return s.costsDB, nil
}

// sharedExplorer is where Cost Explorer loads publish in cluster mode
// (nil on a single node; never a nil *cluster.Cluster in the interface).
func (s *Server) sharedExplorer() costexplorer.Shared {
	if s.cfg.ClusterCosts == nil {
		return nil
	}
	return s.cfg.ClusterCosts
}

// queryKey is a parsed, canonical query (a struct) as a string: two
// spellings of one question, parameters reordered or repeated, share it.
func queryKey(kind string, canonical any) (string, error) {
	b, err := json.Marshal(canonical)
	if err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, kind, "encoding the cache key: %w", err)
	}
	return kind + " " + string(b), nil
}

// cached answers with the tenant's cached JSON for key, computing it once
// for every request that asks meanwhile (see costCache.get).
func (s *Server) cached(w http.ResponseWriter, r *http.Request, key string, compute func(ctx context.Context) (any, error)) error {
	return s.cachedBytes(w, r, key, "application/json; charset=utf-8", func(ctx context.Context) ([]byte, error) {
		v, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	})
}

// cachedBytes is cached for an answer already encoded (ctype).
func (s *Server) cachedBytes(w http.ResponseWriter, r *http.Request, key, ctype string, compute func(ctx context.Context) ([]byte, error)) error {
	if s.cfg.ClusterCosts != nil {
		// Another replica's load does not invalidate this replica's
		// answers: they are keyed by the tenant's committed versions.
		gen, err := s.cfg.ClusterCosts.Generation(r.Context(), tenantOf(r).ID)
		if err != nil {
			return err
		}
		key = gen + " " + key
	}
	body, err := s.costs.get(r.Context(), tenantOf(r).ID, key, compute)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, err := w.Write(body); err != nil {
		logger(r.Context()).Debug("writing response", "err", err)
	}
	return nil
}

// parseCostQuery reads the query parameters of GET .../costs.
func parseCostQuery(tenant crossbill.TenantID, v url.Values) (costs.Query, error) {
	in := costs.QueryInput{Metric: v.Get("metric"), GroupBy: v.Get("group_by"), Granularity: v.Get("granularity"),
		From: v.Get("from"), To: v.Get("to"), Filters: v["filter"]}
	if b := v.Get("billing_period"); b != "" {
		in.BillingPeriods = []string{b}
	}
	if t := v.Get("top"); t != "" {
		var err error
		if in.Top, err = strconv.Atoi(t); err != nil {
			return costs.Query{}, crossbill.Errorf(crossbill.CodeInvalid, "costs", "top %q: use a number from 0 (all groups) to %d", t, costs.MaxTop)
		}
	}
	return costs.ParseQuery(tenant, in)
}

func (s *Server) queryCosts(w http.ResponseWriter, r *http.Request) error {
	q, err := parseCostQuery(tenantOf(r).ID, r.URL.Query())
	if err != nil {
		return err
	}
	q.MaxRows = s.cfg.MaxRows
	key, err := queryKey("costs", q)
	if err != nil {
		return err
	}
	if key, err = s.engineKey(r.Context(), q.Tenant, key); err != nil {
		return err
	}
	return s.cached(w, r, key, func(ctx context.Context) (any, error) {
		return s.queryCostsIn(ctx, r, q)
	})
}

// costDimensions answers the metrics, dimensions and billing periods of
// the tenant's engine, and with ?values=DIM a dimension's values
// (athena.Engines.Catalog). An Athena tenant's listing is cached for the
// hour like its other answers; a local one is read at each request.
func (s *Server) costDimensions(w http.ResponseWriter, r *http.Request) error {
	tenant, values := tenantOf(r).ID, r.URL.Query().Get("values")
	compute := func(ctx context.Context) (any, error) {
		return s.engines().Catalog(ctx, tenant, values, s.localFor(r))
	}
	e, err := s.store.CostEngine(r.Context(), tenant)
	if err != nil {
		return err
	}
	if e.Engine != store.EngineAthena {
		c, err := compute(r.Context())
		if err != nil {
			return err
		}
		return ok(w, r, c)
	}
	key, err := queryKey("dimensions", values)
	if err != nil {
		return err
	}
	if key, err = s.engineKey(r.Context(), tenant, key); err != nil {
		return err
	}
	return s.cached(w, r, key, compute)
}

// InvalidateCosts drops cached cost answers of a tenant whose cost data
// changed outside the server's own jobs, here and on every replica.
func (s *Server) InvalidateCosts(tenant crossbill.TenantID) {
	s.costsChanged(context.Background(), tenant)
}
