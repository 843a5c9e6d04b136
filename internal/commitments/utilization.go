package commitments

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Granularity of utilization and coverage reports.
type Granularity string

// Granularities.
const (
	Hourly Granularity = "hour"
	Daily  Granularity = "day"
)

// ParseGranularity reads "hour"/"hourly"/"day"/"daily".
func ParseGranularity(s string) (Granularity, error) {
	switch strings.ToLower(s) {
	case "hour", "hourly":
		return Hourly, nil
	case "day", "daily", "":
		return Daily, nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "commitments", "granularity %q: use hourly or daily", s)
}

// UtilizationRow is one commitment's use over one period.
type UtilizationRow struct {
	Period  time.Time           `json:"period"`
	ARN     string              `json:"arn"`
	Kind    Kind                `json:"kind"`
	Type    string              `json:"type"`
	Account crossbill.AccountID `json:"account"`
	// Commitment is what was paid for the period (amortized), Used the part
	// that covered usage, Unused = Commitment − Used.
	Commitment  float64 `json:"commitment"`
	Used        float64 `json:"used"`
	Unused      float64 `json:"unused"`
	Utilization float64 `json:"utilization"`
	// CoveredOnDemand is the on-demand cost of the usage covered;
	// NetSavings = CoveredOnDemand − Commitment: the realized saving versus
	// paying on-demand for that usage.
	CoveredOnDemand float64 `json:"covered_on_demand"`
	NetSavings      float64 `json:"net_savings"`
}

// Utilization reports, per period and commitment, how much of each Savings
// Plan and reservation was used, from the CUR (and from FOCUS rows, see
// focus.go). Savings Plans: the hourly
// SavingsPlanRecurringFee lines carry the commitment and the used part.
// Reservations: each RIFee line's recurring and amortized upfront fee
// spread evenly over the hours it bills (its usage start to end date),
// against the effective cost of the DiscountedUsage lines.
func Utilization(ctx context.Context, db *sql.DB, w Window, g Granularity) ([]UtilizationRow, error) {
	where, args := w.where()
	riWhere, riArgs := w.overlapping()
	q := `WITH sp_fee AS (
	  SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period,
	    savings_plan_savings_plan_a_r_n AS arn, any_value(savings_plan_offering_type) AS typ,
	    any_value(line_item_usage_account_id) AS account,
	    sum(coalesce(savings_plan_total_commitment_to_date, 0)) AS commitment,
	    sum(coalesce(savings_plan_used_commitment, 0)) AS used
	  FROM cur WHERE line_item_line_item_type = 'SavingsPlanRecurringFee' AND ` + where + ` GROUP BY ALL),
	sp_cov AS (
	  SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period,
	    savings_plan_savings_plan_a_r_n AS arn, sum(` + odSQL + `) AS covered
	  FROM cur WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage' AND ` + where + ` GROUP BY ALL),
	ri_fee AS (
	  SELECT reservation_reservation_a_r_n AS arn, line_item_product_code AS typ, line_item_usage_account_id AS account,
	    line_item_usage_start_date AS s, line_item_usage_end_date AS e,
	    (coalesce(line_item_unblended_cost, 0) + coalesce(reservation_amortized_upfront_fee_for_billing_period, 0))
	      / greatest(date_diff('hour', line_item_usage_start_date, line_item_usage_end_date), 1) AS per_hour
	  FROM cur WHERE line_item_line_item_type = 'RIFee' AND ` + riWhere + `),
	ri_hours AS (
	  SELECT arn, typ, account, per_hour, unnest(generate_series(s, e - INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS hour
	  FROM ri_fee),
	ri_commit AS (
	  SELECT date_trunc('` + string(g) + `', hour) AS period, arn, any_value(typ) AS typ, any_value(account) AS account, sum(per_hour) AS commitment
	  FROM ri_hours WHERE hour >= ? AND hour < ? GROUP BY ALL),
	ri_use AS (
	  SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period, reservation_reservation_a_r_n AS arn,
	    sum(coalesce(reservation_effective_cost, 0)) AS used, sum(` + odSQL + `) AS covered
	  FROM cur WHERE line_item_line_item_type = 'DiscountedUsage' AND ` + where + ` GROUP BY ALL)
	SELECT f.period, f.arn, 'savings_plan', coalesce(f.typ, ''), coalesce(f.account, ''), f.commitment, f.used, coalesce(c.covered, 0)
	FROM sp_fee f LEFT JOIN sp_cov c USING (period, arn)
	UNION ALL
	SELECT r.period, r.arn, 'reservation', coalesce(r.typ, ''), coalesce(r.account, ''), r.commitment, coalesce(u.used, 0), coalesce(u.covered, 0)
	FROM ri_commit r LEFT JOIN ri_use u USING (period, arn)
	ORDER BY 1, 2`
	all := append(append(append(append([]any{}, args...), args...), riArgs...), w.Start, w.End)
	all = append(all, args...)
	out, err := scanUtilization(ctx, db, "reading commitment utilization from the cost store", func(r *UtilizationRow) {
		if r.Kind == KindReservation {
			r.Type = reservationType(r.Type)
		}
	}, q, all...)
	if err != nil {
		return nil, err
	}
	if ok, err := hasFOCUS(ctx, db); err != nil {
		return nil, err
	} else if ok {
		more, err := focusUtilization(ctx, db, w, g)
		if err != nil {
			return nil, err
		}
		out = mergeByPeriod(out, more, func(r UtilizationRow) time.Time { return r.Period })
	}
	return out, nil
}

