// Package purchase is the commitment lifecycle: purchase plans (from a
// recommendation or by hand, laddered into tranches), the tenant's
// guardrails, approval by a person other than the author (the shared
// internal/approval model), idempotent execution through the connection's
// role, cancellation of queued Savings Plans, renewals and Reserved
// Instance Marketplace sale plans.
package purchase

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Plan states.
const (
	StatePending   = "pending-approval"
	StateApproved  = "approved"
	StateExecuting = "executing"
	StateDone      = "done"
	StateDenied    = "denied"
	StateExpired   = "expired"
	StateCancelled = "cancelled"
)

// Tranche (step) states: planned, then buying (written before the AWS
// call), bought (AWS returned the commitment's ID), done (the inventory
// shows it); cancelled when a queued one was deleted.
const (
	TranchePlanned   = "planned"
	TrancheBuying    = "buying"
	TrancheBought    = "bought"
	TrancheDone      = "done"
	TrancheCancelled = "cancelled"
	TrancheFailed    = "failed"
)

// Plan kinds.
const (
	KindPurchase = "purchase"
	KindRenewal  = "renewal"
	KindSale     = "sale" // a Reserved Instance Marketplace listing
)

// MinSavingsPlanCommitment is the smallest hourly commitment AWS sells a
// Savings Plan for, and its step: $0.001 an hour.
const MinSavingsPlanCommitment = 0.001

// MaxTranches bounds a ladder: a year of monthly purchases.
const MaxTranches = 12

// Request is a purchase plan as its author writes it, by hand or from a
// recommendation (Expected then carries what the recommendation found).
type Request struct {
	Tenant     crossbill.TenantID     `json:"-"`
	Connection crossbill.ConnectionID `json:"connection"`
	Kind       string                 `json:"kind,omitempty"` // purchase (default) or renewal
	// Type is a Savings Plan type (commitments.TypeComputeSP,
	// TypeEC2InstanceSP) or "EC2" for EC2 Reserved Instances.
	Type      string              `json:"type"`
	TermYears int                 `json:"term_years"`
	Payment   commitments.Payment `json:"payment_option"`
	// HourlyCommitment is the Savings Plans' total $/h over all tranches.
	HourlyCommitment float64 `json:"hourly_commitment,omitempty"`
	// Count is the reservations' total count over all tranches.
	Count        int    `json:"count,omitempty"`
	Region       string `json:"region,omitempty"`
	Family       string `json:"family,omitempty"`        // EC2 Instance Savings Plans
	InstanceType string `json:"instance_type,omitempty"` // reservations
	// Platform is the reservation's product description: EC2's platform
	// (default "Linux/UNIX"), the RDS or ElastiCache engine (needed when
	// AWS sells the type for several).
	Platform string `json:"platform,omitempty"`
	// MultiAZ asks for a Multi-AZ RDS reservation.
	MultiAZ bool `json:"multi_az,omitempty"`
	// Tranches splits the purchase into that many equal purchases a month
	// apart (a ladder); 0 or 1 is one purchase.
	Tranches int `json:"tranches,omitempty"`
	// Start is when the first tranche starts; zero is now. A later start
	// queues the purchase.
	Start time.Time `json:"start,omitzero"`
	// Expected is what a client claims the plan will do: never trusted.
	// Draft computes the plan's own (Plan.Expected, which shadows this
	// one in the stored plan) from the tenant's usage.
	Expected *Expectation `json:"expected,omitempty"`
	Source   string       `json:"source,omitempty"` // "manual", "recommendation", "renewal of ID"
	Note     string       `json:"note,omitempty"`
}

// Expectation is what the plan is expected to do, from the commitments
// package's math over the tenant's usage (a recommendation).
type Expectation struct {
	Utilization    float64 `json:"expected_utilization"`
	Coverage       float64 `json:"expected_coverage"`
	MonthlySavings float64 `json:"monthly_savings"`
	// Downside20 and Downside30 are the monthly savings if usage drops 20%
	// and 30% (negative: the commitment loses money).
	Downside20     float64 `json:"downside_monthly_savings_20"`
	Downside30     float64 `json:"downside_monthly_savings_30"`
	BreakEvenMonth int     `json:"break_even_month"`
}

