package alerts

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	accessgov "github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

const (
	findingAdmin   = accessgov.FindAdmin
	findingOutside = accessgov.FindOutsideTrust
)

// Opportunity is one optimization recommendation's saving, as the
// savings rule reads it.
type Opportunity struct {
	ID             string  `json:"id"` // stable across evaluations: the dedup key
	Title          string  `json:"title"`
	Resource       string  `json:"resource"`
	MonthlySavings float64 `json:"monthly_savings"`
}

// SavingsSource lists a tenant's current optimization opportunities. It is
// internal/optimize's open recommendations (alerts.OptimizeSavings); nil: the
// savings rule reports that it has nothing to read.
type SavingsSource interface {
	Opportunities(ctx context.Context, tenant crossbill.TenantID) ([]Opportunity, error)
}

// Sources are what rules read besides the metadata store.
type Sources struct {
	Costs   *costs.Store  // the tenant's cost store; nil: cost and commitment rules report it missing
	Savings SavingsSource // nil until internal/optimize is wired
	// Engine, when set, answers the budget and anomaly rules instead of
	// Costs: the tenant's Athena engine (athena.Engines.Athena), so that
	// they judge the costs the tenant's queries show.
	Engine costs.Source
	// Commitments, when set, answers the commitment rules instead of
	// Costs: the same engine's (athena.CommitmentsOf), as the commitments
	// analyses do.
	Commitments commitments.Reader
}

// Firing is one thing a rule found worth telling.
type Firing struct {
	Key          string `json:"key"`
	Subject      string `json:"subject"`
	Text         string `json:"text"`
	Data         any    `json:"data,omitempty"`
	Deduplicated bool   `json:"deduplicated"` // already sent by an earlier evaluation
	Queued       int    `json:"queued"`       // deliveries queued (one per subscribed channel)
}

// RuleReport is one rule's evaluation.
type RuleReport struct {
	Rule    string   `json:"rule"`
	Kind    string   `json:"kind"`
	Firings []Firing `json:"firings"`
	Error   string   `json:"error,omitempty"`
}

// Report is an evaluation of a tenant's rules.
type Report struct {
	DryRun bool         `json:"dry_run"`
	Rules  []RuleReport `json:"rules"`
	Fired  int          `json:"fired"` // firings not sent before
}

// Evaluate runs the tenant's rules (only the one named only, when given)
// and sends each new firing through notify (nothing with dryRun). A rule
// that cannot be evaluated (no cost data yet) reports why and the others
// still run.
func Evaluate(ctx context.Context, st *store.Store, tenant crossbill.TenantID, src Sources, only string, dryRun bool) (Report, error) {
	var rules []store.AlertRule
	if only != "" {
		r, err := st.AlertRule(ctx, tenant, only)
		if err != nil {
			return Report{}, err
		}
		rules = []store.AlertRule{r}
	} else {
		var err error
		if rules, err = st.AlertRules(ctx, tenant); err != nil {
			return Report{}, err
		}
	}
	rep := Report{DryRun: dryRun, Rules: []RuleReport{}}
	for _, r := range rules {
		rr := RuleReport{Rule: r.Name, Kind: r.Kind, Firings: []Firing{}}
		fs, err := evalRule(ctx, st, tenant, src, r)
		if err != nil {
			if ctx.Err() != nil {
				return Report{}, ctx.Err()
			}
			rr.Error = err.Error()
		}
		for _, f := range fs {
			if !dryRun {
				res, err := notify.Send(ctx, st, notify.Message{Tenant: tenant, Topic: Topic(r.Kind), Subject: f.Subject, Text: f.Text,
					Data: map[string]any{"rule": r.Name, "kind": r.Kind, "key": f.Key, "detail": f.Data}, DedupKey: "alert:" + r.ID + ":" + f.Key})
				if err != nil {
					return Report{}, err
				}
				f.Deduplicated, f.Queued = res.Deduplicated, len(res.Queued)
			}
			if !f.Deduplicated {
				rep.Fired++
			}
			rr.Firings = append(rr.Firings, f)
		}
		if !dryRun {
			if err := st.RecordAlertRun(ctx, tenant, r.ID, len(rr.Firings), rr.Error); err != nil {
				return Report{}, err
			}
		}
		rep.Rules = append(rep.Rules, rr)
	}
	return rep, nil
}