// mergeByPeriod merges two lists ordered by period into one.
func mergeByPeriod[T any](a, b []T, period func(T) time.Time) []T {
	if len(b) == 0 {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if period(b[0]).Before(period(a[0])) {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// reservationType maps a CUR product code to the reservation type.
func reservationType(productCode string) string {
	switch productCode {
	case "AmazonEC2":
		return TypeEC2RI
	case "AmazonRDS":
		return TypeRDSRI
	case "AmazonElastiCache":
		return TypeElastiCacheRI
	case "AmazonRedshift":
		return TypeRedshiftRI
	case "AmazonES":
		return TypeOpenSearchRI
	}
	return productCode
}

// Summary totals utilization rows by a key (per plan, per account, per
// type).
type Summary struct {
	Key             string  `json:"key"`
	Commitment      float64 `json:"commitment"`
	Used            float64 `json:"used"`
	Unused          float64 `json:"unused"`
	Utilization     float64 `json:"utilization"`
	CoveredOnDemand float64 `json:"covered_on_demand"`
	NetSavings      float64 `json:"net_savings"`
}

// Summarize totals rows by key(row), in first-seen order.
func Summarize(rows []UtilizationRow, key func(UtilizationRow) string) []Summary {
	idx := map[string]int{}
	var out []Summary
	for _, r := range rows {
		k := key(r)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Summary{Key: k})
		}
		s := &out[i]
		s.Commitment += r.Commitment
		s.Used += r.Used
		s.Unused += r.Unused
		s.CoveredOnDemand += r.CoveredOnDemand
		s.NetSavings += r.NetSavings
	}
	for i := range out {
		if out[i].Commitment > 0 {
			out[i].Utilization = out[i].Used / out[i].Commitment
		}
	}
	return out
}

// CoverageRow is the share of one class's eligible spend that commitments
// covered in one period (and one account, when grouped by account).
type CoverageRow struct {
	Period  time.Time           `json:"period"`
	Account crossbill.AccountID `json:"account,omitempty"`
	Class   string              `json:"class"`
	// All in on-demand-equivalent dollars.
	OnDemand    float64 `json:"on_demand"`
	CoveredBySP float64 `json:"covered_by_savings_plans"`
	CoveredByRI float64 `json:"covered_by_reservations"`
	Eligible    float64 `json:"eligible"`
	Coverage    float64 `json:"coverage"`
}

// Coverage reports, per period and usage class (and per account when
// byAccount), the eligible spend and the part Savings Plans and
// reservations covered, from the CUR and from FOCUS rows (focusCoverage).
func Coverage(ctx context.Context, db *sql.DB, w Window, g Granularity, byAccount bool) ([]CoverageRow, error) {
	where, args := w.where()
	acct := "''"
	if byAccount {
		acct = "line_item_usage_account_id"
	}
	q := `SELECT period, account, class,
	    sum(od) FILTER (WHERE t = 'Usage'), sum(od) FILTER (WHERE t = 'SavingsPlanCoveredUsage'), sum(od) FILTER (WHERE t = 'DiscountedUsage')
	  FROM (SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period, coalesce(` + acct + `, '') AS account,
	      ` + classSQL + ` AS class, line_item_line_item_type AS t, ` + odSQL + ` AS od
	    FROM cur WHERE line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage') AND ` + where + `)
	  WHERE class <> '' GROUP BY ALL ORDER BY 1, 2, 3`
	out, err := scanCoverage(ctx, db, "reading commitment coverage from the cost store", q, args...)
	if err != nil {
		return nil, err
	}
	if ok, err := hasFOCUS(ctx, db); err != nil {
		return nil, err
	} else if ok {
		more, err := focusCoverage(ctx, db, w, g, byAccount)
		if err != nil {
			return nil, err
		}
		out = mergeByPeriod(out, more, func(r CoverageRow) time.Time { return r.Period })
	}
	return out, nil
}

// scanCoverage runs a coverage query whose rows are (period, account,
// class, on-demand, covered by Savings Plans, covered by reservations), for
// CUR and FOCUS data alike; what names the read in errors.
func scanCoverage(ctx context.Context, db *sql.DB, what, q string, args ...any) ([]CoverageRow, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []CoverageRow
	for rows.Next() {
		var r CoverageRow
		var account string
		var od, sp, ri sql.NullFloat64
		if err := rows.Scan(&r.Period, &account, &r.Class, &od, &sp, &ri); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		r.Period = r.Period.UTC()
		r.Account = crossbill.AccountID(account)
		r.OnDemand, r.CoveredBySP, r.CoveredByRI = od.Float64, sp.Float64, ri.Float64
		r.Eligible = r.OnDemand + r.CoveredBySP + r.CoveredByRI
		if r.Eligible > 0 {
			r.Coverage = (r.CoveredBySP + r.CoveredByRI) / r.Eligible
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// scanUtilization runs a utilization query whose rows are (period, ARN,
// kind, type, account, commitment, used, covered on-demand), for CUR and
// FOCUS data alike; typeOf normalizes each row's type, what names the read
// in errors.
func scanUtilization(ctx context.Context, db *sql.DB, what string, typeOf func(*UtilizationRow), q string, args ...any) ([]UtilizationRow, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []UtilizationRow
	for rows.Next() {
		var r UtilizationRow
		var account string
		if err := rows.Scan(&r.Period, &r.ARN, &r.Kind, &r.Type, &account, &r.Commitment, &r.Used, &r.CoveredOnDemand); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		r.Period = r.Period.UTC()
		r.Account = crossbill.AccountID(account)
		typeOf(&r)
		r.Unused = r.Commitment - r.Used
		if r.Commitment > 0 {
			r.Utilization = r.Used / r.Commitment
		}
		r.NetSavings = r.CoveredOnDemand - r.Commitment
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
