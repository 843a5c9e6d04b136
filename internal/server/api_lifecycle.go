package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// The commitment lifecycle beyond buying: renewals, Marketplace sale
// plans, and the hub's commitment-sharing organization (invitations and
// the sharing SCP, with the hub's own credentials). Each handler parses,
// calls internal/purchase or internal/orgshare, renders; the CLI calls
// the same functions (commitments renewals|sell, org ...).

type renewalPlanRequest struct {
	Connection crossbill.ConnectionID `json:"connection"`
	Note       string                 `json:"note,omitempty"`
}

type saleRequest struct {
	Reservation string                 `json:"reservation"`
	Connection  crossbill.ConnectionID `json:"connection"`
	Discount    *float64               `json:"discount,omitempty"`
	Note        string                 `json:"note,omitempty"`
}

type inviteRequest struct {
	Account crossbill.AccountID `json:"account_id"`
}

type scpAttachRequest struct {
	Account crossbill.AccountID `json:"account_id"`
}

func (s *Server) lifecycleRoutes() []route {
	renewals := tenantPath + "/commitments/renewals"
	sales := tenantPath + "/commitments/sales"
	org := tenantPath + "/org"
	lookback := q("lookback_days", "the CUR window utilization is measured over, before the latest data: 30 by default")
	asOf := q("as_of", "YYYY-MM-DD: count the days left from this date (default today)")
	return []route{
		{method: http.MethodGet, path: renewals, role: viewer, tenantParam: "tenant", handler: s.listRenewals, tag: "commitments",
			summary: "Commitments ending within 90 days with their 90/60/30-day alert and a renewal plan sized gross (the used part, from the CUR)",
			query:   []param{lookback, asOf, q("connection", "the connection stamped on the renewal plans (the account that would buy)")}, resp: "RenewalsReport"},
		{method: http.MethodPost, path: renewals + "/{commitment}/plan", role: analyst, tenantParam: "tenant", handler: s.planRenewal, tag: "commitments",
			summary: "Turn a commitment's renewal into a purchase plan through the connection's role (offering, guardrails and approval as for a purchase)",
			query:   []param{lookback, asOf}, body: "RenewalPlanRequest", resp: "PurchasePlan", status: http.StatusCreated},
		{method: http.MethodGet, path: sales, role: viewer, tenantParam: "tenant", handler: s.listSales, tag: "commitments",
			summary: "Reserved Instance Marketplace listing plans for the EC2 reservations used under 50%, priced by remaining months",
			query:   []param{lookback, q("discount", "the share asked below the remaining upfront value, 0-1 (default 0.1)")}, resp: "SalesReport"},
		{method: http.MethodPost, path: sales, role: analyst, tenantParam: "tenant", handler: s.planSale, tag: "commitments",
			summary: "Store an unused Standard reservation's listing plan and open its approval (an admin executes it once approved)",
			query:   []param{lookback}, body: "SaleRequest", resp: "PurchasePlan", status: http.StatusCreated},
		{method: http.MethodPost, path: org + "/invitations", role: admin, tenantParam: "tenant", handler: s.inviteAccount, tag: "org",
			summary: "Invite a customer account into the hub's commitment-sharing organization, with the hub's credentials; the customer accepts",
			body:    "InviteRequest", resp: "Invitation", status: http.StatusCreated},
		{method: http.MethodGet, path: org + "/handshakes", role: viewer, tenantParam: "tenant", handler: s.listHandshakes, tag: "org",
			summary: "The tenant's invitations: open, accepted, declined, expired, cancelled (open ones read from AWS first)", resp: "InvitationList"},
		{method: http.MethodPost, path: org + "/handshakes/{handshake}/cancel", role: admin, tenantParam: "tenant", handler: s.cancelHandshake, tag: "org",
			summary: "Withdraw an open invitation (409 when it is accepted, declined, expired or cancelled)", resp: "Invitation"},
		{method: http.MethodPost, path: org + "/scp/attach", role: admin, tenantParam: "tenant", handler: s.attachSCP, tag: "org",
			summary: "Plan (dry_run, the default) or apply the sharing SCP on an account that accepted: enable SCPs on the root, create or update the policy by name, attach it; idempotent, audited",
			query:   []param{q("dry_run", "true (default): only plan; false: apply")}, body: "SCPAttachRequest", resp: "SCPAttachment"},
	}
}

