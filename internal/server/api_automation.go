package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// JobAutomation runs a tenant's applied automation policies that are due,
// and its events policies on each event.
const JobAutomation = "automation"

// automationInterval is the finest policy schedule (hourly).
const automationInterval = time.Hour

func automationRoutes(s *Server) []route {
	base := tenantPath + "/automation"
	return []route{
		{method: http.MethodGet, path: base + "/policies", role: viewer, tenantParam: "tenant", handler: s.getPolicies, tag: "automation", summary: "The tenant's applied automation policy file (YAML), its policies and when each last ran", resp: "AutomationPolicies"},
		{method: http.MethodPut, path: base + "/policies", role: admin, tenantParam: "tenant", handler: s.putPolicies, upload: true, tag: "automation", summary: "Apply an automation policy file (the raw YAML body): validated, every mistake with its line (400); the server runs the policies on their schedules and events policies on each event", resp: "AutomationPolicies"},
		{method: http.MethodPost, path: base + "/run", role: admin, tenantParam: "tenant", handler: s.runPolicies, tag: "automation", summary: "Run every applied policy now; dry_run=true reports what each would select and do, and changes nothing",
			query: []param{q("dry_run", "true: report only")}, resp: "AutomationReport"},
	}
}

func automationSchemas() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	return obj{
		"AutomationFilter": object([]string{"field", "op", "values"}, obj{"field": str(""), "op": str("=, <, <=, >, >="), "values": strs, "number": num("")}),
		"AutomationPolicy": object([]string{"name", "resource", "action"}, obj{"name": str(""), "resource": str("recommendations, findings or events"), "filters": arrayOf("AutomationFilter"),
			"action": str("notify, mark or remediate"), "topic": str(""), "mark_days": integer(""), "schedule": str("hourly, daily or weekly"), "max_resources": integer("blast-radius limit"), "line": integer("line in the file")}),
		"AutomationPolicies": object([]string{"source", "policies"}, obj{"tenant_id": str(""), "source": str("the YAML file"), "updated_by": str(""), "updated_at": timestamp(""),
			"last_runs": obj{"type": "object", "additionalProperties": obj{"type": "string", "format": "date-time"}}, "policies": arrayOf("AutomationPolicy")}),
		"AutomationItem": object([]string{"key", "title"}, obj{"key": str(""), "title": str(""), "fields": obj{"type": "object", "additionalProperties": obj{"type": "string"}},
			"numbers": obj{"type": "object", "additionalProperties": obj{"type": "number"}}}),
		"AutomationPolicyReport": object([]string{"name", "matched", "outcome"}, obj{"name": str(""), "resource": str(""), "action": str(""), "matched": arrayOf("AutomationItem"), "outcome": str(""), "error": str("")}),
		"AutomationReport":       object([]string{"dry_run", "policies"}, obj{"dry_run": boolean(""), "policies": arrayOf("AutomationPolicyReport")}),
	}
}

// automationView is a tenant's applied file with its parsed policies.
type automationView struct {
	store.AutomationFile
	Policies []automation.Policy `json:"policies"`
}

func (s *Server) getPolicies(w http.ResponseWriter, r *http.Request) error {
	f, ps, err := automation.Applied(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, automationView{AutomationFile: f, Policies: ps})
}

func (s *Server) putPolicies(w http.ResponseWriter, r *http.Request) error {
	src, err := io.ReadAll(r.Body)
	if err != nil {
		return err // a MaxBytesError becomes 413
	}
	t := tenantOf(r).ID
	if _, err := automation.Apply(r.Context(), s.store, t, src, authOf(r).audit().Actor); err != nil {
		return err
	}
	if err := s.scheduleAutomation(r.Context(), t, s.now()); err != nil {
		return err
	}
	return s.getPolicies(w, r)
}

func (s *Server) runPolicies(w http.ResponseWriter, r *http.Request) error {
	dry := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		var err error
		if dry, err = strconv.ParseBool(v); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "policy run", "dry_run=%q: use true or false", v)
		}
	}
	t := tenantOf(r).ID
	_, ps, err := automation.Applied(r.Context(), s.store, t)
	if err != nil {
		return err
	}
	rep, err := automation.Run(r.Context(), s.store, t, ps, s.cfg.Automation, dry)
	if err != nil {
		return err
	}
	return ok(w, r, rep)
}

// scheduleAutomation keeps the tenant's hourly automation job, due at at.
func (s *Server) scheduleAutomation(ctx context.Context, tenant crossbill.TenantID, at time.Time) error {
	if s.sched == nil {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: JobAutomation, RunAt: at, Interval: automationInterval})
	return err
}

// runAutomation runs the tenant's due policies (and its events policies).
func (s *Server) runAutomation(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	start := s.store.Now()
	rep, err := automation.RunDue(ctx, s.store, j.TenantID, s.cfg.Automation, true)
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return nil // the policies were removed meanwhile
	}
	if err != nil {
		return err
	}
	progress(1, strconv.Itoa(len(rep.Policies))+" policy run(s)")
	return s.againIfEventsArrived(ctx, j.TenantID, start)
}
