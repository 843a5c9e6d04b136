package costs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// MaxValues is how many values a dimension listing returns at most: the
// web UI's pickers offer them, and a tenant's bill can hold far more
// usage types or tag values than a picker shows.
const MaxValues = 1000

// DimValues is a dimension's values over a few recent billing periods:
// the values of a plain dimension (service, account...), the keys of
// tag or cost-category, or the values of tag:KEY / cost-category:KEY.
type DimValues struct {
	Dimension      string   `json:"dimension"`
	BillingPeriods []string `json:"billing_periods"`
	Values         []string `json:"values"`
	// Truncated says there are more than MaxValues values.
	Truncated bool `json:"truncated"`
}

// ParseValuesDim reads what a dimension listing asks for: a plain
// dimension, "tag" or "cost-category" (their keys), or a keyed dimension
// (that key's values).
func ParseValuesDim(s string) (Dim, error) {
	if k := strings.ToLower(strings.TrimSpace(s)); k == DimTag || k == DimCostCategory {
		return Dim{Kind: k}, nil
	}
	d, err := ParseDim(s)
	if err != nil {
		return Dim{}, crossbill.Errorf(crossbill.CodeInvalid, "dimension values", "%w (tag or cost-category alone lists their keys)", err)
	}
	return d, nil
}

// RecentPeriods is the months billing periods up to now's month, oldest
// first (YYYY-MM).
func RecentPeriods(now time.Time, months int) []string {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1-max(months, 1), 0)
	var out []string
	for p := first; !p.After(now); p = p.AddDate(0, 1, 0) {
		out = append(out, p.Format("2006-01"))
	}
	return out
}

// keysSQL strips a tag key's user prefix as normalizeKey does (a key
// that is the prefix alone is kept), in SQL both DuckDB and Trino run.
func keysSQL(k string, prefixes ...string) string {
	expr := k
	for _, p := range prefixes {
		n := len(p)
		expr = fmt.Sprintf("CASE WHEN length(%[1]s) > %[2]d AND substr(%[1]s, 1, %[2]d) = %[3]s THEN substr(%[1]s, %[4]d) ELSE %[5]s END",
			k, n, quoteString(p), n+1, expr)
	}
	return expr
}

// valuesSQL lists d's values from table (FROM and its conditions given),
// non-empty, sorted, at most limit.
func valuesSQL(d Dim, from, mapCol, plainExpr string, conds []string, prefixes []string, limit int) string {
	if d.keyed() && d.Key == "" {
		return fmt.Sprintf("SELECT DISTINCT %s AS value\nFROM %s\nCROSS JOIN UNNEST(map_keys(%s)) AS u(k)\nWHERE %s\nORDER BY 1\nLIMIT %d",
			keysSQL("k", prefixes...), from, mapCol, strings.Join(conds, "\n  AND "), limit)
	}
	conds = append(conds, plainExpr+" <> ''")
	return fmt.Sprintf("SELECT DISTINCT %s AS value\nFROM %s\nWHERE %s\nORDER BY 1\nLIMIT %d", plainExpr, from, strings.Join(conds, "\n  AND "), limit)
}

// AthenaValuesSQL lists d's values in table's billing periods (its
// partitions, so that the scan stays within them), at most limit: the
// Athena engine's dimension listing. Results are (value) rows.
func AthenaValuesSQL(table string, d Dim, periods []string, limit int) (string, error) {
	if err := checkAthenaList(table, periods); err != nil {
		return "", err
	}
	mapCol := "resource_tags"
	if d.Kind == DimCostCategory {
		mapCol = "cost_category"
	}
	var prefixes []string
	if d.Kind == DimTag {
		prefixes = []string{"user_"}
	}
	conds := []string{"billing_period IN (" + quoteList(periods) + ")"}
	expr := ""
	if !d.keyed() || d.Key != "" {
		expr = athenaDimExpr(d)
	}
	return valuesSQL(d, table, mapCol, expr, conds, prefixes, limit), nil
}

// AthenaPeriodsSQL lists which of periods table holds line items in,
// with their count: (billing_period, line_items) rows, oldest first. The
// count of a partition is read from the Parquet files' footers.
func AthenaPeriodsSQL(table string, periods []string) (string, error) {
	if err := checkAthenaList(table, periods); err != nil {
		return "", err
	}
	return fmt.Sprintf("SELECT billing_period, count(*) AS line_items\nFROM %s\nWHERE billing_period IN (%s)\nGROUP BY 1\nORDER BY 1",
		table, quoteList(periods)), nil
}

func checkAthenaList(table string, periods []string) error {
	const op = "athena query"
	if !athenaTable.MatchString(table) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "table %q: want DATABASE.TABLE of letters, digits and underscores", table)
	}
	if len(periods) == 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "no billing period to read")
	}
	for _, p := range periods {
		if _, err := time.Parse("2006-01", p); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "billing period %q: want YYYY-MM", p)
		}
	}
	return nil
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quoteString(v)
	}
	return strings.Join(q, ", ")
}

// DimensionValues lists d's values in the tenant's loaded billing periods
// (YYYY-MM), non-empty, sorted, at most limit: the local engine's
// dimension listing, over line_items as normalized at load.
func (s *Store) DimensionValues(ctx context.Context, tenant crossbill.TenantID, d Dim, periods []string, limit int) ([]string, error) {
	const op = "dimension values"
	out := []string{}
	if len(periods) == 0 {
		return out, nil
	}
	mapCol := "tags"
	if d.Kind == DimCostCategory {
		mapCol = "cost_categories"
	}
	var prefixes []string
	if d.Kind == DimTag {
		prefixes = []string{"user_", "user:"}
	}
	args := []any{string(tenant)}
	marks := make([]string, len(periods))
	for i, p := range periods {
		marks[i] = "?"
		args = append(args, p)
	}
	conds := []string{"tenant = ?", "billing_period IN (" + strings.Join(marks, ", ") + ")"}
	expr := ""
	var exprArgs []any
	if !d.keyed() || d.Key != "" {
		expr, exprArgs = lineItemExpr(d)
	}
	stmt := valuesSQL(d, "line_items", mapCol, expr, conds, prefixes, limit)
	// The expression's arguments come first in the SELECT, then again in
	// the condition that drops empty values.
	all := append(append(append([]any{}, exprArgs...), args...), exprArgs...)
	if d.keyed() && d.Key == "" {
		all = args
	}
	rows, err := s.db.QueryContext(ctx, stmt, all...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}