func evalRule(ctx context.Context, st *store.Store, tenant crossbill.TenantID, src Sources, r store.AlertRule) ([]Firing, error) {
	p, err := paramsOf(r)
	if err != nil {
		return nil, err
	}
	needCosts := func() error {
		if src.Costs == nil {
			return crossbill.Errorf(crossbill.CodeUnavailable, "alerts", "the cost store is not open here: run the evaluation on the server or with --data of one")
		}
		return nil
	}
	switch r.Kind {
	case KindBudget, KindAnomaly:
		var cs costs.Source = src.Engine
		if cs == nil {
			if err := needCosts(); err != nil {
				return nil, err
			}
			cs = src.Costs
		}
		if r.Kind == KindBudget {
			return evalBudget(ctx, cs, tenant, r, p)
		}
		return evalAnomaly(ctx, cs, tenant, r, p)
	case KindCommitExpiry, KindCommitUtilized:
		cr := src.Commitments
		if cr == nil {
			if err := needCosts(); err != nil {
				return nil, err
			}
			cr = commitments.DB(src.Costs.DB())
		}
		return evalCommitments(ctx, cr, tenant, r, p, st.Now())
	case KindSavings:
		if src.Savings == nil {
			return nil, crossbill.Errorf(crossbill.CodeUnavailable, "alerts", "no optimization recommendations in this build yet (internal/optimize): the rule fires once they are")
		}
		ops, err := src.Savings.Opportunities(ctx, tenant)
		if err != nil {
			return nil, err
		}
		var out []Firing
		for _, o := range ops {
			if o.MonthlySavings >= p.MinAmount {
				out = append(out, Firing{Key: "savings:" + o.ID, Subject: fmt.Sprintf("New saving of %s a month: %s", money(o.MonthlySavings), o.Title),
					Text: fmt.Sprintf("%s\nResource: %s\nEstimated savings: %s a month (rule %s: at least %s).", o.Title, o.Resource, money(o.MonthlySavings), r.Name, money(p.MinAmount)), Data: o})
			}
		}
		return out, nil
	case KindAccessFinding:
		return evalAccess(ctx, st, tenant, r, p)
	case KindEvent:
		return evalEvents(ctx, st, tenant, p)
	}
	return nil, crossbill.Errorf(crossbill.CodeInternal, "alerts", "rule %s has unknown kind %q", r.Name, r.Kind)
}

func evalBudget(ctx context.Context, cs costs.Source, tenant crossbill.TenantID, r store.AlertRule, p Params) ([]Firing, error) {
	var filters []costs.Filter
	scope := "the whole tenant"
	if p.Scope != "" {
		f, err := costs.ParseFilter(p.Scope)
		if err != nil {
			return nil, err
		}
		filters, scope = []costs.Filter{f}, p.Scope
	}
	fc, err := costs.ForecastIn(ctx, cs, nil, tenant, costs.MetricUnblended, time.Time{}, filters)
	if err != nil {
		return nil, err
	}
	limit := p.Amount * p.Percent / 100
	data := map[string]any{"month": fc.Month, "scope": scope, "budget": p.Amount, "percent": p.Percent, "actual_to_date": fc.ActualToDate, "forecast": fc.Forecast}
	var out []Firing
	if fc.ActualToDate >= limit {
		out = append(out, Firing{Key: "budget:" + fc.Month + ":actual",
			Subject: fmt.Sprintf("Budget %s: %s spent in %s, %.0f%% of %s", r.Name, money(fc.ActualToDate), fc.Month, 100*fc.ActualToDate/p.Amount, money(p.Amount)),
			Text: fmt.Sprintf("Spend of %s (unblended) in %s is %s after %d of %d days, past %.0f%% of the monthly budget %s.\nForecast for the month: %s.",
				scope, fc.Month, money(fc.ActualToDate), fc.DaysActual, fc.DaysInMonth, p.Percent, money(p.Amount), money(fc.Forecast)), Data: data})
	}
	if p.Forecast && fc.Forecast >= limit && fc.DaysActual < fc.DaysInMonth {
		out = append(out, Firing{Key: "budget:" + fc.Month + ":forecast",
			Subject: fmt.Sprintf("Budget %s: %s forecast for %s, %.0f%% of %s", r.Name, money(fc.Forecast), fc.Month, 100*fc.Forecast/p.Amount, money(p.Amount)),
			Text: fmt.Sprintf("Spend of %s (unblended) in %s is forecast at %s (range %s to %s), past %.0f%% of the monthly budget %s; %s spent so far.",
				scope, fc.Month, money(fc.Forecast), money(fc.Low), money(fc.High), p.Percent, money(p.Amount), money(fc.ActualToDate)), Data: data})
	}
	return out, nil
}

func evalAnomaly(ctx context.Context, cs costs.Source, tenant crossbill.TenantID, r store.AlertRule, p Params) ([]Firing, error) {
	latest, err := cs.LatestDay(ctx, tenant)
	if err != nil {
		return nil, err
	}
	as, err := costs.AnomaliesIn(ctx, cs, costs.AnomalyOptions{Tenant: tenant, To: latest, From: latest.AddDate(0, 0, -p.Days), MinDelta: p.MinAmount})
	if err != nil {
		return nil, err
	}
	var out []Firing
	for _, a := range as {
		if a.Direction != "spike" {
			continue // drops are not what cost anomaly alerts are for
		}
		out = append(out, Firing{Key: "anomaly:" + a.Day + ":" + a.Dim + ":" + a.Group,
			Subject: fmt.Sprintf("Cost anomaly: %s %s %s on %s (usually %s)", a.Dim, a.Label(), money(a.Value), a.Day, money(a.Baseline)),
			Text: fmt.Sprintf("The %s %s cost %s on %s against a usual %s (+%s, robust z-score %.1f). Rule %s: changes of at least %s.",
				a.Dim, a.Label(), money(a.Value), a.Day, money(a.Baseline), money(a.Delta), a.Score, r.Name, money(p.MinAmount)), Data: a})
	}
	return out, nil
}

