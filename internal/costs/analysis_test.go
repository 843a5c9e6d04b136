package costs_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// dailySeries loads January 1 to February 9, 2026: EC2 at 100 a day with
// a spike to 300 on January 25, S3 at 5 a day.
func dailySeries(tb testing.TB, s *costs.Store) {
	tb.Helper()
	byPeriod := map[string][]costtest.Row{}
	for d := jan(1); d.Before(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		ec2 := 100.0
		if d.Equal(jan(25)) {
			ec2 = 300
		}
		p := d.Format("2006-01")
		for _, r := range []costtest.Row{
			lineItem(1, "Usage", "AmazonEC2", "us-east-1", ec2, nil),
			lineItem(1, "Usage", "AmazonS3", "us-east-1", 5, nil),
		} {
			ts := "TIMESTAMP '" + d.Format("2006-01-02") + " 10:00:00'"
			r[cur.ColLineItemUsageStartDate], r[cur.ColLineItemUsageEndDate] = ts, ts
			byPeriod[p] = append(byPeriod[p], r)
		}
	}
	for p, rows := range byPeriod {
		loadRows(tb, s, "acme", p, "exec-"+p, rows)
	}
}

func TestAnomalies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	dailySeries(t, s)
	got, err := s.Anomalies(ctx, costs.AnomalyOptions{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	// The spike shows per service (EC2) and per account; S3 and the flat
	// days do not.
	if len(got) != 2 {
		t.Fatalf("anomalies = %+v, want 2", got)
	}
	for _, a := range got {
		if a.Day != "2026-01-25" || a.Delta != 200 || a.Direction != "spike" || a.Baseline != 100 && a.Baseline != 105 {
			t.Errorf("anomaly %+v", a)
		}
	}
	// A minimum delta above the spike hides it.
	got, err = s.Anomalies(ctx, costs.AnomalyOptions{Tenant: "acme", MinDelta: 500})
	if err != nil || len(got) != 0 {
		t.Errorf("with min delta 500: %+v, %v", got, err)
	}
	if _, err := s.Anomalies(ctx, costs.AnomalyOptions{Tenant: "acme", Window: 3}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("window 3: %v, want invalid", err)
	}
}

func TestForecastAndMoM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	dailySeries(t, s)
	f, err := s.ForecastMonth(ctx, "acme", costs.MetricUnblended, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// February 9 is the latest day, taken as partial: 8 days actual, 20
	// projected at the 105 median.
	if f.Month != "2026-02" || f.DaysActual != 8 || f.DaysInMonth != 28 || math.Abs(f.ActualToDate-840) > 1e-9 || math.Abs(f.Forecast-2940) > 1e-9 {
		t.Errorf("forecast %+v", f)
	}
	// January is complete: the forecast is the actual.
	f, err = s.ForecastMonth(ctx, "acme", costs.MetricUnblended, jan(1), nil)
	if err != nil || math.Abs(f.Forecast-(31*105+200)) > 1e-9 || f.Forecast != f.ActualToDate {
		t.Errorf("January forecast %+v, %v", f, err)
	}

	m, err := s.MonthOverMonth(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimService}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Like for like: February 1-9 against January 1-9.
	if m.Current.From != "2026-02-01" || m.Current.To != "2026-02-10" || m.Previous.To != "2026-01-10" || len(m.Changes) != 2 {
		t.Fatalf("mom %+v", m)
	}
	if c := m.Changes[0]; c.Group != "AmazonEC2" || c.Current != 900 || c.Previous != 900 || c.Percent == nil || *c.Percent != 0 {
		t.Errorf("EC2 change %+v", c)
	}
	if _, err := s.ForecastMonth(ctx, "nobody", "", time.Time{}, nil); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("unknown tenant: %v, want not_found", err)
	}
}

