package commitments

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// The SQL here reads a Reader's CUR 2.0 table: the cost store's cur view
// (or a test table) with its tenant column, or a tenant's Athena table. It
// is the subset both DuckDB and Athena (Trino) run alike: no GROUP BY ALL,
// no :: casts, LIKE on lower() rather than ILIKE, max() rather than
// any_value(), sum(CASE ...) rather than FILTER, INTERVAL '1' HOUR,
// date_diff and date_trunc, TIMESTAMP literals.

// classSQL classifies a CUR line into the usage class a commitment can
// cover, from its product code and usage type (empty: not eligible). Spot,
// requests, storage and data transfer are never covered.
const classSQL = `CASE
  WHEN lower(line_item_usage_type) LIKE '%spot%' THEN ''
  WHEN line_item_product_code = 'AmazonEC2' AND (lower(line_item_usage_type) LIKE '%boxusage%' OR lower(line_item_usage_type) LIKE '%dedicatedusage%' OR lower(line_item_usage_type) LIKE '%hostusage%') THEN 'ec2'
  WHEN line_item_product_code IN ('AmazonECS', 'AmazonEKS') AND lower(line_item_usage_type) LIKE '%fargate%' THEN 'fargate'
  WHEN line_item_product_code = 'AWSLambda' AND (lower(line_item_usage_type) LIKE '%gb-second%' OR lower(line_item_usage_type) LIKE '%provisioned%') THEN 'lambda'
  WHEN line_item_product_code = 'AmazonRDS' AND (lower(line_item_usage_type) LIKE '%instanceusage%' OR lower(line_item_usage_type) LIKE '%multi-azusage%') THEN 'rds'
  WHEN line_item_product_code = 'AmazonElastiCache' AND lower(line_item_usage_type) LIKE '%nodeusage%' THEN 'elasticache'
  WHEN line_item_product_code = 'AmazonES' AND lower(line_item_usage_type) LIKE '%esinstance%' THEN 'opensearch'
  WHEN line_item_product_code = 'AmazonRedshift' AND lower(line_item_usage_type) LIKE '%node%' THEN 'redshift'
  ELSE '' END`

// eligibleProducts are the product codes classSQL can classify.
const eligibleProducts = `'AmazonEC2', 'AmazonECS', 'AmazonEKS', 'AWSLambda', 'AmazonRDS', 'AmazonElastiCache', 'AmazonES', 'AmazonRedshift'`

// odSQL is a line's on-demand-equivalent cost: the public on-demand cost
// (the only figure on discounted lines), else the unblended cost.
const odSQL = `coalesce(pricing_public_on_demand_cost, line_item_unblended_cost, 0)`

// Window selects a tenant's CUR lines in [Start, End).
type Window struct {
	Tenant crossbill.TenantID
	Start  time.Time
	End    time.Time
	// Account, when set, limits usage to one linked account (the "linked"
	// account scope); empty is the payer scope.
	Account crossbill.AccountID
	// Gross counts the usage existing Savings Plans and reservations cover
	// as eligible too: recommendations then size a whole portfolio, as if
	// nothing were committed (to plan renewals).
	Gross bool
}

// Hours is the window's length in hours.
func (w Window) Hours() int { return int(w.End.Sub(w.Start) / time.Hour) }

// where is the WHERE condition selecting the window's lines in t.
func (w Window) where(t Table) string {
	return "line_item_usage_start_date >= " + timestamp(w.Start) + " AND line_item_usage_start_date < " + timestamp(w.End) + w.scope(t, true)
}

// overlapping is the WHERE condition selecting the lines of t whose usage
// period overlaps the window (RIFee lines span up to a billing period).
func (w Window) overlapping(t Table) string {
	return "line_item_usage_start_date < " + timestamp(w.End) +
		" AND coalesce(line_item_usage_end_date, line_item_usage_start_date + INTERVAL '1' HOUR) > " + timestamp(w.Start) + w.scope(t, true)
}

// scope is the rest of a window's condition: the billing periods of a
// partitioned table (a line's usage lies in its billing period, RIFee
// lines included), the tenant of a shared one, the account.
func (w Window) scope(t Table, account bool) string {
	var b strings.Builder
	if t.Partitioned {
		b.WriteString(" AND billing_period IN " + inList(periods(w.Start, w.End)))
	}
	if t.Tenants && w.Tenant != "" {
		b.WriteString(" AND tenant = " + literal(string(w.Tenant)))
	}
	if account && w.Account != "" {
		b.WriteString(" AND line_item_usage_account_id = " + literal(string(w.Account)))
	}
	return b.String()
}

