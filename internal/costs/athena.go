package costs

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// AthenaSQL renders q as one statement over a CUR 2.0 table read in place
// (the CUR stack's optional Glue table over the export's Parquet files,
// partitioned by billing_period), for organizations whose bill is too
// large for one node's cost store. The metrics are the cost model's own
// (model.go). The SQL is the subset that Amazon Athena (Trino) and DuckDB
// both run the same way, so that its results are tested with DuckDB on the
// same Parquet: CASE, coalesce, date_trunc, try(map[key]), TIMESTAMP
// literals. Values are inlined as quoted literals (Athena's execution
// parameters take no lists). Tags are read from resource_tags, the column
// every CUR 2.0 export has. Results are (period, grp, value) rows.
func AthenaSQL(q Query, table string) (string, error) {
	const op = "athena query"
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "Athena queries need --from and --to (from before to): the CUR is scanned in place, with no store to find the latest month in")
	}
	if q.Metric == "" {
		q.Metric = MetricAmortized
	}
	metric, err := ParseMetric(q.Metric)
	if err != nil {
		return "", err
	}
	if q.Granularity == "" {
		q.Granularity = Daily
	}
	if _, err := ParseGranularity(string(q.Granularity)); err != nil {
		return "", err
	}
	if !athenaTable.MatchString(table) {
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "table %q: want DATABASE.TABLE of letters, digits and underscores", table)
	}
	group := "''"
	if q.GroupBy.Kind != "" {
		group = athenaDimExpr(q.GroupBy)
	}
	conds := []string{
		"line_item_usage_start_date >= " + athenaTimestamp(q.From),
		"line_item_usage_start_date < " + athenaTimestamp(q.To),
	}
	for _, f := range q.Filters {
		if len(f.Values) == 0 {
			return "", crossbill.Errorf(crossbill.CodeInvalid, op, "filter on %s has no values", f.Dim)
		}
		vals := make([]string, len(f.Values))
		for i, v := range f.Values {
			vals[i] = quoteString(v)
		}
		conds = append(conds, athenaDimExpr(f.Dim)+" IN ("+strings.Join(vals, ", ")+")")
	}
	return fmt.Sprintf("SELECT date_trunc('%s', line_item_usage_start_date) AS period, %s AS grp, sum(%s) AS value\nFROM %s\nWHERE %s\nGROUP BY 1, 2",
		athenaUnit(q.Granularity), group, athenaMetric(metric), table, strings.Join(conds, "\n  AND ")), nil
}

// athenaTable is DATABASE.TABLE as Glue names them.
var athenaTable = regexp.MustCompile(`^[A-Za-z0-9_]{1,255}\.[A-Za-z0-9_]{1,255}$`)

func athenaUnit(g Granularity) string {
	switch g {
	case Hourly:
		return "hour"
	case Monthly:
		return "month"
	}
	return "day"
}

func athenaTimestamp(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05") + "'"
}

// athenaMetric is the cost model's metric over CUR 2.0 columns.
func athenaMetric(m string) string {
	switch m {
	case MetricUnblended:
		return "coalesce(line_item_unblended_cost, 0)"
	case MetricAmortized:
		return amortizedSQL
	case MetricNet:
		return "coalesce(line_item_net_unblended_cost, line_item_unblended_cost, 0)"
	case MetricList:
		return "coalesce(pricing_public_on_demand_cost, 0)"
	}
	return `CASE WHEN line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')
		THEN coalesce(line_item_usage_amount, 0) ELSE 0 END`
}

// athenaDimExpr is a dimension over CUR 2.0 columns, as line_items
// normalizes it; a tag key is looked up as given and with CUR 2.0's
// "user_" prefix. try(): Trino's subscript fails on a missing key, try
// makes it NULL as DuckDB's is (element_at would be Trino's NULL, but is
// a list in DuckDB).
func athenaDimExpr(d Dim) string {
	switch d.Kind {
	case DimTag, DimCostCategory:
		col := "resource_tags"
		if d.Kind == DimCostCategory {
			col = "cost_category"
		}
		k := quoteString(normalizeKey(d))
		return fmt.Sprintf("coalesce(try(%[1]s[%[2]s]), try(%[1]s['user_' || %[2]s]), '')", col, k)
	case DimBillingPeriod:
		return "billing_period"
	}
	col := map[string]string{DimService: "line_item_product_code", DimAccount: "line_item_usage_account_id",
		DimRegion: "product_region_code", DimUsageType: "line_item_usage_type", DimOperation: "line_item_operation",
		DimChargeType: "line_item_line_item_type"}[d.Kind]
	return "coalesce(" + col + ", '')"
}

