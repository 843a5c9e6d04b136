package athena

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// PeriodMonths bounds the Athena engine's billing period listing: the
// partitions of the last 36 months up to the current one (the CUR
// export keeps every month; listing them all would read every footer).
const PeriodMonths = 36

// DimDoc is a dimension a query can group or filter by.
type DimDoc struct {
	Name  string `json:"name"`
	Keyed bool   `json:"keyed,omitempty"`
}

// Catalog is what a tenant's costs can be asked about: the web UI's
// pickers and default range, `crossbill costs dimensions`.
type Catalog struct {
	// Engine answered the listing: store.EngineLocal or store.EngineAthena.
	Engine      string         `json:"engine"`
	Metrics     []string       `json:"metrics"`
	Dimensions  []DimDoc       `json:"dimensions"`
	Periods     []string       `json:"periods"`
	DefaultFrom string         `json:"default_from,omitempty"`
	DefaultTo   string         `json:"default_to,omitempty"`
	Loaded      []costs.Period `json:"loaded"`
	// Values is the asked dimension's values, when one was asked.
	Values *costs.DimValues `json:"values,omitempty"`
	// Athena is what the listing cost in Athena (nil for the local engine).
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

// Periods is `crossbill costs periods`' use case in the tenant's engine:
// the local store's loaded periods (its ingest ledger), or the billing
// periods of the last PeriodMonths months that Athena's table holds line
// items in (Source the table, Rows its line items; nothing is ingested).
// cost is what Athena charged (nil for the local engine).
func (e Engines) Periods(ctx context.Context, tenant crossbill.TenantID, local Local) (ps []costs.Period, cost *costs.EngineCost, err error) {
	src, ath, release, err := e.open(ctx, tenant, local)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	if ath == nil {
		ps, err := src.(*costs.Store).Periods(ctx, tenant)
		return ps, nil, err
	}
	ps, err = ath.periods(ctx)
	return ps, ath.cost(), err
}

// Catalog is GET .../costs/dimensions' and `crossbill costs dimensions`'
// use case: metrics, dimensions and billing periods of the tenant's
// engine, with the values of the dimension values names ("" none: see
// costs.ParseValuesDim) over the last LatestMonths billing periods (the
// local engine: the last LatestMonths loaded), at most costs.MaxValues.
func (e Engines) Catalog(ctx context.Context, tenant crossbill.TenantID, values string, local Local) (Catalog, error) {
	var dim costs.Dim
	if values != "" {
		var err error
		if dim, err = costs.ParseValuesDim(values); err != nil {
			return Catalog{}, err
		}
	}
	src, ath, release, err := e.open(ctx, tenant, local)
	if err != nil {
		return Catalog{}, err
	}
	defer release()
	c := Catalog{Engine: store.EngineLocal, Metrics: costs.Metrics(), Periods: []string{}}
	for _, d := range costs.PlainDims() {
		c.Dimensions = append(c.Dimensions, DimDoc{Name: d})
	}
	c.Dimensions = append(c.Dimensions, DimDoc{Name: costs.DimTag, Keyed: true}, DimDoc{Name: costs.DimCostCategory, Keyed: true})
	var valuePeriods []string
	if ath == nil {
		cs := src.(*costs.Store)
		if c.Loaded, err = cs.Periods(ctx, tenant); err != nil {
			return Catalog{}, err
		}
		for _, p := range c.Loaded {
			if !slices.Contains(valuePeriods, p.Period) {
				valuePeriods = append(valuePeriods, p.Period)
			}
		}
		slices.Sort(valuePeriods)
		valuePeriods = valuePeriods[max(len(valuePeriods)-LatestMonths, 0):]
		// Cost Explorer's months too: before the first CUR they are all
		// there is.
		sp, err := cs.ExplorerSpan(ctx, tenant)
		if err != nil {
			return Catalog{}, err
		}
		c.Periods = append(c.Periods, sp.Periods...)
	} else {
		c.Engine = store.EngineAthena
		if c.Loaded, err = ath.periods(ctx); err != nil {
			return Catalog{}, err
		}
		valuePeriods = costs.RecentPeriods(ath.now, LatestMonths)
	}
	for _, p := range c.Loaded {
		c.Periods = append(c.Periods, p.Period)
	}
	slices.Sort(c.Periods)
	c.Periods = slices.Compact(c.Periods)
	if len(c.Periods) > 0 {
		first, err1 := time.Parse("2006-01", c.Periods[0])
		last, err2 := time.Parse("2006-01", c.Periods[len(c.Periods)-1])
		if err1 == nil && err2 == nil {
			c.DefaultFrom, c.DefaultTo = first.Format(time.DateOnly), last.AddDate(0, 1, 0).Format(time.DateOnly)
		}
	}
	if values != "" {
		v := costs.DimValues{Dimension: dim.String(), BillingPeriods: valuePeriods}
		if ath == nil {
			v.Values, err = src.(*costs.Store).DimensionValues(ctx, tenant, dim, valuePeriods, costs.MaxValues+1)
		} else {
			v.Values, err = ath.values(ctx, dim, valuePeriods)
		}
		if err != nil {
			return Catalog{}, err
		}
		if len(v.Values) > costs.MaxValues {
			v.Values, v.Truncated = v.Values[:costs.MaxValues], true
		}
		c.Values = &v
	}
	c.Athena = ath.cost()
	return c, nil
}

// run executes one statement, recording what Athena billed.
func (a *athenaSource) run(ctx context.Context, stmt string) ([][]string, error) {
	var recErr error
	rows, err := Run(ctx, a.api, stmt, a.options(ctx, &recErr))
	if err == nil {
		err = recErr
	}
	return rows, err
}

// periods lists the table's billing periods of the last PeriodMonths.
func (a *athenaSource) periods(ctx context.Context) ([]costs.Period, error) {
	const op = "athena query"
	stmt, err := costs.AthenaPeriodsSQL(a.eng.Table, costs.RecentPeriods(a.now, PeriodMonths))
	if err != nil {
		return nil, err
	}
	rows, err := a.run(ctx, stmt)
	if err != nil {
		return nil, err
	}
	out := make([]costs.Period, 0, len(rows))
	for _, r := range rows {
		if len(r) != 2 {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "a billing period row has %d columns, want 2", len(r))
		}
		n, err := strconv.ParseInt(r[1], 10, 64)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "line items %q: %w", r[1], err)
		}
		out = append(out, costs.Period{Tenant: string(a.eng.TenantID), Period: r[0], Source: "athena:" + a.eng.Table, Format: "cur2", Rows: n})
	}
	return out, nil
}

// values lists d's values in periods, one more than costs.MaxValues at
// most (to tell a truncated list).
func (a *athenaSource) values(ctx context.Context, d costs.Dim, periods []string) ([]string, error) {
	stmt, err := costs.AthenaValuesSQL(a.eng.Table, d, periods, costs.MaxValues+1)
	if err != nil {
		return nil, err
	}
	rows, err := a.run(ctx, stmt)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		if len(r) == 1 {
			out = append(out, r[0])
		}
	}
	return out, nil
}
