package server_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestPurchasePlanExpectedFromTenantUsage: POST .../commitments/plans
// computes the plan's expected utilization from the tenant's ingested CUR
// (the commitments fixture: 10 to 16 m5.large on demand in us-east-1 every
// hour), never from the figures the client sends. The EC2 reservation
// offering is read from moto for real, through the connection's role
// (moto's regional m5.large No Upfront: $0.05/h); nothing is stubbed and
// nothing is bought. A client claiming 100% for 40 reservations, which the
// usage fills a third of the time, is refused by the 90% guardrail; 8 are
// full every hour and pass.
func TestPurchasePlanExpectedFromTenantUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Shared(t)
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
	})
	tenant, _, admin := ts.tenantWithTokens(t, "acme")
	if _, err := ingest.Ingest(ctx, ts.Costs(), ingest.Options{Source: commitmentstest.Export(t, t.TempDir()), Tenant: crossbill.TenantID(tenant.ID)}); err != nil {
		t.Fatal(err)
	}
	ts.Server().InvalidateCosts(crossbill.TenantID(tenant.ID))
	c, err := ts.Store().CreateConnection(ctx, store.NewConnection{TenantID: crossbill.TenantID(tenant.ID), ExternalID: "cb-test-purchase-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleCommitments, manifest.ModuleCommitmentsPurchase}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, ts.Store(), c.ID, "arn:aws:iam::123456789012:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	if st := ts.do(t, "PUT", "/api/v1/tenants/acme/commitments/guardrails", admin, map[string]any{"min_expected_utilization": 0.9}, nil); st != http.StatusOK {
		t.Fatalf("guardrails: %d", st)
	}
	plan := func(count int) map[string]any {
		return map[string]any{"connection": c.ID, "type": "EC2", "term_years": 1, "payment_option": "No Upfront", "count": count,
			"instance_type": "m5.large", "region": "us-east-1", "expected": map[string]any{"expected_utilization": 1, "expected_coverage": 1}}
	}
	var e errJSON
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/plans", admin, plan(40), &e); st != http.StatusBadRequest ||
		!strings.Contains(e.Error, "is below the tenant's minimum of 90%") {
		t.Fatalf("40 reservations claimed full: %d %+v", st, e)
	}
	var v purchase.View
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/plans", admin, plan(8), &v); st != http.StatusCreated {
		t.Fatalf("8 reservations: %d", st)
	}
	if x := v.Plan.Expected; x == nil || x.Utilization < 0.999 || x.Coverage <= 0 || x.Coverage >= 1 || x.MonthlySavings <= 0 ||
		!strings.Contains(v.Plan.ExpectedBasis, "2026-01-01 to 2026-01-15") || math.Abs(v.Plan.Offering.HourlyPrice-0.05) > 1e-6 {
		t.Fatalf("8 reservations: %+v (%s), offering %+v", x, v.Plan.ExpectedBasis, v.Plan.Offering)
	}
}