// ResultOf builds a query's answer from (period, group, value) rows
// computed elsewhere (Athena): top N, totals and labels as Query does.
func ResultOf(q Query, source string, rows []Row) Result {
	res := Result{Metric: q.Metric, Granularity: q.Granularity, Source: source,
		From: q.From.Format("2006-01-02"), To: q.To.Format("2006-01-02"), Sources: []DataSource{}}
	if q.GroupBy.Kind != "" {
		res.GroupBy = q.GroupBy.String()
	}
	for i := range rows {
		switch {
		case q.GroupBy.Kind == "":
			rows[i].Group = "total"
		case rows[i].Group == "":
			rows[i].Group = describe(q.GroupBy, "")
		}
	}
	res.Rows, res.Totals = topN(rows, q.Top)
	for _, t := range res.Totals {
		res.Total += t.Value
	}
	return res
}

// CheckRows refuses an answer of n rows to q when q caps its rows
// (MaxRows), saying how to narrow the query, as Query does.
func CheckRows(q Query, n int) error {
	if q.MaxRows > 0 && n > q.MaxRows {
		return tooManyRows(q)
	}
	return nil
}

// EngineCost is what a query engine that bills by the data it scans
// charged for an answer: Amazon Athena, $5 per TB scanned, each query's
// bytes rounded up to a whole MB with a 10 MB minimum (MB = 2^20 bytes,
// TB = 2^40). Athena bills the customer's account, not crossbill.
type EngineCost struct {
	Queries      int     `json:"queries"`
	ScannedBytes int64   `json:"scanned_bytes"`
	BilledBytes  int64   `json:"billed_bytes"`
	CostUSD      float64 `json:"cost_usd"`
}

// Athena's price: USD per TB scanned, billed by the MB, 10 MB at least.
const (
	AthenaUSDPerTB   = 5.0
	athenaMB         = 1 << 20
	athenaMinimumMB  = 10
	athenaBytesPerTB = 1 << 40
)

// AthenaBilled is the bytes Athena bills for one query that scanned
// scanned bytes.
func AthenaBilled(scanned int64) int64 {
	mb := (max(scanned, 0) + athenaMB - 1) / athenaMB
	return max(mb, athenaMinimumMB) * athenaMB
}

// AthenaCostUSD is the price of billed bytes.
func AthenaCostUSD(billed int64) float64 {
	return float64(billed) / athenaBytesPerTB * AthenaUSDPerTB
}

// Add counts one more query that scanned scanned bytes.
func (c *EngineCost) Add(scanned int64) {
	c.Queries++
	c.ScannedBytes += scanned
	c.BilledBytes += AthenaBilled(scanned)
	c.CostUSD = AthenaCostUSD(c.BilledBytes)
}

// AthenaLatestDaySQL finds the last day with line items in table, the
// Athena engine's "latest day with data" (the local store's LatestDay):
// reading one column of the billing periods of the months months up to
// now's (the table's partitions, so the scan stays small) and usage before
// the day after now. The answer is one row, (latest), NULL without data.
func AthenaLatestDaySQL(table string, now time.Time, months int) (string, error) {
	const op = "athena query"
	if !athenaTable.MatchString(table) {
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "table %q: want DATABASE.TABLE of letters, digits and underscores", table)
	}
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1-max(months, 1), 0)
	var periods []string
	for p := first; !p.After(now); p = p.AddDate(0, 1, 0) {
		periods = append(periods, quoteString(p.Format("2006-01")))
	}
	end := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return fmt.Sprintf("SELECT date_trunc('day', max(line_item_usage_start_date)) AS latest\nFROM %s\nWHERE billing_period IN (%s)\n  AND line_item_usage_start_date >= %s\n  AND line_item_usage_start_date < %s",
		table, strings.Join(periods, ", "), athenaTimestamp(first.AddDate(0, -1, 0)), athenaTimestamp(end)), nil
}

// CheckAthenaTable refuses a table name that is not Glue's DATABASE.TABLE
// (the name is inlined in the SQL).
func CheckAthenaTable(table string) error {
	if !athenaTable.MatchString(table) {
		return crossbill.Errorf(crossbill.CodeInvalid, "athena query", "table %q: want DATABASE.TABLE of letters, digits and underscores", table)
	}
	return nil
}
