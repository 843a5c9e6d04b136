package costs

import (
	"strings"

	"github.com/crossbill/crossbill"
)

// QueryInput is a cost query as the CLI's flags and the API's parameters
// spell it; ParseQuery is the one place it is read and checked, so both
// accept and refuse the same queries.
type QueryInput struct {
	Metric      string // default amortized
	GroupBy     string // "" or "total": no grouping
	Granularity string // default daily
	From, To    string // YYYY-MM-DD or YYYY-MM
	// Filters are DIM=V1[,V2] each; BillingPeriods (YYYY-MM) add one
	// billing-period filter.
	Filters        []string
	BillingPeriods []string
	Top            int // 0: all groups
	MaxRows        int
}

// MaxTop is the largest Top a query may ask for.
const MaxTop = 1000

// ParseQuery reads in into the tenant's canonical Query.
func ParseQuery(tenant crossbill.TenantID, in QueryInput) (Query, error) {
	q := Query{Tenant: tenant, MaxRows: in.MaxRows}
	var err error
	if in.Metric != "" {
		if q.Metric, err = ParseMetric(in.Metric); err != nil {
			return q, err
		}
	}
	if in.GroupBy != "" && in.GroupBy != "total" {
		if q.GroupBy, err = ParseDim(in.GroupBy); err != nil {
			return q, err
		}
	}
	if in.Granularity != "" {
		if q.Granularity, err = ParseGranularity(in.Granularity); err != nil {
			return q, err
		}
	}
	if in.From != "" {
		if q.From, err = ParseDate(in.From); err != nil {
			return q, err
		}
	}
	if in.To != "" {
		if q.To, err = ParseDate(in.To); err != nil {
			return q, err
		}
	}
	for _, s := range in.Filters {
		f, err := ParseFilter(s)
		if err != nil {
			return q, err
		}
		q.Filters = append(q.Filters, f)
	}
	if len(in.BillingPeriods) > 0 {
		f, err := ParseFilter(DimBillingPeriod + "=" + strings.Join(in.BillingPeriods, ","))
		if err != nil {
			return q, err
		}
		q.Filters = append(q.Filters, f)
	}
	if in.Top < 0 || in.Top > MaxTop {
		return q, crossbill.Errorf(crossbill.CodeInvalid, "costs", "top %d: use a number from 0 (all groups) to %d", in.Top, MaxTop)
	}
	q.Top = in.Top
	return q.Canonical(), nil
}
