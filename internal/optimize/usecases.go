package optimize

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/store"
)

// Source is where an evaluation reads a tenant's inventory: the
// inventory store (InventoryStore), or Memory (tests, benchmarks).
type Source interface {
	Resources(ctx context.Context, tenant crossbill.TenantID) ([]inventory.Resource, error)
	// Utilization returns the metrics read for those of arns that have
	// any; resources without metrics are simply absent.
	Utilization(ctx context.Context, tenant crossbill.TenantID, arns []string) ([]inventory.Utilization, error)
}

// Memory is an in-memory Source holding each tenant's last saved
// resources and utilization.
type Memory struct {
	mu   sync.Mutex
	res  map[crossbill.TenantID][]inventory.Resource
	util map[crossbill.TenantID]map[string]inventory.Utilization
}

// Save replaces a tenant's resources and utilization.
func (m *Memory) Save(tenant crossbill.TenantID, res []inventory.Resource, util []inventory.Utilization) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.res == nil {
		m.res, m.util = map[crossbill.TenantID][]inventory.Resource{}, map[crossbill.TenantID]map[string]inventory.Utilization{}
	}
	byARN := make(map[string]inventory.Utilization, len(util))
	for _, u := range util {
		byARN[u.ARN] = u
	}
	m.res[tenant], m.util[tenant] = slices.Clone(res), byARN
}

// Resources implements Source.
func (m *Memory) Resources(_ context.Context, tenant crossbill.TenantID) ([]inventory.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.res[tenant]), nil
}

