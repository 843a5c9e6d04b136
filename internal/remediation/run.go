package remediation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// undoBase numbers an item's undo steps in the step log after its steps.
const undoBase = 100

// Run executes an approved plan, or resumes one a crash or failure left
// running: steps the durable log records as done are not repeated. A plan
// whose approval is still pending is a Conflict (nothing runs); a denied,
// expired or cancelled approval ends the plan (AccessDenied).
func Run(ctx context.Context, env Env, tenant crossbill.TenantID, id string, by store.AuditEntry) (Plan, error) {
	const op = "remediation run"
	p, err := Get(ctx, env.Store, tenant, id)
	if err != nil {
		return Plan{}, err
	}
	if !slices.Contains([]string{StateAwaiting, StateApproved, StateRunning, StateFailed}, p.State) {
		return p, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is %s: nothing to run", id, p.State)
	}
	a, err := approval.Get(ctx, env.Store, tenant, p.ApprovalID)
	if err != nil {
		return p, err
	}
	switch a.State {
	case approval.Approved:
	case approval.Pending:
		return p, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s waits for approval %s (%d of %d approvals): a person other than the requester decides it with `crossbill approvals approve %s`",
			id, a.ID, approvals(a), a.Required, a.ID)
	default:
		p.Reason = "approval " + a.ID + " was " + a.State
		if _, serr := setState(ctx, env.Store, p, []string{StateAwaiting, StateApproved}, StateDenied, by); serr != nil {
			return p, serr
		}
		p.State = StateDenied
		return p, crossbill.Errorf(crossbill.CodeAccessDenied, op, "plan %s was not approved (approval %s is %s): plan again if the change is still wanted", id, a.ID, a.State)
	}
	// The limits were checked at plan time; checked again so that no
	// stored plan, however it got there, runs past them.
	if n := ready(p) + countStatus(p, ItemDone, ItemFailed); n > p.Limits.MaxResources {
		p.Reason = fmt.Sprintf("blast-radius limit: %d resources, more than %d", n, p.Limits.MaxResources)
		if _, err := setState(ctx, env.Store, p, []string{StateAwaiting, StateApproved, StateRunning, StateFailed}, StateBlocked, by); err != nil {
			return p, err
		}
		p.State = StateBlocked
		return p, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s: %s", id, p.Reason)
	}
	if p.State == StateRunning {
		// Another run may be at work: resume only a plan a crash left
		// without step activity for staleAfter.
		last, err := lastActivity(ctx, env.Store, p)
		if err != nil {
			return p, err
		}
		if wait := staleAfter - env.now().Sub(last); wait > 0 {
			return p, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is running (last step at %s); if its run died, it resumes in %s, by the remediation job or `crossbill remediate run`",
				id, last.UTC().Format(time.RFC3339), wait.Round(time.Second))
		}
	}
	claimed, err := env.Store.ClaimRemediationPlan(ctx, tenant, id, p.State, p.UpdatedAt, by)
	if err != nil {
		return p, err
	}
	p.State, p.UpdatedAt = StateRunning, claimed.UpdatedAt
	conn, err := ConnectionFor(ctx, env.Store, tenant, p.ConnectionID)
	if err != nil {
		return p, err
	}
	cls := map[groupKey]*clients{}
	for i := range p.Items {
		it := &p.Items[i]
		if it.Status != ItemReady && it.Status != ItemFailed {
			continue
		}
		k := groupKey{it.Target.Account, it.Target.Region, it.Target.Action.Kind()}
		if cls[k] == nil {
			cfg, err := env.configFor(ctx, conn, k.account, k.region)
			if err != nil {
				return p, err
			}
			cls[k] = newClients(cfg)
		}
		c := cls[k]
		if !anyStatus(it.Steps) {
			// Nothing done yet: the resource must still be what the
			// approver saw (tag, protection, state), else it is left alone.
			inv, err := inspect(ctx, c, k.kind, []string{it.ID})
			if err != nil {
				return p, fail(ctx, env, p, by, awsclient.Classify("re-read "+it.ID, err))
			}
			now := *it
			now.Steps, now.Undo, now.Reason, now.Fix = nil, nil, "", ""
			decide(&now, inv.facts[it.ID], env.now())
			if now.Status != ItemReady || !sameOps(now.Steps, it.Steps) {
				it.Status, it.Reason = ItemStaleSkip, "changed since the plan was approved: "+orText(now.Reason, "its steps would differ")+"; plan again"
				continue
			}
		}
		if err := runSteps(ctx, env, c, p, it, it.Steps, 0, by); err != nil {
			it.Status = ItemFailed
			return p, fail(ctx, env, p, by, err)
		}
		it.Status = ItemDone
		for _, s := range it.Steps {
			if r := s.Output["restore"]; r != "" {
				it.Restore = r
			}
		}
	}
	p.Reason = ""
	if err := finish(ctx, env, &p, StateRunning, StateDone, by); err != nil {
		return p, err
	}
	env.announce(ctx, TopicDone, p)
	return p, nil
}

