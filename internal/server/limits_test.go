package server_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/server"
)

// costFixture serves a tenant "acme" with 20 days of two services' costs
// (40 daily rows by service), ingested from a real CUR 2.0 export.
func costFixture(t *testing.T, tweak func(*server.Main)) (ts *testServer, readTok string) {
	t.Helper()
	ts = startServer(t, tweak)
	tenant, readTok, _ := ts.tenantWithTokens(t, "acme")
	ingestTwoServices(t, ts, tenant.ID)
	return ts, readTok
}

// ingestTwoServices loads 20 days of two services' costs into a tenant.
func ingestTwoServices(t *testing.T, ts *testServer, tenantID string) {
	t.Helper()
	var rows []costtest.Row
	for d := 1; d <= 20; d++ {
		day := "2026-01-" + strconv.Itoa(100 + d)[1:]
		for _, svc := range []string{"AmazonEC2", "AmazonS3"} {
			rows = append(rows, costtest.Row{
				cur.ColBillBillType: "'Anniversary'", cur.ColBillPayerAccountID: "'999999999999'",
				cur.ColBillBillingPeriodStartDate: "TIMESTAMP '2026-01-01'", cur.ColBillBillingPeriodEndDate: "TIMESTAMP '2026-02-01'",
				cur.ColLineItemUsageAccountID: "'111111111111'", cur.ColLineItemType: "'Usage'",
				cur.ColLineItemProductCode: "'" + svc + "'", cur.ColProductRegionCode: "'us-east-1'",
				cur.ColLineItemUsageType: "'BoxUsage'", cur.ColLineItemOperation: "'RunInstances'",
				cur.ColLineItemUsageStartDate: "TIMESTAMP '" + day + " 05:00:00'", cur.ColLineItemUsageEndDate: "TIMESTAMP '" + day + " 06:00:00'",
				cur.ColLineItemUnblendedCost: "10", cur.ColLineItemUsageAmount: "1", cur.ColPricingPublicOnDemandCost: "10",
			})
		}
	}
	root := t.TempDir()
	costtest.Export(t, root, "cur", "exp", "2026-01", "exec-1", cur.Columns(), rows)
	if _, err := ingest.Ingest(context.Background(), ts.Costs(), ingest.Options{Source: filepath.Join(root, "cur", "exp"), Tenant: crossbill.TenantID(tenantID)}); err != nil {
		t.Fatal(err)
	}
}

// metric reads one value from /metrics.
func (ts *testServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(ts.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no %s", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCostLimitsOverHTTP: unknown and repeated query parameters are
// refused, spellings of one question share one cache entry, and an answer
// over the row cap is refused with how to narrow it.
func TestCostLimitsOverHTTP(t *testing.T) {
	t.Parallel()
	ts, tok := costFixture(t, func(m *server.Main) { m.MaxRows = 39 })
	const base = "/api/v1/tenants/acme/costs"
	for _, c := range []struct{ path, want string }{
		{base + "?group_by=service&nocache=1", `unknown query parameter "nocache"`},
		{base + "?group_by=service&Group_By=region", `accepted: metric, group_by, granularity, from, to, filter, billing_period, top`},
		{base + "?top=1&top=2", `"top" is given 2 times`},
		{"/api/v1/me?x=1", "it takes no query parameters"},
		{base + "?group_by=service", "more than 39 rows"},
	} {
		var e errJSON
		if st := ts.do(t, "GET", c.path, tok, nil, &e); st != 400 || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: %d %q; want 400 with %q", c.path, st, e.Error, c.want)
		}
	}
	var e errJSON
	ts.do(t, "GET", base+"?group_by=service", tok, nil, &e)
	if !strings.Contains(e.Error, "coarser granularity (daily or monthly)") || !strings.Contains(e.Error, "top N") {
		t.Errorf("row cap message %q does not say how to narrow the query", e.Error)
	}
	if st := ts.do(t, "GET", "/healthz?probe=1", "", nil, &e); st != 400 {
		t.Errorf("public route with an unknown parameter: %d", st)
	}

	for _, p := range []string{
		base + "?group_by=service&granularity=monthly&filter=service=AmazonEC2,AmazonS3&filter=region=us-east-1",
		base + "?filter=region=us-east-1&granularity=monthly&filter=service=AmazonS3,AmazonEC2,AmazonS3&group_by=service",
		base + "?filter=region=us-east-1&metric=AMORTIZED&filter=service=AmazonS3,AmazonEC2&group_by=service&granularity=monthly",
	} {
		var res struct{ Total float64 }
		if st := ts.do(t, "GET", p, tok, nil, &res); st != 200 || res.Total != 400 {
			t.Fatalf("%s: %d %+v", p, st, res)
		}
	}
	if n := ts.metric(t, "crossbill_cache_entries"); n != 1 {
		t.Errorf("three spellings of one query made %v cache entries, want 1", n)
	}
	if b, max := ts.metric(t, "crossbill_cache_bytes"), ts.metric(t, "crossbill_cache_max_bytes"); b <= 0 || b > max || max != 32<<20 {
		t.Errorf("cache bytes %v of %v", b, max)
	}
	if v := ts.metric(t, "crossbill_duckdb_memory_bytes"); v <= 0 {
		t.Errorf("DuckDB memory %v after queries; want its buffer manager's bytes", v)
	}
}
