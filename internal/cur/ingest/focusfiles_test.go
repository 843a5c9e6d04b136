package ingest_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// focusSchema is the FOCUS schema with some columns typed as an exporter
// writes them.
func focusSchema(types map[string]string) []cur.Column {
	cols := cur.FOCUSColumns()
	for i := range cols {
		if t, ok := types[cols[i].Name]; ok {
			cols[i].Type = t
		}
	}
	return cols
}

// focusRow is a FOCUS line item of billing period 2024-10 (SQL literals).
func focusRow(day, account, service, category string, billed, effective float64, extra costtest.Row) costtest.Row {
	r := costtest.Row{
		cur.FocusBillingPeriodStart: "TIMESTAMPTZ '2024-10-01 00:00:00+00'",
		cur.FocusBillingPeriodEnd:   "TIMESTAMPTZ '2024-11-01 00:00:00+00'",
		cur.FocusChargePeriodStart:  "TIMESTAMPTZ '" + day + " 00:00:00+00'",
		cur.FocusChargePeriodEnd:    "TIMESTAMPTZ '" + day + " 01:00:00+00'",
		cur.FocusChargeCategory:     "'" + category + "'",
		cur.FocusServiceName:        "'" + service + "'",
		cur.FocusSubAccountID:       account,
		cur.FocusBillingAccountID:   account,
		cur.FocusBilledCost:         fmt.Sprint(billed),
		cur.FocusEffectiveCost:      fmt.Sprint(effective),
		cur.FocusListCost:           fmt.Sprint(billed),
	}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

// independent runs a query over raw files in a DuckDB of its own (not the
// cost store): group -> value.
func independent(tb testing.TB, query string) map[string]float64 {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var k string
		var v float64
		if err := rows.Scan(&k, &v); err != nil {
			tb.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// storeTotals asks the cost store for metric by group over billing period p.
func storeTotals(tb testing.TB, s *costs.Store, tenant, metric, groupBy, period string) map[string]float64 {
	tb.Helper()
	q := costs.Query{Tenant: crossbill.TenantID(tenant), Metric: metric, Granularity: costs.Monthly,
		Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimBillingPeriod}, Values: []string{period}}}}
	if groupBy != "" {
		d, err := costs.ParseDim(groupBy)
		if err != nil {
			tb.Fatal(err)
		}
		q.GroupBy = d
	}
	res, err := s.Query(context.Background(), q)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]float64{}
	for _, t := range res.Totals {
		out[t.Group] = t.Value
	}
	return out
}

func sameTotals(tb testing.TB, what string, got, want map[string]float64) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%s: store %v, raw files %v", what, got, want)
		return
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
			tb.Errorf("%s: store %v, raw files %v", what, got, want)
			return
		}
	}
}

