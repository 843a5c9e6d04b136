package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// Commitment purchase plans: analysts write them, approvers decide them in
// the shared approvals inbox (.../approvals/{approval}/approve), admins
// execute or cancel them. Each handler parses, calls internal/purchase,
// renders.

type purchaseCancel struct {
	Reason string `json:"reason,omitempty"`
}

func (s *Server) purchaseRoutes() []route {
	plans := tenantPath + "/commitments/plans"
	one := plans + "/{plan}"
	return []route{
		{method: http.MethodGet, path: plans, role: viewer, tenantParam: "tenant", handler: s.listPurchasePlans, tag: "commitments", summary: "The tenant's commitment purchase plans, newest first", resp: "PurchasePlanList"},
		{method: http.MethodPost, path: plans, role: analyst, tenantParam: "tenant", handler: s.createPurchasePlan, tag: "commitments",
			summary: "Write a purchase plan: finds the offering through the connection's role (commitments-purchase module), prices its tranches, computes its expected utilization from the tenant's usage (a request's expected figures are never used), checks the guardrails (400 with the reason) and opens its approval", body: "PurchaseRequest", resp: "PurchasePlan", status: http.StatusCreated},
		{method: http.MethodGet, path: one, role: viewer, tenantParam: "tenant", handler: s.getPurchasePlan, tag: "commitments", summary: "One plan with its tranches (step states) and approval", resp: "PurchasePlan"},
		{method: http.MethodPost, path: one + "/execute", role: admin, tenantParam: "tenant", handler: s.executePurchasePlan, tag: "commitments",
			summary: "Buy an approved plan through the connection's role; safe to repeat (client token, durable step state): a plan is done once the inventory shows every tranche", resp: "PurchasePlan"},
		{method: http.MethodPost, path: one + "/cancel", role: admin, tenantParam: "tenant", handler: s.cancelPurchasePlan, tag: "commitments",
			summary: "Cancel a plan: withdraws its pending approval, deletes its queued Savings Plans; started commitments stay and are named", body: "PurchaseCancel", resp: "PurchasePlan"},
		{method: http.MethodGet, path: tenantPath + "/commitments/guardrails", role: viewer, tenantParam: "tenant", handler: s.getGuardrails, tag: "commitments", summary: "The tenant's purchase guardrails (0: no limit)", resp: "PurchaseGuardrails"},
		{method: http.MethodPut, path: tenantPath + "/commitments/guardrails", role: admin, tenantParam: "tenant", handler: s.setGuardrails, tag: "commitments", summary: "Replace the tenant's purchase guardrails", body: "PurchaseGuardrails", resp: "PurchaseGuardrails"},
	}
}

func (s *Server) listPurchasePlans(w http.ResponseWriter, r *http.Request) error {
	vs, err := purchase.List(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, vs)
}

func (s *Server) createPurchasePlan(w http.ResponseWriter, r *http.Request) error {
	var in purchase.Request
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Connection == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "purchase plan", "a plan needs the connection whose account buys (connection)")
	}
	ctx := r.Context()
	in.Tenant = tenantOf(r).ID
	acct, err := purchase.Open(ctx, s.store, s.cfg.AWS, in.Tenant, in.Connection)
	if err != nil {
		return err
	}
	acct.Usage = s.planUsage(r)
	v, err := purchase.Draft(ctx, s.store, acct, in, authOf(r).audit())
	if err != nil {
		return err
	}
	return created(w, r, v)
}

func (s *Server) getPurchasePlan(w http.ResponseWriter, r *http.Request) error {
	v, err := purchase.Get(r.Context(), s.store, tenantOf(r).ID, r.PathValue("plan"))
	if err != nil {
		return err
	}
	return ok(w, r, v)
}

// planUsageDays is the lookback a plan's expected figures are computed
// over, the recommendations' default.
const planUsageDays = 30

