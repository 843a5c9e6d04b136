// Package alerts watches a tenant's costs, commitments, savings and access
// findings with rules, and tells people through internal/notify when a
// rule fires. Each firing carries a dedup key (the rule, and what fired:
// the month, the day and group, the commitment, the finding), so a rule
// evaluated daily and after every ingest tells once per event.
package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// Rule kinds.
const (
	KindBudget         = "budget"                 // actual or forecast spend of the month against an amount
	KindAnomaly        = "anomaly"                // cost anomalies (internal/costs) above an impact
	KindCommitExpiry   = "commitment-expiry"      // Savings Plans and reservations ending within N days
	KindCommitUtilized = "commitment-utilization" // a commitment used below X% over the last days
	KindSavings        = "savings"                // new optimization savings above $X a month
	KindAccessFinding  = "access-finding"         // new admin-equivalent principals, outside trust
	KindEvent          = "event"                  // real-time CloudTrail events (internal/events) matching names
)

// Kinds lists the rule kinds.
func Kinds() []string {
	return []string{KindBudget, KindAnomaly, KindCommitExpiry, KindCommitUtilized, KindSavings, KindAccessFinding, KindEvent}
}

// MaxRules is the most rules a tenant keeps.
const MaxRules = 200

// Params are a rule's settings; each kind reads its own.
type Params struct {
	// budget: the monthly amount (USD), the scope as a cost filter
	// (account=ID, service=NAME, tag:KEY=VALUE; empty: the whole tenant),
	// the share of the amount that fires (default 100) and whether the
	// month's forecast firing counts too.
	Amount    float64  `json:"amount,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Percent   float64  `json:"percent,omitempty"`
	Forecast  bool     `json:"forecast,omitempty"`
	MinAmount float64  `json:"min_amount,omitempty"` // anomaly: smallest change in USD (default 10); savings: smallest monthly saving
	Days      int      `json:"days,omitempty"`       // commitment-expiry: within N days (default 30); anomaly, utilization: look back N days (default 7)
	BelowPct  float64  `json:"below_pct,omitempty"`  // commitment-utilization: fire under this utilization, percent (default 80)
	Findings  []string `json:"findings,omitempty"`   // access-finding: admin-equivalent, outside-trust (default both)
	// event: CloudTrail event names (CreateUser), sources (aws.iam) or *
	// (default); Days looks back (default 1).
	Events []string `json:"events,omitempty"`
}

// RuleRequest adds a rule.
type RuleRequest struct {
	Tenant crossbill.TenantID `json:"-"`
	Name   string             `json:"name"`
	Kind   string             `json:"kind"`
	Params Params             `json:"params"`
	// By is who adds it, as its audit line names them (the rule's
	// created_by is By.Actor).
	By store.AuditEntry `json:"-"`
}

// AddRule checks and saves a rule.
func AddRule(ctx context.Context, st *store.Store, req RuleRequest) (store.AlertRule, error) {
	const op = "rule add"
	if req.Name == "" || len(req.Name) > 100 {
		return store.AlertRule{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a rule needs a name of at most 100 bytes")
	}
	if err := crossbill.CheckText(op, "name", req.Name); err != nil {
		return store.AlertRule{}, err
	}
	p, err := checkParams(req.Kind, req.Params)
	if err != nil {
		return store.AlertRule{}, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return store.AlertRule{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return st.CreateAlertRule(ctx, store.AlertRule{TenantID: req.Tenant, Name: req.Name, Kind: req.Kind, Params: raw, CreatedBy: req.By.Actor}, MaxRules, req.By)
}

// checkParams validates p for kind and fills its defaults.
func checkParams(kind string, p Params) (Params, error) {
	const op = "rule add"
	bad := func(format string, args ...any) (Params, error) {
		return Params{}, crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	if p.Amount < 0 || p.Percent < 0 || p.MinAmount < 0 || p.Days < 0 || p.BelowPct < 0 {
		return bad("amounts, percents and days cannot be negative")
	}
	switch kind {
	case KindBudget:
		if p.Amount <= 0 {
			return bad("a budget rule needs --amount, the monthly budget in USD")
		}
		if p.Percent == 0 {
			p.Percent = 100
		}
		if p.Percent > 1000 {
			return bad("--percent %g: give the share of the budget that fires, 1 to 1000", p.Percent)
		}
		if p.Scope != "" {
			if err := crossbill.CheckText(op, "scope", p.Scope); err != nil {
				return Params{}, err
			}
			if _, err := costs.ParseFilter(p.Scope); err != nil {
				return bad("--scope %q: give a cost filter such as account=123456789012, service=AmazonEC2 or tag:team=web (%v)", p.Scope, err)
			}
		}
	case KindAnomaly:
		if p.MinAmount == 0 {
			p.MinAmount = 10
		}
		if p.Days == 0 {
			p.Days = 7
		}
	case KindCommitExpiry:
		if p.Days == 0 {
			p.Days = 30
		}
	case KindCommitUtilized:
		if p.BelowPct == 0 {
			p.BelowPct = 80
		}
		if p.BelowPct > 100 {
			return bad("--below %g: give a utilization percent, 1 to 100", p.BelowPct)
		}
		if p.Days == 0 {
			p.Days = 7
		}
	case KindSavings:
		if p.MinAmount == 0 {
			p.MinAmount = 50
		}
	case KindAccessFinding:
		if len(p.Findings) == 0 {
			p.Findings = []string{findingAdmin, findingOutside}
		}
		for _, f := range p.Findings {
			if f != findingAdmin && f != findingOutside {
				return bad("finding %q: use admin-equivalent or outside-trust", f)
			}
		}
	case KindEvent:
		if len(p.Events) == 0 {
			p.Events = []string{"*"}
		}
		for _, e := range p.Events {
			if e != "*" && !eventRE.MatchString(e) {
				return bad("event %q: give a CloudTrail event name (CreateUser), a source (aws.iam) or *", e)
			}
		}
		if p.Days == 0 {
			p.Days = 1
		}
	default:
		return bad("kind %q: use one of %s", kind, strings.Join(Kinds(), ", "))
	}
	if p.Days > 3650 {
		return bad("--days %d: at most 3650", p.Days)
	}
	return p, nil
}

// paramsOf reads a stored rule's params.
func paramsOf(r store.AlertRule) (Params, error) {
	var p Params
	dec := json.NewDecoder(bytes.NewReader(r.Params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, crossbill.Errorf(crossbill.CodeInternal, "rule", "rule %s has unreadable params: %v", r.Name, err)
	}
	return p, nil
}

// Rules lists the tenant's rules.
func Rules(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]store.AlertRule, error) {
	return st.AlertRules(ctx, tenant)
}

// RemoveRule removes a rule; by is who removes it, for the audit line.
func RemoveRule(ctx context.Context, st *store.Store, tenant crossbill.TenantID, ref string, by store.AuditEntry) (store.AlertRule, error) {
	return st.DeleteAlertRule(ctx, tenant, ref, by)
}

var eventRE = regexp.MustCompile(`^(aws\.[a-z0-9-]+|[A-Za-z][A-Za-z0-9]{0,127})$`)

// Topic is the notify topic of a rule kind's firings.
func Topic(kind string) string { return "alert." + kind }

func money(v float64) string { return fmt.Sprintf("$%.2f", v) }