// lookbackIn runs a commitments use case (renewals, sales, the comparison
// with Cost Explorer) in the tenant's engine (athena.Engines.Commitments,
// saying so in costSourceHeader for an Athena tenant) over the window the
// CLI's --lookback reads: lookback_days before the tenant's latest CUR
// hour, read from the same reader.
func (s *Server) lookbackIn(w http.ResponseWriter, r *http.Request, run func(commitments.Reader, commitments.Window) error) error {
	days, err := lookbackOf(r)
	if err != nil {
		return err
	}
	if err := s.engineSource(w, r); err != nil {
		return err
	}
	ctx, tenant := r.Context(), tenantOf(r).ID
	_, err = s.engines().Commitments(ctx, tenant, s.localFor(r), func(cr commitments.Reader) error {
		win, err := commitmentWindowIn(ctx, cr, tenant, days)
		if err != nil {
			return err
		}
		return run(cr, win)
	})
	return err
}

func (s *Server) asOfOf(r *http.Request) (time.Time, error) {
	v := r.URL.Query().Get("as_of")
	if v == "" {
		return s.now().UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, crossbill.Errorf(crossbill.CodeInvalid, "commitments renewals", "as of %q: use YYYY-MM-DD", v)
	}
	return t, nil
}

// renewalsAnswer is the renewals use case's answer with what it cost in
// Athena.
type renewalsAnswer struct {
	purchase.RenewalsReport
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

// renewals runs the renewals use case over the tenant's CUR, in its
// engine.
func (s *Server) renewals(w http.ResponseWriter, r *http.Request, conn crossbill.ConnectionID) (renewalsAnswer, error) {
	at, err := s.asOfOf(r)
	if err != nil {
		return renewalsAnswer{}, err
	}
	var out renewalsAnswer
	err = s.lookbackIn(w, r, func(cr commitments.Reader, win commitments.Window) error {
		var err error
		out.RenewalsReport, err = purchase.ListRenewals(r.Context(), cr, win, nil, purchase.RenewalsQuery{Tenant: tenantOf(r).ID, Connection: conn, AsOf: at})
		out.Athena = athena.Spent(cr)
		return err
	})
	return out, err
}

func (s *Server) listRenewals(w http.ResponseWriter, r *http.Request) error {
	conn := crossbill.ConnectionID(r.URL.Query().Get("connection"))
	if conn != "" {
		// Stamped on the plans: it must be the tenant's.
		if _, err := s.store.TenantConnection(r.Context(), tenantOf(r).ID, conn); err != nil {
			return err
		}
	}
	rep, err := s.renewals(w, r, conn)
	if err != nil {
		return err
	}
	return ok(w, r, rep)
}

func (s *Server) planRenewal(w http.ResponseWriter, r *http.Request) error {
	var in renewalPlanRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Connection == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "renewal plan", "a renewal plan needs the connection whose account buys (connection)")
	}
	ctx, tenant := r.Context(), tenantOf(r).ID
	// The connection first: its refusal says more than the renewals.
	acct, err := purchase.Open(ctx, s.store, s.cfg.AWS, tenant, in.Connection)
	if err != nil {
		return err
	}
	rep, err := s.renewals(w, r, in.Connection)
	if err != nil {
		return err
	}
	v, err := purchase.PlanRenewal(ctx, s.store, acct, tenant, in.Connection, rep.RenewalsReport, r.PathValue("commitment"), in.Note, authOf(r).audit())
	if err != nil {
		return err
	}
	return created(w, r, v)
}

// salesAnswer is the sale use case's answer with what it cost in Athena.
type salesAnswer struct {
	purchase.SalesReport
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

// sales runs the sale use case over the tenant's CUR, in its engine.
func (s *Server) sales(w http.ResponseWriter, r *http.Request, discount float64) (salesAnswer, error) {
	var out salesAnswer
	err := s.lookbackIn(w, r, func(cr commitments.Reader, win commitments.Window) error {
		var err error
		out.SalesReport, err = purchase.ListSales(r.Context(), cr, win, nil, discount, s.now().UTC())
		out.Athena = athena.Spent(cr)
		return err
	})
	return out, err
}

// defaultSaleDiscount is the CLI's --discount default.
const defaultSaleDiscount = 0.1

func (s *Server) listSales(w http.ResponseWriter, r *http.Request) error {
	d := defaultSaleDiscount
	if v := r.URL.Query().Get("discount"); v != "" {
		var err error
		if d, err = strconv.ParseFloat(v, 64); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "marketplace sale", "discount %q: use a fraction from 0 to below 1 (0.1 for 10%%)", v)
		}
	}
	rep, err := s.sales(w, r, d)
	if err != nil {
		return err
	}
	return ok(w, r, rep)
}

