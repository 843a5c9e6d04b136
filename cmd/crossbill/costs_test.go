package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// costRow is an EC2 or S3 usage line item on a January 2026 day.
func costRow(day, service string, cost string) costtest.Row {
	return costtest.Row{
		cur.ColBillBillType: "'Anniversary'", cur.ColBillPayerAccountID: "'999999999999'",
		cur.ColBillBillingPeriodStartDate: "TIMESTAMP '2026-01-01'", cur.ColBillBillingPeriodEndDate: "TIMESTAMP '2026-02-01'",
		cur.ColLineItemUsageAccountID: "'111111111111'", cur.ColLineItemType: "'Usage'",
		cur.ColLineItemProductCode: "'" + service + "'", cur.ColProductRegionCode: "'us-east-1'",
		cur.ColLineItemUsageType: "'BoxUsage'", cur.ColLineItemOperation: "'RunInstances'",
		cur.ColLineItemUsageStartDate: "TIMESTAMP '" + day + " 05:00:00'", cur.ColLineItemUsageEndDate: "TIMESTAMP '" + day + " 06:00:00'",
		cur.ColLineItemUnblendedCost: cost, cur.ColLineItemUsageAmount: "1", cur.ColPricingPublicOnDemandCost: cost,
		cur.ColResourceTags: "MAP {'user_team': 'web'}",
	}
}