// Utilization implements Source.
func (m *Memory) Utilization(_ context.Context, tenant crossbill.TenantID, arns []string) ([]inventory.Utilization, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []inventory.Utilization
	for _, a := range arns {
		if u, ok := m.util[tenant][a]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// ErrNoInventory is what evaluating without a Source answers.
var ErrNoInventory = crossbill.Errorf(crossbill.CodeUnavailable, "optimize evaluate",
	"no inventory to evaluate: run `crossbill inventory sync` first (the demo evaluates its synthetic organization by itself)")

// Evaluation is the result of one evaluation.
type Evaluation struct {
	ID         string    `json:"id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Resources  int       `json:"resources"`
	Summary    Summary   `json:"summary"`
}

// Evaluate runs every rule with the tenant's thresholds over its
// inventory and stores the recommendations (replacing the previous
// evaluation's; those no longer made become resolved).
func Evaluate(ctx context.Context, st *store.Store, tenant crossbill.TenantID, src Source) (Evaluation, error) {
	const op = "optimize evaluate"
	if src == nil {
		return Evaluation{}, ErrNoInventory
	}
	started := st.Now()
	set, err := TenantSettings(ctx, st, tenant)
	if err != nil {
		return Evaluation{}, err
	}
	res, err := src.Resources(ctx, tenant)
	if err != nil {
		return Evaluation{}, err
	}
	arns := make([]string, len(res))
	for i := range res {
		arns[i] = res[i].ARN
	}
	utils, err := src.Utilization(ctx, tenant, arns)
	if err != nil {
		return Evaluation{}, err
	}
	byARN := make(map[string]*inventory.Utilization, len(utils))
	for i := range utils {
		byARN[utils[i].ARN] = &utils[i]
	}
	recs := Run(res, func(arn string) *inventory.Utilization { return byARN[arn] }, set, started)
	sum := Summarize(recs)
	rows := make([]store.OptimizeRecommendation, len(recs))
	for i, r := range recs {
		body, err := json.Marshal(r)
		if err != nil {
			return Evaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		rows[i] = store.OptimizeRecommendation{ID: r.ID, Rule: r.Rule, AccountID: r.AccountID, Region: r.Region, ARN: r.ARN, Action: string(r.Action), MonthlySavings: r.Savings.Monthly, Body: body}
	}
	sumJSON, err := json.Marshal(sum)
	if err != nil {
		return Evaluation{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	e, err := st.SaveOptimizeEvaluation(ctx, store.OptimizeEvaluation{TenantID: tenant, StartedAt: started, FinishedAt: st.Now(), Resources: len(res),
		Recommendations: len(recs), MonthlySavings: sum.Total, Summary: sumJSON}, rows)
	if err != nil {
		return Evaluation{}, err
	}
	return Evaluation{ID: e.ID, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt, Resources: e.Resources, Summary: sum}, nil
}

// Filter narrows List.
type Filter struct {
	Rule    string
	Account crossbill.AccountID
	State   string // open (default), resolved or all
}

// Listing is List's answer: the recommendations and their totals, and
// the evaluation they come from.
type Listing struct {
	EvaluationID    string            `json:"evaluation_id"`
	EvaluatedAt     time.Time         `json:"evaluated_at"`
	Resources       int               `json:"resources"`
	Summary         Summary           `json:"summary"`
	Recommendations []*Recommendation `json:"recommendations"`
}

func checkFilter(f Filter) error {
	const op = "optimize"
	if f.Rule != "" {
		if _, ok := ruleByName[f.Rule]; !ok {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "no rule %q: use one of %s", f.Rule, strings.Join(RuleNames(), ", "))
		}
	}
	if f.Account != "" && !f.Account.Valid() {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "account %q: give a 12-digit AWS account ID", f.Account)
	}
	return nil
}

// List is the tenant's recommendations of its newest evaluation, biggest
// saving first.
func List(ctx context.Context, st *store.Store, tenant crossbill.TenantID, f Filter) (Listing, error) {
	if err := checkFilter(f); err != nil {
		return Listing{}, err
	}
	e, err := st.LatestOptimizeEvaluation(ctx, tenant)
	if err != nil {
		return Listing{}, err
	}
	rows, err := st.OptimizeRecommendations(ctx, tenant, store.OptimizeFilter{Rule: f.Rule, Account: f.Account, State: f.State})
	if err != nil {
		return Listing{}, err
	}
	out := Listing{EvaluationID: e.ID, EvaluatedAt: e.FinishedAt, Resources: e.Resources, Recommendations: make([]*Recommendation, 0, len(rows))}
	for _, row := range rows {
		r, err := fromRow(row)
		if err != nil {
			return Listing{}, err
		}
		out.Recommendations = append(out.Recommendations, r)
	}
	out.Summary = Summarize(out.Recommendations)
	return out, nil
}

// Get is one of the tenant's recommendations, open or resolved.
func Get(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string) (*Recommendation, error) {
	row, err := st.OptimizeRecommendation(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return fromRow(row)
}

func fromRow(row store.OptimizeRecommendation) (*Recommendation, error) {
	var r Recommendation
	if err := json.Unmarshal(row.Body, &r); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "recommendation", "stored recommendation %s: %w", row.ID, err)
	}
	r.EvaluationID, r.State, r.FirstSeen = row.EvaluationID, row.State, row.FirstSeen
	if !row.ResolvedAt.IsZero() {
		at := row.ResolvedAt
		r.ResolvedAt = &at
	}
	return &r, nil
}

// TenantSettings are the tenant's thresholds: the defaults, overridden by
// what the tenant set.
func TenantSettings(ctx context.Context, st *store.Store, tenant crossbill.TenantID) (Settings, error) {
	stored, err := st.OptimizeThresholds(ctx, tenant)
	if err != nil {
		return nil, err
	}
	set := DefaultSettings()
	for rule, js := range stored {
		var v map[string]float64
		if err := json.Unmarshal(js, &v); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "optimize thresholds", "rule %s: %w", rule, err)
		}
		if th, ok := set[rule]; ok {
			for k, x := range v {
				if _, known := th[k]; known {
					th[k] = x
				}
			}
		}
	}
	return set, nil
}

// RuleView is a rule with the tenant's values of its parameters.
type RuleView struct {
	Rule
	Values     Thresholds `json:"values"`
	Customized []string   `json:"customized"` // parameters the tenant changed
}

// RuleSettings lists every rule with the tenant's thresholds.
func RuleSettings(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]RuleView, error) {
	set, err := TenantSettings(ctx, st, tenant)
	if err != nil {
		return nil, err
	}
	var out []RuleView
	for _, r := range Rules() {
		v := RuleView{Rule: r, Values: set[r.Name], Customized: []string{}}
		v.Params = r.paramsOf()
		for _, p := range v.Params {
			if v.Values[p.Name] != p.Default {
				v.Customized = append(v.Customized, p.Name)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// SetThresholds changes some parameters of one rule for the tenant (the
// others keep their values); reset puts every parameter back to its
// default first. Each change is audited.
func SetThresholds(ctx context.Context, st *store.Store, tenant crossbill.TenantID, rule string, values map[string]float64, reset bool, by store.AuditEntry) (RuleView, error) {
	const op = "optimize thresholds"
	r, ok := ruleByName[rule]
	if !ok {
		return RuleView{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no rule %q: use one of %s", rule, strings.Join(RuleNames(), ", "))
	}
	if len(values) == 0 && !reset {
		return RuleView{}, crossbill.Errorf(crossbill.CodeInvalid, op, "give at least one parameter (NAME=VALUE), or reset")
	}
	params := map[string]Param{}
	for _, p := range r.paramsOf() {
		params[p.Name] = p
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p, ok := params[k]
		if !ok {
			var known []string
			for _, p := range r.paramsOf() {
				known = append(known, p.Name)
			}
			return RuleView{}, crossbill.Errorf(crossbill.CodeInvalid, op, "rule %s has no parameter %q: use %s", rule, k, strings.Join(known, ", "))
		}
		if v := values[k]; v < p.Min || v > p.Max || v != v {
			return RuleView{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s %s=%g: give a value from %g to %g", rule, k, v, p.Min, p.Max)
		}
	}
	stored, err := st.OptimizeThresholds(ctx, tenant)
	if err != nil {
		return RuleView{}, err
	}
	cur := map[string]float64{}
	if js, ok := stored[rule]; ok && !reset {
		if err := json.Unmarshal(js, &cur); err != nil {
			return RuleView{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	for k, v := range values {
		cur[k] = v
	}
	var js json.RawMessage
	if len(cur) > 0 {
		if js, err = json.Marshal(cur); err != nil {
			return RuleView{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if err := st.SetOptimizeThresholds(ctx, tenant, rule, js, by); err != nil {
		return RuleView{}, err
	}
	views, err := RuleSettings(ctx, st, tenant)
	if err != nil {
		return RuleView{}, err
	}
	for _, v := range views {
		if v.Name == rule {
			return v, nil
		}
	}
	return RuleView{}, crossbill.Errorf(crossbill.CodeInternal, op, "rule %s vanished", rule)
}

// CSVHeader and CSVRow are the CSV export's columns, one recommendation a
// row, as the CLI and the API write it.
var CSVHeader = []string{"id", "rule", "action", "account_id", "region", "resource_id", "arn", "current", "target", "monthly_savings", "basis",
	"monthly_before_discounts", "monthly_after_discounts", "cost_source", "effort", "restart_needed", "rollback_possible", "confidence", "state", "summary", "evidence"}

// CSVRow is one recommendation's CSV row.
func CSVRow(r *Recommendation) []string {
	f := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	b := func(v bool) string { return fmt.Sprint(v) }
	return []string{r.ID, r.Rule, string(r.Action), string(r.AccountID), r.Region, r.ResourceID, r.ARN, r.Current, r.Target, f(r.Savings.Monthly), r.Savings.Basis,
		f(r.Savings.BeforeDiscounts), f(r.Savings.AfterDiscounts), r.Savings.CostSource, r.Effort, b(r.RestartNeeded), b(r.RollbackPossible), r.Confidence, r.State, r.Summary, r.Evidence.Test}
}