// whereOn selects the window on the given time and account columns, with
// arguments: FOCUS data's (local only).
func (w Window) whereOn(timeCol, accountCol string) (string, []any) {
	clause := timeCol + " >= ? AND " + timeCol + " < ?"
	args := []any{w.Start, w.End}
	if w.Tenant != "" {
		clause += " AND tenant = ?"
		args = append(args, string(w.Tenant))
	}
	if w.Account != "" {
		clause += " AND " + accountCol + " = ?"
		args = append(args, string(w.Account))
	}
	return clause, args
}

// missingView is the error of a cost store without the cur view (Athena's
// "table does not exist" is its own, with its fix).
func missingView(err error) bool { return strings.Contains(err.Error(), "does not exist") }

// tenantCond is the condition selecting tenant's lines in t ("" for
// Athena's own table or no tenant), prefixed with and.
func tenantCond(t Table, tenant crossbill.TenantID, and string) string {
	if !t.Tenants || tenant == "" {
		return ""
	}
	return and + "tenant = " + literal(string(tenant))
}

// CheckData fails with NotFound, naming the months to ingest, unless the
// cost store (or Athena's table) holds CUR lines of the tenant from the
// window's first day to its last.
func CheckData(ctx context.Context, r Reader, w Window) error {
	const op = "commitments"
	t := r.Table()
	q := "SELECT min(line_item_usage_start_date), max(line_item_usage_start_date) FROM " + t.Name +
		" WHERE line_item_usage_start_date < " + timestamp(w.End)
	if t.Partitioned {
		// The window's billing periods: the data held from its start to
		// its end is what the check is about.
		q += " AND billing_period IN " + inList(periods(w.Start, w.End))
	}
	q += tenantCond(t, w.Tenant, " AND ")
	lo, hi, err := span(ctx, r, q, "checking the CUR months")
	if err != nil {
		return err
	}
	if t.DB != nil {
		flo, fhi, err := focusSpan(ctx, t.DB, w.Tenant, w.End)
		if err != nil {
			return err
		}
		lo, hi = widen(lo, hi, flo, fhi)
	}
	where := "the cost store"
	if t.Partitioned {
		where = "Athena's table " + t.Name
	}
	need := fmt.Sprintf("%s to %s", w.Start.Format("2006-01"), w.End.Add(-time.Hour).Format("2006-01"))
	tenant := ""
	if w.Tenant != "" {
		tenant = " for tenant " + string(w.Tenant)
	}
	fix := "run `crossbill cur ingest` for billing periods " + need
	if t.Partitioned {
		fix = "check that the CUR export delivers billing periods " + need + " (the Glue table's partitions)"
	}
	if !lo.Valid {
		return crossbill.Errorf(crossbill.CodeNotFound, op,
			"%s has no CUR or FOCUS data%s before %s: %s", where, tenant, w.End.Format(time.DateOnly), fix)
	}
	// A day of slack at each end: the last hours of a month may be empty.
	if lo.Time.After(w.Start.Add(24*time.Hour)) || hi.Time.Before(w.End.Add(-48*time.Hour)) {
		return crossbill.Errorf(crossbill.CodeNotFound, op,
			"%s holds CUR data%s from %s to %s, but this needs %s to %s: %s, or shorten --lookback",
			where, tenant, lo.Time.Format(time.DateOnly), hi.Time.Format(time.DateOnly), w.Start.Format(time.DateOnly), w.End.Format(time.DateOnly), fix)
	}
	return nil
}

// span runs q, whose one row is (min, max) of some times.
func span(ctx context.Context, r Reader, q, what string) (lo, hi sql.NullTime, err error) {
	rows, err := r.Query(ctx, q)
	if err != nil {
		if r.Table().DB != nil && missingView(err) {
			return lo, hi, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "the cost store has no CUR or FOCUS data yet: run `crossbill cur ingest` first")
		}
		return lo, hi, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	dest := []any{&lo, &hi}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return lo, hi, fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return lo, hi, fmt.Errorf("%s: %w", what, err)
	}
	return lo, hi, nil
}

