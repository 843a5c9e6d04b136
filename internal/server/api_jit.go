package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// Just-in-time access: each route calls one use case of internal/jit, as
// the CLI (`crossbill access request|approve|deny|revoke|leases|policy`)
// does. Approvals are also decided in the shared approvals inbox; the
// lease job reads the outcome.

// The lease engine runs in every replica's own loop, every few seconds
// (a scheduler job that often would fill the jobs table): a grant ends
// within seconds of its expiry, and at start any expiry passed while the
// server was down. Replicas running it together are safe: each step is a
// compare-and-set on the lease. The reconciler is a scheduler job per
// connection with access-jit, every minute.
const (
	JobJITReconcile   = "jit-reconcile"
	jitLoopEvery      = 5 * time.Second
	jitReconcileEvery = time.Minute
)

// JITLoop runs the lease engine at once and then every few seconds until
// ctx ends.
func (s *Server) JITLoop(ctx context.Context) {
	t := time.NewTicker(jitLoopEvery)
	defer t.Stop()
	for {
		res, err := jit.Advance(ctx, s.store, s.jitOptions(), 8)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("jit: lease engine pass", "err", err)
		case len(res.Errors) > 0:
			s.log.Warn("jit: lease steps to retry", "due", res.Due, "errors", len(res.Errors), "first", res.Errors[0])
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) jitOptions() jit.Options {
	return jit.Options{AWS: s.cfg.AWS, Log: s.log}
}

func (s *Server) jitPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := jit.Policies(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, jit.PolicyList{Policies: ps})
}

func (s *Server) jitSetPolicy(w http.ResponseWriter, r *http.Request) error {
	var p jit.Policy
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	if p.Name != "" && p.Name != r.PathValue("policy") {
		return crossbill.Errorf(crossbill.CodeInvalid, "jit policy", "the body names policy %q but the path %q: leave name out or make them agree", p.Name, r.PathValue("policy"))
	}
	p.Name = r.PathValue("policy")
	out, err := jit.SetPolicy(r.Context(), s.store, tenantOf(r).ID, p, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, out)
}

func (s *Server) jitDeletePolicy(w http.ResponseWriter, r *http.Request) error {
	if err := jit.DeletePolicy(r.Context(), s.store, tenantOf(r).ID, r.PathValue("policy"), authOf(r).audit()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) jitRequest(w http.ResponseWriter, r *http.Request) error {
	var in jit.RequestInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t := tenantOf(r)
	in.Tenant, in.TenantName = t.ID, t.Name
	l, err := jit.Request(r.Context(), s.store, in, authOf(r).audit(), s.jitOptions())
	if err != nil {
		return err
	}
	return created(w, r, l)
}

func (s *Server) jitLeases(w http.ResponseWriter, r *http.Request) error {
	var states []string
	if v := r.URL.Query().Get("state"); v != "" {
		states = strings.Split(v, ",")
	}
	ls, err := jit.Leases(r.Context(), s.store, tenantOf(r).ID, states, s.jitOptions())
	if err != nil {
		return err
	}
	return ok(w, r, ls)
}

func (s *Server) jitLease(w http.ResponseWriter, r *http.Request) error {
	l, err := jit.Get(r.Context(), s.store, tenantOf(r).ID, r.PathValue("lease"), s.jitOptions())
	if err != nil {
		return err
	}
	return ok(w, r, l)
}

type jitReason struct {
	Reason string `json:"reason"`
}

func (s *Server) jitDecide(approve bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in jitReason
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		l, err := jit.Decide(r.Context(), s.store, tenantOf(r).ID, r.PathValue("lease"), approve, in.Reason, authOf(r).audit(), s.jitOptions())
		if err != nil {
			return err
		}
		return ok(w, r, l)
	}
}

func (s *Server) jitRevoke(w http.ResponseWriter, r *http.Request) error {
	var in jitReason
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a := authOf(r)
	t := tenantOf(r)
	l, err := jit.Revoke(r.Context(), s.store, t.ID, r.PathValue("lease"), in.Reason, a.roleIn(t.ID).AtLeast(approver), a.audit(), s.jitOptions())
	if err != nil {
		return err
	}
	return ok(w, r, l)
}

func (s *Server) jitAudit(w http.ResponseWriter, r *http.Request) error {
	lines, err := jit.Trail(r.Context(), s.store, tenantOf(r).ID, r.URL.Query().Get("lease"))
	if err != nil {
		return err
	}
	return ok(w, r, lines)
}