// TestAnomaliesWeekendsAndMonthlyRows: quiet weekends and the tax of a month
// (dated its first day, as in CUR) are not anomalies; a weekday spike is.
func TestAnomaliesWeekendsAndMonthlyRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	byPeriod := map[string][]costtest.Row{}
	for d := jan(1); d.Before(time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		cost := 100.0
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			cost = 60
		}
		if d.Equal(time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)) { // a Wednesday
			cost = 400
		}
		ts := "TIMESTAMP '" + d.Format("2006-01-02") + " 10:00:00'"
		r := lineItem(1, "Usage", "AmazonEC2", "us-east-1", cost, costtest.Row{
			cur.ColLineItemUsageStartDate: ts, cur.ColLineItemUsageEndDate: ts})
		p := d.Format("2006-01")
		byPeriod[p] = append(byPeriod[p], r)
		if d.Day() == 1 {
			byPeriod[p] = append(byPeriod[p], lineItem(1, "Tax", "AmazonEC2", "", 500, costtest.Row{
				cur.ColLineItemUsageStartDate: ts, cur.ColLineItemUsageEndDate: ts}))
		}
	}
	for p, rows := range byPeriod {
		loadRows(t, s, "acme", p, "exec-"+p, rows)
	}
	got, err := s.Anomalies(ctx, costs.AnomalyOptions{Tenant: "acme", Dims: []costs.Dim{{Kind: costs.DimService}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Day != "2026-02-11" || got[0].Direction != "spike" || got[0].Baseline != 100 {
		t.Errorf("anomalies = %+v, want only the spike of 2026-02-11 over a baseline of 100", got)
	}
}

// TestMoMCompleteMonth: a complete month is compared with the whole month
// before, not with its first days (issue 12: February against January 1-29
// showed +1.0% for a 5.5% drop); forecast agrees the month is complete.
func TestMoMCompleteMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	byPeriod := map[string][]costtest.Row{}
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		cost := 100.0
		if d.Month() == time.February {
			cost = 101
		}
		ts := "TIMESTAMP '" + d.Format("2006-01-02") + " 10:00:00'"
		p := d.Format("2006-01")
		byPeriod[p] = append(byPeriod[p], lineItem(1, "Usage", "AmazonEC2", "us-east-1", cost, costtest.Row{
			cur.ColLineItemUsageStartDate: ts, cur.ColLineItemUsageEndDate: ts}))
	}
	for p, rows := range byPeriod {
		loadRows(t, s, "acme", p, "exec-"+p, rows)
	}
	m, err := s.MonthOverMonth(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Current.From != "2024-02-01" || m.Current.To != "2024-03-01" || m.Previous.From != "2024-01-01" || m.Previous.To != "2024-02-01" {
		t.Fatalf("ranges %+v against %+v, want all of February against all of January", m.Current, m.Previous)
	}
	c := m.Changes[0]
	want := 100 * (29*101.0 - 31*100) / (31 * 100)
	if c.Current != 29*101 || c.Previous != 3100 || c.Percent == nil || math.Abs(*c.Percent-want) > 1e-9 {
		t.Errorf("change %+v, want 2929 against 3100 (%.1f%%)", c, want)
	}
	f, err := s.ForecastMonth(ctx, "acme", costs.MetricUnblended, time.Time{}, nil)
	if err != nil || f.DaysActual != 29 || f.ActualToDate != c.Current || f.Forecast != f.ActualToDate {
		t.Errorf("forecast %+v, %v: want February complete, as mom has it", f, err)
	}
}

// TestBillingPeriodDimension: a line item of billing period 2024-10 dated in
// September (a late charge) counts in 2024-10's invoice: filtering on the
// billing period without dates totals the invoice, and grouping by it
// splits a usage-date range by invoice (issue 12).
func TestBillingPeriodDimension(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	at := func(day string, cost float64, extra costtest.Row) costtest.Row {
		ts := "TIMESTAMP '" + day + " 10:00:00'"
		r := lineItem(1, "Usage", "AmazonEC2", "us-east-1", cost, costtest.Row{
			cur.ColLineItemUsageStartDate: ts, cur.ColLineItemUsageEndDate: ts})
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	loadRows(t, s, "acme", "2024-09", "exec-09", []costtest.Row{at("2024-09-10", 50, nil)})
	loadRows(t, s, "acme", "2024-10", "exec-10", []costtest.Row{
		at("2024-09-20", 7, costtest.Row{cur.ColResourceTags: "MAP {'user_team': 'web'}"}),
		at("2024-10-03", 100, nil),
	})
	bp := costs.Dim{Kind: costs.DimBillingPeriod}
	oct := []costs.Filter{{Dim: bp, Values: []string{"2024-10"}}}
	for _, g := range []costs.Granularity{costs.Daily, costs.Hourly} {
		res, err := s.Query(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, Granularity: g, Filters: oct})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 107 || res.From != "2024-09-20" || res.To != "2024-10-04" {
			t.Errorf("%s: invoice 2024-10 = %v over %s..%s, want 107 over 2024-09-20..2024-10-04", g, res.Total, res.From, res.To)
		}
	}
	// Through the tag rollup too: the untagged October row is in team "".
	res, err := s.Query(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, Filters: oct, GroupBy: costs.Dim{Kind: costs.DimTag, Key: "team"}})
	if err != nil || res.Total != 107 || len(res.Totals) != 2 {
		t.Errorf("invoice 2024-10 by team: %+v, %v", res.Totals, err)
	}
	// By usage date, September holds 57, split 50 / 7 between the invoices.
	res, err = s.Query(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: bp,
		From: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != "cost_daily" || len(res.Totals) != 2 || res.Totals[0] != (costs.GroupTotal{Group: "2024-09", Value: 50}) ||
		res.Totals[1] != (costs.GroupTotal{Group: "2024-10", Value: 7}) {
		t.Errorf("September by billing period: %+v from %s", res.Totals, res.Source)
	}
	if _, err := costs.ParseFilter("billing-period=October"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("billing-period=October: %v, want invalid", err)
	}
}

// TestCURTagsColumn: a CUR 2.0 export with the tags column (resource tags
// and the IAM principal's, issue 12) is grouped by its keys, and an export
// without it by resource_tags.
func TestCURTagsColumn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	loadRows(t, s, "acme", "2026-01", "exec-1", []costtest.Row{
		lineItem(1, "Usage", "AWSLambda", "us-east-1", 4, costtest.Row{
			cur.ColResourceTags: "MAP {'user_team': 'web'}", cur.ColTags: "MAP {'user_team': 'web', 'iamPrincipal/team': 'ml'}",
			cur.ColLineItemIAMPrincipal: "'arn:aws:iam::111111111111:role/ml-invoker'"}),
		lineItem(1, "Usage", "AmazonEC2", "us-east-1", 6, costtest.Row{cur.ColResourceTags: "MAP {'user_team': 'web'}"}),
	})
	for _, c := range []struct {
		key  string
		want []costs.GroupTotal
	}{
		{"iamPrincipal/team", []costs.GroupTotal{{Group: "(no tag)", Value: 6}, {Group: "ml", Value: 4}}},
		{"team", []costs.GroupTotal{{Group: "web", Value: 10}}},
	} {
		res, err := s.Query(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimTag, Key: c.key}})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.Totals) != fmt.Sprint(c.want) {
			t.Errorf("by tag:%s: %v, want %v", c.key, res.Totals, c.want)
		}
	}
}

