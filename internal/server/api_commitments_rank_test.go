package server_test

import (
	"context"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// TestRecommendationsRankAndDownside: the API ranks as the CLI does (risk
// by default, the exact optimum on request) and every row carries the
// downside and the trend beside the expected savings.
func TestRecommendationsRankAndDownside(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	tenant, read, _ := ts.tenantWithTokens(t, "acme")
	if _, err := ingest.Ingest(context.Background(), ts.Costs(), ingest.Options{Source: commitmentstest.Export(t, t.TempDir()), Tenant: crossbill.TenantID(tenant.ID)}); err != nil {
		t.Fatal(err)
	}
	ts.Server().InvalidateCosts(crossbill.TenantID(tenant.ID))
	get := func(q string) []commitments.Recommendation {
		t.Helper()
		var recs []commitments.Recommendation
		if st := ts.do(t, "GET", "/api/v1/tenants/acme/commitments/recommendations?lookback_days=14"+q, read, nil, &recs); st != 200 {
			t.Fatalf("%s: %d", q, st)
		}
		return recs
	}
	risk, opt := get(""), get("&rank=optimum")
	if len(risk) == 0 || len(risk) >= len(opt) || opt[0].BreakEvenMonth <= commitments.DefaultMaxBreakEven {
		t.Fatalf("risk %d rows, optimum %d rows, optimum's top %+v", len(risk), len(opt), opt[0])
	}
	for i, r := range risk {
		if r.BreakEvenMonth > commitments.DefaultMaxBreakEven || r.Downside20 < 0 || r.Downside20 >= r.MonthlySavings || r.Trend == nil ||
			(i > 0 && r.Downside20 > risk[i-1].Downside20) {
			t.Errorf("risk row %d: %+v", i, r)
		}
	}
	if loose := get("&max_break_even_months=0&allow_loss=true"); len(loose) != len(opt) {
		t.Errorf("no limits: %d rows, want %d", len(loose), len(opt))
	}
	for _, q := range []string{"&rank=best", "&max_break_even_months=x", "&max_break_even_months=99", "&allow_loss=maybe"} {
		var e errJSON
		if st := ts.do(t, "GET", "/api/v1/tenants/acme/commitments/recommendations?lookback_days=14"+q, read, nil, &e); st != 400 || e.Code != "invalid" {
			t.Errorf("%s: %d %+v", q, st, e)
		}
	}
}
