package automation

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	accessgov "github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/wildcard"
)

// Item is one thing a policy can select: its key (stable across runs: the
// dedup key of its notifications), a title, and the fields filters read.
type Item struct {
	Key     string             `json:"key"`
	Title   string             `json:"title"`
	Text    map[string]string  `json:"fields"`
	Numbers map[string]float64 `json:"numbers,omitempty"`
}

// Recommendation is an optimization recommendation as policies read it.
type Recommendation struct {
	ID             string  `json:"id"`
	Rule           string  `json:"rule"`
	Resource       string  `json:"resource"`
	Account        string  `json:"account"`
	Region         string  `json:"region"`
	Title          string  `json:"title"`
	MonthlySavings float64 `json:"monthly_savings"`
}

// RecommendationSource lists a tenant's recommendations: the hook for
// internal/optimize (automation.Optimize). Nil: recommendation policies say
// there are none to read.
type RecommendationSource interface {
	Recommendations(ctx context.Context, tenant crossbill.TenantID) ([]Recommendation, error)
}

// Remediator marks resources for a later operation and plans
// remediations: internal/remediation (automation.Remediation), which
// owns the safety model (tag condition, state guards, approvals, audit).
// dryRun asks for the plan only.
type Remediator interface {
	Mark(ctx context.Context, tenant crossbill.TenantID, policy string, items []Item, days int, dryRun bool) (string, error)
	Remediate(ctx context.Context, tenant crossbill.TenantID, policy string, items []Item, dryRun bool) (string, error)
}

// Sources are what Run reads and acts through besides the store.
type Sources struct {
	Recommendations RecommendationSource
	Remediator      Remediator
}

// PolicyReport is one policy's run.
type PolicyReport struct {
	Name     string `json:"name"`
	Resource string `json:"resource"`
	Action   string `json:"action"`
	Matched  []Item `json:"matched"`
	// Outcome says what the action did (or, in a dry run, would do).
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// Report is a run of a policy file.
type Report struct {
	DryRun   bool           `json:"dry_run"`
	Policies []PolicyReport `json:"policies"`
}

// Run evaluates pols against the tenant's data and acts on the matches
// (nothing with dryRun: the report says what each would do). A policy
// that cannot run reports why; the others still run.
func Run(ctx context.Context, st *store.Store, tenant crossbill.TenantID, pols []Policy, src Sources, dryRun bool) (Report, error) {
	rep := Report{DryRun: dryRun, Policies: []PolicyReport{}}
	for _, p := range pols {
		pr := PolicyReport{Name: p.Name, Resource: p.Resource, Action: p.Action, Matched: []Item{}}
		items, err := load(ctx, st, tenant, p, src)
		if err != nil {
			if ctx.Err() != nil {
				return Report{}, ctx.Err()
			}
			pr.Error = err.Error()
			rep.Policies = append(rep.Policies, pr)
			continue
		}
		for _, it := range items {
			if matches(p.Filters, it) {
				pr.Matched = append(pr.Matched, it)
			}
		}
		pr.Outcome, err = act(ctx, st, tenant, p, pr.Matched, src, dryRun)
		if err != nil {
			if ctx.Err() != nil {
				return Report{}, ctx.Err()
			}
			pr.Error = err.Error()
		}
		rep.Policies = append(rep.Policies, pr)
	}
	return rep, nil
}

// window is how far back a scheduled policy looks at events.
func window(schedule string) time.Duration {
	switch schedule {
	case "hourly":
		return time.Hour
	case "weekly":
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

func load(ctx context.Context, st *store.Store, tenant crossbill.TenantID, p Policy, src Sources) ([]Item, error) {
	var out []Item
	switch p.Resource {
	case ResourceEvents:
		evs, err := st.CloudEvents(ctx, tenant, st.Now().Add(-window(p.Schedule)), 5000)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, Item{Key: "event:" + string(e.ConnectionID) + ":" + e.ID,
				Title: fmt.Sprintf("%s by %s in %s (%s)", e.EventName, e.Principal, e.Account, e.Region),
				Text:  map[string]string{"event_name": e.EventName, "source": e.Source, "account": string(e.Account), "region": e.Region, "principal": e.Principal}})
		}
	case ResourceFindings:
		conns, err := st.ConnectionsByTenant(ctx, tenant)
		if err != nil {
			return nil, err
		}
		for _, c := range conns {
			if !slices.Contains(c.Modules, manifest.ModuleAccessRead) {
				continue
			}
			fl, err := accessgov.FindingsFor(ctx, st, tenant, c.ID, accessgov.Thresholds{}, "")
			if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, f := range fl.Findings {
				out = append(out, Item{Key: "finding:" + string(c.ID) + ":" + f.ID + ":" + f.Principal + ":" + string(f.Account),
					Title: fmt.Sprintf("%s: %s %s", f.Severity, f.Title, f.Name),
					Text:  map[string]string{"id": f.ID, "severity": string(f.Severity), "account": string(f.Account), "principal": f.Principal, "name": f.Name}})
			}
		}
	case ResourceRecommendations:
		if src.Recommendations == nil {
			return nil, crossbill.Errorf(crossbill.CodeUnavailable, "policy", "no optimization recommendations in this build yet (internal/optimize): nothing to select")
		}
		recs, err := src.Recommendations.Recommendations(ctx, tenant)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			out = append(out, Item{Key: "recommendation:" + r.ID, Title: fmt.Sprintf("%s: %s ($%.2f a month)", r.Rule, r.Title, r.MonthlySavings),
				Text:    map[string]string{"rule": r.Rule, "resource": r.Resource, "account": r.Account, "region": r.Region},
				Numbers: map[string]float64{"monthly_savings": r.MonthlySavings}})
		}
	}
	return out, nil
}

