package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// The remediation routes call internal/remediation's use cases, as
// `crossbill remediate` does: a plan (analyst) is a dry run that opens an
// approval; running it (admin) needs that approval, decided by a person
// other than the requester; the remediation job runs approved plans too.

func remediationRoutes(s *Server) []route {
	base := tenantPath + "/remediations"
	return []route{
		{method: http.MethodGet, path: base, role: viewer, tenantParam: "tenant", handler: s.listRemediations, tag: "remediation", summary: "The tenant's remediation plans, newest first, with their items and step log",
			query: []param{q("state", "only plans in this state: "+fmt.Sprint(remediationStates()))}, resp: "RemediationPlanList"},
		{method: http.MethodPost, path: base, role: analyst, tenantParam: "tenant", handler: s.planRemediation, tag: "remediation",
			summary: "Plan a remediation: read each target, apply the guards (tag condition, crossbill:protect, termination and deletion protection, allowed states) and the blast-radius limits, dry-run EC2 calls; nothing changes in AWS. A plan with work opens an approval (kind remediation)",
			body:    "RemediationRequest", resp: "RemediationPlan", status: http.StatusCreated},
		{method: http.MethodGet, path: base + "/{remediation}", role: viewer, tenantParam: "tenant", handler: s.getRemediation, tag: "remediation", summary: "One plan: items, dry run, steps with their outputs, what restores each change", resp: "RemediationPlan"},
		{method: http.MethodPost, path: base + "/{remediation}/run", role: admin, tenantParam: "tenant", handler: s.runRemediation, tag: "remediation",
			summary: "Run an approved plan now (409 while its approval is pending; 403 once it was denied); resumes a plan a crash left running without repeating a finished step; bounded to 100 s (the remediation job runs approved plans too)", resp: "RemediationPlan"},
		{method: http.MethodGet, path: tenantPath + "/remediation-schedules", role: viewer, tenantParam: "tenant", handler: s.listRemediationSchedules, tag: "remediation",
			summary: "The tenant's off-hours schedules with their approval state and the state each last asked for", resp: "RemediationScheduleList"},
		{method: http.MethodPost, path: tenantPath + "/remediation-schedules", role: analyst, tenantParam: "tenant", handler: s.createRemediationSchedule, tag: "remediation",
			summary: "Create an off-hours schedule (stop and start instances by tag and calendar, skip dates); it acts once a person other than the requester approves it", body: "RemediationScheduleRequest", resp: "RemediationScheduleView", status: http.StatusCreated},
		{method: http.MethodDelete, path: tenantPath + "/remediation-schedules/{schedule}", role: analyst, tenantParam: "tenant", handler: s.deleteRemediationSchedule, tag: "remediation",
			summary: "Delete a schedule by name: it acts no more", resp: "RemediationScheduleDeleted"},
		{method: http.MethodPost, path: base + "/{remediation}/undo", role: admin, tenantParam: "tenant", handler: s.undoRemediation, tag: "remediation",
			summary: "Undo a done plan's items where AWS allows it (start what was stopped, the previous instance type or volume type, the previous lifecycle rules)", resp: "RemediationPlan"},
	}
}

func remediationStates() []string {
	return []string{remediation.StateAwaiting, remediation.StateApproved, remediation.StateRunning, remediation.StateDone, remediation.StateFailed,
		remediation.StateDenied, remediation.StateBlocked, remediation.StateEmpty, remediation.StateUndone, remediation.StateCancelled}
}

func (s *Server) remediationEnv(r *http.Request) remediation.Env {
	return remediation.Env{Store: s.store, AWS: s.cfg.AWS, TenantName: tenantOf(r).Name, Notify: remediationNotify(s.store)}
}

// remediationNotify hands remediation's notices (awaiting approval, done,
// failed) to the tenant's notification outbox; a failure is logged, never
// the remediation's.
func remediationNotify(st *store.Store) func(context.Context, remediation.Notice) {
	return func(ctx context.Context, n remediation.Notice) {
		if err := notify.Enqueue(ctx, st, notify.Message{Tenant: n.Plan.TenantID, Topic: n.Topic, Subject: n.Subject, Text: n.Text,
			Data: n.Plan, DedupKey: n.DedupKey}); err != nil {
			logger(ctx).Warn("queueing a remediation notice", "plan", n.Plan.ID, "err", err)
		}
	}
}

func (s *Server) listRemediations(w http.ResponseWriter, r *http.Request) error {
	state := r.URL.Query().Get("state")
	if state != "" && !slices.Contains(remediationStates(), state) {
		return crossbill.Errorf(crossbill.CodeInvalid, "remediations", "state=%q: use one of %v", state, remediationStates())
	}
	ps, err := remediation.List(r.Context(), s.store, tenantOf(r).ID, state)
	if err != nil {
		return err
	}
	return ok(w, r, remediationPlanList{Plans: ps})
}