// runSteps runs steps (numbered from base in the step log), skipping the
// ones the log records as done, and fills their status and output.
func runSteps(ctx context.Context, env Env, c *clients, p Plan, it *Item, steps []Step, base int, by store.AuditEntry) error {
	prior := map[string]string{}
	for _, s := range it.Steps {
		for k, v := range s.Output {
			prior[k] = v
		}
	}
	for j := range steps {
		s := &steps[j]
		if s.Status == store.StepDone {
			continue
		}
		if err := env.Store.StartRemediationStep(ctx, p.TenantID, p.ID, it.Index, base+j, s.Op); err != nil {
			return err
		}
		out, err := perform(ctx, c, p.ID, *it, *s, prior, false)
		if err != nil {
			cerr := awsclient.Classify(s.Op+" "+it.ID, err)
			s.Status = store.StepFailed
			if ferr := env.Store.FinishRemediationStep(ctx, p.TenantID, p.ID, it.Index, base+j, store.StepFailed, map[string]string{"error": cerr.Error()}, by); ferr != nil {
				return ferr
			}
			return cerr
		}
		if err := env.Store.FinishRemediationStep(ctx, p.TenantID, p.ID, it.Index, base+j, store.StepDone, out, by); err != nil {
			return err
		}
		s.Status, s.Output = store.StepDone, out
		for k, v := range out {
			prior[k] = v
		}
		if env.AfterStep != nil {
			if err := env.AfterStep(it.Index, base+j); err != nil {
				return errCrash{err}
			}
		}
	}
	return nil
}

// errCrash is the test hook's stop: the plan stays running, as after a
// killed process.
type errCrash struct{ error }

func (e errCrash) Unwrap() error { return e.error }

func fail(ctx context.Context, env Env, p Plan, by store.AuditEntry, err error) error {
	if _, crashed := err.(errCrash); crashed {
		return err
	}
	p.Reason = err.Error()
	if ferr := finish(ctx, env, &p, StateRunning, StateFailed, by); ferr != nil {
		return ferr
	}
	env.announce(ctx, TopicFailed, p)
	return err
}

// Undo runs the undo steps of a done plan's items where AWS allows one
// (start what was stopped, the previous instance type, the previous
// lifecycle rules); items without one keep their restore note.
func Undo(ctx context.Context, env Env, tenant crossbill.TenantID, id string, by store.AuditEntry) (Plan, error) {
	const op = "remediation undo"
	p, err := Get(ctx, env.Store, tenant, id)
	if err != nil {
		return Plan{}, err
	}
	if p.State != StateDone && p.State != StateFailed {
		return p, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s is %s: only a done or failed plan is undone", id, p.State)
	}
	undoable := 0
	for _, it := range p.Items {
		if it.Status == ItemDone && len(it.Undo) > 0 {
			undoable++
		}
	}
	if undoable == 0 {
		return p, crossbill.Errorf(crossbill.CodeConflict, op, "plan %s has no item AWS lets crossbill undo: see each item's undo note for how to restore it", id)
	}
	from := p.State
	if _, err := setState(ctx, env.Store, p, []string{from}, StateRunning, by); err != nil {
		return p, err
	}
	conn, err := ConnectionFor(ctx, env.Store, tenant, p.ConnectionID)
	if err != nil {
		return p, err
	}
	for i := range p.Items {
		it := &p.Items[i]
		if it.Status != ItemDone || len(it.Undo) == 0 {
			continue
		}
		cfg, err := env.configFor(ctx, conn, it.Target.Account, it.Target.Region)
		if err != nil {
			return p, err
		}
		if err := runSteps(ctx, env, newClients(cfg), p, it, it.Undo, undoBase, by); err != nil {
			return p, fail(ctx, env, p, by, err)
		}
		it.Status = ItemUndone
	}
	return p, finish(ctx, env, &p, StateRunning, StateUndone, by)
}

