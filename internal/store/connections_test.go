package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func newConn(tb testing.TB, s *store.Store, tenant crossbill.TenantID, ext string) store.Connection {
	tb.Helper()
	c, err := s.CreateConnection(context.Background(), store.NewConnection{
		TenantID: tenant, ExternalID: crossbill.ExternalID(ext), HubPrincipal: "arn:aws:iam::111111111111:role/hub",
		Modules: []manifest.Module{manifest.ModuleCost, manifest.ModuleOrg},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestConnectionLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-one")
	if c.Status != store.StatusPending || c.RoleARN != "" {
		t.Fatalf("new connection %+v", c)
	}
	got, err := s.ConnectionByID(ctx, c.ID)
	if err != nil || got.ExternalID != "cb-one" || len(got.Modules) != 2 || got.Modules[1] != manifest.ModuleOrg {
		t.Fatalf("ConnectionByID = %+v, %v", got, err)
	}
	if _, err := s.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-one", HubPrincipal: "x", Modules: []manifest.Module{"cost"}}); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("duplicate external ID: %v", err)
	}
	if _, err := s.CreateConnection(ctx, store.NewConnection{TenantID: "nope", ExternalID: "cb-x", HubPrincipal: "x", Modules: []manifest.Module{"cost"}}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("unknown tenant: %v", err)
	}
	c2 := newConn(t, s, acme.ID, "cb-two")
	pending, err := s.PendingConnectionForTenant(ctx, acme.ID)
	if err != nil || pending.ID != c2.ID {
		t.Fatalf("pending = %+v, %v; want newest %s", pending, err, c2.ID)
	}
	const role = "arn:aws:iam::222222222222:role/CrossbillAccess"
	bound, err := bind(ctx, s, c2.ID, role)
	if err != nil || bound.RoleARN != role || bound.AccountID != "222222222222" {
		t.Fatalf("bind = %+v, %v", bound, err)
	}
	if _, err := bind(ctx, s, c2.ID, role); err != nil {
		t.Fatalf("rebinding the same role: %v", err)
	}
	if _, err := bind(ctx, s, c2.ID, "arn:aws:iam::222222222222:role/Other"); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("rebinding another role: %v", err)
	}
	if _, err := bind(ctx, s, c.ID, role); crossbill.ErrorCode(err) != crossbill.CodeConflict || errors.Is(err, store.ErrNotBindable) {
		t.Fatalf("same role on two connections of one tenant: %v, want a plain conflict", err)
	}
	if _, err := bind(ctx, s, c.ID, "not-an-arn"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("bad ARN: %v", err)
	}
	byRole, err := s.ConnectionByRoleARN(ctx, role)
	if err != nil || byRole.ID != c2.ID {
		t.Fatalf("ConnectionByRoleARN = %+v, %v", byRole, err)
	}
	// Same tenant, same account, another role (the evaluation role): fine.
	if _, err := bind(ctx, s, c.ID, "arn:aws:iam::222222222222:role/CrossbillEvaluation"); err != nil {
		t.Fatalf("second role of the same account and tenant: %v", err)
	}
	if _, err := s.PendingConnectionForTenant(ctx, acme.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("no pending left: %v", err)
	}
	if err := s.SetConnectionStatus(ctx, c2.ID, store.StatusVerified); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConnectionStatus(ctx, c2.ID, "great"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("bad status: %v", err)
	}
	if err := s.SetConnectionStatus(ctx, "nope", store.StatusFailed); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("missing connection: %v", err)
	}
	list, err := s.ConnectionsByTenant(ctx, acme.ID)
	if err != nil || len(list) != 2 || list[1].Status != store.StatusVerified {
		t.Fatalf("ConnectionsByTenant = %+v, %v", list, err)
	}
}

func TestRoleAndAccountBelongToOneTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, _ := s.CreateTenant(ctx, "a")
	b, err := s.CreateTenant(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := newConn(t, s, a.ID, "cb-a"), newConn(t, s, b.ID, "cb-b")
	if _, err := bind(ctx, s, ca.ID, "arn:aws:iam::333333333333:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	for _, role := range []crossbill.RoleARN{"arn:aws:iam::333333333333:role/CrossbillAccess", "arn:aws:iam::333333333333:role/Another"} {
		if _, err := bind(ctx, s, cb.ID, role); crossbill.ErrorCode(err) != crossbill.CodeConflict || !errors.Is(err, store.ErrNotBindable) {
			t.Errorf("tenant b binding %s: %v, want conflict (not bindable)", role, err)
		}
	}
	got, err := s.ConnectionByID(ctx, cb.ID)
	if err != nil || got.RoleARN != "" {
		t.Fatalf("failed bind changed the connection: %+v, %v", got, err)
	}
	all, err := s.Connections(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Connections = %d, %v", len(all), err)
	}
}