type remediationPlanList struct {
	Plans []remediation.Plan `json:"plans"`
}

// remediationRequest is the body of a plan request.
type remediationRequest struct {
	Connection crossbill.ConnectionID `json:"connection"`
	Targets    []remediation.Target   `json:"targets"`
	// Recommendations are optimization recommendation IDs to carry out.
	Recommendations []string            `json:"recommendations,omitempty"`
	Limits          *remediation.Limits `json:"limits"`
	Approvals       int                 `json:"approvals"`
	Approvers       []string            `json:"approvers"`
}

func (s *Server) planRemediation(w http.ResponseWriter, r *http.Request) error {
	var in remediationRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), remediationTimeout)
	defer cancel()
	p, err := remediation.NewPlan(ctx, s.remediationEnv(r), remediation.Request{Tenant: tenantOf(r).ID, Connection: in.Connection, Targets: in.Targets, Recommendations: in.Recommendations,
		Limits: in.Limits, Approvals: in.Approvals, Approvers: in.Approvers, By: authOf(r).audit()})
	if err != nil {
		return err
	}
	if err := s.scheduleRemediation(r.Context(), p.TenantID, p.ConnectionID); err != nil {
		return err
	}
	return created(w, r, p)
}

func (s *Server) getRemediation(w http.ResponseWriter, r *http.Request) error {
	p, err := remediation.Get(r.Context(), s.store, tenantOf(r).ID, r.PathValue("remediation"))
	if err != nil {
		return err
	}
	return ok(w, r, p)
}

// remediationTimeout bounds a plan or run through the API below the
// server's write timeout; the job has no such bound.
const remediationTimeout = 100 * time.Second

func (s *Server) runRemediation(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), remediationTimeout)
	defer cancel()
	p, err := remediation.Run(ctx, s.remediationEnv(r), tenantOf(r).ID, r.PathValue("remediation"), authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, p)
}

func (s *Server) undoRemediation(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), remediationTimeout)
	defer cancel()
	p, err := remediation.Undo(ctx, s.remediationEnv(r), tenantOf(r).ID, r.PathValue("remediation"), authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, p)
}

type remediationScheduleRequest struct {
	Connection crossbill.ConnectionID `json:"connection"`
	Schedule   remediation.Schedule   `json:"schedule"`
	Approvals  int                    `json:"approvals"`
	Approvers  []string               `json:"approvers"`
}

type remediationScheduleList struct {
	Schedules []remediation.ScheduleView `json:"schedules"`
}

type remediationScheduleDeleted struct {
	Deleted string `json:"deleted"`
}

func (s *Server) listRemediationSchedules(w http.ResponseWriter, r *http.Request) error {
	vs, err := remediation.Schedules(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, remediationScheduleList{Schedules: vs})
}

func (s *Server) createRemediationSchedule(w http.ResponseWriter, r *http.Request) error {
	var in remediationScheduleRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := remediation.CreateSchedule(r.Context(), s.remediationEnv(r), remediation.ScheduleRequest{Tenant: tenantOf(r).ID, Connection: in.Connection,
		Schedule: in.Schedule, Approvals: in.Approvals, Approvers: in.Approvers, By: authOf(r).audit()})
	if err != nil {
		return err
	}
	if err := s.scheduleRemediation(r.Context(), tenantOf(r).ID, v.ConnectionID); err != nil {
		return err
	}
	return created(w, r, v)
}

func (s *Server) deleteRemediationSchedule(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("schedule")
	if err := remediation.DeleteSchedule(r.Context(), s.store, tenantOf(r).ID, name, authOf(r).audit()); err != nil {
		return err
	}
	return ok(w, r, remediationScheduleDeleted{Deleted: name})
}

