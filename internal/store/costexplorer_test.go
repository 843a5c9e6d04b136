package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// TestCostExplorerBudget: requests are counted per connection and month,
// the budget stops the count at its cap (one statement, so a spent slot is
// never spent twice), a new month starts afresh, and another tenant sees
// nothing of the connection.
func TestCostExplorerBudget(t *testing.T) {
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
	c, err := s.CreateConnection(ctx, store.NewConnection{TenantID: a.ID, ExternalID: "cb-test-ce-budget-0123456789",
		HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: []manifest.Module{manifest.ModuleCost}})
	if err != nil {
		t.Fatal(err)
	}
	may := time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC)
	spent := 0
	for i := 0; i < 5; i++ {
		ok, err := s.SpendCostExplorerRequest(ctx, a.ID, c.ID, []string{"ce:GetCostAndUsage", "ce:GetTags"}[i%2], may, 3)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			spent++
		}
	}
	if spent != 3 {
		t.Errorf("spent %d requests under a budget of 3", spent)
	}
	got, err := s.CostExplorerRequests(ctx, a.ID, c.ID, "2026-05")
	if err != nil || got["ce:GetCostAndUsage"] != 2 || got["ce:GetTags"] != 1 {
		t.Errorf("May's requests: %v, %v", got, err)
	}
	if ok, err := s.SpendCostExplorerRequest(ctx, a.ID, c.ID, "ce:GetCostAndUsage", may.Add(2*time.Hour), 3); !ok || err != nil {
		t.Errorf("June starts a new budget: %v, %v", ok, err)
	}
	if got, _ := s.CostExplorerRequests(ctx, b.ID, c.ID, "2026-05"); len(got) != 0 {
		t.Errorf("another tenant sees the connection's requests: %v", got)
	}

	if err := s.SetCostExplorerBudget(ctx, a.ID, c.ID, 42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCostExplorerBudget(ctx, b.ID, c.ID, 1); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("another tenant sets the budget: %v", err)
	}
	if err := s.SetCostExplorerBudget(ctx, a.ID, c.ID, -1); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("negative budget: %v", err)
	}
	if err := s.SaveCostExplorerState(ctx, store.CostExplorerState{ConnectionID: c.ID, TenantID: a.ID, LoadedFrom: "2025-06-01",
		LoadedThrough: "2026-05-30", Status: "loaded"}); err != nil {
		t.Fatal(err)
	}
	st, err := s.CostExplorerState(ctx, a.ID, c.ID)
	if err != nil || st.Budget != 42 || st.LoadedThrough != "2026-05-30" || st.Status != "loaded" {
		t.Errorf("state: %+v, %v (the load's outcome must keep the budget)", st, err)
	}
	if _, err := s.CostExplorerState(ctx, b.ID, c.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("another tenant reads the state: %v", err)
	}
}
