package costs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

func jan(day int) time.Time { return time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC) }

// TestAmortizedCommitments checks every metric on the commitment scenario,
// by charge type, against a golden file, and the totals by hand.
func TestAmortizedCommitments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if n := loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario()); n != 11 {
		t.Fatalf("loaded %d rows, want 11", n)
	}
	type metricResult struct {
		Metric string             `json:"metric"`
		Total  float64            `json:"total"`
		ByType []costs.GroupTotal `json:"by_charge_type"`
	}
	var out []metricResult
	totals := map[string]float64{}
	for _, m := range costs.Metrics() {
		res, err := s.Query(ctx, costs.Query{Tenant: "acme", Metric: m, GroupBy: costs.Dim{Kind: costs.DimChargeType},
			Granularity: costs.Monthly, From: jan(1), To: jan(32)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, metricResult{Metric: m, Total: round(res.Total), ByType: roundTotals(res.Totals)})
		totals[m] = round(res.Total)
	}
	want := map[string]float64{
		costs.MetricUnblended: 844.5, // every fee as billed; the negation cancels covered usage
		costs.MetricAmortized: 25.5,  // covered usage at effective cost + unused commitment, no upfront fees
		costs.MetricNet:       844,   // the usage row's $0.50 discount
		costs.MetricList:      27,    // on-demand value of the usage: 5 + 12 + 3 + 7
		costs.MetricUsage:     5,     // usage rows only (1+1+1+2), not the RI fee's hours
	}
	for m, w := range want {
		if totals[m] != w {
			t.Errorf("%s total = %v, want %v", m, totals[m], w)
		}
	}
	golden(t, "commitments.golden.json", mustJSON(t, out))
}

