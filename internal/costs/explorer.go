package costs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Cost Explorer data is the day-zero source: daily cost loaded through the
// connection's role before any CUR export is delivered. It lives in its
// own table, ce_daily, one row per day and group of one of the groupings
// below (Cost Explorer groups by at most two dimensions per request, so the
// groupings are kept apart rather than joined: summing two of them would
// count the same cost twice). A query reads the one grouping that holds
// every dimension it asks for, beside the CUR rollups. Loading a billing
// period from the CUR reconciles that period's Cost Explorer totals with
// the CUR's and removes them (ReplacePeriod), so each period is counted
// from one source only.

// ExplorerLabel labels Cost Explorer data wherever costs are shown.
const ExplorerLabel = "Cost Explorer, daily, until the CUR export arrives"

// Groupings of Cost Explorer data, each one GetCostAndUsage request set.
const (
	GroupingAccountService   = "account+service"
	GroupingAccountRegion    = "account+region"
	GroupingServiceUsageType = "service+usage-type"
	GroupingTagService       = "tag+service"
)

// explorerGroupings are the plain groupings with the dimensions they hold,
// in the order a query tries them.
var explorerGroupings = []struct {
	name string
	dims []string
}{
	{GroupingAccountService, []string{DimAccount, DimService}},
	{GroupingAccountRegion, []string{DimAccount, DimRegion}},
	{GroupingServiceUsageType, []string{DimService, DimUsageType}},
}

// ExplorerRow is one day of one group of one grouping.
type ExplorerRow struct {
	Day                                 time.Time
	Account, Service, Region, UsageType string
	// TagKey and TagValue for GroupingTagService; TagValue "" is untagged.
	TagKey, TagValue                 string
	Unblended, Amortized, Net, Usage float64
	Estimated                        bool
}

// ReconcileTolerance is the difference between the Cost Explorer and CUR
// totals of a period (per account, and overall) above which a
// reconciliation row is flagged: $1 or 1% of the CUR's, whichever is more.
func ReconcileTolerance(cur float64) float64 { return math.Max(1, 0.01*math.Abs(cur)) }

var explorerTablesSQL = []string{
	`CREATE TABLE IF NOT EXISTS ce_daily (
		tenant VARCHAR NOT NULL, connection VARCHAR NOT NULL, grouping VARCHAR NOT NULL,
		billing_period VARCHAR NOT NULL, day DATE NOT NULL,
		account VARCHAR, service VARCHAR, region VARCHAR, usage_type VARCHAR, tag_key VARCHAR, tag_value VARCHAR,
		unblended DOUBLE, amortized DOUBLE, net DOUBLE, list DOUBLE, usage DOUBLE, estimated BOOLEAN)`,
	`CREATE TABLE IF NOT EXISTS ce_reconciliation (
		tenant VARCHAR NOT NULL, billing_period VARCHAR NOT NULL, account VARCHAR, -- NULL: the period's total
		explorer DOUBLE, cur DOUBLE, difference DOUBLE, over_tolerance BOOLEAN, reconciled_at TIMESTAMP)`,
	`CREATE TABLE IF NOT EXISTS ce_forecast (
		tenant VARCHAR NOT NULL, connection VARCHAR NOT NULL, month VARCHAR NOT NULL, -- YYYY-MM
		day_from DATE NOT NULL, day_to DATE NOT NULL, mean DOUBLE, low DOUBLE, high DOUBLE, fetched_at TIMESTAMP)`,
	`CREATE TABLE IF NOT EXISTS ce_account_names (
		tenant VARCHAR NOT NULL, connection VARCHAR NOT NULL, account VARCHAR NOT NULL, name VARCHAR NOT NULL)`,
}