// FromRecommendation turns one of the commitments package's
// recommendations into a request: its type, term, payment, size, ladder
// and expected figures.
func FromRecommendation(r commitments.Recommendation) (Request, error) {
	req := Request{TermYears: r.Term, Payment: r.Payment, Region: r.Region, Family: r.Family, InstanceType: r.InstanceType,
		Tranches: max(len(r.Ladder), 1), Source: "recommendation",
		Expected: &Expectation{Utilization: r.Utilization, Coverage: r.Coverage, MonthlySavings: r.MonthlySavings,
			Downside20: r.Downside20, Downside30: r.Downside30, BreakEvenMonth: r.BreakEvenMonth}}
	switch r.Type {
	case commitments.OptionComputeSP:
		req.Type, req.HourlyCommitment = commitments.TypeComputeSP, r.HourlyCommitment
	case commitments.OptionEC2InstanceSP:
		req.Type, req.HourlyCommitment = commitments.TypeEC2InstanceSP, r.HourlyCommitment
	case commitments.OptionRDSRI, commitments.OptionElastiCacheRI, commitments.OptionOpenSearchRI, commitments.OptionRedshiftRI:
		req.Type = map[string]string{commitments.OptionRDSRI: commitments.TypeRDSRI, commitments.OptionElastiCacheRI: commitments.TypeElastiCacheRI,
			commitments.OptionOpenSearchRI: commitments.TypeOpenSearchRI, commitments.OptionRedshiftRI: commitments.TypeRedshiftRI}[r.Type]
		if r.Count < 1 {
			return Request{}, crossbill.Errorf(crossbill.CodeInvalid, "purchase plan", "the %s recommendation buys no reservation (count %d): nothing to plan", r.Type, r.Count)
		}
		// A ladder of reservations has at most one per tranche.
		req.Count, req.Tranches = r.Count, min(req.Tranches, r.Count)
	default:
		return Request{}, crossbill.Errorf(crossbill.CodeInvalid, "purchase plan", "crossbill cannot buy %s recommendations: plan them by hand", r.Type)
	}
	return req, nil
}

// Plan is a validated request with the offering it buys, its tranches and
// its costs; the store keeps it as the plan's JSON.
type Plan struct {
	Request
	Offering Offering      `json:"offering"`
	Ladder   []TranchePlan `json:"ladder"`
	// Upfront is paid at purchase over all tranches; MonthlyRecurring is
	// billed each month once every tranche has started.
	Upfront          float64 `json:"upfront_cost"`
	MonthlyRecurring float64 `json:"monthly_recurring_cost"`
	// HourlyEquivalent is the commitment per hour, upfront amortized: what
	// the guardrail on new hourly commitment counts.
	HourlyEquivalent float64 `json:"hourly_equivalent"`
	// Sale is a Marketplace listing's reservation and price schedule.
	Sale *Sale `json:"sale,omitempty"`
	// Expected is computed by Draft from the tenant's own usage (nil when
	// there is none to estimate from); ExpectedBasis says from what, or
	// why it is unknown.
	Expected      *Expectation `json:"expected,omitempty"`
	ExpectedBasis string       `json:"expected_basis,omitempty"`
}

// TranchePlan is one purchase of the ladder.
type TranchePlan struct {
	Index            int       `json:"index"`
	Due              time.Time `json:"due"`
	HourlyCommitment float64   `json:"hourly_commitment,omitempty"`
	Count            int       `json:"count,omitempty"`
	Upfront          float64   `json:"upfront_cost"`
	HourlyEquivalent float64   `json:"hourly_equivalent"`
}

// View is a plan as the CLI, the API and the UI show it.
type View struct {
	ID         string                  `json:"id"`
	Connection crossbill.ConnectionID  `json:"connection_id"`
	Kind       string                  `json:"kind"`
	State      string                  `json:"state"`
	Plan       Plan                    `json:"plan"`
	Tranches   []store.PurchaseTranche `json:"tranches"`
	CreatedBy  string                  `json:"created_by"`
	Person     string                  `json:"person,omitempty"`
	CreatedAt  time.Time               `json:"created_at"`
	UpdatedAt  time.Time               `json:"updated_at"`
	Approval   *approval.Approval      `json:"approval,omitempty"`
	// Notes say what the last step did or waits for.
	Notes []string `json:"notes,omitempty"`
}

func isSavingsPlan(typ string) bool {
	return typ == commitments.TypeComputeSP || typ == commitments.TypeEC2InstanceSP
}