func remediationSchemas() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	params := obj{"type": "object", "additionalProperties": obj{"type": "string"}}
	actions := []string{}
	for _, a := range remediation.Actions() {
		actions = append(actions, string(a))
	}
	return obj{
		"RemediationTarget": object([]string{"action", "arn"}, obj{"action": obj{"type": "string", "enum": actions}, "arn": str("the resource's ARN"),
			"account_id": str("default: the ARN's, else the connection's"), "region": str("default: the ARN's (required for buckets)"),
			"params": params, "recommendation": str("the optimization recommendation's ID, if any")}),
		"RemediationLimits": object([]string{"max_resources"}, obj{"max_resources": integer("most resources one run changes (default 10)"),
			"max_percent": num("most percent of a type's resources in an account and region (0: no limit)")}),
		"RemediationRequest": object(nil, obj{"connection": str("default: the tenant's one connection with the remediation module"),
			"targets": arrayOf("RemediationTarget"), "recommendations": obj{"type": "array", "items": obj{"type": "string"}, "description": "optimization recommendation IDs to carry out (their action, resource and target size); with or instead of targets"}, "limits": ref("RemediationLimits"), "approvals": integer("approvals needed from people other than the requester: 1 (default) or 2"),
			"approvers": strs}),
		"RemediationStep": object([]string{"op", "says"}, obj{"op": str("the AWS call, e.g. ec2:StopInstances"), "says": str(""), "args": params,
			"status": str("started, done or failed (empty: not run)"), "output": params}),
		"RemediationItem": object([]string{"index", "target", "resource_id", "status", "steps"}, obj{"index": integer(""), "target": ref("RemediationTarget"),
			"resource_id": str(""), "status": str("ready, refused, skipped, done, failed, undone or stale-skip"), "reason": str(""), "fix": str("what to do, e.g. the tag to add"),
			"state": str("the resource's state when planned"), "dry_run": str("AWS's DryRun answers, or what was checked where AWS offers none"),
			"steps": arrayOf("RemediationStep"), "restore": str("how to get the resource back"), "undo": arrayOf("RemediationStep"), "undo_note": str("")}),
		"RemediationPlan": object([]string{"id", "state", "items"}, obj{"id": str(""), "tenant_id": str(""), "connection_id": str(""),
			"state": obj{"type": "string", "enum": remediationStates()}, "reason": str(""), "limits": ref("RemediationLimits"), "approval_id": str("the approval the run waits for"),
			"approvals_required": integer(""), "requested_by": str(""), "requested_email": str(""), "items": arrayOf("RemediationItem"),
			"created_at": timestamp(""), "updated_at": timestamp("")}),
		"RemediationPlanList": object([]string{"plans"}, obj{"plans": arrayOf("RemediationPlan")}),
		"RemediationSchedule": object([]string{"name", "tag_key", "tag_value", "regions", "timezone", "days", "start", "stop"}, obj{"name": str(""),
			"tag_key": str("the instances' tag key"), "tag_value": str(""), "account_id": str("default: the connection's"), "regions": strs,
			"timezone": str("IANA zone, e.g. Europe/Paris"), "days": strs, "start": str("HH:MM"), "stop": str("HH:MM"), "skip_dates": strs, "limits": ref("RemediationLimits")}),
		"RemediationScheduleRequest": object([]string{"schedule"}, obj{"connection": str(""), "schedule": ref("RemediationSchedule"), "approvals": integer(""), "approvers": strs}),
		"RemediationScheduleView": object([]string{"id", "schedule", "approval_id", "approval_state"}, obj{"id": str(""), "connection_id": str(""),
			"schedule": ref("RemediationSchedule"), "approval_id": str(""), "approval_state": str(""), "last_desired": str("running or stopped"),
			"created_by": str(""), "created_at": timestamp("")}),
		"RemediationScheduleList":    object([]string{"schedules"}, obj{"schedules": arrayOf("RemediationScheduleView")}),
		"RemediationScheduleDeleted": object([]string{"deleted"}, obj{"deleted": str("")}),
	}
}

// JobRemediation runs a connection's approved plans and resumes crashed
// ones, every minute while the connection has the remediation module.
const (
	JobRemediation      = "remediation"
	remediationInterval = time.Minute
)

func (s *Server) runRemediationJob(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	_, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	res, err := remediation.RunDue(ctx, remediation.Env{Store: s.store, AWS: s.cfg.AWS, TenantName: t.Name, Notify: remediationNotify(s.store)}, t.ID, j.ConnectionID)
	if err != nil {
		return err
	}
	progress(1, fmt.Sprintf("%d plan(s) run, %d ended, %d failed, %d awaiting approval", len(res.Ran), len(res.Ended), len(res.Failed), res.Waiting))
	return nil
}

// scheduleRemediation gives a connection with the remediation module its
// minutely job (idempotent).
func (s *Server) scheduleRemediation(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) error {
	if s.sched == nil {
		return nil
	}
	c, err := s.store.TenantConnection(ctx, tenant, conn)
	if err != nil || !slices.Contains(c.Modules, manifest.ModuleRemediation) {
		return err
	}
	_, err = s.sched.Enqueue(ctx, store.JobSpec{TenantID: tenant, ConnectionID: conn, Kind: JobRemediation, RunAt: s.now(), Interval: remediationInterval})
	return err
}