// CURPeriods lists the billing periods the tenant's CUR (or FOCUS) exports
// hold: Cost Explorer data is neither loaded nor kept for them.
func (s *Store) CURPeriods(ctx context.Context, tenant crossbill.TenantID) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT billing_period FROM ingest_ledger WHERE tenant = ? ORDER BY 1`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "cost periods", "%w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "cost periods", "%w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ReplaceExplorerDays makes rows what the store holds for the connection's
// grouping over the days [from, to), in one transaction, leaving out the
// billing periods the tenant's CUR already holds. It returns the rows kept.
func (s *Store) ReplaceExplorerDays(ctx context.Context, tenant crossbill.TenantID, connection crossbill.ConnectionID, grouping string, from, to time.Time, rows []ExplorerRow) (n int, err error) {
	const op = "cost explorer load"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if _, err := tx.ExecContext(ctx, `DELETE FROM ce_daily WHERE tenant = ? AND connection = ? AND grouping = ? AND day >= ?::DATE AND day < ?::DATE`,
		string(tenant), string(connection), grouping, from, to); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "clearing the days: %w", err)
	}
	cur := map[string]bool{}
	rs, err := tx.QueryContext(ctx, `SELECT DISTINCT billing_period FROM ingest_ledger WHERE tenant = ?`, string(tenant))
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for rs.Next() {
		var p string
		if err := rs.Scan(&p); err != nil {
			rs.Close()
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		cur[p] = true
	}
	if err := rs.Close(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO ce_daily VALUES (?, ?, ?, ?, ?::DATE, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		period := r.Day.Format("2006-01")
		if cur[period] || r.Day.Before(from) || !r.Day.Before(to) {
			continue
		}
		var tagKey, tagValue any
		if grouping == GroupingTagService {
			tagKey = r.TagKey
			if r.TagValue != "" {
				tagValue = r.TagValue
			}
		}
		if _, err := stmt.ExecContext(ctx, string(tenant), string(connection), grouping, period, r.Day,
			r.Account, r.Service, r.Region, r.UsageType, tagKey, tagValue,
			r.Unblended, r.Amortized, r.Net, r.Usage, r.Estimated); err != nil {
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "storing a day: %w", err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return n, nil
}

// ExplorerSpan is the days of Cost Explorer data the tenant holds.
type ExplorerSpan struct {
	From    string   `json:"from"`
	To      string   `json:"to"` // last day held
	Days    int      `json:"days"`
	Periods []string `json:"billing_periods"`
}

// ExplorerSpan answers the span of the tenant's Cost Explorer data (zero
// Days when there is none), from the account+service grouping that every
// load fills.
func (s *Store) ExplorerSpan(ctx context.Context, tenant crossbill.TenantID) (ExplorerSpan, error) {
	var sp ExplorerSpan
	var lo, hi sql.NullTime
	var periods duckList
	err := s.db.QueryRowContext(ctx, `SELECT min(day)::TIMESTAMP, max(day)::TIMESTAMP, count(DISTINCT day)::INTEGER, coalesce(list(DISTINCT billing_period ORDER BY billing_period), [])
		FROM ce_daily WHERE tenant = ? AND grouping = ?`, string(tenant), GroupingAccountService).Scan(&lo, &hi, &sp.Days, &periods)
	if err != nil {
		return sp, crossbill.Errorf(crossbill.CodeInternal, "cost explorer span", "%w", err)
	}
	if lo.Valid {
		sp.From, sp.To = lo.Time.UTC().Format(time.DateOnly), hi.Time.UTC().Format(time.DateOnly)
	}
	sp.Periods = []string(periods)
	if sp.Periods == nil {
		sp.Periods = []string{}
	}
	return sp, nil
}

// Reconciliation is one billing period's Cost Explorer total against the
// CUR's, for one account ("" for the period's total), unblended cost.
type Reconciliation struct {
	Period        string  `json:"billing_period"`
	Account       string  `json:"account,omitempty"`
	Explorer      float64 `json:"cost_explorer"`
	CUR           float64 `json:"cur"`
	Difference    float64 `json:"difference"` // CUR minus Cost Explorer
	OverTolerance bool    `json:"over_tolerance"`
	ReconciledAt  string  `json:"reconciled_at"`
}

// reconcileExplorer, inside a CUR load's transaction (after its rollups),
// compares the period's Cost Explorer totals with the CUR's, per account
// and overall, records the comparison and removes the Cost Explorer rows:
// from now on the period is the CUR's.
func reconcileExplorer(ctx context.Context, tx *sql.Tx, tenant, period string) error {
	const op = "cost explorer reconcile"
	var have bool
	if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM ce_daily WHERE tenant = ? AND billing_period = ?`, tenant, period).Scan(&have); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if !have {
		return nil
	}
	stmts := []string{
		`DELETE FROM ce_reconciliation WHERE tenant = $1 AND billing_period = $2`,
		// Cost Explorer and the CUR both date cost by usage day; the CUR's
		// period is its invoice month, so its days are compared whole.
		`INSERT INTO ce_reconciliation
		SELECT $1, $2, account, e, c, round(c - e, 6), abs(c - e) > greatest(1, 0.01 * abs(c)), now()::TIMESTAMP FROM (
			SELECT coalesce(x.account, y.account) AS account, coalesce(x.e, 0) AS e, coalesce(y.c, 0) AS c FROM
			(SELECT coalesce(account, '') AS account, sum(unblended) AS e FROM ce_daily WHERE tenant = $1 AND billing_period = $2 AND grouping = '` + GroupingAccountService + `' GROUP BY ROLLUP (1)) x
			FULL JOIN
			(SELECT coalesce(account, '') AS account, sum(unblended) AS c FROM cost_daily WHERE tenant = $1 AND billing_period = $2 GROUP BY ROLLUP (1)) y
			ON x.account IS NOT DISTINCT FROM y.account)`,
		`DELETE FROM ce_daily WHERE tenant = $1 AND billing_period = $2`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, tenant, period); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	return nil
}

