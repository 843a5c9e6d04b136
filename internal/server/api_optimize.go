package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// The optimization routes: each parses, calls one use case of
// internal/optimize (as `crossbill optimize` does), renders.

func optimizeFilter(r *http.Request) optimize.Filter {
	q := r.URL.Query()
	return optimize.Filter{Rule: q.Get("rule"), Account: crossbill.AccountID(q.Get("account")), State: q.Get("state")}
}

func (s *Server) listRecommendations(w http.ResponseWriter, r *http.Request) error {
	l, err := optimize.List(r.Context(), s.store, tenantOf(r).ID, optimizeFilter(r))
	if err != nil {
		return err
	}
	return ok(w, r, l)
}

// exportRecommendations answers the listing as CSV, the columns
// `crossbill optimize --format csv` writes.
func (s *Server) exportRecommendations(w http.ResponseWriter, r *http.Request) error {
	if f := r.URL.Query().Get("format"); f != "" && f != "csv" {
		return crossbill.Errorf(crossbill.CodeInvalid, "export", "format %q: exports are csv (for JSON, GET .../optimize/recommendations)", f)
	}
	l, err := optimize.List(r.Context(), s.store, tenantOf(r).ID, optimizeFilter(r))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(optimize.CSVHeader) // a bytes.Buffer does not fail
	for _, rec := range l.Recommendations {
		_ = cw.Write(optimize.CSVRow(rec))
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="recommendations.csv"`)
	_, err = w.Write(buf.Bytes())
	return err
}

func (s *Server) getRecommendation(w http.ResponseWriter, r *http.Request) error {
	rec, err := optimize.Get(r.Context(), s.store, tenantOf(r).ID, r.PathValue("recommendation"))
	if err != nil {
		return err
	}
	return ok(w, r, rec)
}

func (s *Server) optimizeRules(w http.ResponseWriter, r *http.Request) error {
	views, err := optimize.RuleSettings(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, views)
}

type thresholdsRequest struct {
	Values map[string]float64 `json:"values"`
	Reset  bool               `json:"reset"`
}

func (s *Server) setOptimizeRule(w http.ResponseWriter, r *http.Request) error {
	var in thresholdsRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := optimize.SetThresholds(r.Context(), s.store, tenantOf(r).ID, r.PathValue("rule"), in.Values, in.Reset, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, v)
}

// evaluateNow runs an evaluation of the tenant's inventory now.
func (s *Server) evaluateNow(w http.ResponseWriter, r *http.Request) error {
	e, err := optimize.Evaluate(r.Context(), s.store, tenantOf(r).ID, s.cfg.Inventory)
	if err != nil {
		return err
	}
	return ok(w, r, e)
}

func optimizeRoutes(s *Server) []route {
	recs := tenantPath + "/optimize/recommendations"
	filter := []param{q("rule", "only this rule's (GET .../optimize/rules lists them)"), q("account", "only this AWS account's"), q("state", "open (default), resolved or all")}
	return []route{
		{method: http.MethodGet, path: recs, role: viewer, tenantParam: "tenant", handler: s.listRecommendations, tag: "optimize", summary: "Recommendations of the newest evaluation, biggest saving first, with totals by rule and account (a resource counted once)",
			query: filter, resp: "RecommendationListing"},
		{method: http.MethodGet, path: recs + "/export", role: analyst, tenantParam: "tenant", handler: s.exportRecommendations, tag: "optimize", summary: "The recommendations as CSV, as `crossbill optimize --format csv` writes them",
			query: append([]param{q("format", "csv (the default and only format)")}, filter...), content: "text/csv"},
		{method: http.MethodGet, path: recs + "/{recommendation}", role: viewer, tenantParam: "tenant", handler: s.getRecommendation, tag: "optimize", summary: "One recommendation (open or resolved) with its savings, evidence and commitment interaction", resp: "OptimizeRecommendation"},
		{method: http.MethodGet, path: tenantPath + "/optimize/rules", role: viewer, tenantParam: "tenant", handler: s.optimizeRules, tag: "optimize", summary: "The rules with the tenant's thresholds and their defaults", resp: "OptimizeRuleList"},
		{method: http.MethodPut, path: tenantPath + "/optimize/rules/{rule}", role: analyst, tenantParam: "tenant", handler: s.setOptimizeRule, tag: "optimize", summary: "Change some of a rule's thresholds for the tenant (reset: back to the defaults first); audited; applies from the next evaluation",
			body: "OptimizeThresholds", resp: "OptimizeRule"},
		{method: http.MethodPost, path: tenantPath + "/optimize/evaluate", role: analyst, tenantParam: "tenant", handler: s.evaluateNow, tag: "optimize", summary: "Evaluate the rules over the tenant's inventory now (the server also does after each inventory sync, and daily)", resp: "OptimizeEvaluation"},
	}
}

func optimizeSchemas() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	nums := obj{"type": "object", "additionalProperties": obj{"type": "number"}}
	group := object([]string{"key", "count", "monthly"}, obj{"key": str("rule or account"), "count": integer(""), "monthly": num("each resource's biggest saving, counted once")})
	return obj{
		"OptimizeSavings": object([]string{"monthly", "basis"}, obj{"monthly": num("the headline figure: after discounts when the CUR gave the resource's cost, else before"),
			"basis": obj{"type": "string", "enum": []string{"after-discounts", "before-discounts"}}, "monthly_after_discounts": num("from the amortized cost; 0 when only the list price is known"),
			"monthly_before_discounts": num("from the on-demand cost"), "current_monthly": num("what the resource costs now, on basis"), "currency": str(""),
			"cost_source": str("cur, price-list or none"), "cost_label": str("where the cost figure comes from"), "hours_per_month": integer("730"), "note": str("what the figure leaves out")}),
		"OptimizeCheck": object([]string{"name", "observed", "op", "threshold", "pass"}, obj{"name": str(""), "observed": num(""), "op": str("<=, <, >=, >, ="), "threshold": num(""), "unit": str(""), "pass": boolean("")}),
		"OptimizeEvidence": object([]string{"test", "checks"}, obj{"test": str("the rule's test in words"), "checks": arrayOf("OptimizeCheck"),
			"limits": obj{"type": "array", "items": object([]string{"metric", "stat", "value"}, obj{"metric": str(""), "stat": str(""), "value": num("the threshold on that series"), "label": str("")})},
			"series": obj{"type": "array", "items": object(nil, obj{"namespace": str(""), "metric": str(""), "stat": str(""), "period_seconds": integer(""), "unit": str(""),
				"points": obj{"type": "array", "items": object(nil, obj{"at": timestamp(""), "value": num("")})}})}}),
		"OptimizeRecommendation": object([]string{"id", "rule", "arn", "action", "savings", "evidence"}, obj{
			"id": str("stable: the same rule on the same resource keeps its ID"), "rule": str(""), "arn": str(""), "resource_id": str(""), "resource_type": str("service/type"), "name": str(""),
			"account_id": str(""), "region": str(""), "action": obj{"type": "string", "enum": []string{"Stop", "Delete", "Rightsize", "Upgrade", "MigrateToGraviton", "ScaleIn", "Schedule"}},
			"summary": str(""), "current": str(""), "target": str(""), "savings": ref("OptimizeSavings"), "effort": str("low, medium or high"), "restart_needed": boolean(""),
			"rollback_possible": boolean(""), "rollback": str("how"), "confidence": str("low, medium or high"), "commitment_interaction": str("how the change meets Savings Plans and reservations"),
			"evidence": ref("OptimizeEvidence"), "evaluation_id": str(""), "evaluated_at": timestamp(""), "state": str("open or resolved"), "first_seen": timestamp(""), "resolved_at": timestamp("")}),
		"OptimizeSummary": object([]string{"total_monthly", "count"}, obj{"total_monthly": num("a resource counted once, at its biggest saving"), "count": integer(""),
			"by_rule": obj{"type": "array", "items": group}, "by_account": obj{"type": "array", "items": group}, "by_action": nums}),
		"RecommendationListing": object([]string{"evaluation_id", "recommendations", "summary"}, obj{"evaluation_id": str(""), "evaluated_at": timestamp(""), "resources": integer("resources evaluated"),
			"summary": ref("OptimizeSummary"), "recommendations": arrayOf("OptimizeRecommendation")}),
		"OptimizeParam": object([]string{"name", "default"}, obj{"name": str(""), "default": num(""), "min": num(""), "max": num(""), "unit": str(""), "description": str("")}),
		"OptimizeRule": object([]string{"name", "params", "values"}, obj{"name": str(""), "title": str(""), "resource_type": str("service/type (comma-separated when several)"), "action": str(""),
			"anchor": str("where the defaults come from"), "params": arrayOf("OptimizeParam"), "values": nums, "customized": strs}),
		"OptimizeRuleList":   arrayOf("OptimizeRule"),
		"OptimizeThresholds": object(nil, obj{"values": nums, "reset": boolean("back to the defaults before applying values")}),
		"OptimizeEvaluation": object([]string{"id", "resources", "summary"}, obj{"id": str(""), "started_at": timestamp(""), "finished_at": timestamp(""), "resources": integer(""), "summary": ref("OptimizeSummary")}),
	}
}

// JobOptimize evaluates a tenant's inventory daily (and after each
// inventory sync, which enqueues it).
const (
	JobOptimize      = "optimize"
	optimizeInterval = 24 * time.Hour
)

// runOptimize is the scheduled evaluation.
func (s *Server) runOptimize(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	e, err := optimize.Evaluate(ctx, s.store, j.TenantID, s.cfg.Inventory)
	if err != nil {
		return err
	}
	progress(1, fmt.Sprintf("%d resources, %d recommendation(s), %.2f USD a month", e.Resources, e.Summary.Count, e.Summary.Total))
	return nil
}

// ScheduleOptimize gives a tenant its daily evaluation, first run at
// runAt (idempotent: a queued one is moved earlier, so an inventory sync
// asking for one now gets it now).
func (s *Server) ScheduleOptimize(ctx context.Context, tenant crossbill.TenantID, runAt time.Time) error {
	if s.sched == nil {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: tenant, Kind: JobOptimize, RunAt: runAt, Interval: optimizeInterval})
	return err
}
