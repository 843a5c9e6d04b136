package commitments

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// The SQL here reads any DuckDB relation named cur with CUR 2.0 column
// names (the cost store's view, or a test table) plus a tenant column.

// classSQL classifies a CUR line into the usage class a commitment can
// cover, from its product code and usage type (empty: not eligible). Spot,
// requests, storage and data transfer are never covered.
const classSQL = `CASE
  WHEN line_item_usage_type ILIKE '%Spot%' THEN ''
  WHEN line_item_product_code = 'AmazonEC2' AND (line_item_usage_type ILIKE '%BoxUsage%' OR line_item_usage_type ILIKE '%DedicatedUsage%' OR line_item_usage_type ILIKE '%HostUsage%') THEN 'ec2'
  WHEN line_item_product_code IN ('AmazonECS', 'AmazonEKS') AND line_item_usage_type ILIKE '%Fargate%' THEN 'fargate'
  WHEN line_item_product_code = 'AWSLambda' AND (line_item_usage_type ILIKE '%GB-Second%' OR line_item_usage_type ILIKE '%Provisioned%') THEN 'lambda'
  WHEN line_item_product_code = 'AmazonRDS' AND (line_item_usage_type ILIKE '%InstanceUsage%' OR line_item_usage_type ILIKE '%Multi-AZUsage%') THEN 'rds'
  WHEN line_item_product_code = 'AmazonElastiCache' AND line_item_usage_type ILIKE '%NodeUsage%' THEN 'elasticache'
  WHEN line_item_product_code = 'AmazonES' AND line_item_usage_type ILIKE '%ESInstance%' THEN 'opensearch'
  WHEN line_item_product_code = 'AmazonRedshift' AND line_item_usage_type ILIKE '%Node%' THEN 'redshift'
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

// where returns the WHERE clause selecting the window in the CUR and its
// arguments.
func (w Window) where() (string, []any) {
	return w.whereOn("line_item_usage_start_date", "line_item_usage_account_id")
}

// whereOn selects the window on the given time and account columns: the
// CUR's and FOCUS's differ, the rule does not.
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

// overlapping returns the WHERE clause selecting lines whose usage period
// overlaps the window (RIFee lines span up to a billing period) and its
// arguments.
func (w Window) overlapping() (string, []any) {
	clause := "line_item_usage_start_date < ? AND coalesce(line_item_usage_end_date, line_item_usage_start_date + INTERVAL 1 HOUR) > ?"
	args := []any{w.End, w.Start}
	if w.Tenant != "" {
		clause += " AND tenant = ?"
		args = append(args, string(w.Tenant))
	}
	if w.Account != "" {
		clause += " AND line_item_usage_account_id = ?"
		args = append(args, string(w.Account))
	}
	return clause, args
}

// CheckData fails with NotFound, naming the months to ingest, unless the
// cost store holds CUR lines of the tenant from the window's first day to
// its last.
func CheckData(ctx context.Context, db *sql.DB, w Window) error {
	const op = "commitments"
	q := "SELECT min(line_item_usage_start_date), max(line_item_usage_start_date) FROM cur WHERE line_item_usage_start_date < ?"
	args := []any{w.End}
	if w.Tenant != "" {
		q += " AND tenant = ?"
		args = append(args, string(w.Tenant))
	}
	var lo, hi sql.NullTime
	if err := db.QueryRowContext(ctx, q, args...).Scan(&lo, &hi); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return crossbill.Errorf(crossbill.CodeNotFound, op, "the cost store has no CUR or FOCUS data yet: run `crossbill cur ingest` first")
		}
		return fmt.Errorf("checking the CUR months in the cost store: %w", err)
	}
	flo, fhi, err := focusSpan(ctx, db, w.Tenant, w.End)
	if err != nil {
		return err
	}
	lo, hi = widen(lo, hi, flo, fhi)
	need := fmt.Sprintf("%s to %s", w.Start.Format("2006-01"), w.End.Add(-time.Hour).Format("2006-01"))
	tenant := ""
	if w.Tenant != "" {
		tenant = " for tenant " + string(w.Tenant)
	}
	if !lo.Valid {
		return crossbill.Errorf(crossbill.CodeNotFound, op,
			"the cost store has no CUR or FOCUS data%s before %s: run `crossbill cur ingest` for billing periods %s", tenant, w.End.Format(time.DateOnly), need)
	}
	// A day of slack at each end: the last hours of a month may be empty.
	if lo.Time.After(w.Start.Add(24*time.Hour)) || hi.Time.Before(w.End.Add(-48*time.Hour)) {
		return crossbill.Errorf(crossbill.CodeNotFound, op,
			"the cost store holds CUR data%s from %s to %s, but this needs %s to %s: run `crossbill cur ingest` for billing periods %s, or shorten --lookback",
			tenant, lo.Time.Format(time.DateOnly), hi.Time.Format(time.DateOnly), w.Start.Format(time.DateOnly), w.End.Format(time.DateOnly), need)
	}
	return nil
}

// DataEnd returns the end of the last hour of CUR data held for the tenant,
// the natural end of a lookback window; NotFound when there is none.
func DataEnd(ctx context.Context, db *sql.DB, tenant crossbill.TenantID) (time.Time, error) {
	q := "SELECT max(line_item_usage_start_date) FROM cur"
	var args []any
	if tenant != "" {
		q += " WHERE tenant = ?"
		args = append(args, string(tenant))
	}
	var hi sql.NullTime
	if err := db.QueryRowContext(ctx, q, args...).Scan(&hi); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "the cost store has no CUR or FOCUS data yet: run `crossbill cur ingest` first")
		}
		return time.Time{}, fmt.Errorf("finding the last CUR hour: %w", err)
	}
	_, fhi, err := focusSpan(ctx, db, tenant, time.Time{})
	if err != nil {
		return time.Time{}, err
	}
	_, hi = widen(hi, hi, fhi, fhi)
	if !hi.Valid {
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
func EligibleUsage(ctx context.Context, db *sql.DB, w Window) ([]Usage, error) {
	where, args := w.where()
	types := "'Usage'"
	if w.Gross {
		types = "'Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage'"
	}
	// Aggregate first on the raw columns (cheap equality filters), then
	// classify the few aggregated rows: the CASE of pattern matches is the
	// costly part when it runs on every line.
	q := `SELECT class, itype, region, h, sum(od), sum(units) FROM (
	  SELECT ` + classSQL + ` AS class, itype, region,
	    CAST((epoch(ts) - epoch(?::TIMESTAMP)) / 3600 AS BIGINT) AS h, od, units
	  FROM (SELECT line_item_product_code, line_item_usage_type, coalesce(product_instance_type, '') AS itype,
	      coalesce(product_region_code, '') AS region, line_item_usage_start_date AS ts,
	      sum(` + odSQL + `) AS od, sum(coalesce(line_item_usage_amount, 0)) AS units
	    FROM cur WHERE line_item_line_item_type IN (` + types + `) AND line_item_product_code IN (` + eligibleProducts + `) AND ` + where + `
	    GROUP BY ALL))
	WHERE class <> '' GROUP BY ALL`
	rows, err := db.QueryContext(ctx, q, append([]any{w.Start}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading eligible usage from the cost store: %w", err)
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
// window reaching before it is not read as hours without usage.
func DataStart(ctx context.Context, db *sql.DB, tenant crossbill.TenantID) (time.Time, error) {
	q := "SELECT min(line_item_usage_start_date) FROM cur"
	var args []any
	if tenant != "" {
		q += " WHERE tenant = ?"
		args = append(args, string(tenant))
	}
	var lo sql.NullTime
	if err := db.QueryRowContext(ctx, q, args...).Scan(&lo); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "the cost store has no CUR or FOCUS data yet: run `crossbill cur ingest` first")
		}
		return time.Time{}, fmt.Errorf("finding the first CUR hour: %w", err)
	}
	flo, _, err := focusSpan(ctx, db, tenant, time.Time{})
	if err != nil {
		return time.Time{}, err
	}
	lo, _ = widen(lo, lo, flo, flo)
	if !lo.Valid {
		return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "commitments", "the cost store has no CUR or FOCUS data for tenant %q: run `crossbill cur ingest` first", tenant)
	}
	return lo.Time.UTC().Truncate(time.Hour), nil
}