// TestFOCUSView checks that the FOCUS view over CUR keeps the totals
// (sum BilledCost = unblended, sum EffectiveCost = amortized) and splits
// commitments into used and unused rows.
func TestFOCUSView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario())
	var billed, effective, list float64
	if err := s.DB().QueryRowContext(ctx, `SELECT sum(BilledCost), sum(EffectiveCost), sum(ListCost) FROM focus WHERE tenant = 'acme'`).
		Scan(&billed, &effective, &list); err != nil {
		t.Fatal(err)
	}
	if round(billed) != 844.5 || round(effective) != 25.5 || round(list) != 27 {
		t.Errorf("focus sums billed %v effective %v list %v; want 844.5, 25.5, 27", billed, effective, list)
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT ChargeCategory, coalesce(CommitmentDiscountType, ''), coalesce(CommitmentDiscountCategory, ''),
			coalesce(CommitmentDiscountStatus, ''), ChargeFrequency, round(sum(BilledCost), 4), round(sum(EffectiveCost), 4), count(*)
		FROM focus WHERE tenant = 'acme' GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type focusRow struct {
		Category, Type, DiscountCategory, Status, Frequency string
		Billed, Effective                                   float64
		Rows                                                int
	}
	var got []focusRow
	for rows.Next() {
		var r focusRow
		if err := rows.Scan(&r.Category, &r.Type, &r.DiscountCategory, &r.Status, &r.Frequency, &r.Billed, &r.Effective, &r.Rows); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden(t, "focus.golden.json", mustJSON(t, got))
}

// TestQueryPlans checks that rollups and line items give the same answers,
// including the untagged group and filters.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario())
	loadRows(t, s, "other", "2026-01", "exec-1", commitmentScenario()[:1])
	cases := []struct {
		name       string
		q          costs.Query
		wantSource string
		want       map[string]float64
	}{
		{"by service", costs.Query{GroupBy: costs.Dim{Kind: costs.DimService}}, "cost_daily",
			map[string]float64{"AmazonEC2": 21, "AmazonRDS": 2.5, "ComputeSavingsPlans": 2}},
		{"by tag", costs.Query{GroupBy: costs.Dim{Kind: costs.DimTag, Key: "team"}}, "cost_daily_dim",
			map[string]float64{"web": 12, "api": 8, "(no tag)": 5.5}},
		{"by tag, hourly", costs.Query{GroupBy: costs.Dim{Kind: costs.DimTag, Key: "user_team"}, Granularity: costs.Hourly}, "line_items",
			map[string]float64{"web": 12, "api": 8, "(no tag)": 5.5}},
		{"tag filter", costs.Query{GroupBy: costs.Dim{Kind: costs.DimRegion},
			Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimTag, Key: "team"}, Values: []string{"web"}}}}, "cost_daily_dim",
			map[string]float64{"us-east-1": 5, "us-west-2": 7}},
		{"untagged filter", costs.Query{GroupBy: costs.Dim{Kind: costs.DimService},
			Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimTag, Key: "team"}, Values: []string{""}}}}, "cost_daily_dim",
			map[string]float64{"AmazonEC2": 1, "AmazonRDS": 2.5, "ComputeSavingsPlans": 2}},
		{"cost category and usage type", costs.Query{GroupBy: costs.Dim{Kind: costs.DimUsageType},
			Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimCostCategory, Key: "env"}, Values: []string{"prod"}}}}, "line_items",
			map[string]float64{"AmazonEC2:usage": 7}},
		{"untagged filter, line items", costs.Query{GroupBy: costs.Dim{Kind: costs.DimService}, Granularity: costs.Hourly,
			Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimTag, Key: "team"}, Values: []string{""}}}}, "line_items",
			map[string]float64{"AmazonEC2": 1, "AmazonRDS": 2.5, "ComputeSavingsPlans": 2}},
		{"tag no line item has", costs.Query{GroupBy: costs.Dim{Kind: costs.DimTag, Key: "owner"}}, "cost_daily_dim",
			map[string]float64{"(no tag)": 25.5}},
		{"cost category, untagged filter", costs.Query{Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimCostCategory, Key: "env"}, Values: []string{"", "prod"}}}}, "cost_daily_dim",
			map[string]float64{"total": 25.5}},
		{"top 1", costs.Query{GroupBy: costs.Dim{Kind: costs.DimService}, Top: 1}, "cost_daily",
			map[string]float64{"AmazonEC2": 21, "others": 4.5}},
		{"top 1 by tag", costs.Query{GroupBy: costs.Dim{Kind: costs.DimTag, Key: "team"}, Top: 1}, "cost_daily_dim",
			map[string]float64{"web": 12, "others": 13.5}},
		{"top 2 by tag, hourly", costs.Query{GroupBy: costs.Dim{Kind: costs.DimTag, Key: "team"}, Granularity: costs.Hourly, Top: 2}, "line_items",
			map[string]float64{"web": 12, "api": 8, "others": 5.5}},
		{"top 5 of 3", costs.Query{GroupBy: costs.Dim{Kind: costs.DimService}, Granularity: costs.Hourly, Top: 5}, "line_items",
			map[string]float64{"AmazonEC2": 21, "AmazonRDS": 2.5, "ComputeSavingsPlans": 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q := c.q
			q.Tenant, q.From, q.To = "acme", jan(1), jan(32)
			res, err := s.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if res.Source != c.wantSource {
				t.Errorf("answered from %s, want %s", res.Source, c.wantSource)
			}
			got := map[string]float64{}
			for _, g := range res.Totals {
				got[g.Group] = round(g.Value)
			}
			if len(got) != len(c.want) {
				t.Errorf("groups %v, want %v", got, c.want)
			}
			for g, w := range c.want {
				if got[g] != w {
					t.Errorf("%s = %v, want %v (all: %v)", g, got[g], w, got)
				}
			}
		})
	}
}

// TestQueryRowCap checks that MaxRows refuses a large answer with how to
// narrow it, and that --top folds groups before the cap counts rows.
func TestQueryRowCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario())
	q := costs.Query{Tenant: "acme", From: jan(1), To: jan(32), GroupBy: costs.Dim{Kind: costs.DimService}, Granularity: costs.Hourly}
	all, err := s.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	top := q
	top.Top = 1
	folded, err := s.Query(ctx, top)
	if err != nil {
		t.Fatal(err)
	}
	if len(folded.Rows) >= len(all.Rows) || folded.Totals[len(folded.Totals)-1].Group != costs.OthersGroup {
		t.Fatalf("top 1 gives %d rows (all: %d), totals %v; want fewer rows and others last", len(folded.Rows), len(all.Rows), folded.Totals)
	}
	q.MaxRows = len(all.Rows)
	if _, err := s.Query(ctx, q); err != nil {
		t.Errorf("exactly MaxRows rows: %v", err)
	}
	q.MaxRows = len(all.Rows) - 1
	_, err = s.Query(ctx, q)
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(fmt.Sprint(err), "coarser granularity") || !strings.Contains(fmt.Sprint(err), "top N") {
		t.Errorf("one row over the cap: %v; want an invalid-input error saying how to narrow the query", err)
	}
	top.MaxRows = len(folded.Rows)
	if _, err := s.Query(ctx, top); err != nil {
		t.Errorf("top 1 under the cap: %v", err)
	}
}

func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func roundTotals(ts []costs.GroupTotal) []costs.GroupTotal {
	for i := range ts {
		ts[i].Value = round(ts[i].Value)
	}
	return ts
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}