func (s *Server) jitReconcile(w http.ResponseWriter, r *http.Request) error {
	t := tenantOf(r)
	c, err := jit.Connection(r.Context(), s.store, t.ID, crossbill.ConnectionID(r.URL.Query().Get("connection")))
	if err != nil {
		return err
	}
	scope := jit.ScopeDue
	switch v := r.URL.Query().Get("full"); v {
	case "", "false":
	case "true":
		scope = jit.ScopeFull
	default:
		return crossbill.Errorf(crossbill.CodeInvalid, "jit reconcile", "full=%q: give true (every managed target) or false", v)
	}
	res, err := jit.Reconcile(r.Context(), s.store, t.ID, c.ID, scope, s.jitOptions(), 8)
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

func jitRoutes(s *Server) []route {
	p := tenantPath + "/access"
	return []route{
		{method: http.MethodGet, path: p + "/policies", role: viewer, tenantParam: "tenant", handler: s.jitPolicies, tag: "jit", summary: "The tenant's just-in-time eligibility policies", resp: "JITPolicyList"},
		{method: http.MethodPut, path: p + "/policies/{policy}", role: admin, tenantParam: "tenant", handler: s.jitSetPolicy, tag: "jit", summary: "Create or replace an eligibility policy: who may request which targets, for how long, who approves", body: "JITPolicy", resp: "JITPolicy"},
		{method: http.MethodDelete, path: p + "/policies/{policy}", role: admin, tenantParam: "tenant", handler: s.jitDeletePolicy, tag: "jit", summary: "Delete a policy (its leases run to their end)"},
		{method: http.MethodGet, path: p + "/leases", role: viewer, tenantParam: "tenant", handler: s.jitLeases, tag: "jit", summary: "The tenant's leases, newest first, with the time each active one has left",
			query: []param{q("state", "comma-separated states: requested, approved, denied, expired, granting, grant-failed, active, revoking, revoke-failed, revoked")}, resp: "JITLeaseList"},
		{method: http.MethodPost, path: p + "/leases", role: viewer, tenantParam: "tenant", handler: s.jitRequest, tag: "jit", summary: "Request access as the signed-in person (or a token's person): checked against the policy and the module's scope, then approved (or auto-approved) and granted", body: "JITRequest", resp: "JITLease", status: http.StatusCreated},
		{method: http.MethodGet, path: p + "/leases/{lease}", role: viewer, tenantParam: "tenant", handler: s.jitLease, tag: "jit", summary: "One lease", resp: "JITLease"},
		{method: http.MethodPost, path: p + "/leases/{lease}/approve", role: approver, tenantParam: "tenant", handler: s.jitDecide(true), tag: "jit", summary: "Approve a request (never one's own; the policy may name the approvers and want two)", body: "JITReason", resp: "JITLease"},
		{method: http.MethodPost, path: p + "/leases/{lease}/deny", role: approver, tenantParam: "tenant", handler: s.jitDecide(false), tag: "jit", summary: "Deny a request, with the reason", body: "JITReason", resp: "JITLease"},
		{method: http.MethodPost, path: p + "/leases/{lease}/revoke", role: viewer, tenantParam: "tenant", handler: s.jitRevoke, tag: "jit", summary: "End a lease now (its requester, or an approver): a waiting request is cancelled, a grant removed", body: "JITReason", resp: "JITLease"},
		{method: http.MethodGet, path: p + "/audit", role: viewer, tenantParam: "tenant", handler: s.jitAudit, tag: "jit", summary: "The JIT audit trail (hash-chained lines): of one lease and its approval, or of every policy, lease and repair",
			query: []param{q("lease", "one lease's trail")}, resp: "JITTrail"},
		{method: http.MethodPost, path: p + "/reconcile", role: admin, tenantParam: "tenant", handler: s.jitReconcile, tag: "jit", summary: "Run the reconciler now: leases against AWS (the server runs it every minute over the leased targets, over every managed target once a day)",
			query: []param{q("connection", "the connection with access-jit, when the tenant has several"), q("full", "true: list every managed target (each policy's accounts x permission sets) now, not only the leased ones")}, resp: "JITReconcile"},
	}
}

func jitSchemas() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	dur := func(desc string) obj { return obj{"type": "string", "description": desc + " (Go duration: 90m, 4h)"} }
	return obj{
		"JITTargetRule":    object(nil, obj{"permission_set": str("ARN or name"), "accounts": strs, "ous": obj{"type": "array", "items": obj{"type": "string"}, "description": "OU or root IDs: the accounts under them in the latest access sync"}, "group": str("IAM group name (under /crossbill-jit/)"), "account": str("the group's account")}),
		"JITBusinessHours": object([]string{"from", "to"}, obj{"from": integer("hour 0-23"), "to": integer("hour 1-24, exclusive"), "time_zone": str("IANA zone (default UTC)"), "weekends": boolean("")}),
		"JITAutoApprove":   object(nil, obj{"business_hours": ref("JITBusinessHours"), "low_risk": strs}),
		"JITPolicy": object([]string{"targets", "max_duration"}, obj{"name": str("the path's name"), "people": strs, "groups": obj{"type": "array", "items": obj{"type": "string"}, "description": "Identity Center groups (latest access sync)"},
			"targets": arrayOf("JITTargetRule"), "max_duration": dur("longest lease"), "decide_within": dur("how long a request waits for approval (default 24h)"),
			"approvers": strs, "two_person": boolean("two distinct approvers"), "auto_approve": ref("JITAutoApprove"), "break_glass": boolean("granted at once, reviewed after")}),
		"JITPolicyList": object([]string{"policies"}, obj{"policies": arrayOf("JITPolicy")}),
		"JITTargetSpec": object([]string{"account"}, obj{"permission_set": str("ARN or name"), "group": str("IAM group name"), "account": str("")}),
		"JITRequest": object([]string{"policy", "target", "duration", "reason"}, obj{"connection": str("when the tenant has several access-jit connections"), "policy": str(""), "target": ref("JITTargetSpec"),
			"duration": dur("lease length"), "reason": str(""), "extends": str("a lease this one extends (a new lease on the same target)")}),
		"JITLease": object([]string{"id", "state", "target", "requester"}, obj{"id": str(""), "tenant_id": str(""), "connection_id": str(""), "policy": str(""), "requester": str("email"), "actor": str(""),
			"principal_type": str("USER (Identity Center) or IAM_USER"), "principal_id": str(""), "principal_name": str(""), "target_key": str(""), "target": obj{"type": "object", "description": "kind, account, permission_set, permission_set_name, instance, group"},
			"reason": str(""), "duration_s": integer(""), "state": obj{"type": "string", "enum": jit.States()},
			"break_glass": boolean(""), "approval_id": str("the shared approval (approvals inbox)"), "extends": str(""), "requested_at": timestamp(""), "decide_by": timestamp(""), "granted_at": timestamp(""),
			"expires_at": timestamp(""), "ended_at": timestamp(""), "attempts": integer("failed attempts of the current step"), "last_error": str(""), "aws_request": str("Identity Center request in flight"),
			"next_at": timestamp("when the lease engine looks at it next"), "version": integer(""), "remaining_s": integer("seconds left of an active lease")}),
		"JITLeaseList": object([]string{"leases"}, obj{"leases": arrayOf("JITLease")}),
		"JITReason":    object(nil, obj{"reason": str("required to deny")}),
		"JITAuditLine": object([]string{"id", "at", "actor", "action"}, obj{"id": integer(""), "at": timestamp(""), "actor": str(""), "action": str(""), "tenant_id": str(""), "subject": str(""),
			"person_subject": str(""), "person_email": str(""), "detail": obj{"type": "object"}, "prev_hash": str(""), "hash": str("")}),
		"JITTrail": object([]string{"lines"}, obj{"lines": arrayOf("JITAuditLine")}),
		"JITDrift": object([]string{"kind", "target", "principal"}, obj{"kind": obj{"type": "string", "enum": []string{jit.DriftRemoved, jit.DriftReapplied, jit.DriftMissing, jit.DriftOutOfBand}},
			"target": str(""), "target_key": str(""), "principal": str(""), "lease": str(""), "error": str(""), "new": boolean("first report of an out-of-band grant")}),
		"JITReconcile": object([]string{"targets", "drifts", "errors"}, obj{"full": boolean("every managed target was listed (the daily full pass, or full=true); else only the targets of live, ending and recently ended leases"), "targets": integer("targets listed in AWS"), "drifts": arrayOf("JITDrift"), "errors": strs, "duration_ms": integer("")}),
	}
}

// runJITReconcile compares the connection's active leases with AWS.
func (s *Server) runJITReconcile(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	res, err := jit.Reconcile(ctx, s.store, j.TenantID, j.ConnectionID, jit.ScopeDue, s.jitOptions(), 8)
	if err != nil {
		return err
	}
	what := "leased"
	if res.Full {
		what = "all (daily full pass)"
	}
	progress(1, fmt.Sprintf("%d target(s), %s, %d drift(s), %d error(s)", res.Targets, what, len(res.Drifts), len(res.Errors)))
	return nil
}

// scheduleJIT gives a connection with the access-jit module its
// reconciler job, first run now (at start too). Enqueueing is idempotent.
func (s *Server) scheduleJIT(ctx context.Context, c store.Connection) error {
	if s.sched == nil || !slices.Contains(c.Modules, manifest.ModuleAccessJIT) {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobJITReconcile, Interval: jitReconcileEvery})
	return err
}
