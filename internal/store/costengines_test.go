package store_test

import (
	"context"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// TestCostEngine: a tenant is local until set; Athena needs the tenant's
// own connection (another tenant's is NotFound), one setting per tenant
// (a second connection replaces the first), and local clears it.
func TestCostEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	conn := func(tenant crossbill.TenantID, ext string) store.Connection {
		c, err := s.CreateConnection(ctx, store.NewConnection{TenantID: tenant, ExternalID: crossbill.ExternalID(ext),
			HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: []manifest.Module{manifest.ModuleCUR}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a1, a2, b1 := conn(a.ID, "cb-test-engine-a1-0123456789"), conn(a.ID, "cb-test-engine-a2-0123456789"), conn(b.ID, "cb-test-engine-b1-0123456789")
	if e, err := s.CostEngine(ctx, a.ID); err != nil || e.Engine != store.EngineLocal || e.ConnectionID != "" {
		t.Fatalf("default engine: %+v, %v", e, err)
	}
	athena := store.CostEngine{TenantID: a.ID, Engine: store.EngineAthena, ConnectionID: a1.ID, Table: "crossbill_cur.cur2", WorkGroup: "crossbill"}
	e, err := s.SetCostEngine(ctx, athena)
	if err != nil || e.Engine != store.EngineAthena || e.ConnectionID != a1.ID || e.Table != "crossbill_cur.cur2" || e.WorkGroup != "crossbill" || e.UpdatedAt == nil {
		t.Fatalf("set athena: %+v, %v", e, err)
	}
	foreign := athena
	foreign.ConnectionID = b1.ID
	if _, err := s.SetCostEngine(ctx, foreign); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("another tenant's connection: %v, want not found", err)
	}
	if e, _ := s.CostEngine(ctx, b.ID); e.Engine != store.EngineLocal {
		t.Fatalf("beta's engine changed with acme's: %+v", e)
	}
	athena.ConnectionID = a2.ID
	if e, err := s.SetCostEngine(ctx, athena); err != nil || e.ConnectionID != a2.ID {
		t.Fatalf("second connection: %+v, %v", e, err)
	}
	if _, err := s.SetCostEngine(ctx, store.CostEngine{TenantID: a.ID, Engine: "presto"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("unknown engine: %v", err)
	}
	if _, err := s.SetCostEngine(ctx, store.CostEngine{TenantID: a.ID, Engine: store.EngineAthena, ConnectionID: a1.ID}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("athena without a table: %v", err)
	}
	if e, err := s.SetCostEngine(ctx, store.CostEngine{TenantID: a.ID, Engine: store.EngineLocal}); err != nil || e.Engine != store.EngineLocal || e.ConnectionID != "" {
		t.Fatalf("back to local: %+v, %v", e, err)
	}
}

// TestAthenaSpend: a tenant's month adds up (bytes past 2^31 too), other
// months and tenants apart.
func TestAthenaSpend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if sp, err := s.AthenaSpendOf(ctx, a.ID, "2026-05"); err != nil || sp.Queries != 0 || sp.Month != "2026-05" {
		t.Fatalf("no spend yet: %+v, %v", sp, err)
	}
	const big = int64(3) << 40 // 3 TB: past 32 bits
	for _, add := range []struct {
		tenant  crossbill.TenantID
		month   string
		scanned int64
	}{{a.ID, "2026-05", big}, {a.ID, "2026-05", 5}, {a.ID, "2026-04", 7}, {b.ID, "2026-05", 11}} {
		if err := s.AddAthenaSpend(ctx, add.tenant, add.month, 1, add.scanned, add.scanned+1); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := s.AthenaSpendOf(ctx, a.ID, "2026-05")
	if err != nil || sp.Queries != 2 || sp.ScannedBytes != big+5 || sp.BilledBytes != big+7 {
		t.Fatalf("acme's May: %+v, %v", sp, err)
	}
	if sp, _ := s.AthenaSpendOf(ctx, b.ID, "2026-05"); sp.Queries != 1 || sp.ScannedBytes != 11 {
		t.Fatalf("beta's May: %+v", sp)
	}
}
