package remediation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Env is what the use cases need: the store, the process's AWS factory.
type Env struct {
	Store *store.Store
	AWS   *awsclient.Factory
	// TenantName names AWS sessions (CloudTrail shows it).
	TenantName string
	Now        func() time.Time
	// AfterStep, when set, runs after each step is recorded done; an error
	// stops the run there as if the process died (tests' crash hook).
	AfterStep func(item, step int) error
	// Notify, when set, receives the notices of announce.
	Notify func(context.Context, Notice)
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Request asks for a plan.
type Request struct {
	Tenant     crossbill.TenantID
	Connection crossbill.ConnectionID // "": the tenant's one connection with the remediation module
	Targets    []Target
	// Recommendations are optimization recommendations (IDs) to carry
	// out, added to Targets (TargetsFor).
	Recommendations []string
	Limits          *Limits // nil: DefaultLimits
	// Approvals is how many people other than the requester must approve
	// (1, or 2 for a two-person rule); Approvers narrows who may.
	Approvals int
	Approvers []string
	By        store.AuditEntry
	// AutoApproved, when set, approves the plan at once by policy (an
	// approved off-hours schedule) and records why.
	AutoApproved string
}

// ConnectionFor finds the connection to act through: connID when given
// (it must be the tenant's), else the tenant's one verified connection
// with the remediation module.
func ConnectionFor(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID) (store.Connection, error) {
	return st.ConnectionWithModule(ctx, tenant, connID, manifest.ModuleRemediation)
}

// configFor returns the configuration that reaches account through conn:
// its own role, or a member account's verified role.
func (e Env) configFor(ctx context.Context, conn store.Connection, account crossbill.AccountID, region string) (aws.Config, error) {
	self := awsclient.Target{Tenant: e.TenantName, Connection: conn.ID, RoleARN: conn.RoleARN, ExternalID: conn.ExternalID}
	if account == conn.AccountID {
		return e.AWS.Config(self, region), nil
	}
	members, err := e.Store.Members(ctx, conn.ID)
	if err != nil {
		return aws.Config{}, err
	}
	for _, m := range members {
		if m.AccountID == account && !m.Gone() && m.Status == store.MemberVerified {
			return e.AWS.Config(awsclient.Target{Tenant: e.TenantName, Connection: conn.ID, RoleARN: m.RoleARN, ExternalID: conn.ExternalID}, region), nil
		}
	}
	return aws.Config{}, crossbill.Errorf(crossbill.CodeInvalid, "remediation", "account %s is neither connection %s's account nor a verified member of it: run `crossbill connect members --verify`", account, conn.ID)
}

// checkTargets validates a request's targets and returns each one's
// resource ID.
func checkTargets(ts []Target, defaultAccount crossbill.AccountID) ([]string, error) {
	const op = "remediation plan"
	if len(ts) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "no targets: name at least one action and resource ARN")
	}
	if len(ts) > maxTargets {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%d targets; one plan takes at most %d", len(ts), maxTargets)
	}
	ids := make([]string, len(ts))
	seen := map[string]bool{}
	for i, t := range ts {
		if t.Action.Kind() == "" {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d: unknown action %q: use one of %s", i, t.Action, joinActions())
		}
		for k, v := range t.Params {
			if err := crossbill.CheckText(op, "param "+k, k+v); err != nil {
				return nil, err
			}
			if len(k)+len(v) > 200 {
				return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d: param %s is too long", i, k)
			}
		}
		if err := crossbill.CheckText(op, "arn", t.ARN+t.Region+t.Recommendation); err != nil {
			return nil, err
		}
		id, err := resourceID(t.ARN, t.Action.Kind())
		if err != nil {
			return nil, err
		}
		a, _ := awsarn.Parse(t.ARN)
		if !t.Account.Valid() {
			// Snapshot and bucket ARNs carry no account: the connection's.
			ts[i].Account = a.Account
			if a.Account == "" {
				ts[i].Account = defaultAccount
			}
		} else if a.Account != "" && a.Account != t.Account {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d: the ARN's account %s is not %s", i, a.Account, t.Account)
		}
		if t.Region == "" {
			if a.Region == "" {
				return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d (%s): give its region", i, t.ARN)
			}
			ts[i].Region = a.Region
		} else if a.Region != "" && a.Region != t.Region {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d: the ARN's region %s is not %s", i, a.Region, t.Region)
		}
		if seen[t.ARN] {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s is named twice: one action per resource and plan", t.ARN)
		}
		seen[t.ARN] = true
		ids[i] = id
	}
	return ids, nil
}