// planUsage reads the tenant's usage in its cost engine for a plan's
// expected figures (never the client's).
func (s *Server) planUsage(r *http.Request) purchase.UsageReader {
	return func(ctx context.Context, gross bool) (purchase.TenantUsage, error) {
		var usage purchase.TenantUsage
		_, err := s.engines().Commitments(ctx, tenantOf(r).ID, s.localFor(r), func(cr commitments.Reader) error {
			win, err := commitmentWindowIn(ctx, cr, tenantOf(r).ID, planUsageDays)
			if err != nil {
				return err
			}
			win.Gross = gross
			usage, err = purchase.ReadUsage(ctx, cr, win, commitments.RateSources{})
			return err
		})
		return usage, err
	}
}

// planAccount is the account of a plan's connection.
func (s *Server) planAccount(r *http.Request) (purchase.Account, error) {
	p, err := s.store.PurchasePlan(r.Context(), tenantOf(r).ID, r.PathValue("plan"))
	if err != nil {
		return purchase.Account{}, err
	}
	return purchase.Open(r.Context(), s.store, s.cfg.AWS, p.TenantID, p.ConnectionID)
}

func (s *Server) executePurchasePlan(w http.ResponseWriter, r *http.Request) error {
	acct, err := s.planAccount(r)
	if err != nil {
		return err
	}
	v, err := purchase.Execute(r.Context(), s.store, acct, tenantOf(r).ID, r.PathValue("plan"), authOf(r).audit())
	if err != nil {
		return err
	}
	if v.State == purchase.StateExecuting {
		// Tranches still to buy or confirm: the hourly job carries them on.
		if err := s.schedulePurchases(r.Context(), tenantOf(r).ID, s.now().Add(purchasesInterval)); err != nil {
			return err
		}
	}
	return ok(w, r, v)
}

func (s *Server) cancelPurchasePlan(w http.ResponseWriter, r *http.Request) error {
	var in purchaseCancel
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := purchase.Cancel(r.Context(), s.store, func() (purchase.Account, error) { return s.planAccount(r) }, tenantOf(r).ID, r.PathValue("plan"), in.Reason, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, v)
}

func (s *Server) getGuardrails(w http.ResponseWriter, r *http.Request) error {
	g, err := purchase.GetGuardrails(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, g)
}

func (s *Server) setGuardrails(w http.ResponseWriter, r *http.Request) error {
	var in purchase.Guardrails
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := purchase.SetGuardrails(r.Context(), s.store, tenantOf(r).ID, in, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, g)
}