// matches: every filter holds (a filter holds when any of its values
// does; text values may use * and ?; severity compares by rank).
func matches(fs []Filter, it Item) bool {
	for _, f := range fs {
		if !holds(f, it) {
			return false
		}
	}
	return true
}

func holds(f Filter, it Item) bool {
	if n, ok := it.Numbers[f.Field]; ok {
		switch f.Op {
		case "<":
			return n < f.Number
		case "<=":
			return n <= f.Number
		case ">":
			return n > f.Number
		case ">=":
			return n >= f.Number
		}
		return n == f.Number
	}
	v := it.Text[f.Field]
	for _, want := range f.Values {
		if wildcard.Match(want, v, false) {
			return true
		}
	}
	return false
}

func act(ctx context.Context, st *store.Store, tenant crossbill.TenantID, p Policy, items []Item, src Sources, dryRun bool) (string, error) {
	if len(items) == 0 {
		return "nothing matched", nil
	}
	if p.MaxResources > 0 && len(items) > p.MaxResources && p.Action != ActionNotify {
		return "", crossbill.Errorf(crossbill.CodeConflict, "policy", "%d resources match, more than max_resources %d: nothing done (narrow the filters or raise the limit)", len(items), p.MaxResources)
	}
	switch p.Action {
	case ActionNotify:
		if dryRun {
			return fmt.Sprintf("would notify %d item(s) on topic %s", len(items), topicOf(p)), nil
		}
		queued, dup := 0, 0
		for _, it := range items {
			res, err := notify.Send(ctx, st, notify.Message{Tenant: tenant, Topic: topicOf(p), Subject: "Policy " + p.Name + ": " + it.Title,
				Text: it.Title, Data: map[string]any{"policy": p.Name, "item": it}, DedupKey: "policy:" + p.Name + ":" + it.Key})
			if err != nil {
				return "", err
			}
			if res.Deduplicated {
				dup++
			} else {
				queued++
			}
		}
		return "notified " + strconv.Itoa(queued) + " new item(s), " + strconv.Itoa(dup) + " sent before", nil
	case ActionMark, ActionRemediate:
		if src.Remediator == nil {
			return "", crossbill.Errorf(crossbill.CodeUnavailable, "policy", "no remediation engine here (it needs the hub's AWS credentials: set AWS_PROFILE or run where the server runs): would %s %d resource(s), did nothing", p.Action, len(items))
		}
		if p.Action == ActionMark {
			return src.Remediator.Mark(ctx, tenant, p.Name, items, p.MarkDays, dryRun)
		}
		return src.Remediator.Remediate(ctx, tenant, p.Name, items, dryRun)
	}
	return "", crossbill.Errorf(crossbill.CodeInternal, "policy", "unknown action %q", p.Action)
}

func topicOf(p Policy) string {
	if p.Topic != "" {
		return p.Topic
	}
	return "automation." + p.Name
}
