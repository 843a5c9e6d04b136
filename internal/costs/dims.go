package costs

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Dimension kinds a query can group or filter by.
const (
	DimService    = "service"
	DimAccount    = "account"
	DimRegion     = "region"
	DimUsageType  = "usage-type"
	DimOperation  = "operation"
	DimChargeType = "charge-type"
	// DimBillingPeriod is the invoice month (YYYY-MM) a line item is billed
	// in, which can differ from its usage month (corrections, late usage).
	DimBillingPeriod = "billing-period"
	DimTag           = "tag"
	DimCostCategory  = "cost-category"
)

// Dim is a dimension: a plain one (service, account, ...) or a keyed one
// (tag:KEY, cost-category:KEY).
type Dim struct {
	Kind string `json:"kind"`
	Key  string `json:"key,omitempty"`
}

func (d Dim) String() string {
	if d.Key != "" {
		return d.Kind + ":" + d.Key
	}
	return d.Kind
}

// keyed reports whether the dimension lives in a map column.
func (d Dim) keyed() bool { return d.Kind == DimTag || d.Kind == DimCostCategory }

// column is the line_items / rollup column of a plain dimension.
func (d Dim) column() string {
	return map[string]string{
		DimService: "service", DimAccount: "account", DimRegion: "region",
		DimUsageType: "usage_type", DimOperation: "operation", DimChargeType: "charge_type",
		DimBillingPeriod: "billing_period",
	}[d.Kind]
}

// inDimRollup reports whether cost_daily_dim carries the plain dimension.
func (d Dim) inDimRollup() bool {
	return d.Kind == DimService || d.Kind == DimAccount || d.Kind == DimRegion || d.Kind == DimChargeType ||
		d.Kind == DimBillingPeriod
}

var plainDims = []string{DimService, DimAccount, DimRegion, DimUsageType, DimOperation, DimChargeType, DimBillingPeriod}

// PlainDims lists the dimensions without a key, in documentation order.
func PlainDims() []string { return slices.Clone(plainDims) }

// ParseDim parses a --group-by value: service, account, region, usage-type,
// operation, charge-type, billing-period, tag:KEY or cost-category:KEY.
func ParseDim(s string) (Dim, error) {
	const op = "group-by"
	kind, key, keyed := strings.Cut(strings.TrimSpace(s), ":")
	kind = strings.ToLower(kind)
	switch {
	case slices.Contains(plainDims, kind) && !keyed:
		return Dim{Kind: kind}, nil
	case kind == DimTag || kind == DimCostCategory:
		if !keyed || key == "" {
			return Dim{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q needs a key, e.g. %s:team", s, kind)
		}
		if len(key) > 256 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return Dim{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: a key is at most 256 printable characters", s)
		}
		return Dim{Kind: kind, Key: key}, nil
	}
	return Dim{}, crossbill.Errorf(crossbill.CodeInvalid, op, "unknown dimension %q; use one of %s, tag:KEY, cost-category:KEY",
		s, strings.Join(plainDims, ", "))
}

// Filter keeps line items whose dimension has one of Values.
type Filter struct {
	Dim    Dim      `json:"dim"`
	Values []string `json:"values"`
}

// ParseFilter parses a --filter value: DIM=V1[,V2...], e.g. service=AmazonEC2
// or tag:team=web,api. A value "" (as in tag:team=) selects untagged items.
func ParseFilter(s string) (Filter, error) {
	const op = "filter"
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return Filter{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not DIM=VALUE (e.g. service=AmazonEC2, tag:team=web,api)", s)
	}
	d, err := ParseDim(k)
	if err != nil {
		return Filter{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: %w", s, err)
	}
	vals := strings.Split(v, ",")
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
		if d.Kind == DimBillingPeriod {
			if _, err := time.Parse("2006-01", vals[i]); err != nil {
				return Filter{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q: a billing period is YYYY-MM, e.g. billing-period=2024-10", s)
			}
		}
	}
	return Filter{Dim: d, Values: vals}, nil
}

// Granularity is the time bucket of a query.
type Granularity string

// Granularities.
const (
	Hourly  Granularity = "hourly"
	Daily   Granularity = "daily"
	Monthly Granularity = "monthly"
)

// ParseGranularity checks a --granularity value.
func ParseGranularity(s string) (Granularity, error) {
	switch g := Granularity(strings.ToLower(s)); g {
	case Hourly, Daily, Monthly:
		return g, nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "granularity", "unknown granularity %q; use hourly, daily or monthly", s)
}

// ParseMetric checks a --metric value.
func ParseMetric(s string) (string, error) {
	m := strings.ToLower(s)
	if slices.Contains(Metrics(), m) {
		return m, nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "metric", "unknown metric %q; use one of %s", s, strings.Join(Metrics(), ", "))
}

// ParseDate parses a --from/--to value: YYYY-MM-DD or YYYY-MM (first day).
func ParseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006-01"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, crossbill.Errorf(crossbill.CodeInvalid, "date", "%q is not a date; use YYYY-MM-DD or YYYY-MM", s)
}

// describe is a short human label of a dimension value.
func describe(d Dim, v string) string {
	if v != "" {
		return v
	}
	if d.keyed() {
		return fmt.Sprintf("(no %s)", d.Kind)
	}
	return "(none)"
}