// Reconciliations lists the tenant's reconciled periods, per account and
// overall (account ""), oldest first.
func (s *Store) Reconciliations(ctx context.Context, tenant crossbill.TenantID) ([]Reconciliation, error) {
	const op = "cost explorer reconcile"
	rows, err := s.db.QueryContext(ctx, `SELECT billing_period, coalesce(account, ''), explorer, cur, difference, over_tolerance,
		strftime(reconciled_at, '%Y-%m-%dT%H:%M:%SZ') FROM ce_reconciliation WHERE tenant = ?
		ORDER BY billing_period, account IS NOT NULL, account`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Reconciliation{}
	for rows.Next() {
		var r Reconciliation
		if err := rows.Scan(&r.Period, &r.Account, &r.Explorer, &r.CUR, &r.Difference, &r.OverTolerance, &r.ReconciledAt); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DataSource says where part of a query's answer came from.
type DataSource struct {
	Source   string `json:"source"` // "cur" or "cost_explorer"
	Label    string `json:"label"`
	From     string `json:"from"`
	To       string `json:"to"` // last day
	Included bool   `json:"included"`
	Note     string `json:"note,omitempty"`
}

// explorerGrouping picks the grouping that holds every dimension q asks
// for, and the tag key of a tag query; ok is false when none does.
func explorerGrouping(q Query) (grouping, tagKey string, ok bool) {
	if q.Granularity == Hourly {
		return "", "", false
	}
	var plain []string
	dims := []Dim{q.GroupBy}
	for _, f := range q.Filters {
		dims = append(dims, f.Dim)
	}
	for _, d := range dims {
		switch {
		case d.Kind == "" || d.Kind == DimBillingPeriod:
		case d.Kind == DimTag:
			if tagKey != "" && tagKey != normalizeKey(d) {
				return "", "", false
			}
			tagKey = normalizeKey(d)
		case d.Kind == DimCostCategory:
			return "", "", false
		default:
			if !slices.Contains(plain, d.Kind) {
				plain = append(plain, d.Kind)
			}
		}
	}
	if tagKey != "" {
		if len(plain) == 0 || len(plain) == 1 && plain[0] == DimService {
			return GroupingTagService, tagKey, true
		}
		return "", "", false
	}
	for _, g := range explorerGroupings {
		fits := true
		for _, d := range plain {
			fits = fits && slices.Contains(g.dims, d)
		}
		if fits {
			return g.name, "", true
		}
	}
	return "", "", false
}

// explorerColumn is a dimension's ce_daily column.
func explorerColumn(d Dim) string {
	if d.Kind == DimTag {
		return "tag_value"
	}
	return d.column()
}

// planExplorer is q over ce_daily, in the shape of the other plans.
func planExplorer(q Query) (stmt string, args []any, ok bool) {
	grouping, tagKey, ok := explorerGrouping(q)
	if !ok {
		return "", nil, false
	}
	w := &where{}
	w.add("tenant = ?", string(q.Tenant))
	w.add("grouping = ?", grouping)
	w.add("day >= ?::DATE AND day < ?::DATE", q.From, q.To)
	if tagKey != "" {
		w.add("tag_key = ?", tagKey)
	}
	for _, f := range q.Filters {
		if f.Dim.Kind != DimTag {
			w.in(explorerColumn(f.Dim), f.Values)
			continue
		}
		var vals []string
		for _, v := range f.Values {
			if v != "" {
				vals = append(vals, v)
			}
		}
		cond, fargs := "false", []any(nil)
		if len(vals) > 0 {
			cond = "tag_value IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")"
			for _, v := range vals {
				fargs = append(fargs, v)
			}
		}
		if len(vals) < len(f.Values) {
			cond += " OR tag_value IS NULL"
		}
		w.add("("+cond+")", fargs...)
	}
	group := "''"
	if q.GroupBy.Kind != "" {
		group = explorerColumn(q.GroupBy)
	}
	return fmt.Sprintf(`SELECT %s AS period, %s AS grp, sum(%s) AS value FROM ce_daily WHERE %s GROUP BY 1, 2`,
		bucketExpr(q.Granularity, "day"), group, q.Metric, w), w.args, true
}

// withExplorer adds q's Cost Explorer rows to a plan's statement, summing
// groups both hold.
func withExplorer(q Query, stmt string, args []any) (string, []any, bool) {
	ce, ceArgs, ok := planExplorer(q)
	if !ok {
		return stmt, args, false
	}
	return `SELECT period, grp, sum(value) AS value FROM (` + stmt + "\nUNION ALL\n" + ce + `) AS both_sources GROUP BY 1, 2`,
		append(slices.Clone(args), ceArgs...), true
}

// dataSources says which sources hold days of q's range, and whether the
// Cost Explorer days are in the answer.
func (s *Store) dataSources(ctx context.Context, q Query, explorerIncluded bool) ([]DataSource, error) {
	out := []DataSource{}
	for _, src := range []struct{ name, label, table, extra string }{
		{"cur", "CUR 2.0 / FOCUS export", "cost_daily", ""},
		{"cost_explorer", ExplorerLabel, "ce_daily", " AND grouping = '" + GroupingAccountService + "'"},
	} {
		var lo, hi sql.NullTime
		if err := s.db.QueryRowContext(ctx, `SELECT min(day)::TIMESTAMP, max(day)::TIMESTAMP FROM `+src.table+
			` WHERE tenant = ? AND day >= ?::DATE AND day < ?::DATE`+src.extra, string(q.Tenant), q.From, q.To).Scan(&lo, &hi); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "cost query", "finding the sources: %w", err)
		}
		if !lo.Valid {
			continue
		}
		d := DataSource{Source: src.name, Label: src.label, From: lo.Time.UTC().Format(time.DateOnly), To: hi.Time.UTC().Format(time.DateOnly), Included: true}
		if src.name == "cost_explorer" && !explorerIncluded {
			d.Included = false
			d.Note = "not in this answer: Cost Explorer data answers daily or monthly queries on account+service, account+region, service+usage-type or one tag (+service), plus billing-period"
		}
		out = append(out, d)
	}
	return out, nil
}