// namesOf is an AccountNamer with fixed names (the store's is tested in
// internal/store).
type namesOf map[crossbill.AccountID]string

func (n namesOf) AccountNames(context.Context, crossbill.TenantID) (map[crossbill.AccountID]string, error) {
	return n, nil
}

// TestAnalysisNamed: month over month and anomalies name the account
// groups as QueryNamed does (issue 11), and only those: services stay bare.
func TestAnalysisNamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	dailySeries(t, s)
	m, err := s.MonthOverMonth(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimAccount}}, time.Time{})
	if err != nil || len(m.Changes) != 1 {
		t.Fatalf("mom by account %+v, %v", m, err)
	}
	account := m.Changes[0].Group
	names := namesOf{crossbill.AccountID(account): "web-prod"}
	m, err = s.MonthOverMonthNamed(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimAccount}}, time.Time{}, names)
	if err != nil || m.Names[account] != "web-prod" || m.Label(account) != "web-prod ("+account+")" {
		t.Errorf("named mom %+v, %v", m, err)
	}
	m, err = s.MonthOverMonthNamed(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimService}}, time.Time{}, names)
	if err != nil || m.Names != nil {
		t.Errorf("mom by service named %v, %v", m.Names, err)
	}
	as, err := s.AnomaliesNamed(ctx, costs.AnomalyOptions{Tenant: "acme"}, names)
	if err != nil || len(as) != 2 {
		t.Fatalf("anomalies %+v, %v", as, err)
	}
	for _, a := range as {
		want := ""
		if a.Dim == costs.DimAccount {
			want = "web-prod"
		}
		if a.Name != want || (want != "" && a.Label() != "web-prod ("+account+")") {
			t.Errorf("anomaly %+v, want name %q", a, want)
		}
	}
}
