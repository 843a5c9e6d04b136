package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestAccessSyncsAndChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	mustOK(t, err)
	other, err := s.CreateTenant(ctx, "other")
	mustOK(t, err)
	c := newConn(t, s, acme.ID, "cb-access")

	if _, err := s.LatestAccessSync(ctx, acme.ID, c.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("no sync yet: %v, want not found", err)
	}
	day1 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	first, err := s.SaveAccessSync(ctx, store.AccessSync{TenantID: acme.ID, ConnectionID: c.ID, StartedAt: day1, FinishedAt: day1.Add(time.Minute),
		Accounts: 3, Snapshot: []byte(`{"n":1}`)}, nil)
	mustOK(t, err)
	day2 := day1.Add(24 * time.Hour)
	second, err := s.SaveAccessSync(ctx, store.AccessSync{TenantID: acme.ID, ConnectionID: c.ID, StartedAt: day2, FinishedAt: day2.Add(time.Minute),
		Accounts: 3, Errors: 1, Snapshot: []byte(`{"n":2}`)}, []store.AccessChange{
		{Kind: "gained", Principal: "arn:aws:iam::1:user/bob", Account: "111111111111", Entitlement: "AdministratorAccess", Detail: "via group admins"},
	})
	mustOK(t, err)
	if first.ID == second.ID {
		t.Fatal("two syncs share an ID")
	}
	latest, err := s.LatestAccessSync(ctx, acme.ID, c.ID)
	mustOK(t, err)
	if latest.ID != second.ID || string(latest.Snapshot) != `{"n":2}` || latest.Errors != 1 || !latest.StartedAt.Equal(day2) {
		t.Fatalf("latest = %+v, want the second sync", latest)
	}
	// Another tenant sees neither the sync nor the changes.
	if _, err := s.LatestAccessSync(ctx, other.ID, c.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("other tenant: %v, want not found", err)
	}
	if ch, err := s.AccessChanges(ctx, other.ID, "", day1); err != nil || len(ch) != 0 {
		t.Fatalf("other tenant's changes: %v %v", ch, err)
	}
	ch, err := s.AccessChanges(ctx, acme.ID, c.ID, day2)
	mustOK(t, err)
	if len(ch) != 1 || ch[0].Principal != "arn:aws:iam::1:user/bob" || ch[0].SyncID != second.ID || !ch[0].At.Equal(day2.Add(time.Minute)) {
		t.Fatalf("changes since day 2 = %+v", ch)
	}
	if ch, _ := s.AccessChanges(ctx, acme.ID, "", day2.Add(time.Hour)); len(ch) != 0 {
		t.Fatalf("changes after the last sync = %+v, want none", ch)
	}
}
