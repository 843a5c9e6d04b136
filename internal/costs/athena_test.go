package costs_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// TestAthenaSQLMatchesStore: Amazon Athena cannot run here (moto's Athena
// does not execute SQL), so the SQL crossbill sends it is executed by
// DuckDB over the same CUR 2.0 Parquet files, laid out as the Glue table
// sees them (billing_period partitions), and must give the cost store's
// answer to the same query: every metric, plain and tag groupings,
// filters and granularities. The SQL keeps to what Trino and DuckDB both
// run the same way (see costs.AthenaSQL).
func TestAthenaSQLMatchesStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 7, Accounts: 2, Months: 2, ResourcesPerAccount: 4,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(gen.Dir, gen.Prefix, gen.Export)
	s := openStore(t)
	if _, err := ingest.Ingest(ctx, s, ingest.Options{Source: export, Tenant: "t1"}); err != nil {
		t.Fatal(err)
	}
	// The Glue table: every Parquet file of the export, partitioned by
	// BILLING_PERIOD as the CUR stack's table projects it.
	db := s.DB()
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS billing`,
		`CREATE OR REPLACE VIEW billing.cur AS SELECT * FROM read_parquet(` + quote(filepath.Join(export, "data", "*", "*.parquet")) + `, hive_partitioning = true, union_by_name = true)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	jan, mar := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var cases []costs.Query
	for _, m := range costs.Metrics() {
		for _, g := range []costs.Dim{{}, {Kind: costs.DimService}, {Kind: costs.DimAccount}, {Kind: costs.DimTag, Key: "team"}, {Kind: costs.DimChargeType}} {
			cases = append(cases, costs.Query{Metric: m, GroupBy: g, Granularity: costs.Monthly, From: jan, To: mar})
		}
	}
	cases = append(cases,
		costs.Query{Metric: costs.MetricAmortized, GroupBy: costs.Dim{Kind: costs.DimRegion}, Granularity: costs.Daily, From: jan, To: mar},
		costs.Query{Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimUsageType}, Granularity: costs.Hourly, From: jan, To: jan.AddDate(0, 0, 2), Top: 5},
		costs.Query{Metric: costs.MetricAmortized, GroupBy: costs.Dim{Kind: costs.DimBillingPeriod}, Granularity: costs.Monthly, From: jan, To: mar},
		costs.Query{Metric: costs.MetricAmortized, GroupBy: costs.Dim{Kind: costs.DimService}, Granularity: costs.Daily, From: jan, To: mar,
			Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimTag, Key: "user_team"}, Values: []string{"payments", ""}},
				{Dim: costs.Dim{Kind: costs.DimChargeType}, Values: []string{"Usage", "SavingsPlanCoveredUsage"}}}},
	)
	for i, q := range cases {
		t.Run(fmt.Sprintf("%d-%s-%s-%s", i, q.Metric, q.GroupBy, q.Granularity), func(t *testing.T) {
			q.Tenant = "t1"
			want, err := s.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			stmt, err := costs.AthenaSQL(q, "billing.cur")
			if err != nil {
				t.Fatal(err)
			}
			rows, err := runRows(ctx, db, stmt)
			if err != nil {
				t.Fatalf("%v\n%s", err, stmt)
			}
			got := costs.ResultOf(q, "athena", rows)
			if len(want.Rows) == 0 {
				t.Fatal("the store answers nothing: the case tests nothing")
			}
			if len(got.Rows) != len(want.Rows) || math.Abs(got.Total-want.Total) > 1e-6*math.Max(1, math.Abs(want.Total)) {
				t.Fatalf("Athena SQL: %d rows, total %v; the store: %d rows, total %v\n%s", len(got.Rows), got.Total, len(want.Rows), want.Total, stmt)
			}
			for j, r := range want.Rows {
				g := got.Rows[j]
				if !g.Period.Equal(r.Period) || g.Group != r.Group || math.Abs(g.Value-r.Value) > 1e-6*math.Max(1, math.Abs(r.Value)) {
					t.Fatalf("row %d: Athena SQL %+v, the store %+v\n%s", j, g, r, stmt)
				}
			}
		})
	}
}

func runRows(ctx context.Context, db *sql.DB, stmt string) ([]costs.Row, error) {
	rs, err := db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []costs.Row
	for rs.Next() {
		var r costs.Row
		var v sql.NullFloat64
		if err := rs.Scan(&r.Period, &r.Group, &v); err != nil {
			return nil, err
		}
		r.Period, r.Value = r.Period.UTC(), v.Float64
		out = append(out, r)
	}
	return out, rs.Err()
}

func TestAthenaSQLRefuses(t *testing.T) {
	t.Parallel()
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		q     costs.Query
		table string
	}{
		"no dates":   {costs.Query{}, "db.cur"},
		"bad metric": {costs.Query{Metric: "x", From: jan, To: jan.AddDate(0, 1, 0)}, "db.cur"},
		"bad table":  {costs.Query{From: jan, To: jan.AddDate(0, 1, 0)}, "db.cur; DROP TABLE x"},
	} {
		if _, err := costs.AthenaSQL(c.q, c.table); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Values are quoted: a quote in a filter value stays inside its literal.
	stmt, err := costs.AthenaSQL(costs.Query{From: jan, To: jan.AddDate(0, 1, 0),
		Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimTag, Key: "o'k"}, Values: []string{"a'; DROP TABLE x; --"}}}}, "db.cur")
	if err != nil {
		t.Fatal(err)
	}
	if want := `'a''; DROP TABLE x; --'`; !contains(stmt, want) || !contains(stmt, `'o''k'`) {
		t.Fatalf("values not quoted:\n%s", stmt)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
