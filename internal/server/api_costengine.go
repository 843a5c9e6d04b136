package server

import (
	"context"
	"net/http"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/store"
)

// costEngineRequest is the body of PUT .../costs/engine.
type costEngineRequest struct {
	Engine     string `json:"engine"`
	Connection string `json:"connection_id"`
}

// getCostEngine answers where the tenant's cost queries run.
func (s *Server) getCostEngine(w http.ResponseWriter, r *http.Request) error {
	e, err := athena.Engine(r.Context(), s.store, tenantOf(r).ID, s.now())
	if err != nil {
		return err
	}
	return ok(w, r, e)
}

// setCostEngine sets where the tenant's cost queries run; cached answers
// of the other engine are dropped on every replica.
func (s *Server) setCostEngine(w http.ResponseWriter, r *http.Request) error {
	var in costEngineRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := athena.SetEngine(r.Context(), s.store, athena.EngineRequest{Tenant: tenantOf(r).ID, Engine: in.Engine, Connection: crossbill.ConnectionID(in.Connection)})
	if err != nil {
		return err
	}
	s.costsChanged(r.Context(), e.TenantID)
	return ok(w, r, e)
}

// engines is the cost query use case over the server's store and factory.
func (s *Server) engines() athena.Engines {
	return athena.Engines{Store: s.store, AWS: s.cfg.AWS, Now: s.now}
}

// queryCostsIn answers q in the tenant's engine: the local engine from
// the request's cost store (this replica's, or cluster mode's).
func (s *Server) queryCostsIn(ctx context.Context, r *http.Request, q costs.Query) (costs.Result, error) {
	return s.engines().Query(ctx, q, s.localFor(r))
}

// localFor opens the request's local cost store for the engines.
func (s *Server) localFor(r *http.Request) athena.Local {
	return func(context.Context) (*costs.Store, func(), error) { return s.costStore(r) }
}

// athenaCacheWindow is how long an Athena answer is cached: the CUR is
// read in place and AWS rewrites it a few times a day without crossbill
// knowing, while every query is billed by the data it scans.
const athenaCacheWindow = time.Hour

// engineKey prefixes a cost query's cache key with the tenant's engine:
// Athena's answers are cached for the current window only.
func (s *Server) engineKey(ctx context.Context, tenant crossbill.TenantID, key string) (string, error) {
	e, err := s.store.CostEngine(ctx, tenant)
	if err != nil {
		return "", err
	}
	if e.Engine != store.EngineAthena {
		return key, nil
	}
	return e.Engine + " " + s.now().UTC().Truncate(athenaCacheWindow).Format(time.RFC3339) + " " + key, nil
}