func TestExternalIDImmutable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, _ := s.CreateTenant(ctx, "a")
	c := newConn(t, s, a.ID, "cb-fixed")
	if _, err := s.DB().ExecContext(ctx, `UPDATE connections SET external_id = 'cb-changed' WHERE id = ?`, string(c.ID)); err == nil {
		t.Fatal("external_id was changed")
	}
}

// TestConcurrentBindsOneWinner has tenants race to bind roles of the same
// account: exactly one tenant may own it, the others get a conflict.
func TestConcurrentBindsOneWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	const n = 6
	conns := make([]store.Connection, n)
	for i := range conns {
		tn, err := s.CreateTenant(ctx, fmt.Sprintf("t%d", i))
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = newConn(t, s, tn.ID, fmt.Sprintf("cb-%d", i))
	}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := bind(ctx, s, c.ID, crossbill.RoleARN(fmt.Sprintf("arn:aws:iam::444444444444:role/R%d", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch crossbill.ErrorCode(err) {
		case "":
			won++
		case crossbill.CodeConflict:
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d tenants own the account, want 1", won)
	}
}

// TestTenantConnection: a tenant finds its own connection; another
// tenant's is NotFound with the very message of a missing one, so the API
// cannot be used to learn which connection IDs exist.
func TestTenantConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	beta, err := s.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-own")
	if got, err := s.TenantConnection(ctx, acme.ID, c.ID); err != nil || got.ID != c.ID || got.ExternalID != "cb-own" {
		t.Fatalf("own connection: %+v, %v", got, err)
	}
	_, other := s.TenantConnection(ctx, beta.ID, c.ID)
	_, missing := s.TenantConnection(ctx, beta.ID, "nosuch")
	if crossbill.ErrorCode(other) != crossbill.CodeNotFound || crossbill.ErrorCode(missing) != crossbill.CodeNotFound {
		t.Fatalf("other tenant's: %v; missing: %v; want NotFound", other, missing)
	}
	if a, b := strings.ReplaceAll(other.Error(), string(c.ID), "X"), strings.ReplaceAll(missing.Error(), "nosuch", "X"); a != b {
		t.Fatalf("another tenant's connection and a missing one answer differently:\n%s\n%s", a, b)
	}
}

// TestConnectionWithModule: a feature finds the tenant's one connection
// with its module and a role; none, several, one without the module or
// without a role, and another tenant's are each refused with what to do.
func TestConnectionWithModule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	mk := func(tenant crossbill.TenantID, ext string, bind bool, mods ...manifest.Module) store.Connection {
		c, err := s.CreateConnection(ctx, store.NewConnection{TenantID: tenant, ExternalID: crossbill.ExternalID(ext), HubPrincipal: "x", Modules: mods})
		if err != nil {
			t.Fatal(err)
		}
		if bind {
			if c, err = storetest.Bind(ctx, s, c.ID, crossbill.RoleARN("arn:aws:iam::11112222"+ext[len(ext)-4:]+":role/R")); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	if _, err := s.ConnectionWithModule(ctx, acme.ID, "", manifest.ModuleInventory); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("none: %v", err)
	}
	unbound := mk(acme.ID, "cb-ext-0001", false, "cost", manifest.ModuleInventory)
	costOnly := mk(acme.ID, "cb-ext-0002", true, "cost")
	if _, err := s.ConnectionWithModule(ctx, acme.ID, "", manifest.ModuleInventory); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("only an unbound one: %v", err)
	}
	one := mk(acme.ID, "cb-ext-0003", true, "cost", manifest.ModuleInventory)
	if c, err := s.ConnectionWithModule(ctx, acme.ID, "", manifest.ModuleInventory); err != nil || c.ID != one.ID {
		t.Fatalf("the one: %+v %v", c, err)
	}
	for _, c := range []store.Connection{unbound, costOnly} {
		if _, err := s.ConnectionWithModule(ctx, acme.ID, c.ID, manifest.ModuleInventory); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Fatalf("%s named: %v", c.ID, err)
		}
	}
	if _, err := s.ConnectionWithModule(ctx, beta.ID, one.ID, manifest.ModuleInventory); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta named acme's connection: %v", err)
	}
	mk(acme.ID, "cb-ext-0004", true, "cost", manifest.ModuleInventory)
	if _, err := s.ConnectionWithModule(ctx, acme.ID, "", manifest.ModuleInventory); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("two: %v", err)
	}
}
