package costs

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/crossbill/crossbill"
)

// ResourceCost is one resource's cost over the last 30 days of a tenant's
// CUR line items that name it (line_item_resource_id), scaled to a
// 730-hour month by the hours the resource appears in them.
type ResourceCost struct {
	MonthlyAmortized float64
	MonthlyOnDemand  float64 // pricing_public_on_demand_cost
	Currency         string
	// Covered: some usage was covered by a Savings Plan or reservation.
	Covered bool
}

// ResourceCosts returns the monthly cost of every resource the tenant's
// CUR names, keyed by line_item_resource_id (an instance ID, a volume ID,
// an ARN...). Empty when the tenant has no CUR, or its export was made
// without resource IDs (crossbill's CUR stack asks for them).
func (s *Store) ResourceCosts(ctx context.Context, tenant crossbill.TenantID) (map[string]ResourceCost, error) {
	const op = "resource costs"
	out := map[string]ResourceCost{}
	var latest sql.NullTime
	if err := s.db.QueryRowContext(ctx, `SELECT max(line_item_usage_start_date::TIMESTAMP) FROM cur WHERE tenant = ? AND coalesce(line_item_resource_id, '') <> ''`,
		string(tenant)).Scan(&latest); err != nil || !latest.Valid {
		// No CUR loaded (the view over no files has no such column) or no
		// resource IDs: no figures, not an error.
		return out, nil //nolint:nilerr // absence of data, see above
	}
	since := latest.Time.Add(-30 * 24 * time.Hour)
	rows, err := s.db.QueryContext(ctx, `SELECT line_item_resource_id,
			sum(`+amortizedSQL+`) AS amortized,
			sum(coalesce(pricing_public_on_demand_cost, 0)) AS list,
			bool_or(line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage')) AS covered,
			min(line_item_usage_start_date::TIMESTAMP), max(coalesce(line_item_usage_end_date::TIMESTAMP, line_item_usage_start_date::TIMESTAMP)),
			any_value(coalesce(line_item_currency_code, 'USD'))
		FROM cur WHERE tenant = ? AND coalesce(line_item_resource_id, '') <> '' AND line_item_usage_start_date::TIMESTAMP > ?
			AND line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')
		GROUP BY 1`, string(tenant), since)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, currency string
		var amortized, list float64
		var covered bool
		var first, last time.Time
		if err := rows.Scan(&id, &amortized, &list, &covered, &first, &last, &currency); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		// The hours the resource shows up in, at least one.
		hours := math.Max(1, last.Sub(first).Hours())
		out[id] = ResourceCost{MonthlyAmortized: amortized * 730 / hours, MonthlyOnDemand: list * 730 / hours, Currency: currency, Covered: covered}
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