func (s *Server) planSale(w http.ResponseWriter, r *http.Request) error {
	var in saleRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d := defaultSaleDiscount
	if in.Discount != nil {
		d = *in.Discount
	}
	rep, err := s.sales(w, r, d)
	if err != nil {
		return err
	}
	v, err := purchase.PlanSale(r.Context(), s.store, tenantOf(r).ID, in.Connection, rep.SalesReport, in.Reservation, in.Note, authOf(r).audit())
	if err != nil {
		return err
	}
	return created(w, r, v)
}

func (s *Server) inviteAccount(w http.ResponseWriter, r *http.Request) error {
	var in inviteRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	inv, err := orgshare.Invite(r.Context(), s.store, s.cfg.AWS.Hub(), tenantOf(r).ID, in.Account, authOf(r).audit())
	if err != nil {
		return err
	}
	return created(w, r, inv)
}

func (s *Server) listHandshakes(w http.ResponseWriter, r *http.Request) error {
	invs, err := orgshare.Handshakes(r.Context(), s.store, s.cfg.AWS.Hub(), tenantOf(r).ID, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, invs)
}

func (s *Server) cancelHandshake(w http.ResponseWriter, r *http.Request) error {
	inv, err := orgshare.Cancel(r.Context(), s.store, s.cfg.AWS.Hub(), tenantOf(r).ID, r.PathValue("handshake"), authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, inv)
}

func (s *Server) attachSCP(w http.ResponseWriter, r *http.Request) error {
	dry := true
	if v := r.URL.Query().Get("dry_run"); v != "" {
		var err error
		if dry, err = strconv.ParseBool(v); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "org scp attach", "dry_run=%q: use true or false", v)
		}
	}
	var in scpAttachRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := orgshare.AttachSCP(r.Context(), s.store, s.cfg.AWS.Hub(), tenantOf(r).ID, in.Account, !dry, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, a)
}

func lifecycleSchemas() obj {
	anyObjects := func(desc string) obj {
		return obj{"type": "array", "items": obj{"type": "object"}, "description": desc}
	}
	return obj{
		"RenewalsReport": object([]string{"renewals"}, obj{"renewals": arrayOf("Renewal"), "notified": integer("alerts queued (the daily renewals job sends them)"), "athena": ref("AthenaCost")}),
		"Renewal": object([]string{"commitment", "days_left", "alert_days"}, obj{"commitment": obj{"type": "object", "description": "the expiring commitment"},
			"days_left": integer(""), "alert_days": integer("the threshold crossed: 90, 60 or 30 (0: none yet)"),
			"utilization": num("its use over the window, 0-1; -1 when the CUR does not show it"),
			"plan":        ref("PurchaseRequest"), "why": str("why there is no plan, or how it was sized")}),
		"RenewalPlanRequest": object([]string{"connection"}, obj{"connection": str("the verified connection whose account buys (commitments-purchase module)"), "note": str("why, for the approver")}),
		"SalesReport": object([]string{"sales", "skipped"}, obj{"sales": arrayOf("Sale"), "skipped": obj{"type": "array", "items": obj{"type": "string"}, "description": "low-use reservations that cannot be listed, and why"},
			"athena": ref("AthenaCost")}),
		"Sale": object([]string{"reservation", "price_schedule"}, obj{"reservation": obj{"type": "object"}, "utilization": num("0-1"), "months_remaining": integer(""),
			"discount": num("0-1"), "price_schedule": anyObjects("upfront price asked per number of months remaining"), "currency": str("")}),
		"SaleRequest": object([]string{"reservation", "connection"}, obj{"reservation": str("the reservation's ID or ARN"), "connection": str("the verified connection whose account lists it"),
			"discount": num("0-1, default 0.1"), "note": str("why, for the approver")}),
		"InviteRequest": object([]string{"account_id"}, obj{"account_id": str("the 12-digit account to invite")}),
		"Invitation": object([]string{"id", "account_id", "state"}, obj{"id": str("the handshake ID (h-...)"), "tenant_id": str(""), "account_id": str(""),
			"state":        obj{"type": "string", "enum": []string{orgshare.Open, orgshare.Accepted, orgshare.Declined, orgshare.Expired, orgshare.Cancelled}},
			"requested_at": timestamp(""), "expires_at": timestamp(""), "updated_at": timestamp(""), "created_by": str(""),
			"meaning":        obj{"type": "array", "items": obj{"type": "string"}, "description": "what accepting means, how to accept and to leave"},
			"accept_command": str("the customer's command, run in the invited account"), "scp": str("the SCP attached to enrolled accounts")}),
		"InvitationList":   arrayOf("Invitation"),
		"SCPAttachRequest": object([]string{"account_id"}, obj{"account_id": str("an account that accepted the tenant's invitation")}),
		"SCPAttachment": object([]string{"account_id", "steps", "dry_run"}, obj{"account_id": str(""), "handshake_id": str("the accepted invitation"),
			"policy_name": str(""), "policy_id": str("p-... once it exists"), "root_id": str(""), "dry_run": boolean("true: planned, nothing changed"),
			"steps":  arrayOf("SCPStep"),
			"policy": str("the SCP's content")}),
		"SCPStep": object([]string{"action", "done"}, obj{"action": obj{"type": "string", "enum": []string{orgshare.StepEnableSCPs, orgshare.StepCreate, orgshare.StepUpdate, orgshare.StepAttach}},
			"detail": str(""), "done": boolean("")}),
	}
}