func evalCommitments(ctx context.Context, cr commitments.Reader, tenant crossbill.TenantID, r store.AlertRule, p Params, now time.Time) ([]Firing, error) {
	end, err := commitments.DataEnd(ctx, cr, tenant)
	if err != nil {
		return nil, err
	}
	if end.IsZero() {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, "alerts", "no CUR data yet: commitments come from the CUR (crossbill cur ingest)")
	}
	var out []Firing
	if r.Kind == KindCommitExpiry {
		inv, err := commitments.FromCUR(ctx, cr, commitments.Window{Tenant: tenant, Start: end.AddDate(0, -1, 0), End: end})
		if err != nil {
			return nil, err
		}
		for _, c := range commitments.Expiring(inv, now, p.Days) {
			days := int(c.End.Sub(now).Hours() / 24)
			out = append(out, Firing{Key: "expiry:" + c.ID + ":" + c.End.Format("2006-01-02"),
				Subject: fmt.Sprintf("%s %s expires in %d days (%s)", c.Type, c.ID, days, c.End.Format("2006-01-02")),
				Text: fmt.Sprintf("%s %s of account %s (%s/h) ends on %s, in %d days. Renew it or plan the usage it covers (crossbill commitments recommend).",
					c.Type, c.ID, c.Account, money(c.HourlyCommitment), c.End.Format("2006-01-02"), days), Data: c})
		}
		return out, nil
	}
	v, err := commitments.DailyUtilization(ctx, cr, commitments.Window{Tenant: tenant, Start: end.AddDate(0, 0, -p.Days), End: end})
	if err != nil {
		return nil, err
	}
	for _, s := range v.ByCommitment {
		if s.Commitment <= 0 || 100*s.Utilization >= p.BelowPct {
			continue
		}
		out = append(out, Firing{Key: "utilization:" + s.Key + ":" + end.Format("2006-01"),
			Subject: fmt.Sprintf("Commitment %s used %.0f%% over %d days (below %.0f%%)", s.Key, 100*s.Utilization, p.Days, p.BelowPct),
			Text: fmt.Sprintf("Commitment %s was used %.1f%% of the time over the %d days to %s: %s of %s unused.",
				s.Key, 100*s.Utilization, p.Days, end.Format("2006-01-02"), money(s.Unused), money(s.Commitment)), Data: s})
	}
	return out, nil
}

func evalAccess(ctx context.Context, st *store.Store, tenant crossbill.TenantID, r store.AlertRule, p Params) ([]Firing, error) {
	conns, err := st.Connections(ctx)
	if err != nil {
		return nil, err
	}
	var out []Firing
	for _, c := range conns {
		if c.TenantID != tenant || !slices.Contains(c.Modules, manifest.ModuleAccessRead) {
			continue
		}
		fl, err := accessgov.FindingsFor(ctx, st, tenant, c.ID, accessgov.Thresholds{}, "")
		if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
			continue // not synced yet
		}
		if err != nil {
			return nil, err
		}
		for _, f := range fl.Findings {
			if !slices.Contains(p.Findings, f.ID) {
				continue
			}
			out = append(out, Firing{Key: "access:" + string(c.ID) + ":" + f.ID + ":" + f.Principal + ":" + string(f.Account) + ":" + f.OutsideAccount,
				Subject: fmt.Sprintf("Access finding (%s): %s %s", f.Severity, f.Title, f.Name),
				Text:    fmt.Sprintf("%s\nPrincipal: %s (account %s)\nEvidence: %s\nFix: %s", f.Title, f.Principal, f.Account, f.Evidence, f.Fix), Data: f})
		}
	}
	return out, nil
}

// evalEvents fires once per received event (its ID) matching the rule.
func evalEvents(ctx context.Context, st *store.Store, tenant crossbill.TenantID, p Params) ([]Firing, error) {
	evs, err := st.CloudEvents(ctx, tenant, st.Now().Add(-time.Duration(p.Days)*24*time.Hour), 1000)
	if err != nil {
		return nil, err
	}
	var out []Firing
	for _, e := range evs {
		if !slices.Contains(p.Events, "*") && !slices.Contains(p.Events, e.EventName) && !slices.Contains(p.Events, e.Source) {
			continue
		}
		who := e.Principal
		if who == "" {
			who = "an unknown caller"
		}
		out = append(out, Firing{Key: "event:" + string(e.ConnectionID) + ":" + e.ID,
			Subject: fmt.Sprintf("AWS event: %s in account %s (%s) by %s", e.EventName, e.Account, e.Region, who),
			Text:    fmt.Sprintf("%s called %s (%s) in account %s, region %s, at %s.", who, e.EventName, e.Source, e.Account, e.Region, e.Time.Format(time.RFC3339)),
			Data:    map[string]any{"id": e.ID, "connection_id": e.ConnectionID, "account": e.Account, "region": e.Region, "source": e.Source, "event_name": e.EventName, "principal": e.Principal, "time": e.Time}})
	}
	return out, nil
}