func joinActions() string {
	var s []string
	for _, a := range Actions() {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

type groupKey struct {
	account crossbill.AccountID
	region  string
	kind    string
}

// NewPlan computes a plan for req's targets (reading each resource, the
// guards, the limits and EC2's dry run), stores it and opens its approval.
// It changes nothing in AWS.
func NewPlan(ctx context.Context, env Env, req Request) (Plan, error) {
	const op = "remediation plan"
	limits := DefaultLimits
	if req.Limits != nil {
		limits = *req.Limits
	}
	if limits.MaxResources < 1 || limits.MaxResources > maxTargets || limits.MaxPercent < 0 || limits.MaxPercent > 100 {
		return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "limits: max resources must be 1 to %d and max percent 0 to 100", maxTargets)
	}
	if req.Approvals == 0 {
		req.Approvals = 1
	}
	if req.Approvals < 1 || req.Approvals > 2 {
		return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "approvals must be 1, or 2 for a two-person rule")
	}
	if len(req.Recommendations) > 0 {
		ts, err := TargetsFor(ctx, env.Store, req.Tenant, req.Recommendations)
		if err != nil {
			return Plan{}, err
		}
		req.Targets = append(req.Targets, ts...)
	}
	if env.AWS == nil {
		return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no AWS hub configuration: set the hub's credentials (AWS_PROFILE or the default chain)")
	}
	conn, err := ConnectionFor(ctx, env.Store, req.Tenant, req.Connection)
	if err != nil {
		return Plan{}, err
	}
	targets := slices.Clone(req.Targets)
	ids, err := checkTargets(targets, conn.AccountID)
	if err != nil {
		return Plan{}, err
	}
	now := env.now().UTC()
	p := Plan{ID: "rp_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20], TenantID: req.Tenant, ConnectionID: conn.ID, Limits: limits,
		Approvals: req.Approvals, RequestedBy: req.By.Actor, RequestedEmail: req.By.PersonEmail, CreatedAt: now, UpdatedAt: now}
	groups := map[groupKey][]int{}
	for i, t := range targets {
		p.Items = append(p.Items, Item{Index: i, Target: t, ID: ids[i], Steps: []Step{}})
		k := groupKey{t.Account, t.Region, t.Action.Kind()}
		groups[k] = append(groups[k], i)
	}
	totals := map[groupKey]int{}
	cls := map[groupKey]*clients{}
	for k, idx := range groups {
		cfg, err := env.configFor(ctx, conn, k.account, k.region)
		if err != nil {
			return Plan{}, err
		}
		c := newClients(cfg)
		want := make([]string, len(idx))
		for j, i := range idx {
			want[j] = ids[i]
		}
		inv, err := inspect(ctx, c, k.kind, want)
		if err != nil {
			return Plan{}, awsclient.Classify(fmt.Sprintf("read the %ss of %s in %s", k.kind, k.account, k.region), err)
		}
		totals[k], cls[k] = inv.total, c
		for _, i := range idx {
			decide(&p.Items[i], inv.facts[ids[i]], now)
		}
	}
	p.State, p.Reason = limitCheck(p, totals)
	if p.State == "" {
		for i := range p.Items {
			it := &p.Items[i]
			if it.Status != ItemReady {
				continue
			}
			t := it.Target
			msg, ok := dryRun(ctx, cls[groupKey{t.Account, t.Region, t.Action.Kind()}], p.ID, *it)
			it.DryRun = msg
			if !ok {
				it.Status, it.Reason = ItemRefused, "dry run refused: "+msg
				it.Fix = "check that the connection's role stack includes the remediation module and that the resource carries the tag it asks for"
			}
		}
		p.State = StateAwaiting
		if ready(p) == 0 {
			p.State, p.Reason = StateEmpty, "no target needs or allows a change: see each item's reason"
		}
	}
	if p.State == StateAwaiting {
		a, err := approval.Open(ctx, env.Store, approval.Request{Tenant: req.Tenant, Kind: approval.KindRemediation, Subject: p.ID,
			Summary: summary(p), Detail: p, Required: req.Approvals, Approvers: req.Approvers,
			ExpiresAt: now.Add(defaultPlanApprovalDays * 24 * time.Hour), AutoApproved: req.AutoApproved}, req.By)
		if err != nil {
			return Plan{}, err
		}
		p.ApprovalID = a.ID
	}
	js, err := json.Marshal(p)
	if err != nil {
		return Plan{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if _, err := env.Store.CreateRemediationPlan(ctx, store.RemediationPlan{ID: p.ID, TenantID: p.TenantID, ConnectionID: p.ConnectionID, State: p.State,
		RequestedBy: req.By.Actor, Person: req.By.PersonEmail, Plan: js}, req.By, map[string]any{"state": p.State, "ready": ready(p), "items": len(p.Items), "approval": p.ApprovalID}); err != nil {
		return Plan{}, err
	}
	if p.State == StateAwaiting && req.AutoApproved == "" {
		env.announce(ctx, TopicAwaiting, p)
	}
	return p, nil
}

func ready(p Plan) int {
	n := 0
	for _, it := range p.Items {
		if it.Status == ItemReady {
			n++
		}
	}
	return n
}

// limitCheck blocks a plan past its limits: more ready items than
// MaxResources, or more than MaxPercent of a type in an account and region.
func limitCheck(p Plan, totals map[groupKey]int) (string, string) {
	if n := ready(p); n > p.Limits.MaxResources {
		return StateBlocked, fmt.Sprintf("blast-radius limit: %d resources would change, more than the limit of %d; narrow the targets or raise --max-resources", n, p.Limits.MaxResources)
	}
	if p.Limits.MaxPercent == 0 {
		return "", ""
	}
	per := map[groupKey]int{}
	for _, it := range p.Items {
		if it.Status == ItemReady {
			per[groupKey{it.Target.Account, it.Target.Region, it.Target.Action.Kind()}]++
		}
	}
	for k, n := range per {
		if total := totals[k]; total > 0 && float64(n)*100/float64(total) > p.Limits.MaxPercent {
			return StateBlocked, fmt.Sprintf("blast-radius limit: %d of the %d %ss in %s %s would change (%.0f%%), more than the limit of %.0f%%; narrow the targets or raise --max-percent",
				n, total, k.kind, k.account, k.region, float64(n)*100/float64(total), p.Limits.MaxPercent)
		}
	}
	return "", ""
}

func summary(p Plan) string {
	counts := map[Action]int{}
	for _, it := range p.Items {
		if it.Status == ItemReady {
			counts[it.Target.Action]++
		}
	}
	var parts []string
	for _, a := range Actions() {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%s x%d", a, counts[a]))
		}
	}
	return fmt.Sprintf("remediation %s through %s: %s", p.ID, p.ConnectionID, strings.Join(parts, ", "))
}

// Get returns one of a tenant's plans with its step log merged in.
func Get(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string) (Plan, error) {
	sp, err := st.RemediationPlanByID(ctx, tenant, id)
	if err != nil {
		return Plan{}, err
	}
	return withSteps(ctx, st, sp)
}

func withSteps(ctx context.Context, st *store.Store, sp store.RemediationPlan) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(sp.Plan, &p); err != nil {
		return Plan{}, crossbill.Errorf(crossbill.CodeInternal, "remediation plan", "plan %s: %w", sp.ID, err)
	}
	p.State, p.UpdatedAt = sp.State, sp.UpdatedAt
	steps, err := st.RemediationSteps(ctx, sp.TenantID, sp.ID)
	if err != nil {
		return Plan{}, err
	}
	for _, s := range steps {
		if s.Item < 0 || s.Item >= len(p.Items) {
			continue
		}
		it := &p.Items[s.Item]
		list := &it.Steps
		n := s.Step
		if n >= undoBase {
			list, n = &it.Undo, n-undoBase
		}
		if n < len(*list) {
			(*list)[n].Status = s.Status
			var out map[string]string
			if json.Unmarshal(s.Output, &out) == nil && len(out) > 0 {
				(*list)[n].Output = out
			}
		}
	}
	return p, nil
}

// List lists a tenant's plans, newest first; state filters when given.
func List(ctx context.Context, st *store.Store, tenant crossbill.TenantID, state string) ([]Plan, error) {
	sps, err := st.RemediationPlans(ctx, tenant, state)
	if err != nil {
		return nil, err
	}
	out := []Plan{}
	for _, sp := range sps {
		p, err := withSteps(ctx, st, sp)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
