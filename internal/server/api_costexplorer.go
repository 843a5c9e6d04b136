package server

import (
	"net/http"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costexplorer"
)

// JobCostExplorer loads a verified cost connection's daily cost from Cost
// Explorer (day-zero costs, until the CUR export arrives), once a day.
const JobCostExplorer = "cost-explorer"

// costExplorerInterval is how often the load runs: Cost Explorer data is
// daily, and each run costs the customer a few requests.
const costExplorerInterval = 24 * time.Hour

// costExplorerStatus is the connection's requests this month against its
// budget, and its load's state.
func (s *Server) costExplorerStatus(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	u, err := costexplorer.Status(r.Context(), s.store, c.TenantID, c.ID, -1, s.now())
	if err != nil {
		return err
	}
	return ok(w, r, u)
}

type costExplorerBudget struct {
	Budget int `json:"budget_requests"`
}

// setCostExplorerBudget sets the connection's monthly request budget.
func (s *Server) setCostExplorerBudget(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	var in costExplorerBudget
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Budget < 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, "cost explorer budget", "budget_requests is a number of requests, 0 (the default, %d) or more", costexplorer.DefaultMonthlyBudget)
	}
	u, err := costexplorer.Status(r.Context(), s.store, c.TenantID, c.ID, in.Budget, s.now())
	if err != nil {
		return err
	}
	return ok(w, r, u)
}

// loadCostExplorer runs the connection's Cost Explorer load now.
func (s *Server) loadCostExplorer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	var in struct {
		Force bool `json:"force"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	cs, err := s.localCosts()
	if err != nil {
		return err
	}
	rep, err := costexplorer.Load(r.Context(), costexplorer.Request{Tenant: c.TenantID, Connection: c.ID, Force: in.Force},
		costexplorer.Options{Store: s.store, Costs: cs, AWS: s.cfg.AWS, Now: s.now, Shared: s.sharedExplorer()})
	s.costs.invalidate(c.TenantID)
	if err != nil {
		return err
	}
	return ok(w, r, rep)
}

// costReconciliation lists Cost Explorer against the CUR for each period
// the CUR replaced.
func (s *Server) costReconciliation(w http.ResponseWriter, r *http.Request) error {
	cs, release, err := s.costStore(r)
	if err != nil {
		return err
	}
	defer release()
	rec, err := cs.Reconciliations(r.Context(), tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, rec)
}
