package costs

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Query asks for one metric over a time range, bucketed by Granularity and
// split by GroupBy (zero Dim: one group, "total").
type Query struct {
	Tenant      crossbill.TenantID
	Metric      string      // default amortized
	GroupBy     Dim         // zero: no grouping
	Granularity Granularity // default daily
	From, To    time.Time   // [From, To); zero: the month of the latest data
	Filters     []Filter
	Top         int // > 0: keep the Top groups by total, fold the rest into "others"
	// MaxRows > 0 refuses answers of more rows (an invalid-input error that
	// says how to narrow the query), so that one query cannot hold the
	// memory of millions of rows.
	MaxRows int
}

// DefaultMaxRows is the row cap of the server and the CLI unless changed
// with --max-rows: ten times what a chart can show.
const DefaultMaxRows = 10000

// Canonical is q with the defaults that need no data filled in and its
// filters in one order without repeats, so that two spellings of the same
// question are equal (the server's cache key).
func (q Query) Canonical() Query {
	if q.Metric == "" {
		q.Metric = MetricAmortized
	}
	if q.Granularity == "" {
		q.Granularity = Daily
	}
	fs := make([]Filter, 0, len(q.Filters))
	for _, f := range q.Filters {
		vals := slices.Clone(f.Values)
		slices.Sort(vals)
		fs = append(fs, Filter{Dim: f.Dim, Values: slices.Compact(vals)})
	}
	key := func(f Filter) string { return f.Dim.String() + "\x00" + strings.Join(f.Values, "\x00") }
	slices.SortFunc(fs, func(a, b Filter) int { return strings.Compare(key(a), key(b)) })
	q.Filters = slices.CompactFunc(fs, func(a, b Filter) bool { return key(a) == key(b) })
	return q
}

// Row is one (time bucket, group) value.
type Row struct {
	Period time.Time `json:"period"`
	Group  string    `json:"group"`
	Value  float64   `json:"value"`
}

// GroupTotal is a group's total over the whole range.
type GroupTotal struct {
	Group string  `json:"group"`
	Value float64 `json:"value"`
}

// Result is a query's answer: Rows ordered by period then value
// (descending), Totals by value (descending), and Total over everything.
type Result struct {
	Metric      string      `json:"metric"`
	GroupBy     string      `json:"group_by,omitempty"`
	Granularity Granularity `json:"granularity"`
	From        string      `json:"from"`
	To          string      `json:"to"`
	Source      string      `json:"source"` // the table that answered: a rollup or line_items
	// Sources are the data sources holding days of the range (CUR,
	// Cost Explorer), each labelled, and whether it is in the answer.
	Sources []DataSource `json:"sources"`
	Rows    []Row        `json:"rows"`
	Totals  []GroupTotal `json:"totals"`
	Total   float64      `json:"total"`
	// Names are the account groups' names where known: from Cost Explorer's
	// linked account dimension, overridden by the names the tenant's AWS
	// Organizations give them (QueryNamed).
	Names map[string]string `json:"names,omitempty"`
	// Athena is what answering cost in Amazon Athena (the Athena engine's
	// answers only).
	Athena *EngineCost `json:"athena,omitempty"`
}

// OthersGroup is the group that holds everything past the top N.
const OthersGroup = "others"

