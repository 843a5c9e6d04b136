package costs_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestExplorerThenCUR: Cost Explorer days answer queries (labelled) before
// any CUR; each query reads the one grouping holding its dimensions, never
// two (which would double the cost); loading a CUR period reconciles and
// replaces that period's Cost Explorer data, and a later Cost Explorer
// load leaves it out.
func TestExplorerThenCUR(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	const tenant = crossbill.TenantID("acme")
	dec, jan := day("2025-12-31"), day("2026-01-01")
	mustReplace := func(grouping string, rows []costs.ExplorerRow) {
		t.Helper()
		if _, err := s.ReplaceExplorerDays(ctx, tenant, "conn-1", grouping, day("2025-12-01"), day("2026-02-01"), rows); err != nil {
			t.Fatal(err)
		}
	}
	// 10 in December, 20 in January (both groupings agree, as Cost
	// Explorer's do).
	mustReplace(costs.GroupingAccountService, []costs.ExplorerRow{
		{Day: dec, Account: "111111111111", Service: "Amazon Elastic Compute Cloud - Compute", Unblended: 10, Amortized: 10},
		{Day: jan, Account: "111111111111", Service: "Amazon Elastic Compute Cloud - Compute", Unblended: 15, Amortized: 15},
		{Day: jan, Account: "111111111111", Service: "Amazon Simple Storage Service", Unblended: 5, Amortized: 5},
	})
	mustReplace(costs.GroupingAccountRegion, []costs.ExplorerRow{
		{Day: dec, Account: "111111111111", Region: "us-east-1", Unblended: 10, Amortized: 10},
		{Day: jan, Account: "111111111111", Region: "us-east-1", Unblended: 20, Amortized: 20},
	})
	mustReplace(costs.GroupingTagService, []costs.ExplorerRow{
		{Day: jan, TagKey: "team", TagValue: "web", Service: "Amazon Simple Storage Service", Unblended: 5, Amortized: 5},
		{Day: jan, TagKey: "team", Service: "Amazon Elastic Compute Cloud - Compute", Unblended: 15, Amortized: 15},
	})
	q := func(by string, filters ...string) costs.Result {
		t.Helper()
		in := costs.QueryInput{GroupBy: by, From: "2025-12-01", To: "2026-02-01", Granularity: "monthly", Metric: "unblended", Filters: filters}
		qq, err := costs.ParseQuery(tenant, in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Query(ctx, qq)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, by := range []string{"", "account", "service", "region"} {
		if r := q(by); r.Total != 30 {
			t.Errorf("group by %q: total %v, want 30 (one grouping, never two)", by, r.Total)
		}
	}
	if r := q("tag:team"); r.Total != 20 || len(r.Totals) != 2 || r.Totals[0].Group != "(no tag)" {
		t.Errorf("by tag: %+v", r.Totals)
	}
	r := q("region", "account=111111111111")
	if len(r.Sources) != 1 || r.Sources[0].Label != costs.ExplorerLabel || !r.Sources[0].Included || r.Sources[0].From != "2025-12-31" {
		t.Errorf("sources before any CUR: %+v", r.Sources)
	}
	if r := q("usage-type", "account=111111111111"); r.Total != 0 || len(r.Sources) != 1 || r.Sources[0].Included || r.Sources[0].Note == "" {
		t.Errorf("a query no grouping answers must say so, not guess: total %v, sources %+v", r.Total, r.Sources)
	}

	// The CUR's January: 22 where Cost Explorer said 20.
	loadRows(t, s, string(tenant), "2026-01", "exec-1", []costtest.Row{lineItem(5, "Usage", "AmazonEC2", "us-east-1", 22, nil)})
	if r := q(""); r.Total != 32 || len(r.Sources) != 2 {
		t.Errorf("after the CUR's January: total %v (want 10 Cost Explorer December + 22 CUR January), sources %+v", r.Total, r.Sources)
	}
	rec, err := s.Reconciliations(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 2 || rec[0].Account != "" || rec[0].Explorer != 20 || rec[0].CUR != 22 || rec[0].Difference != 2 || !rec[0].OverTolerance {
		t.Errorf("reconciliation: %+v", rec)
	}
	// A Cost Explorer reload of both months keeps the CUR's January.
	mustReplace(costs.GroupingAccountService, []costs.ExplorerRow{
		{Day: dec, Account: "111111111111", Service: "x", Unblended: 10},
		{Day: jan, Account: "111111111111", Service: "x", Unblended: 99},
	})
	if r := q("service"); r.Total != 32 {
		t.Errorf("a Cost Explorer reload overrode the CUR's period: total %v", r.Total)
	}
	sp, err := s.ExplorerSpan(ctx, tenant)
	if err != nil || sp.Days != 1 || len(sp.Periods) != 1 || sp.Periods[0] != "2025-12" {
		t.Errorf("span: %+v, %v", sp, err)
	}
}

// TestExplorerNamesAndForecast: account names merge per connection (an
// incremental answer naming one account keeps the others), an account
// answered without a name is not asked again yet has no name, another
// tenant sees none of them; Cost Explorer's forecasts of two connections
// add up beside crossbill's, on top of the cost held before their first
// day, and a filtered forecast goes without them.
func TestExplorerNamesAndForecast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	const tenant = crossbill.TenantID("acme")
	var rows []costs.ExplorerRow
	for d := day("2026-03-01"); d.Before(day("2026-03-15")); d = d.AddDate(0, 0, 1) {
		rows = append(rows, costs.ExplorerRow{Day: d, Account: "111111111111", Service: "S", Unblended: 1},
			costs.ExplorerRow{Day: d, Account: "222222222222", Service: "S", Unblended: 1},
			costs.ExplorerRow{Day: d, Account: "333333333333", Service: "S", Unblended: 1})
	}
	if _, err := s.ReplaceExplorerDays(ctx, tenant, "conn-1", costs.GroupingAccountService, day("2026-03-01"), day("2026-03-15"), rows); err != nil {
		t.Fatal(err)
	}
	unnamed := func() int {
		t.Helper()
		n, err := s.UnnamedAccounts(ctx, tenant, "conn-1")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := unnamed(); n != 3 {
		t.Fatalf("unnamed before any lookup: %d, want 3", n)
	}
	if err := s.SaveExplorerAccountNames(ctx, tenant, "conn-1", map[string]string{"111111111111": "prod", "222222222222": ""}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveExplorerAccountNames(ctx, tenant, "conn-1", map[string]string{"333333333333": "dev"}); err != nil {
		t.Fatal(err)
	}
	if n := unnamed(); n != 0 {
		t.Errorf("unnamed after the lookups: %d, want 0", n)
	}
	q, err := costs.ParseQuery(tenant, costs.QueryInput{GroupBy: "account", From: "2026-03-01", To: "2026-04-01", Granularity: "monthly", Metric: "unblended"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Names) != 2 || res.Names["111111111111"] != "prod" || res.Names["333333333333"] != "dev" {
		t.Errorf("names: %v", res.Names)
	}
	if names, err := s.AccountNames(ctx, "beta"); err != nil || len(names) != 0 {
		t.Errorf("another tenant's names: %v, %v", names, err)
	}

	fetched := day("2026-03-15")
	for conn, mean := range map[crossbill.ConnectionID]float64{"conn-1": 40, "conn-2": 10} {
		if err := s.ReplaceExplorerForecast(ctx, tenant, conn, []costs.ExplorerForecast{
			{Month: "2026-03", From: "2026-03-15", To: "2026-03-31", Mean: mean, Low: mean / 2, High: mean * 2},
			{Month: "2026-04", From: "2026-04-01", To: "2026-04-30", Mean: 3 * mean, Low: mean, High: 4 * mean},
		}, fetched); err != nil {
			t.Fatal(err)
		}
	}
	fc, err := s.ForecastMonth(ctx, tenant, costs.MetricUnblended, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 3 accounts x $1 x 14 days held before March 15, + 40 + 10.
	ce := fc.CostExplorer
	if ce == nil || ce.ActualBefore != 42 || ce.Forecast != 92 || ce.Low != 67 || ce.High != 142 || ce.From != "2026-03-15" ||
		len(ce.Later) != 1 || ce.Later[0].Month != "2026-04" || ce.Later[0].Mean != 150 || ce.Label != costs.ExplorerForecastLabel {
		t.Errorf("Cost Explorer's forecast: %+v", ce)
	}
	filtered, err := s.ForecastMonth(ctx, tenant, costs.MetricUnblended, time.Time{}, []costs.Filter{{Dim: costs.Dim{Kind: costs.DimAccount}, Values: []string{"111111111111"}}})
	if err != nil || filtered.CostExplorer != nil {
		t.Errorf("a filtered forecast carries Cost Explorer's whole-account one: %+v, %v", filtered.CostExplorer, err)
	}
}