// validate checks a request and fills its defaults; now is the clock.
func (r *Request) validate(now time.Time) error {
	const op = "purchase plan"
	bad := func(format string, args ...any) error {
		return crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	if r.Connection == "" {
		return bad("a plan needs the connection whose account buys (--connection)")
	}
	switch r.Kind {
	case "":
		r.Kind = KindPurchase
	case KindPurchase, KindRenewal:
	default:
		return bad("unknown plan kind %q: use purchase or renewal", r.Kind)
	}
	for field, v := range map[string]string{"note": r.Note, "source": r.Source, "region": r.Region, "family": r.Family, "instance type": r.InstanceType, "platform": r.Platform} {
		if err := crossbill.CheckText(op, field, v); err != nil {
			return err
		}
		if len(v) > 500 {
			return bad("the %s is %d characters long; use at most 500", field, len(v))
		}
	}
	if r.TermYears != 1 && r.TermYears != 3 {
		return bad("the term is %d years: AWS sells 1- and 3-year commitments", r.TermYears)
	}
	if !slices.Contains([]commitments.Payment{commitments.NoUpfront, commitments.PartialUpfront, commitments.AllUpfront}, r.Payment) {
		return bad("unknown payment option %q: use No Upfront, Partial Upfront or All Upfront", r.Payment)
	}
	if r.Tranches == 0 {
		r.Tranches = 1
	}
	if r.Tranches < 1 || r.Tranches > MaxTranches {
		return bad("%d tranches: a ladder has 1 to %d monthly purchases", r.Tranches, MaxTranches)
	}
	if r.Start.IsZero() || r.Start.Before(now) {
		r.Start = now
	}
	if r.Start.After(now.AddDate(1, 0, 0)) {
		return bad("the start %s is more than a year away: plan closer to the date", r.Start.Format(time.DateOnly))
	}
	switch {
	case isSavingsPlan(r.Type):
		if r.Count != 0 {
			return bad("a Savings Plan is sized by its hourly commitment, not a count")
		}
		per := math.Floor(r.HourlyCommitment/float64(r.Tranches)/MinSavingsPlanCommitment+1e-9) * MinSavingsPlanCommitment
		if per < MinSavingsPlanCommitment {
			return bad("an hourly commitment of $%g over %d tranches is below AWS's minimum of $%.3f an hour per Savings Plan", r.HourlyCommitment, r.Tranches, MinSavingsPlanCommitment)
		}
		if r.Type == commitments.TypeEC2InstanceSP && (r.Region == "" || r.Family == "") {
			return bad("an EC2 Instance Savings Plan needs its region and instance family (--region, --family)")
		}
	case r.Type == commitments.TypeEC2RI:
		if r.HourlyCommitment != 0 {
			return bad("a reservation is sized by its count, not an hourly commitment")
		}
		if r.Count < r.Tranches {
			return bad("%d reservations cannot be split into %d tranches: buy at least one per tranche", r.Count, r.Tranches)
		}
		if r.InstanceType == "" || r.Region == "" {
			return bad("an EC2 reservation needs its instance type and region (--instance-type, --region)")
		}
		if r.Platform == "" {
			r.Platform = "Linux/UNIX"
		}
	case isServiceReservation(r.Type):
		if r.HourlyCommitment != 0 {
			return bad("a reservation is sized by its count, not an hourly commitment")
		}
		if r.Count < 1 {
			return bad("a count of %d %s reservations: buy at least one (--count)", r.Count, r.Type)
		}
		if r.Count < r.Tranches {
			return bad("%d reservations cannot be split into %d tranches: buy at least one per tranche", r.Count, r.Tranches)
		}
		if r.InstanceType == "" || r.Region == "" {
			return bad("a %s reservation needs its %s and region (--instance-type, --region)", r.Type, typeNoun(r.Type))
		}
		if r.MultiAZ && r.Type != commitments.TypeRDSRI {
			return bad("only RDS reservations are Multi-AZ")
		}
	default:
		return bad("unknown commitment type %q: use %s, %s, %s, %s, %s, %s or %s", r.Type, commitments.TypeComputeSP, commitments.TypeEC2InstanceSP, commitments.TypeEC2RI,
			commitments.TypeRDSRI, commitments.TypeElastiCacheRI, commitments.TypeOpenSearchRI, commitments.TypeRedshiftRI)
	}
	if r.Expected != nil && (r.Expected.Utilization < 0 || r.Expected.Utilization > 1 || r.Expected.Coverage < 0 || r.Expected.Coverage > 1) {
		return bad("expected utilization and coverage are fractions between 0 and 1")
	}
	return nil
}

// ladder splits the request into tranches a month apart and prices each
// with the offering.
func (p *Plan) ladder() {
	n := p.Tranches
	hours := 8760 * float64(p.TermYears)
	p.Ladder = make([]TranchePlan, n)
	p.Upfront, p.MonthlyRecurring, p.HourlyEquivalent = 0, 0, 0
	for i := range p.Ladder {
		t := TranchePlan{Index: i, Due: p.Start.AddDate(0, i, 0)}
		if isSavingsPlan(p.Type) {
			// Equal tranches rounded down to AWS's step; the first takes
			// what rounding left over, so the ladder sums to the request.
			per := math.Floor(p.HourlyCommitment/float64(n)/MinSavingsPlanCommitment+1e-9) * MinSavingsPlanCommitment
			t.HourlyCommitment = per
			if i == 0 {
				t.HourlyCommitment = math.Round((p.HourlyCommitment-per*float64(n-1))*1000) / 1000
			}
			t.Upfront = round2(p.Payment.UpfrontShare() * t.HourlyCommitment * hours)
			t.HourlyEquivalent = t.HourlyCommitment
			p.MonthlyRecurring += (1 - p.Payment.UpfrontShare()) * t.HourlyCommitment * commitments.HoursPerMonth
		} else {
			t.Count = p.Count / n
			if i < p.Count%n {
				t.Count++
			}
			c := float64(t.Count)
			t.Upfront = round2(p.Offering.FixedPrice * c)
			t.HourlyEquivalent = p.Offering.FixedPrice*c/hours + p.Offering.HourlyPrice*c
			p.MonthlyRecurring += p.Offering.HourlyPrice * c * commitments.HoursPerMonth
		}
		p.Upfront += t.Upfront
		p.HourlyEquivalent += t.HourlyEquivalent
		p.Ladder[i] = t
	}
	p.Upfront, p.MonthlyRecurring = round2(p.Upfront), round2(p.MonthlyRecurring)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// summary is the approval inbox's one line.
func (p Plan) summary() string {
	if s := p.Sale; s != nil {
		return fmt.Sprintf("List %d × %s (reservation %s, %.0f%% used) on the Reserved Instance Marketplace from $%.2f", s.Reservation.Count, s.Reservation.InstanceType,
			s.Reservation.ID, s.Utilization*100, s.Schedule[0].Price)
	}
	size := fmt.Sprintf("$%.3f/h", p.HourlyCommitment)
	if !isSavingsPlan(p.Type) {
		size = fmt.Sprintf("%d × %s", p.Count, p.InstanceType)
	}
	ladder := ""
	if p.Tranches > 1 {
		ladder = fmt.Sprintf(" in %d monthly tranches", p.Tranches)
	}
	return fmt.Sprintf("Buy %s %s, %d year(s) %s%s from %s: $%.2f upfront, $%.2f a month", p.Type, size, p.TermYears, p.Payment, ladder,
		p.Start.Format(time.DateOnly), p.Upfront, p.MonthlyRecurring)
}

// checkConnection refuses a connection whose role cannot buy: not
// verified, or without the opt-in commitments-purchase module.
func checkConnection(c store.Connection) error {
	const op = "purchase plan"
	if c.Status != store.StatusVerified || c.RoleARN == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s is %s: verify it first (`crossbill connect verify`)", c.ID, c.Status)
	}
	if !slices.Contains(c.Modules, manifest.ModuleCommitmentsPurchase) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s does not have the opt-in %s module: add it to the connection's templates (`crossbill connect init --modules ...,%s`), have the customer deploy them, and verify again",
			c.ID, manifest.ModuleCommitmentsPurchase, manifest.ModuleCommitmentsPurchase)
	}
	return nil
}