// TestFOCUSAsExported ingests FOCUS data in the shapes the exporters write
// (issue 12) and checks every total against an independent sum over the
// raw files in plain DuckDB SQL:
//   - AWS (Data Exports, with manifests, Parquet): Tags and SkuPriceDetails
//     as JSON text, integer ConsumedQuantity/PricingQuantity, account IDs as
//     numbers (the leading zero of 012345678901 lost), timestamps with time
//     zone;
//   - Azure (CSV file, no manifest): every value text, ISO 8601 times with
//     Z, Tags JSON text (also "{}" and empty), two billing periods in one
//     file, a September-dated row billed in October;
//   - GCP (Parquet file, BigQuery types): DECIMAL(38,9) costs and
//     quantities, labels as a list of {key, value};
//   - OCI (CSV file): times with minutes and no seconds.
//
// Before the fix the AWS export was refused (mistyped columns) and plain
// files could not be ingested at all.
func TestFOCUSAsExported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	root := t.TempDir()
	ingestAs := func(tenant, source, format string) ingest.Result {
		t.Helper()
		res, err := ingest.Ingest(ctx, s, ingest.Options{Source: source, Tenant: crossbill.TenantID(tenant), Format: format})
		if err != nil {
			t.Fatalf("%s: %v", tenant, err)
		}
		return res
	}

	// AWS.
	awsSchema := focusSchema(map[string]string{
		cur.FocusBillingAccountID: "BIGINT", cur.FocusSubAccountID: "BIGINT",
		cur.FocusConsumedQuantity: "BIGINT", cur.FocusPricingQuantity: "BIGINT",
		cur.FocusTags: "VARCHAR", cur.FocusSkuPriceDetails: "VARCHAR",
		cur.FocusChargePeriodStart: "TIMESTAMPTZ", cur.FocusChargePeriodEnd: "TIMESTAMPTZ",
		cur.FocusBillingPeriodStart: "TIMESTAMPTZ", cur.FocusBillingPeriodEnd: "TIMESTAMPTZ",
	})
	aws := func(r costtest.Row) costtest.Row {
		r[cur.FocusProviderName] = "'AWS'"
		return r
	}
	costtest.Export(t, root, "focus", "aws", "2024-10", "exec-aws", awsSchema, []costtest.Row{
		aws(focusRow("2024-10-01", "12345678901", "Amazon Elastic Compute Cloud", "Usage", 4.8, 4.8, costtest.Row{
			cur.FocusConsumedQuantity: "24", cur.FocusPricingQuantity: "24",
			cur.FocusTags: `'{"user:env":"prod","user:team":"web"}'`, cur.FocusSkuPriceDetails: `'{"InstanceType":"m5.large","vCPU":2}'`})),
		aws(focusRow("2024-10-02", "12345678901", "Amazon Simple Storage Service", "Usage", 1.25, 1.25, costtest.Row{
			cur.FocusConsumedQuantity: "50", cur.FocusPricingQuantity: "50", cur.FocusTags: `'{}'`})),
		aws(focusRow("2024-10-02", "210987654321", "Amazon Elastic Compute Cloud", "Usage", 0, 3.1, costtest.Row{
			cur.FocusConsumedQuantity: "10", cur.FocusTags: `'{"user:env":"dev"}'`,
			cur.FocusCommitmentDiscountStatus: "'Used'"})),
		aws(focusRow("2024-10-01", "210987654321", "Tax", "Tax", 0.6, 0.6, nil)),
	})
	awsFile := filepath.Join(root, filepath.FromSlash(cur.DataKey("focus", "aws", "2024-10", 1)))
	res := ingestAs("aws", filepath.Join(root, "focus", "aws"), "")
	if len(res.Periods) != 1 || res.Periods[0].Status != ingest.StatusLoaded || res.Periods[0].Format != costs.FormatFOCUS {
		t.Fatalf("aws ingest: %+v", res)
	}
	raw := "read_parquet('" + awsFile + "')"
	sameTotals(t, "aws billed", storeTotals(t, s, "aws", costs.MetricUnblended, "", "2024-10"),
		independent(t, "SELECT 'total', sum(BilledCost) FROM "+raw))
	sameTotals(t, "aws effective by account", storeTotals(t, s, "aws", costs.MetricAmortized, "account", "2024-10"),
		independent(t, "SELECT lpad(SubAccountId::VARCHAR, 12, '0'), sum(EffectiveCost) FROM "+raw+" GROUP BY 1"))
	sameTotals(t, "aws effective by tag env", storeTotals(t, s, "aws", costs.MetricAmortized, "tag:env", "2024-10"),
		independent(t, "SELECT coalesce(json_extract_string(Tags, '$.\"user:env\"'), '(no tag)'), sum(EffectiveCost) FROM "+raw+" GROUP BY 1"))
	sameTotals(t, "aws usage", storeTotals(t, s, "aws", costs.MetricUsage, "", "2024-10"),
		independent(t, "SELECT 'total', sum(ConsumedQuantity) FROM "+raw+" WHERE ChargeCategory = 'Usage'"))

	// Azure: one CSV file, two billing periods.
	azure := filepath.Join("testdata", "focus", "azure-focus-2024.csv")
	res = ingestAs("azure", azure, ingest.FormatFOCUSFiles)
	if len(res.Periods) != 2 || res.Periods[0].Period != "2024-09" || res.Periods[1].Period != "2024-10" || res.Periods[1].Rows != 4 {
		t.Fatalf("azure ingest: %+v", res)
	}
	raw = "read_csv('" + azure + "', all_varchar = true)"
	for _, p := range []string{"2024-09", "2024-10"} {
		where := " WHERE left(BillingPeriodStart, 7) = '" + p + "'"
		sameTotals(t, "azure billed "+p, storeTotals(t, s, "azure", costs.MetricUnblended, "service", p),
			independent(t, "SELECT ServiceName, sum(BilledCost::DOUBLE) FROM "+raw+where+" GROUP BY 1"))
		sameTotals(t, "azure effective by env "+p, storeTotals(t, s, "azure", costs.MetricAmortized, "tag:env", p),
			independent(t, "SELECT coalesce(json_extract_string(nullif(Tags, ''), '$.env'), '(no tag)'), sum(EffectiveCost::DOUBLE) FROM "+raw+where+" GROUP BY 1"))
		sameTotals(t, "azure list by subscription "+p, storeTotals(t, s, "azure", costs.MetricList, "account", p),
			independent(t, "SELECT SubAccountId, sum(ListCost::DOUBLE) FROM "+raw+where+" GROUP BY 1"))
	}
	// Ingesting the same file again changes nothing.
	if res := ingestAs("azure", azure, ingest.FormatFOCUSFiles); len(res.Periods) != 2 || res.Periods[0].Status != ingest.StatusUnchanged {
		t.Errorf("azure again: %+v, want both periods unchanged", res)
	}

	// GCP: a Parquet file typed as BigQuery exports FOCUS.
	gcpSchema := focusSchema(map[string]string{
		cur.FocusBilledCost: "DECIMAL(38,9)", cur.FocusEffectiveCost: "DECIMAL(38,9)", cur.FocusListCost: "DECIMAL(38,9)",
		cur.FocusConsumedQuantity: "DECIMAL(38,9)", cur.FocusTags: "STRUCT(key VARCHAR, value VARCHAR)[]",
		cur.FocusChargePeriodStart: "TIMESTAMPTZ", cur.FocusBillingPeriodStart: "TIMESTAMPTZ",
	})
	gcp := filepath.Join(t.TempDir(), "gcp-focus.parquet")
	costtest.WriteParquet(t, gcp, gcpSchema, []costtest.Row{
		focusRow("2024-10-03", "'my-project'", "Compute Engine", "Usage", 7.123456789, 6.5, costtest.Row{
			cur.FocusConsumedQuantity: "12.5", cur.FocusTags: "[{'key': 'env', 'value': 'prod'}]", cur.FocusBillingAccountID: "'01A2B3-C4D5E6-F7A8B9'"}),
		focusRow("2024-10-04", "'other-project'", "Cloud Storage", "Usage", 0.5, 0.5, costtest.Row{
			cur.FocusTags: "[]", cur.FocusBillingAccountID: "'01A2B3-C4D5E6-F7A8B9'"}),
	})
	ingestAs("gcp", gcp, ingest.FormatFOCUSFiles)
	raw = "read_parquet('" + gcp + "')"
	sameTotals(t, "gcp billed by project", storeTotals(t, s, "gcp", costs.MetricUnblended, "account", "2024-10"),
		independent(t, "SELECT SubAccountId, sum(BilledCost)::DOUBLE FROM "+raw+" GROUP BY 1"))
	sameTotals(t, "gcp effective by env", storeTotals(t, s, "gcp", costs.MetricAmortized, "tag:env", "2024-10"),
		independent(t, "SELECT coalesce(list_filter(Tags, lambda l: l.key = 'env')[1].value, '(no tag)'), sum(EffectiveCost)::DOUBLE FROM "+raw+" GROUP BY 1"))

	// OCI.
	oci := filepath.Join("testdata", "focus", "oci-focus-2024-10.csv")
	ingestAs("oci", oci, ingest.FormatFOCUSFiles)
	sameTotals(t, "oci billed by day", func() map[string]float64 {
		r, err := s.Query(ctx, costs.Query{Tenant: "oci", Metric: costs.MetricUnblended, From: costtestDay("2024-10-07"), To: costtestDay("2024-10-08")})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]float64{"total": r.Total}
	}(), independent(t, "SELECT 'total', sum(BilledCost::DOUBLE) FROM read_csv('"+oci+"', all_varchar = true) WHERE ChargePeriodStart LIKE '2024-10-07%'"))
}