func finish(ctx context.Context, env Env, p *Plan, from, to string, by store.AuditEntry) error {
	p.State = to
	sp, err := setState(ctx, env.Store, *p, []string{from}, to, by)
	if err == nil {
		p.UpdatedAt = sp.UpdatedAt
	}
	return err
}

func setState(ctx context.Context, st *store.Store, p Plan, from []string, to string, by store.AuditEntry) (store.RemediationPlan, error) {
	p.State = to
	js, err := json.Marshal(p)
	if err != nil {
		return store.RemediationPlan{}, crossbill.Errorf(crossbill.CodeInternal, "remediation", "%w", err)
	}
	return st.SetRemediationPlanState(ctx, p.TenantID, p.ID, from, to, js, by, map[string]any{"state": to, "reason": p.Reason})
}

func approvals(a approval.Approval) int {
	n := 0
	for _, d := range a.Decisions {
		if d.Approve {
			n++
		}
	}
	return n
}

func countStatus(p Plan, statuses ...string) int {
	n := 0
	for _, it := range p.Items {
		if slices.Contains(statuses, it.Status) {
			n++
		}
	}
	return n
}

func anyStatus(steps []Step) bool {
	for _, s := range steps {
		if s.Status != "" {
			return true
		}
	}
	return false
}

func sameOps(a, b []Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Op != b[i].Op {
			return false
		}
	}
	return true
}

func orText(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

// staleAfter is how long a running plan may show no step activity before
// the remediation job takes it for crashed and resumes it.
const staleAfter = 10 * time.Minute

// DueResult is what RunDue did.
type DueResult struct {
	Ran     []string `json:"ran"`
	Ended   []string `json:"ended"`   // approval denied, expired or cancelled
	Failed  []string `json:"failed"`  // a step failed (the plan says why)
	Waiting int      `json:"waiting"` // plans still awaiting approval
}

// RunDue is the remediation job: it runs the connection's plans whose
// approval came through, ends those whose approval was refused, and
// resumes plans a crash left running (no step activity for 10 minutes).
func RunDue(ctx context.Context, env Env, tenant crossbill.TenantID, conn crossbill.ConnectionID) (DueResult, error) {
	res := DueResult{Ran: []string{}, Ended: []string{}, Failed: []string{}}
	plans, err := env.Store.RemediationPlans(ctx, tenant, "")
	if err != nil {
		return res, err
	}
	by := store.AuditEntry{Actor: "scheduler:remediation"}
	scheduled, err := RunSchedules(ctx, env, tenant, conn, env.now())
	if err != nil {
		return res, err
	}
	for _, p := range scheduled {
		res.Ran = append(res.Ran, p.ID)
	}
	for _, sp := range plans {
		if sp.ConnectionID != conn || slices.ContainsFunc(scheduled, func(p Plan) bool { return p.ID == sp.ID }) {
			continue
		}
		switch sp.State {
		case StateAwaiting, StateApproved:
			p, err := Get(ctx, env.Store, tenant, sp.ID)
			if err != nil {
				return res, err
			}
			a, err := approval.Get(ctx, env.Store, tenant, p.ApprovalID)
			if err != nil {
				return res, err
			}
			if a.State == approval.Pending {
				res.Waiting++
				continue
			}
		case StateRunning:
			p, err := withSteps(ctx, env.Store, sp)
			if err != nil {
				return res, err
			}
			last, err := lastActivity(ctx, env.Store, p)
			if err != nil {
				return res, err
			}
			if env.now().Sub(last) < staleAfter {
				continue
			}
		default:
			continue
		}
		p, err := Run(ctx, env, tenant, sp.ID, by)
		switch {
		case err == nil:
			res.Ran = append(res.Ran, sp.ID)
		case p.State == StateDenied || p.State == StateBlocked:
			res.Ended = append(res.Ended, sp.ID)
		case p.State == StateFailed:
			res.Failed = append(res.Failed, sp.ID)
		default:
			return res, err
		}
	}
	return res, nil
}

// lastActivity is when p's run last showed progress: its state change or
// a step's start or finish.
func lastActivity(ctx context.Context, st *store.Store, p Plan) (time.Time, error) {
	steps, err := st.RemediationSteps(ctx, p.TenantID, p.ID)
	if err != nil {
		return time.Time{}, err
	}
	last := p.UpdatedAt
	for _, s := range steps {
		last = maxTime(last, s.StartedAt, s.FinishedAt)
	}
	return last, nil
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
