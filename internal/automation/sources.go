package automation

import (
	"context"
	"fmt"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
)

// Optimize reads recommendation policies' items from the tenant's newest
// optimization evaluation (its open recommendations).
type Optimize struct{ Store *store.Store }

// Recommendations lists the open recommendations; a tenant never
// evaluated has none.
func (o Optimize) Recommendations(ctx context.Context, tenant crossbill.TenantID) ([]Recommendation, error) {
	l, err := optimize.List(ctx, o.Store, tenant, optimize.Filter{})
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Recommendation, 0, len(l.Recommendations))
	for _, r := range l.Recommendations {
		out = append(out, Recommendation{ID: r.ID, Rule: r.Rule, Resource: r.ARN, Account: string(r.AccountID), Region: r.Region,
			Title: r.Summary, MonthlySavings: r.Savings.Monthly})
	}
	return out, nil
}

// Remediation marks and plans through internal/remediation, which keeps
// the safety model: a policy's remediate action opens a plan (dry run and
// approval), it never changes a resource by itself.
type Remediation struct {
	Env remediation.Env
}

// recommendationIDs are the items' recommendation IDs; only
// recommendation policies can mark or remediate.
func recommendationIDs(policy string, items []Item) ([]string, error) {
	var ids []string
	for _, it := range items {
		id, ok := strings.CutPrefix(it.Key, "recommendation:")
		if !ok {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, "automation", "policy %s: only recommendation policies can mark or remediate (item %s)", policy, it.Key)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func by(policy string) store.AuditEntry { return store.AuditEntry{Actor: "automation:" + policy} }

// env is r.Env for one tenant: its name names the AWS sessions.
func (r Remediation) env(ctx context.Context, tenant crossbill.TenantID) (remediation.Env, error) {
	e := r.Env
	if e.TenantName == "" {
		t, err := e.Store.TenantByID(ctx, tenant)
		if err != nil {
			return e, err
		}
		e.TenantName = t.Name
	}
	return e, nil
}

// Mark tags the recommendations' resources for a later operation.
func (r Remediation) Mark(ctx context.Context, tenant crossbill.TenantID, policy string, items []Item, days int, dryRun bool) (string, error) {
	ids, err := recommendationIDs(policy, items)
	if err != nil {
		return "", err
	}
	ts, err := remediation.TargetsFor(ctx, r.Env.Store, tenant, ids)
	if err != nil {
		return "", err
	}
	if dryRun {
		return fmt.Sprintf("would mark %d resource(s) for %d day(s)", len(ts), days), nil
	}
	env, err := r.env(ctx, tenant)
	if err != nil {
		return "", err
	}
	res, err := remediation.Mark(ctx, env, remediation.MarkRequest{Tenant: tenant, Targets: ts, Days: days, By: by(policy)})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("marked %d resource(s)", len(res)), nil
}

// Remediate opens a remediation plan for the recommendations: a dry run
// waiting for a person's approval.
func (r Remediation) Remediate(ctx context.Context, tenant crossbill.TenantID, policy string, items []Item, dryRun bool) (string, error) {
	ids, err := recommendationIDs(policy, items)
	if err != nil {
		return "", err
	}
	if dryRun {
		ts, err := remediation.TargetsFor(ctx, r.Env.Store, tenant, ids)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("would plan %d remediation(s), to run once a person approves", len(ts)), nil
	}
	env, err := r.env(ctx, tenant)
	if err != nil {
		return "", err
	}
	p, err := remediation.NewPlan(ctx, env, remediation.Request{Tenant: tenant, Recommendations: ids, By: by(policy)})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("plan %s (%s): awaits approval", p.ID, p.State), nil
}