func TestCostsCommands(t *testing.T) {
	t.Parallel()
	dir, root := t.TempDir(), t.TempDir()
	var rows []costtest.Row
	for d := 1; d <= 20; d++ {
		day := "2026-01-" + twoDigits(d)
		ec2 := "100"
		if d == 18 {
			ec2 = "400"
		}
		rows = append(rows, costRow(day, "AmazonEC2", ec2), costRow(day, "AmazonS3", "5"))
	}
	costtest.Export(t, root, "cur", "exp", "2026-01", "exec-1", cur.Columns(), rows)
	src := filepath.Join(root, "cur", "exp")
	// The only tenant: no --tenant needed to load or read.
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(errOut)
	}
	for _, want := range []string{ingest.StatusLoaded, ingest.StatusUnchanged} {
		out, errOut, code := runCLI(t, dir, "cur", "ingest", "--source", src, "--json")
		var res ingest.Result
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Periods) != 1 || res.Periods[0].Status != want {
			t.Fatalf("cur ingest: code %d, out %q, stderr %q; want status %s", code, out, errOut, want)
		}
		if !strings.Contains(errOut, "2026-01") {
			t.Errorf("cur ingest shows no progress on stderr: %q", errOut)
		}
	}
	if _, _, code := runCLI(t, dir, "cur", "ingest", "--source", "s3://x"); code != 2 {
		t.Errorf("bad source: code %d, want 2", code)
	}
	if _, _, code := runCLI(t, dir, "cur", "ingest", "--source", t.TempDir()); code != 3 {
		t.Errorf("empty source: code %d, want 3", code)
	}

	out, errOut, code := runCLI(t, dir, "costs", "--group-by", "service", "--granularity", "monthly", "--metric", "unblended", "--json")
	var res costs.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("costs --json: code %d, out %q, stderr %q", code, out, errOut)
	}
	if res.Total != 20*105+300 || len(res.Totals) != 2 || res.Totals[0].Group != "AmazonEC2" {
		t.Errorf("costs result %+v", res)
	}
	out, _, code = runCLI(t, dir, "costs", "query", "--group-by", "tag:team", "--format", "csv", "--granularity", "monthly")
	if code != 0 || !strings.Contains(out, "period,group,amortized\n2026-01,web,2400\n") {
		t.Errorf("costs query csv: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "costs", "--group-by", "service", "--top", "1")
	if code != 0 || !strings.Contains(out, "others") || !strings.Contains(out, "2400.00") {
		t.Errorf("costs table: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "costs", "--billing-period", "2026-01", "--group-by", "billing-period", "--metric", "unblended", "--format", "csv", "--granularity", "monthly")
	if code != 0 || out != "period,group,unblended\n2026-01,2026-01,2400\n" {
		t.Errorf("costs --billing-period: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "costs", "anomalies", "--json")
	var as []costs.Anomaly
	if code != 0 || json.Unmarshal([]byte(out), &as) != nil || len(as) != 2 || as[0].Day != "2026-01-18" {
		t.Errorf("anomalies: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "costs", "forecast")
	if code != 0 || !strings.Contains(out, "2026-01 amortized") || !strings.Contains(out, "forecast") {
		t.Errorf("forecast: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "costs", "mom", "--group-by", "service", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "group,previous,current,delta,percent\nAmazonEC2,0,2300,2300,new\n") {
		t.Errorf("mom: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, dir, "costs", "periods")
	if code != 0 || !strings.Contains(out, "exec-1") {
		t.Errorf("periods: code %d, out %q", code, out)
	}
	for _, args := range [][]string{
		{"costs", "--group-by", "colour"},
		{"costs", "--metric", "blended"},
		{"costs", "--filter", "service"},
		{"costs", "--from", "2026-02-01", "--to", "2026-01-01"},
		{"costs", "--format", "xml"},
		{"costs", "--billing-period", "January"},
		{"costs", "--tenant", "Bad Name"},
	} {
		if _, errOut, code := runCLI(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
	// The row cap: 20 days of two services is 40 rows; the CLI refuses
	// more than --max-rows with the server's message, and --top folds the
	// groups (in DuckDB) below the cap.
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"costs", "--group-by", "service", "--max-rows", "39"}, 2},
		{[]string{"costs", "query", "--group-by", "service", "--max-rows", "39"}, 2},
		{[]string{"costs", "--group-by", "service", "--max-rows", "40"}, 0},
		{[]string{"costs", "--group-by", "service", "--top", "1", "--max-rows", "40"}, 0},
		{[]string{"costs", "--group-by", "service", "--max-rows", "0"}, 0},
	} {
		_, errOut, code := runCLI(t, dir, c.args...)
		if code != c.code || (code == 2 && (!strings.Contains(errOut, "more than 39 rows") || !strings.Contains(errOut, "coarser granularity"))) {
			t.Errorf("%v: code %d, stderr %q; want %d", c.args, code, errOut, c.code)
		}
	}
	if _, _, code := runCLI(t, dir, "costs", "--tenant", "nobody"); code != 3 {
		t.Errorf("unknown tenant: code %d, want 3", code)
	}
}

func twoDigits(d int) string { return string(rune('0'+d/10)) + string(rune('0'+d%10)) }

func TestMoneyNeverNegativeZero(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{-0.001: "0.00", -0.004999: "0.00", -0.005: "-0.01", 0: "0.00", 1234.567: "1234.57", -2.5: "-2.50"} {
		if got := money(v); got != want {
			t.Errorf("money(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestCurIngestFOCUSFile: a plain FOCUS CSV file (no manifest) is ingested
// with --format focus, and an invoice's total by --billing-period includes
// its row dated in the month before.
func TestCurIngestFOCUSFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "internal", "cur", "ingest", "testdata", "focus", "azure-focus-2024.csv")
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := runCLI(t, dir, "cur", "ingest", "--source", src); code != 3 || !strings.Contains(errOut, "--format focus") {
		t.Errorf("without --format: code %d, stderr %q; want 3 and a hint at --format focus", code, errOut)
	}
	out, errOut, code := runCLI(t, dir, "cur", "ingest", "--source", src, "--format", "focus", "--json")
	var res ingest.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Periods) != 2 {
		t.Fatalf("cur ingest --format focus: code %d, out %q, stderr %q", code, out, errOut)
	}
	out, _, code = runCLI(t, dir, "costs", "--billing-period", "2024-10", "--metric", "unblended", "--json")
	var cr costs.Result
	if code != 0 || json.Unmarshal([]byte(out), &cr) != nil || math.Abs(cr.Total-122.253) > 1e-9 || cr.From != "2024-09-30" {
		t.Errorf("costs --billing-period 2024-10: code %d, out %q; want 122.253 from 2024-09-30", code, out)
	}
}