// TestFOCUSFilesRefused: what cannot be FOCUS is refused with a reason, and
// nothing is loaded.
func TestFOCUSFilesRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	dir := t.TempDir()
	bad := focusSchema(map[string]string{cur.FocusTags: "VARCHAR"})
	costtest.WriteParquet(t, filepath.Join(dir, "bad.parquet"), bad, []costtest.Row{
		focusRow("2024-10-01", "'1'", "x", "Usage", 1, 1, costtest.Row{cur.FocusTags: "'env=prod'"}),
	})
	_, err := ingest.Ingest(ctx, s, ingest.Options{Source: dir, Tenant: "acme", Format: ingest.FormatFOCUSFiles})
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !contains(err.Error(), "Tags") {
		t.Errorf("Tags not JSON: %v, want invalid naming Tags", err)
	}
	if _, err := ingest.Ingest(ctx, s, ingest.Options{Source: t.TempDir(), Tenant: "acme", Format: ingest.FormatFOCUSFiles}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("no files: %v, want not_found", err)
	}
	if _, err := ingest.Ingest(ctx, s, ingest.Options{Source: dir, Tenant: "acme", Format: "xml"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("format xml: %v, want invalid", err)
	}
	if ps, err := s.Periods(ctx, "acme"); err != nil || len(ps) != 0 {
		t.Errorf("periods after refusals: %+v, %v", ps, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func costtestDay(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}
