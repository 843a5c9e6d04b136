package alerts

import (
	"context"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
)

// OptimizeSavings reads the savings rule's opportunities from the
// tenant's newest optimization evaluation (its open recommendations).
type OptimizeSavings struct{ Store *store.Store }

// Opportunities lists the open recommendations with their monthly saving.
// A tenant never evaluated has none.
func (o OptimizeSavings) Opportunities(ctx context.Context, tenant crossbill.TenantID) ([]Opportunity, error) {
	l, err := optimize.List(ctx, o.Store, tenant, optimize.Filter{})
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Opportunity, 0, len(l.Recommendations))
	for _, r := range l.Recommendations {
		out = append(out, Opportunity{ID: r.ID, Title: r.Summary, Resource: r.ARN, MonthlySavings: r.Savings.Monthly})
	}
	return out, nil
}