// Draft validates a request, finds the offering it buys through the
// connection's role, checks the tenant's guardrails, stores the plan and
// opens its approval. A plan over a guardrail is refused with the reason
// and nothing is stored.
func Draft(ctx context.Context, st *store.Store, acct Account, req Request, by store.AuditEntry) (View, error) {
	const op = "purchase plan"
	now := st.Now().UTC()
	if err := req.validate(now); err != nil {
		return View{}, err
	}
	conn, err := st.TenantConnection(ctx, req.Tenant, req.Connection)
	if err != nil {
		return View{}, err
	}
	if err := checkConnection(conn); err != nil {
		return View{}, err
	}
	plan := Plan{Request: req}
	if plan.Offering, err = acct.findOffering(ctx, req); err != nil {
		return View{}, err
	}
	plan.ladder()
	plan.Expected, plan.ExpectedBasis = acct.expect(ctx, plan)
	if err := checkGuardrails(ctx, st, req.Tenant, plan, ""); err != nil {
		return View{}, err
	}
	spec, err := json.Marshal(plan)
	if err != nil {
		return View{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	sp := store.PurchasePlan{TenantID: req.Tenant, ConnectionID: req.Connection, Kind: req.Kind, State: StatePending, Spec: spec}
	for _, t := range plan.Ladder {
		sp.Tranches = append(sp.Tranches, store.PurchaseTranche{Due: t.Due, State: TranchePlanned})
	}
	saved, err := st.CreatePurchasePlan(ctx, sp, by)
	if err != nil {
		return View{}, err
	}
	// The approval waits until the first tranche is due (at least a day):
	// an approval after the start would buy a different plan.
	expires := plan.Start
	if expires.Before(now.Add(24 * time.Hour)) {
		expires = now.Add(approval.DefaultTTL)
	}
	ap, err := approval.Open(ctx, st, approval.Request{Tenant: req.Tenant, Kind: approval.KindPurchase, Subject: saved.ID,
		Summary: plan.summary(), Detail: plan, Required: 1, ExpiresAt: expires}, by)
	if err != nil {
		return View{}, err
	}
	v, err := view(saved)
	if err != nil {
		return View{}, err
	}
	v.Approval = &ap
	if c := req.Expected; c != nil && (plan.Expected == nil || math.Abs(c.Utilization-plan.Expected.Utilization) > 0.005) {
		v.Notes = append(v.Notes, fmt.Sprintf("the request's expected utilization of %.1f%% was not used: the plan's is %s", c.Utilization*100, plan.ExpectedBasis))
	}
	v.Notes = append(v.Notes, fmt.Sprintf("waiting for approval %s by a person other than %s (`crossbill commitments approve %s`)", ap.ID, author(saved), saved.ID))
	return v, nil
}

// DraftSale stores a Marketplace listing plan for an unused reservation
// (priced by SalePlan) and opens its approval, like a purchase.
func DraftSale(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID, sale Sale, note string, by store.AuditEntry) (View, error) {
	const op = "sale plan"
	if err := crossbill.CheckText(op, "note", note); err != nil {
		return View{}, err
	}
	if len(sale.Schedule) == 0 || sale.Reservation.ID == "" || sale.Reservation.Count < 1 {
		return View{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a sale plan needs a reservation and its price schedule (`crossbill commitments sell`)")
	}
	c, err := st.TenantConnection(ctx, tenant, conn)
	if err != nil {
		return View{}, err
	}
	if err := checkConnection(c); err != nil {
		return View{}, err
	}
	r := sale.Reservation
	now := st.Now().UTC()
	plan := Plan{Request: Request{Connection: conn, Kind: KindSale, Type: r.Type, TermYears: int(r.TermYears), Payment: r.Payment, Count: r.Count,
		InstanceType: r.InstanceType, Region: r.Region, Tranches: 1, Start: now, Source: "sale of " + r.ID, Note: note}, Sale: &sale,
		Ladder: []TranchePlan{{Index: 0, Due: now, Count: r.Count}}}
	spec, err := json.Marshal(plan)
	if err != nil {
		return View{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	saved, err := st.CreatePurchasePlan(ctx, store.PurchasePlan{TenantID: tenant, ConnectionID: conn, Kind: KindSale, State: StatePending, Spec: spec,
		Tranches: []store.PurchaseTranche{{Due: now, State: TranchePlanned}}}, by)
	if err != nil {
		return View{}, err
	}
	ap, err := approval.Open(ctx, st, approval.Request{Tenant: tenant, Kind: approval.KindPurchase, Subject: saved.ID, Summary: plan.summary(), Detail: plan, Required: 1,
		ExpiresAt: now.Add(approval.DefaultTTL)}, by)
	if err != nil {
		return View{}, err
	}
	v, err := view(saved)
	if err != nil {
		return View{}, err
	}
	v.Approval = &ap
	return v, nil
}

func author(p store.PurchasePlan) string {
	if p.Person != "" {
		return p.Person
	}
	return p.CreatedBy
}

func view(p store.PurchasePlan) (View, error) {
	v := View{ID: p.ID, Connection: p.ConnectionID, Kind: p.Kind, State: p.State, Tranches: p.Tranches, CreatedBy: p.CreatedBy,
		Person: p.Person, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if err := json.Unmarshal(p.Spec, &v.Plan); err != nil {
		return View{}, crossbill.Errorf(crossbill.CodeInternal, "purchase plan", "plan %s: %w", p.ID, err)
	}
	if v.Tranches == nil {
		v.Tranches = []store.PurchaseTranche{}
	}
	return v, nil
}

// Get returns one of the tenant's plans with its approval.
func Get(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string) (View, error) {
	p, err := st.PurchasePlan(ctx, tenant, id)
	if err != nil {
		return View{}, err
	}
	v, err := view(p)
	if err != nil {
		return View{}, err
	}
	if ap, err := approval.ForSubject(ctx, st, tenant, approval.KindPurchase, id); err == nil {
		v.Approval = &ap
	} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		return View{}, err
	}
	v.State = shownState(v.State, v.Approval, st.Now())
	return v, nil
}

// shownState is the state a read shows: a plan stays pending-approval in
// the store until execute reads its approval's outcome, but a decision
// taken in the shared approvals inbox is the plan's state from then on
// (and a pending approval past its expiry is expired, before the sweep).
func shownState(stored string, ap *approval.Approval, now time.Time) string {
	if stored != StatePending || ap == nil {
		return stored
	}
	state := ap.State
	if state == approval.Pending && !ap.ExpiresAt.IsZero() && now.After(ap.ExpiresAt) {
		state = approval.Expired
	}
	if to := approvalOutcome[state]; to != "" {
		return to
	}
	return stored
}

// approvalOutcome is the plan state each decided approval state leads to.
var approvalOutcome = map[string]string{approval.Approved: StateApproved, approval.Denied: StateDenied, approval.Expired: StateExpired, approval.Cancelled: StateCancelled}

// List returns the tenant's plans, newest first.
func List(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]View, error) {
	ps, err := st.PurchasePlans(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(ps))
	for _, p := range ps {
		v, err := view(p)
		if err != nil {
			return nil, err
		}
		if v.State == StatePending {
			// Only a pending plan's approval can change what it shows.
			if ap, err := approval.ForSubject(ctx, st, tenant, approval.KindPurchase, p.ID); err == nil {
				v.State = shownState(v.State, &ap, st.Now())
			} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Approve records by's decision on a plan through the shared approval
// model: the plan's author cannot approve it, a deny ends it.
func Approve(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string, approve bool, reason string, by store.AuditEntry) (View, error) {
	if _, err := st.PurchasePlan(ctx, tenant, id); err != nil {
		return View{}, err
	}
	ap, err := approval.ForSubject(ctx, st, tenant, approval.KindPurchase, id)
	if err != nil {
		return View{}, err
	}
	if _, err := approval.Decide(ctx, st, tenant, ap.ID, approve, reason, by); err != nil {
		return View{}, err
	}
	if _, err := sync(ctx, st, tenant, id, by); err != nil {
		return View{}, err
	}
	return Get(ctx, st, tenant, id)
}

// sync moves a pending plan on from its approval's outcome and returns
// the approval.
func sync(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string, by store.AuditEntry) (approval.Approval, error) {
	ap, err := approval.ForSubject(ctx, st, tenant, approval.KindPurchase, id)
	if err != nil {
		return approval.Approval{}, err
	}
	to := approvalOutcome[ap.State]
	if to == "" {
		return ap, nil
	}
	err = st.MovePurchasePlan(ctx, tenant, id, []string{StatePending}, to, by, map[string]string{"approval": ap.ID, "approval_state": ap.State})
	if err != nil && crossbill.ErrorCode(err) != crossbill.CodeConflict {
		return approval.Approval{}, err
	}
	return ap, nil
}

func decidedBy(ap approval.Approval) string {
	var who []string
	for _, d := range ap.Decisions {
		who = append(who, firstNonEmpty(d.Email, d.By))
	}
	return strings.Join(who, ", ")
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
