package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestPurchasePlans: a plan and its tranches round-trip, tokens are per
// tranche, another tenant's plan is NotFound, state moves are
// compare-and-set (a second mover gets a Conflict) and every move is an
// audit line in the chain.
func TestPurchasePlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	due := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	by := store.AuditEntry{Actor: "user:usr_1", PersonEmail: "ann@example.com"}
	p, err := s.CreatePurchasePlan(ctx, store.PurchasePlan{TenantID: acme.ID, ConnectionID: "conn_1", Kind: "purchase", State: "pending-approval",
		Spec:     json.RawMessage(`{"type":"ComputeSavingsPlans"}`),
		Tranches: []store.PurchaseTranche{{Due: due, State: "planned"}, {Due: due.AddDate(0, 1, 0), State: "planned"}}}, by)
	if err != nil || p.ID == "" || p.Person != "ann@example.com" {
		t.Fatalf("create: %+v, %v", p, err)
	}
	got, err := s.PurchasePlan(ctx, acme.ID, p.ID)
	if err != nil || len(got.Tranches) != 2 || got.Tranches[1].ClientToken != p.ID+"-1" || !got.Tranches[1].Due.Equal(due.AddDate(0, 1, 0)) {
		t.Fatalf("read: %+v, %v", got, err)
	}
	if _, err := s.PurchasePlan(ctx, beta.ID, p.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("acme's plan read as beta: %v", err)
	}
	if err := s.MovePurchasePlan(ctx, beta.ID, p.ID, []string{"pending-approval"}, "approved", by, nil); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta moved acme's plan: %v", err)
	}
	if err := s.MovePurchasePlan(ctx, acme.ID, p.ID, []string{"pending-approval"}, "approved", by, map[string]string{"approval": "apr_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MovePurchasePlan(ctx, acme.ID, p.ID, []string{"pending-approval"}, "approved", by, nil); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("second move: %v", err)
	}
	if err := s.MovePurchaseTranche(ctx, acme.ID, p.ID, 0, []string{"planned"}, store.TrancheUpdate{State: "buying"}, by, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.MovePurchaseTranche(ctx, acme.ID, p.ID, 0, []string{"buying"}, store.TrancheUpdate{State: "bought", CommitmentID: "sp-1"}, by, nil); err != nil {
		t.Fatal(err)
	}
	// An update without an ID keeps the one AWS returned.
	if err := s.MovePurchaseTranche(ctx, acme.ID, p.ID, 0, []string{"bought"}, store.TrancheUpdate{State: "done"}, by, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.MovePurchaseTranche(ctx, acme.ID, p.ID, 0, []string{"planned"}, store.TrancheUpdate{State: "buying"}, by, nil); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("tranche moved twice: %v", err)
	}
	got, _ = s.PurchasePlan(ctx, acme.ID, p.ID)
	if got.State != "approved" || got.Tranches[0].State != "done" || got.Tranches[0].CommitmentID != "sp-1" || got.Tranches[1].State != "planned" {
		t.Fatalf("after moves: %+v", got)
	}
	list, err := s.PurchasePlans(ctx, acme.ID)
	if err != nil || len(list) != 1 || len(list[0].Tranches) != 2 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if list, _ := s.PurchasePlans(ctx, beta.ID); len(list) != 0 {
		t.Fatalf("beta lists acme's plans: %+v", list)
	}
	lines, err := s.AuditLog(ctx, "", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"purchase.plan.created": false, "purchase.plan.approved": false, "purchase.tranche.buying": false, "purchase.tranche.bought": false, "purchase.tranche.done": false}
	for _, l := range lines {
		if _, ok := want[l.Action]; ok && l.Subject == p.ID {
			want[l.Action] = true
		}
	}
	for a, seen := range want {
		if !seen {
			t.Errorf("no audit line %s", a)
		}
	}
	if chk, err := s.VerifyAudit(ctx); err != nil || !chk.OK {
		t.Fatalf("audit chain: %+v, %v", chk, err)
	}
}

func TestPurchaseGuardrails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	if g, err := s.PurchaseGuardrails(ctx, acme.ID); err != nil || g.MaxUpfront != 0 {
		t.Fatalf("unset: %+v, %v", g, err)
	}
	by := store.AuditEntry{Actor: "token:tok_1"}
	for _, max := range []float64{10000, 5000} {
		if _, err := s.SetPurchaseGuardrails(ctx, acme.ID, store.PurchaseGuardrails{MaxHourlyPerMonth: 2.5, MaxUpfront: max, MinUtilization: 0.9}, by); err != nil {
			t.Fatal(err)
		}
	}
	g, err := s.PurchaseGuardrails(ctx, acme.ID)
	if err != nil || g.MaxHourlyPerMonth != 2.5 || g.MaxUpfront != 5000 || g.MinUtilization != 0.9 || g.UpdatedBy != "token:tok_1" {
		t.Fatalf("set twice: %+v, %v", g, err)
	}
	if g, _ := s.PurchaseGuardrails(ctx, beta.ID); g.MaxUpfront != 0 {
		t.Fatalf("beta sees acme's guardrails: %+v", g)
	}
}

// TestOrgHandshakes: invitations are per tenant, a state change is one
// audit line (an unchanged state none), another tenant's is NotFound.
func TestOrgHandshakes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	now := time.Now().UTC().Truncate(time.Second)
	by := store.AuditEntry{Actor: "cli:ops"}
	if _, err := s.SaveHandshake(ctx, store.OrgHandshake{ID: "h-1", TenantID: acme.ID, AccountID: "210987654321", State: "open", RequestedAt: now, ExpiresAt: now.AddDate(0, 0, 15)}, by); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveHandshake(ctx, store.OrgHandshake{ID: "h-1", TenantID: beta.ID, AccountID: "210987654321", State: "open", RequestedAt: now, ExpiresAt: now}, by); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("the same handshake twice: %v", err)
	}
	if err := s.SetHandshakeState(ctx, beta.ID, "h-1", "accepted", by); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta moved acme's handshake: %v", err)
	}
	for range 2 {
		if err := s.SetHandshakeState(ctx, acme.ID, "h-1", "accepted", by); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := s.Handshakes(ctx, acme.ID)
	if err != nil || len(hs) != 1 || hs[0].State != "accepted" || !hs[0].ExpiresAt.Equal(now.AddDate(0, 0, 15)) {
		t.Fatalf("handshakes: %+v, %v", hs, err)
	}
	if hs, _ := s.Handshakes(ctx, beta.ID); len(hs) != 0 {
		t.Fatalf("beta lists acme's: %+v", hs)
	}
	lines, _ := s.AuditLog(ctx, "org.handshake.accepted", acme.ID)
	if len(lines) != 1 {
		t.Fatalf("%d accepted lines, want 1", len(lines))
	}
}
