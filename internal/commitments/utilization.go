package commitments

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
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
func Utilization(ctx context.Context, r Reader, w Window, g Granularity) ([]UtilizationRow, error) {
	const what = "reading commitment utilization"
	t := r.Table()
	where := w.where(t)
	// One statement, three parts (Athena bills each query 10 MB at
	// least): Savings Plans' rows whole, reservations' fee lines and their
	// use, the fees spread over their hours here (Athena has no
	// generate_series).
	q := `WITH sp_fee AS (
	  SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period,
	    savings_plan_savings_plan_a_r_n AS arn, max(savings_plan_offering_type) AS typ,
	    max(line_item_usage_account_id) AS account,
	    sum(coalesce(savings_plan_total_commitment_to_date, 0)) AS commitment,
	    sum(coalesce(savings_plan_used_commitment, 0)) AS used
	  FROM ` + t.Name + ` WHERE line_item_line_item_type = 'SavingsPlanRecurringFee' AND ` + where + ` GROUP BY 1, 2),
	sp_cov AS (
	  SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period,
	    savings_plan_savings_plan_a_r_n AS arn, sum(` + odSQL + `) AS covered
	  FROM ` + t.Name + ` WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage' AND ` + where + ` GROUP BY 1, 2),
	ri_use AS (
	  SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period, reservation_reservation_a_r_n AS arn,
	    sum(coalesce(reservation_effective_cost, 0)) AS used, sum(` + odSQL + `) AS covered
	  FROM ` + t.Name + ` WHERE line_item_line_item_type = 'DiscountedUsage' AND ` + where + ` GROUP BY 1, 2)
	SELECT 'sp', f.period, f.arn, coalesce(f.typ, ''), coalesce(f.account, ''), f.commitment, f.used, coalesce(c.covered, 0), CAST(NULL AS TIMESTAMP)
	FROM sp_fee f LEFT JOIN sp_cov c ON c.period = f.period AND c.arn = f.arn
	UNION ALL
	SELECT 'ri_fee', line_item_usage_start_date, reservation_reservation_a_r_n, coalesce(line_item_product_code, ''), coalesce(line_item_usage_account_id, ''),
	  (coalesce(line_item_unblended_cost, 0) + coalesce(reservation_amortized_upfront_fee_for_billing_period, 0))
	    / greatest(date_diff('hour', line_item_usage_start_date, line_item_usage_end_date), 1),
	  CAST(0 AS DOUBLE), CAST(0 AS DOUBLE), line_item_usage_end_date
	FROM ` + t.Name + ` WHERE line_item_line_item_type = 'RIFee' AND line_item_usage_end_date IS NOT NULL AND ` + w.overlapping(t) + `
	UNION ALL
	SELECT 'ri_use', period, arn, '', '', used, covered, CAST(0 AS DOUBLE), CAST(NULL AS TIMESTAMP) FROM ri_use`
	rows, err := r.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []UtilizationRow
	type key struct {
		period time.Time
		arn    string
	}
	ri := map[key]*UtilizationRow{}
	use := map[key][2]float64{}
	for rows.Next() {
		var part, arn, typ, account string
		var period time.Time
		var a, b, c float64
		var end sql.NullTime
		if err := rows.Scan(&part, &period, &arn, &typ, &account, &a, &b, &c, &end); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		period = period.UTC()
		switch part {
		case "sp":
			out = append(out, UtilizationRow{Period: period, ARN: arn, Kind: KindSavingsPlan, Type: typ, Account: crossbill.AccountID(account),
				Commitment: a, Used: b, CoveredOnDemand: c})
		case "ri_use":
			use[key{period, arn}] = [2]float64{a, b}
		case "ri_fee":
			// The fee per hour, on each hour it bills within the window.
			for h := period; h.Before(end.Time.UTC()); h = h.Add(time.Hour) {
				if h.Before(w.Start) || !h.Before(w.End) {
					continue
				}
				k := key{truncate(h, g), arn}
				row := ri[k]
				if row == nil {
					row = &UtilizationRow{Period: k.period, ARN: arn, Kind: KindReservation}
					ri[k] = row
				}
				row.Type, row.Account = max(row.Type, typ), max(row.Account, crossbill.AccountID(account))
				row.Commitment += a
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for k, row := range ri {
		u := use[k]
		row.Used, row.CoveredOnDemand = u[0], u[1]
		row.Type = reservationType(row.Type)
		out = append(out, *row)
	}
	for i := range out {
		finishUtilization(&out[i])
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Period.Equal(out[j].Period) {
			return out[i].Period.Before(out[j].Period)
		}
		return out[i].ARN < out[j].ARN
	})
	if t.DB != nil {
		if ok, err := hasFOCUS(ctx, t.DB); err != nil {
			return nil, err
		} else if ok {
			more, err := focusUtilization(ctx, t.DB, w, g)
			if err != nil {
				return nil, err
			}
			out = mergeByPeriod(out, more, func(r UtilizationRow) time.Time { return r.Period })
		}
	}
	return out, nil
}

// truncate is t's period of granularity g (UTC).
func truncate(t time.Time, g Granularity) time.Time {
	t = t.UTC().Truncate(time.Hour)
	if g == Daily {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t
}

// finishUtilization derives a row's unused part, utilization and net
// savings.
func finishUtilization(r *UtilizationRow) {
	r.Unused = r.Commitment - r.Used
	if r.Commitment > 0 {
		r.Utilization = r.Used / r.Commitment
	}
	r.NetSavings = r.CoveredOnDemand - r.Commitment
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
func Coverage(ctx context.Context, r Reader, w Window, g Granularity, byAccount bool) ([]CoverageRow, error) {
	t := r.Table()
	acct := "''"
	if byAccount {
		acct = "line_item_usage_account_id"
	}
	q := `SELECT period, account, class,
	    sum(CASE WHEN t = 'Usage' THEN od END), sum(CASE WHEN t = 'SavingsPlanCoveredUsage' THEN od END), sum(CASE WHEN t = 'DiscountedUsage' THEN od END)
	  FROM (SELECT date_trunc('` + string(g) + `', line_item_usage_start_date) AS period, coalesce(` + acct + `, '') AS account,
	      ` + classSQL + ` AS class, line_item_line_item_type AS t, ` + odSQL + ` AS od
	    FROM ` + t.Name + ` WHERE line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage') AND ` + w.where(t) + `) lines
	  WHERE class <> '' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`
	rows, err := r.Query(ctx, q)
	out, err := scanCoverage("reading commitment coverage", rows, err)
	if err != nil {
		return nil, err
	}
	if t.DB != nil {
		if ok, err := hasFOCUS(ctx, t.DB); err != nil {
			return nil, err
		} else if ok {
			more, err := focusCoverage(ctx, t.DB, w, g, byAccount)
			if err != nil {
				return nil, err
			}
			out = mergeByPeriod(out, more, func(r CoverageRow) time.Time { return r.Period })
		}
	}
	return out, nil
}

// scanCoverage runs a coverage query whose rows are (period, account,
// class, on-demand, covered by Savings Plans, covered by reservations), for
// CUR and FOCUS data alike; what names the read in errors.
func scanCoverage(what string, rows Rows, err error) ([]CoverageRow, error) {
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
func scanUtilization(what string, typeOf func(*UtilizationRow), rows Rows, err error) ([]UtilizationRow, error) {
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
		finishUtilization(&r)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
