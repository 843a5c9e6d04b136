package ingest_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) {
	code := emulator.RunTests(m)
	if generated.dir != "" {
		os.RemoveAll(generated.dir) //nolint:errcheck // temporary test data
	}
	os.Exit(code)
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* files")

// usage is a CUR 2.0 usage line item of a period, costing cost.
func usage(period string, day int, service string, cost float64) costtest.Row {
	return costtest.Row{
		cur.ColBillBillType:               "'Anniversary'",
		cur.ColBillPayerAccountID:         "'999999999999'",
		cur.ColBillBillingPeriodStartDate: fmt.Sprintf("TIMESTAMP '%s-01 00:00:00'", period),
		cur.ColBillBillingPeriodEndDate:   fmt.Sprintf("TIMESTAMP '%s-01 00:00:00' + INTERVAL 1 MONTH", period),
		cur.ColLineItemUsageAccountID:     "'111111111111'",
		cur.ColLineItemType:               "'Usage'",
		cur.ColLineItemProductCode:        "'" + service + "'",
		cur.ColProductRegionCode:          "'us-east-1'",
		cur.ColLineItemUsageType:          "'BoxUsage'",
		cur.ColLineItemOperation:          "'RunInstances'",
		cur.ColLineItemUsageStartDate:     fmt.Sprintf("TIMESTAMP '%s-%02d 00:00:00'", period, day),
		cur.ColLineItemUsageEndDate:       fmt.Sprintf("TIMESTAMP '%s-%02d 01:00:00'", period, day),
		cur.ColLineItemUnblendedCost:      fmt.Sprint(cost),
		cur.ColLineItemUsageAmount:        "1",
		cur.ColPricingPublicOnDemandCost:  fmt.Sprint(cost),
		cur.ColResourceTags:               "MAP {'user_team': 'web'}",
	}
}

// writeExport writes a period of the export at root/cur/exp.
func writeExport(tb testing.TB, root, period, execID string, rows []costtest.Row, skip ...string) {
	tb.Helper()
	costtest.Export(tb, root, "cur", "exp", period, execID, cur.Columns(), rows, skip...)
}

func openStore(tb testing.TB) *costs.Store {
	tb.Helper()
	s, err := costs.OpenWith(context.Background(), tb.TempDir(), costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// snapshot is everything an ingest may change, for before/after comparisons.
func snapshot(tb testing.TB, s *costs.Store) string {
	tb.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT tenant, source, billing_period, format, execution_id, fingerprint, files, rows, ingested_at FROM ingest_ledger ORDER BY ALL`,
		`SELECT tenant, billing_period, count(*), round(sum(line_item_unblended_cost), 6) FROM cur GROUP BY ALL ORDER BY ALL`,
		`SELECT tenant, billing_period, count(*), round(sum(BilledCost), 6) FROM focus_export GROUP BY ALL ORDER BY ALL`,
		`SELECT tenant, billing_period, day, service, round(sum(amortized), 6), sum(line_items) FROM cost_daily GROUP BY ALL ORDER BY ALL`,
		`SELECT tenant, billing_period, kind, key, value, round(sum(amortized), 6) FROM cost_daily_dim GROUP BY ALL ORDER BY ALL`,
	} {
		rows, err := s.DB().QueryContext(context.Background(), q)
		if err != nil {
			tb.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

func periodTotal(tb testing.TB, s *costs.Store, tenant, period string) float64 {
	tb.Helper()
	var v float64
	if err := s.DB().QueryRowContext(context.Background(),
		`SELECT coalesce(sum(unblended), 0) FROM cost_daily WHERE tenant = ? AND billing_period = ?`, tenant, period).Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func statuses(res ingest.Result) string {
	var parts []string
	for _, p := range res.Periods {
		parts = append(parts, p.Period+"="+p.Status)
	}
	return strings.Join(parts, " ")
}

// TestIdempotentAndRestated ingests two months, again (nothing changes),
// then a restated January (only January is replaced, whole).
func TestIdempotentAndRestated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	writeExport(t, root, "2026-01", "exec-jan-1", []costtest.Row{usage("2026-01", 1, "AmazonEC2", 10), usage("2026-01", 2, "AmazonS3", 5)})
	writeExport(t, root, "2026-02", "exec-feb-1", []costtest.Row{usage("2026-02", 1, "AmazonEC2", 20)})
	src := filepath.Join(root, "cur", "exp")
	s := openStore(t)
	opt := ingest.Options{Source: src, Tenant: "acme"}

	res, err := ingest.Ingest(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "2026-01=loaded 2026-02=loaded" {
		t.Fatalf("first ingest: %s", got)
	}
	before := snapshot(t, s)
	res, err = ingest.Ingest(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "2026-01=unchanged 2026-02=unchanged" {
		t.Fatalf("second ingest: %s", got)
	}
	if after := snapshot(t, s); after != before {
		t.Fatalf("a second ingest changed the store:\nbefore\n%s\nafter\n%s", before, after)
	}

	// AWS restates January: new execution, different rows (S3 line item gone).
	writeExport(t, root, "2026-01", "exec-jan-2", []costtest.Row{usage("2026-01", 1, "AmazonEC2", 12)})
	res, err = ingest.Ingest(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "2026-01=loaded 2026-02=unchanged" {
		t.Fatalf("restated ingest: %s", got)
	}
	if v := periodTotal(t, s, "acme", "2026-01"); v != 12 {
		t.Errorf("January after restatement = %v, want 12 (old rows must be gone)", v)
	}
	if v := periodTotal(t, s, "acme", "2026-02"); v != 20 {
		t.Errorf("February = %v, want 20", v)
	}
	periods, err := s.Periods(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(periods) != 2 || periods[0].ExecutionID != "exec-jan-2" || periods[0].Rows != 1 {
		t.Errorf("periods = %+v", periods)
	}
	golden(t, "restated.golden.json", restatedSummary(t, s))
	// Tenants are isolated.
	if p, err := s.Periods(ctx, "other"); err != nil || len(p) != 0 {
		t.Errorf("other tenant sees %v, %v", p, err)
	}
}

// TestSchemaError checks that a bad export is refused with CodeInvalid,
// naming the column, and that the loaded data stays as it was.
func TestSchemaError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	writeExport(t, root, "2026-01", "exec-1", []costtest.Row{usage("2026-01", 1, "AmazonEC2", 10)})
	src := filepath.Join(root, "cur", "exp")
	s := openStore(t)
	if _, err := ingest.Ingest(ctx, s, ingest.Options{Source: src, Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)

	// The restatement lacks line_item_unblended_cost and has usage amounts as text.
	var schema []cur.Column
	for _, c := range cur.Columns() {
		if c.Name == cur.ColLineItemUsageAmount {
			c.Type = cur.TypeVarchar
		}
		schema = append(schema, c)
	}
	row := usage("2026-01", 1, "AmazonEC2", 99)
	row[cur.ColLineItemUsageAmount] = "'one'"
	costtest.Export(t, root, "cur", "exp", "2026-01", "exec-2", schema, []costtest.Row{row}, cur.ColLineItemUnblendedCost)

	_, err := ingest.Ingest(ctx, s, ingest.Options{Source: src, Tenant: "acme"})
	if code := crossbill.ErrorCode(err); code != crossbill.CodeInvalid {
		t.Fatalf("error %v (code %q), want %q", err, code, crossbill.CodeInvalid)
	}
	msg := strings.ReplaceAll(err.Error(), src, "SOURCE")
	golden(t, "schema_error.golden.txt", []byte(msg+"\n"))
	if after := snapshot(t, s); after != before {
		t.Fatalf("a refused ingest changed the store:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestSourceErrors checks the errors for sources that hold no export.
func TestSourceErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	empty := t.TempDir()
	cases := []struct {
		source string
		want   crossbill.Code
	}{
		{empty, crossbill.CodeNotFound},
		{filepath.Join(empty, "missing"), crossbill.CodeNotFound},
		{"s3://", crossbill.CodeInvalid},
		{"s3://bucket", crossbill.CodeInvalid},
		{"gs://bucket/x", crossbill.CodeInvalid},
	}
	for _, c := range cases {
		_, err := ingest.Ingest(ctx, s, ingest.Options{Source: c.source, Tenant: "acme"})
		if code := crossbill.ErrorCode(err); code != c.want {
			t.Errorf("%q: error %v (code %q), want %q", c.source, err, code, c.want)
		}
	}
}

func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		tb.Errorf("%s differs (run go test -update after checking):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// restatedSummary is the deterministic part of the store after the
// restatement: the periods and each period's cost by service.
func restatedSummary(tb testing.TB, s *costs.Store) []byte {
	tb.Helper()
	ctx := context.Background()
	periods, err := s.Periods(ctx, "acme")
	if err != nil {
		tb.Fatal(err)
	}
	type period struct {
		Period      string             `json:"billing_period"`
		ExecutionID string             `json:"execution_id"`
		Rows        int64              `json:"rows"`
		ByService   []costs.GroupTotal `json:"unblended_by_service"`
	}
	var out []period
	for _, p := range periods {
		from, err := costs.ParseDate(p.Period)
		if err != nil {
			tb.Fatal(err)
		}
		res, err := s.Query(ctx, costs.Query{Tenant: "acme", Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimService},
			Granularity: costs.Monthly, From: from, To: from.AddDate(0, 1, 0)})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, period{Period: p.Period, ExecutionID: p.ExecutionID, Rows: p.Rows, ByService: res.Totals})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}