func purchaseSchemas() obj {
	enum := func(desc string, values ...string) obj {
		return obj{"type": "string", "description": desc, "enum": values}
	}
	strs := func(desc string) obj {
		return obj{"type": "array", "items": obj{"type": "string"}, "description": desc}
	}
	request := obj{
		"connection": str("the verified connection whose account buys (needs the commitments-purchase module)"),
		"kind":       enum("", purchase.KindPurchase, purchase.KindRenewal, purchase.KindSale),
		"type":       str("ComputeSavingsPlans, EC2InstanceSavingsPlans, or reservations: EC2, RDS, ElastiCache, OpenSearch, Redshift"), "term_years": integer("1 or 3"),
		"payment_option": enum("", "No Upfront", "Partial Upfront", "All Upfront"), "hourly_commitment": num("Savings Plans: total $/h over all tranches (at least $0.001 per tranche)"),
		"count": integer("reservations: total count"), "region": str(""), "family": str("EC2 Instance Savings Plans: the instance family"),
		"instance_type": str("reservations: instance type, DB instance class or node type"), "platform": str("reservations: EC2 product description (default Linux/UNIX); the RDS or ElastiCache engine"),
		"multi_az": boolean("RDS reservations: Multi-AZ"),
		"tranches": integer("N purchases a month apart (1-12)"), "start": timestamp("first tranche's start (default now; later is queued)"),
		"expected": ref("PurchaseExpectation"), "source": str("manual, recommendation, renewal of ID"), "note": str("why, for the approver"),
	}
	plan := obj{"offering": ref("PurchaseOffering"), "ladder": arrayOf("PurchaseTranchePlan"), "upfront_cost": num("$ over all tranches"),
		"monthly_recurring_cost": num("$ a month once every tranche started"), "hourly_equivalent": num("$/h, upfront amortized: what the monthly guardrail counts"),
		"sale":           anyJSON("a Marketplace listing plan: the reservation, its utilization and the price schedule by remaining months"),
		"expected_basis": str("the usage window the expected figures were computed from, or why they are unknown (no usage to estimate from: ...)")}
	for k, v := range request {
		if _, own := plan[k]; !own {
			plan[k] = v
		}
	}
	return obj{
		"PurchaseRequest": object([]string{"connection", "type", "term_years", "payment_option"}, request),
		"PurchaseExpectation": object(nil, obj{"expected_utilization": num("0-1"), "expected_coverage": num("0-1"), "monthly_savings": num("$"),
			"downside_monthly_savings_20": num("$ a month if usage drops 20%"), "downside_monthly_savings_30": num("$ a month if usage drops 30%"), "break_even_month": integer("")}),
		"PurchasePlanSpec": object([]string{"type", "offering", "ladder"}, plan),
		"PurchaseOffering": object([]string{"id"}, obj{"id": str("the AWS offering ID"), "description": str(""), "currency": str(""),
			"fixed_price": num("reservations: upfront of one"), "hourly_price": num("reservations: recurring $/h of one")}),
		"PurchaseTranchePlan": object([]string{"index", "due"}, obj{"index": integer(""), "due": timestamp(""), "hourly_commitment": num(""), "count": integer(""),
			"upfront_cost": num(""), "hourly_equivalent": num("")}),
		"PurchaseTranche": object([]string{"index", "state", "client_token"}, obj{"index": integer(""), "due": timestamp(""), "client_token": str("sent with the purchase: a retry is the same purchase"),
			"state":         enum("the step's durable state", purchase.TranchePlanned, purchase.TrancheBuying, purchase.TrancheBought, purchase.TrancheDone, purchase.TrancheCancelled, purchase.TrancheFailed),
			"commitment_id": str("the Savings Plan or reservation AWS returned"), "error": str(""), "updated_at": timestamp("")}),
		"PurchasePlan": object([]string{"id", "state", "plan", "tranches"}, obj{"id": str("pp_..."), "connection_id": str(""), "kind": enum("", purchase.KindPurchase, purchase.KindRenewal, purchase.KindSale),
			"state": enum("", purchase.StatePending, purchase.StateApproved, purchase.StateExecuting, purchase.StateDone, purchase.StateDenied, purchase.StateExpired, purchase.StateCancelled),
			"plan":  ref("PurchasePlanSpec"), "tranches": arrayOf("PurchaseTranche"), "created_by": str("the author's actor"), "person": str("the author's email"),
			"created_at": timestamp(""), "updated_at": timestamp(""), "approval": ref("Approval"), "notes": strs("what the last step did or waits for")}),
		"PurchasePlanList": arrayOf("PurchasePlan"),
		"PurchaseCancel":   object(nil, obj{"reason": str("kept in the audit log")}),
		"PurchaseGuardrails": object(nil, obj{"max_hourly_commitment_per_month": num("$/h of new commitment starting in one calendar month; 0: no limit"),
			"max_upfront": num("$ upfront of one plan; 0: no limit"), "min_expected_utilization": num("0-1; 0: no limit"),
			"updated_by": str(""), "updated_at": timestamp("")}),
	}
}

// The purchases job carries on, every hour, the plans a person started
// executing (purchase.ExecuteDue): due tranches of reservations AWS cannot
// queue are bought, bought ones marked done once the inventory shows them.
const (
	JobPurchases      = "purchases"
	purchasesInterval = time.Hour
)

// schedulePurchases gives the tenant its hourly purchases job: one per
// tenant across replicas.
func (s *Server) schedulePurchases(ctx context.Context, tenant crossbill.TenantID, at time.Time) error {
	if s.sched == nil {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: JobPurchases, RunAt: at, Interval: purchasesInterval})
	return err
}

func (s *Server) runPurchases(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	open := func(ctx context.Context, conn crossbill.ConnectionID) (purchase.Account, error) {
		return purchase.Open(ctx, s.store, s.cfg.AWS, j.TenantID, conn)
	}
	rep, err := purchase.ExecuteDue(ctx, s.store, open, j.TenantID, store.AuditEntry{Actor: "scheduler"})
	progress(1, fmt.Sprintf("%d plan(s) carried on, %d finished, %d failed", rep.Plans, rep.Done, len(rep.Failed)))
	return err
}