// The daily renewals job: the 90/60/30-day alerts of every tenant with a
// commitments connection go out without anyone asking (the outbox's dedup
// key makes each commitment's threshold one alert).
const (
	JobRenewals      = "renewals"
	renewalsInterval = 24 * time.Hour
	// renewalsLookback is the CLI's and the API's default window.
	renewalsLookback = 30
)

// scheduleRenewals gives the tenant of a connection with the commitments
// module its daily renewals job: one per tenant (no connection in its
// key), however many connections hold the module, across replicas.
func (s *Server) scheduleRenewals(ctx context.Context, c store.Connection, at time.Time) error {
	if s.sched == nil || !slices.Contains(c.Modules, manifest.ModuleCommitments) {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, Kind: JobRenewals, RunAt: at, Interval: renewalsInterval})
	return err
}

// tenantCostStore is the tenant's cost store outside a request (a job):
// the shared one in cluster mode, else this replica's.
func (s *Server) tenantCostStore(ctx context.Context, tenant crossbill.TenantID) (*costs.Store, func(), error) {
	if s.cfg.ClusterCosts != nil {
		return s.cfg.ClusterCosts.Tenant(ctx, tenant)
	}
	cs, err := s.localCosts()
	return cs, func() {}, err
}

// localOf opens the tenant's local cost store for the engines outside a
// request (a job), as localFor does in one.
func (s *Server) localOf(tenant crossbill.TenantID) athena.Local {
	return func(ctx context.Context) (*costs.Store, func(), error) { return s.tenantCostStore(ctx, tenant) }
}

// runRenewals reads the tenant's renewals from its CUR in its engine
// (crossbill's cost store, or Athena's table for an Athena tenant) and
// queues the due alerts; a tenant without cost data yet has nothing to
// alert.
func (s *Server) runRenewals(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	var rep purchase.RenewalsReport
	var noData error
	_, err := s.engines().Commitments(ctx, j.TenantID, s.localOf(j.TenantID), func(cr commitments.Reader) error {
		w, err := commitmentWindowIn(ctx, cr, j.TenantID, renewalsLookback)
		if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
			noData = err
			return nil
		}
		if err != nil {
			return err
		}
		rep, err = purchase.ListRenewals(ctx, cr, w, nil, purchase.RenewalsQuery{Tenant: j.TenantID, AsOf: s.now(), Notify: purchase.Outbox(s.store)})
		return err
	})
	if err != nil {
		return err
	}
	if noData != nil {
		progress(1, "no cost data yet: nothing to renew ("+noData.Error()+")")
		return nil
	}
	if rep.Notified > 0 {
		if _, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: j.TenantID, Kind: JobNotify}); err != nil {
			return err
		}
	}
	progress(1, strconv.Itoa(len(rep.Renewals))+" commitment(s) ending within 90 days, "+strconv.Itoa(rep.Notified)+" alert(s) due")
	return nil
}