// DataEnd returns the end of the last hour of CUR data held for the tenant,
// the natural end of a lookback window; NotFound when there is none. In a
// partitioned table it is looked for in the table's Recent periods.
func DataEnd(ctx context.Context, r Reader, tenant crossbill.TenantID) (time.Time, error) {
	t := r.Table()
	q := "SELECT max(line_item_usage_start_date), max(line_item_usage_start_date) FROM " + t.Name
	cond := tenantCond(t, tenant, "")
	if t.Partitioned {
		cond = "billing_period IN " + inList(t.Recent)
	}
	if cond != "" {
		q += " WHERE " + cond
	}
	_, hi, err := span(ctx, r, q, "finding the last CUR hour")
	if err != nil {
		return time.Time{}, err
	}
	if t.DB != nil {
		_, fhi, err := focusSpan(ctx, t.DB, tenant, time.Time{})
		if err != nil {
			return time.Time{}, err
		}
		_, hi = widen(hi, hi, fhi, fhi)
	}
	if !hi.Valid {
		if t.Partitioned {
			return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "Athena's table %s has no line items in the billing periods %s: check that the CUR export delivers, or give the window's end (--end)",
				t.Name, strings.Join(t.Recent, ", "))
		}
		return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "the cost store has no CUR or FOCUS data for tenant %q: run `crossbill cur ingest` first", tenant)
	}
	return hi.Time.UTC().Truncate(time.Hour).Add(time.Hour), nil
}

// Usage is one eligible on-demand usage group: one class, instance type and
// region, with its on-demand spend and usage amount per hour of the window.
type Usage struct {
	Class        string    `json:"class"`
	InstanceType string    `json:"instance_type"`
	Family       string    `json:"family"`
	Region       string    `json:"region"`
	Spend        []float64 `json:"-"`
	Units        []float64 `json:"-"`
}

// EligibleUsage reads the hourly on-demand spend a new commitment could
// cover: Usage lines only, so what existing Savings Plans and reservations
// already cover (SavingsPlanCoveredUsage, DiscountedUsage) is excluded,
// unless w.Gross.
func EligibleUsage(ctx context.Context, r Reader, w Window) ([]Usage, error) {
	t := r.Table()
	types := "'Usage'"
	if w.Gross {
		types = "'Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage'"
	}
	// Aggregate first on the raw columns (cheap equality filters), then
	// classify the few aggregated rows: the CASE of pattern matches is the
	// costly part when it runs on every line.
	q := `SELECT class, itype, region, h, sum(od), sum(units) FROM (
	  SELECT ` + classSQL + ` AS class, itype, region,
	    date_diff('hour', ` + timestamp(w.Start) + `, ts) AS h, od, units
	  FROM (SELECT line_item_product_code, line_item_usage_type, coalesce(product_instance_type, '') AS itype,
	      coalesce(product_region_code, '') AS region, line_item_usage_start_date AS ts,
	      sum(` + odSQL + `) AS od, sum(coalesce(line_item_usage_amount, 0)) AS units
	    FROM ` + t.Name + ` WHERE line_item_line_item_type IN (` + types + `) AND line_item_product_code IN (` + eligibleProducts + `) AND ` + w.where(t) + `
	    GROUP BY 1, 2, 3, 4, 5) lines) classed
	WHERE class <> '' GROUP BY 1, 2, 3, 4`
	rows, err := r.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading eligible usage: %w", err)
	}
	defer rows.Close()
	H := w.Hours()
	index := map[[3]string]int{}
	var out []Usage
	for rows.Next() {
		var class, itype, region string
		var h int64
		var od, units float64
		if err := rows.Scan(&class, &itype, &region, &h, &od, &units); err != nil {
			return nil, fmt.Errorf("reading eligible usage: %w", err)
		}
		if h < 0 || h >= int64(H) {
			continue
		}
		k := [3]string{class, itype, region}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Usage{Class: class, InstanceType: itype, Family: family(itype), Region: region,
				Spend: make([]float64, H), Units: make([]float64, H)})
		}
		out[i].Spend[h] += od
		out[i].Units[h] += units
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading eligible usage: %w", err)
	}
	return out, nil
}

// DataStart is the first hour of the tenant's CUR or FOCUS data, so that a
// window reaching before it is not read as hours without usage. In Athena
// it reads one column of every billing period.
func DataStart(ctx context.Context, r Reader, tenant crossbill.TenantID) (time.Time, error) {
	t := r.Table()
	q := "SELECT min(line_item_usage_start_date), min(line_item_usage_start_date) FROM " + t.Name
	if c := tenantCond(t, tenant, ""); c != "" {
		q += " WHERE " + c
	}
	lo, _, err := span(ctx, r, q, "finding the first CUR hour")
	if err != nil {
		return time.Time{}, err
	}
	if t.DB != nil {
		flo, _, err := focusSpan(ctx, t.DB, tenant, time.Time{})
		if err != nil {
			return time.Time{}, err
		}
		lo, _ = widen(lo, lo, flo, flo)
	}
	if !lo.Valid {
		return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "the cost store has no CUR or FOCUS data for tenant %q: run `crossbill cur ingest` first", tenant)
	}
	return lo.Time.UTC().Truncate(time.Hour), nil
}