// Query answers q, from a rollup when every dimension asked for is in one,
// else from the line items.
func (s *Store) Query(ctx context.Context, q Query) (Result, error) {
	const op = "cost query"
	q, err := s.normalize(ctx, q)
	if err != nil {
		return Result{}, err
	}
	stmt, args, source := plan(q)
	var explorer bool
	if source != sourceLineItems {
		stmt, args, explorer = withExplorer(q, stmt, args)
	}
	folded := q.Top > 0 && q.GroupBy.Kind != ""
	if folded {
		stmt, args = foldTop(stmt, args, q.Top)
	}
	if q.MaxRows > 0 {
		// One row past the cap tells it is exceeded; DuckDB then never
		// holds a larger result either.
		stmt, args = "SELECT * FROM ("+stmt+") AS capped LIMIT ?", append(slices.Clone(args), q.MaxRows+1)
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "querying %s: %w", source, err)
	}
	defer rows.Close()
	res := Result{Metric: q.Metric, Granularity: q.Granularity, Source: source,
		From: q.From.Format("2006-01-02"), To: q.To.Format("2006-01-02"), Rows: []Row{}}
	if q.GroupBy.Kind != "" {
		res.GroupBy = q.GroupBy.String()
	}
	for rows.Next() {
		if q.MaxRows > 0 && len(res.Rows) == q.MaxRows {
			return Result{}, tooManyRows(q)
		}
		var r Row
		var g sql.NullString
		var v sql.NullFloat64
		var other bool
		dest := []any{&r.Period, &g, &v}
		if folded {
			dest = append(dest, &other)
		}
		if err := rows.Scan(dest...); err != nil {
			return Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading %s: %w", source, err)
		}
		r.Period = r.Period.UTC()
		r.Group, r.Value = g.String, v.Float64
		switch {
		case q.GroupBy.Kind == "":
			r.Group = "total"
		case other:
			r.Group = OthersGroup
		case r.Group == "":
			r.Group = describe(q.GroupBy, "")
		}
		res.Rows = append(res.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading %s: %w", source, err)
	}
	if folded {
		res.Rows, res.Totals = topN(res.Rows, 0)
		res.Totals = othersLast(res.Totals)
	} else {
		res.Rows, res.Totals = topN(res.Rows, q.Top)
	}
	for _, t := range res.Totals {
		res.Total += t.Value
	}
	if res.Sources, err = s.dataSources(ctx, q, explorer); err != nil {
		return Result{}, err
	}
	if q.GroupBy.Kind == DimAccount {
		if res.Names, err = s.groupNames(ctx, q.Tenant, res.Totals); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// tooManyRows says how to ask for less.
func tooManyRows(q Query) error {
	by := "total"
	if q.GroupBy.Kind != "" {
		by = q.GroupBy.String()
	}
	return crossbill.Errorf(crossbill.CodeInvalid, "cost query",
		"the answer has more than %d rows (%s by %s, %s to %s); narrow the query: a coarser granularity (daily or monthly), "+
			"fewer groups (top N), a shorter from/to range or a filter (the limit is the server's or the CLI's --max-rows)",
		q.MaxRows, q.Granularity, by, q.From.Format("2006-01-02"), q.To.Format("2006-01-02"))
}

// foldTop wraps a plan's statement so that DuckDB keeps the top groups by
// total and folds the rest into one row per period (folded = true): a query
// over thousands of groups then reads at most top+1 rows per period instead
// of holding them all in Go.
func foldTop(stmt string, args []any, top int) (string, []any) {
	return `WITH base AS (` + stmt + `),
	keep AS (SELECT coalesce(grp, '') AS g FROM base GROUP BY 1 ORDER BY sum(value) DESC NULLS LAST, g LIMIT ?)
	SELECT b.period, CASE WHEN k.g IS NULL THEN NULL ELSE b.grp END AS grp, sum(b.value) AS value, k.g IS NULL AS folded
	FROM base b LEFT JOIN keep k ON coalesce(b.grp, '') = k.g
	GROUP BY 1, 2, 4`, append(slices.Clone(args), top)
}

// othersLast moves the folded group to the end of the ranking, where topN
// puts it.
func othersLast(ts []GroupTotal) []GroupTotal {
	for i, t := range ts {
		if t.Group == OthersGroup {
			return append(append(ts[:i:i], ts[i+1:]...), t)
		}
	}
	return ts
}

// normalize fills defaults and checks q.
func (s *Store) normalize(ctx context.Context, q Query) (Query, error) {
	const op = "cost query"
	if q.Tenant == "" {
		return q, crossbill.Errorf(crossbill.CodeInvalid, op, "no tenant given")
	}
	if q.Metric == "" {
		q.Metric = MetricAmortized
	}
	m, err := ParseMetric(q.Metric)
	if err != nil {
		return q, err
	}
	q.Metric = m
	if q.Granularity == "" {
		q.Granularity = Daily
	}
	if _, err := ParseGranularity(string(q.Granularity)); err != nil {
		return q, err
	}
	if q.Top < 0 {
		return q, crossbill.Errorf(crossbill.CodeInvalid, op, "--top must be 0 (all groups) or more")
	}
	for _, f := range q.Filters {
		if len(f.Values) == 0 {
			return q, crossbill.Errorf(crossbill.CodeInvalid, op, "filter on %s has no values", f.Dim)
		}
	}
	if q.From.IsZero() && q.To.IsZero() {
		// An invoice's line items can be dated outside its month: a
		// billing-period filter without dates spans all of their days.
		if from, to, ok, err := s.periodSpan(ctx, q); err != nil {
			return q, err
		} else if ok {
			q.From, q.To = from, to
		}
	}
	if q.From.IsZero() || q.To.IsZero() {
		latest, err := s.latestDay(ctx, q.Tenant)
		if err != nil {
			return q, err
		}
		if q.To.IsZero() {
			q.To = latest.AddDate(0, 0, 1)
		}
		if q.From.IsZero() {
			last := q.To.AddDate(0, 0, -1)
			q.From = time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
	}
	if !q.From.Before(q.To) {
		return q, crossbill.Errorf(crossbill.CodeInvalid, op, "--from %s is not before --to %s (--to is exclusive)",
			q.From.Format("2006-01-02"), q.To.Format("2006-01-02"))
	}
	return q, nil
}

// periodSpan is [first day, last day + 1) of the line items of the
// billing periods q filters on; ok is false without such a filter or data.
func (s *Store) periodSpan(ctx context.Context, q Query) (from, to time.Time, ok bool, err error) {
	w := &where{}
	w.add("tenant = ?", string(q.Tenant))
	for _, f := range q.Filters {
		if f.Dim.Kind == DimBillingPeriod {
			w.in("billing_period", f.Values)
		}
	}
	if len(w.conds) == 1 {
		return from, to, false, nil
	}
	var lo, hi sql.NullTime
	if err := s.db.QueryRowContext(ctx, `SELECT min(day)::TIMESTAMP, max(day)::TIMESTAMP FROM (SELECT tenant, billing_period, day FROM cost_daily
		UNION ALL SELECT tenant, billing_period, day FROM ce_daily) AS days WHERE `+w.String(), w.args...).Scan(&lo, &hi); err != nil {
		return from, to, false, crossbill.Errorf(crossbill.CodeInternal, "cost query", "finding the billing periods' days: %w", err)
	}
	if !lo.Valid {
		return from, to, false, nil
	}
	return lo.Time.UTC(), hi.Time.UTC().AddDate(0, 0, 1), true, nil
}

// LatestDay is the last day with cost data for the tenant (NotFound when
// it has none).
func (s *Store) LatestDay(ctx context.Context, tenant crossbill.TenantID) (time.Time, error) {
	return s.latestDay(ctx, tenant)
}

// latestDay is the last day with cost data for the tenant.
func (s *Store) latestDay(ctx context.Context, tenant crossbill.TenantID) (time.Time, error) {
	var t sql.NullTime
	// Cost Explorer data counts: it is all a tenant has before its first CUR.
	if err := s.db.QueryRowContext(ctx, `SELECT max(d) FROM (SELECT max(day)::TIMESTAMP AS d FROM cost_daily WHERE tenant = ?
		UNION ALL SELECT max(day)::TIMESTAMP FROM ce_daily WHERE tenant = ?)`, string(tenant), string(tenant)).Scan(&t); err != nil {
		return time.Time{}, crossbill.Errorf(crossbill.CodeInternal, "cost query", "finding the latest cost data: %w", err)
	}
	if !t.Valid {
		return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, "cost query", "tenant %q has no cost data yet; load some with `crossbill cur ingest --source ... --tenant %s`", tenant, tenant)
	}
	return t.Time.UTC(), nil
}

// Query plans, one per table that can answer.
const (
	sourceDaily     = "cost_daily"
	sourceDailyDim  = "cost_daily_dim"
	sourceLineItems = "line_items"
)

// plan picks the smallest table that holds every dimension of q and writes
// the statement. Results are (period TIMESTAMP, group VARCHAR, value DOUBLE).
func plan(q Query) (stmt string, args []any, source string) {
	var keyed []Dim
	plainOK := true // every plain dimension is in cost_daily_dim
	note := func(d Dim) {
		if d.keyed() {
			if !containsDim(keyed, d) {
				keyed = append(keyed, d)
			}
		} else if d.Kind != "" && !d.inDimRollup() {
			plainOK = false
		}
	}
	note(q.GroupBy)
	for _, f := range q.Filters {
		note(f.Dim)
	}
	switch {
	case q.Granularity == Hourly:
		return planLineItems(q)
	case len(keyed) == 0:
		return planDaily(q)
	case len(keyed) == 1 && plainOK:
		return planDailyDim(q, keyed[0])
	}
	return planLineItems(q)
}

// where collects conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(expr string, values []string) { w.inWith(expr, nil, values) }

// inWith is in for an expression that has arguments of its own.
func (w *where) inWith(expr string, exprArgs []any, values []string) {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")
	args := append([]any(nil), exprArgs...)
	for _, v := range values {
		args = append(args, v)
	}
	w.add(expr+" IN ("+marks+")", args...)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// bucketExpr truncates a day or timestamp column to the query's granularity.
func bucketExpr(g Granularity, col string) string {
	switch g {
	case Hourly:
		return "date_trunc('hour', " + col + ")::TIMESTAMP"
	case Monthly:
		return "date_trunc('month', " + col + ")::TIMESTAMP"
	}
	return col + "::DATE::TIMESTAMP"
}

func planDaily(q Query) (string, []any, string) {
	w := &where{}
	w.add("tenant = ?", string(q.Tenant))
	w.add("day >= ?::DATE AND day < ?::DATE", q.From, q.To)
	for _, f := range q.Filters {
		w.in(f.Dim.column(), f.Values)
	}
	group := "''"
	if q.GroupBy.Kind != "" {
		group = q.GroupBy.column()
	}
	stmt := fmt.Sprintf(`SELECT %s AS period, %s AS grp, sum(%s) AS value FROM cost_daily WHERE %s GROUP BY 1, 2`,
		bucketExpr(q.Granularity, "day"), group, q.Metric, w)
	return stmt, w.args, sourceDaily
}

// planDailyDim answers from cost_daily_dim, for queries with one tag or cost
// category; value NULL holds the line items without it.
func planDailyDim(q Query, k Dim) (string, []any, string) {
	kind := "tag"
	if k.Kind == DimCostCategory {
		kind = "cost_category"
	}
	w, plain := &where{}, &where{}
	for _, x := range []*where{w, plain} {
		x.add("tenant = ?", string(q.Tenant))
		x.add("day >= ?::DATE AND day < ?::DATE", q.From, q.To)
	}
	w.add("kind = ? AND key = ?", kind, normalizeKey(k))
	untagged := q.GroupBy.keyed()
	for _, f := range q.Filters {
		if !f.Dim.keyed() {
			w.in(f.Dim.column(), f.Values)
			plain.in(f.Dim.column(), f.Values)
			continue
		}
		var vals []string
		for _, v := range f.Values {
			if v != "" {
				vals = append(vals, v)
			}
		}
		cond, args := "false", []any(nil)
		if len(vals) > 0 {
			cond = "value IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")"
			for _, v := range vals {
				args = append(args, v)
			}
		}
		if len(vals) < len(f.Values) {
			cond += " OR value IS NULL"
		} else {
			untagged = false
		}
		w.add("("+cond+")", args...)
	}
	group := "''"
	switch {
	case q.GroupBy.keyed():
		group = "value"
	case q.GroupBy.Kind != "":
		group = q.GroupBy.column()
	}
	bucket := bucketExpr(q.Granularity, "day")
	stmt := fmt.Sprintf(`SELECT %s AS period, %s AS grp, sum(%s) AS value FROM cost_daily_dim WHERE %s GROUP BY 1, 2`,
		bucket, group, q.Metric, w)
	if !untagged {
		return stmt, w.args, sourceDailyDim
	}
	// Loads in which no line item has the key hold no row for it in
	// cost_daily_dim: all their cost is untagged.
	if q.GroupBy.keyed() {
		group = "NULL"
	}
	stmt += fmt.Sprintf(`
	UNION ALL
	SELECT %s, %s, sum(%s) FROM cost_daily WHERE %s AND (source, billing_period) NOT IN (
		SELECT DISTINCT source, billing_period FROM cost_daily_dim
		WHERE tenant = ? AND day >= ?::DATE AND day < ?::DATE AND kind = ? AND key = ?)
	GROUP BY 1, 2`, bucket, group, q.Metric, plain)
	args := append(append(append([]any(nil), w.args...), plain.args...), string(q.Tenant), q.From, q.To, kind, normalizeKey(k))
	return stmt, args, sourceDailyDim
}

func planLineItems(q Query) (string, []any, string) {
	w := &where{}
	w.add("tenant = ?", string(q.Tenant))
	w.add("usage_start >= ?::TIMESTAMP AND usage_start < ?::TIMESTAMP", q.From, q.To)
	var args []any
	group := "''"
	if q.GroupBy.Kind != "" {
		var a []any
		group, a = lineItemExpr(q.GroupBy)
		args = append(args, a...)
	}
	for _, f := range q.Filters {
		expr, a := lineItemExpr(f.Dim)
		w.inWith(expr, a, f.Values)
	}
	// Arguments in statement order: the group expression's, then WHERE's.
	stmt := fmt.Sprintf(`SELECT %s AS period, %s AS grp, sum(%s) AS value FROM line_items WHERE %s GROUP BY 1, 2`,
		bucketExpr(q.Granularity, "usage_start"), group, q.Metric, w)
	return stmt, append(args, w.args...), sourceLineItems
}

// lineItemExpr is a dimension's expression over line_items; keyed ones
// look the key up in the map as written, with CUR 2.0's "user_" prefix and
// with FOCUS's "user:" prefix.
func lineItemExpr(d Dim) (string, []any) {
	if !d.keyed() {
		return d.column(), nil
	}
	col := "tags"
	if d.Kind == DimCostCategory {
		col = "cost_categories"
	}
	k := normalizeKey(d)
	return fmt.Sprintf("coalesce(%[1]s[?], %[1]s['user_' || ?], %[1]s['user:' || ?], '')", col), []any{k, k, k}
}

// normalizeKey strips the CUR 2.0 / FOCUS user-tag prefix, as the rollup does.
func normalizeKey(d Dim) string {
	if d.Kind != DimTag {
		return d.Key
	}
	for _, p := range []string{"user_", "user:"} {
		if k, ok := strings.CutPrefix(d.Key, p); ok && k != "" {
			return k
		}
	}
	return d.Key
}

// topN keeps the n groups with the largest totals and folds the rest into
// OthersGroup; n <= 0 keeps all.
func topN(rows []Row, n int) ([]Row, []GroupTotal) {
	totals := map[string]float64{}
	for _, r := range rows {
		totals[r.Group] += r.Value
	}
	ranked := make([]GroupTotal, 0, len(totals))
	for g, v := range totals {
		ranked = append(ranked, GroupTotal{Group: g, Value: v})
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].Value != ranked[j].Value {
			return ranked[i].Value > ranked[j].Value
		}
		return ranked[i].Group < ranked[j].Group
	})
	if n > 0 && len(ranked) > n {
		keep := map[string]bool{}
		for _, g := range ranked[:n] {
			keep[g.Group] = true
		}
		others := GroupTotal{Group: OthersGroup}
		for _, g := range ranked[n:] {
			others.Value += g.Value
		}
		ranked = append(ranked[:n:n], others)
		merged := map[time.Time]float64{}
		var kept []Row
		for _, r := range rows {
			if keep[r.Group] {
				kept = append(kept, r)
			} else {
				merged[r.Period] += r.Value
			}
		}
		for p, v := range merged {
			kept = append(kept, Row{Period: p, Group: OthersGroup, Value: v})
		}
		rows = kept
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].Period.Equal(rows[j].Period) {
			return rows[i].Period.Before(rows[j].Period)
		}
		if rows[i].Value != rows[j].Value {
			return rows[i].Value > rows[j].Value
		}
		return rows[i].Group < rows[j].Group
	})
	if rows == nil {
		rows = []Row{}
	}
	return rows, ranked
}

func containsDim(ds []Dim, d Dim) bool {
	for _, x := range ds {
		if x.Kind == d.Kind && normalizeKey(x) == normalizeKey(d) {
			return true
		}
	}
	return false
}
