package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// TestAlertRules: names unique per tenant, bounded, another tenant's rule
// NotFound, a run recorded, tenants with rules listed.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	r := store.AlertRule{TenantID: acme.ID, Name: "monthly", Kind: "budget", Params: json.RawMessage(`{"amount":100}`), CreatedBy: "t"}
	got, err := s.CreateAlertRule(ctx, r, 2, store.AuditEntry{Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAlertRule(ctx, r, 2, store.AuditEntry{Actor: "t"}); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("same name: %v", err)
	}
	r.Name = "b"
	if _, err := s.CreateAlertRule(ctx, r, 2, store.AuditEntry{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	r.Name = "c"
	if _, err := s.CreateAlertRule(ctx, r, 2, store.AuditEntry{Actor: "t"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("over the bound: %v", err)
	}
	if _, err := s.AlertRule(ctx, beta.ID, got.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta read acme's rule: %v", err)
	}
	if _, err := s.DeleteAlertRule(ctx, beta.ID, "monthly", store.AuditEntry{Actor: "t"}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta removed acme's rule: %v", err)
	}
	if err := s.RecordAlertRun(ctx, acme.ID, got.ID, 3, "no cost data"); err != nil {
		t.Fatal(err)
	}
	back, err := s.AlertRule(ctx, acme.ID, "monthly")
	if err != nil || back.LastRunAt == nil || back.LastFired != 3 || back.LastError != "no cost data" || string(back.Params) != `{"amount":100}` {
		t.Fatalf("%+v %v", back, err)
	}
	if ts, err := s.TenantsWithAlertRules(ctx); err != nil || len(ts) != 1 || ts[0] != acme.ID {
		t.Fatalf("%v %v", ts, err)
	}
	if _, err := s.DeleteAlertRule(ctx, acme.ID, got.ID, store.AuditEntry{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.AlertRules(ctx, acme.ID); len(rs) != 1 || rs[0].Name != "b" {
		t.Fatalf("%+v", rs)
	}
}

// TestEventsKeysAndEvents: a key hash names its connection only, another
// tenant cannot set a key on a connection it does not hold, an event is
// recorded once per connection and ID, and events are listed per tenant.
func TestEventsKeysAndEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	c, err := s.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-abcdefghijklmnopqrstuvwxyz234567", HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: []manifest.Module{manifest.ModuleCost}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEventsKey(ctx, beta.ID, c.ID, "h-beta", "https://x/api/v1/events"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta set a key on acme's connection: %v", err)
	}
	if err := s.SetEventsKey(ctx, acme.ID, c.ID, "h1", "https://x/api/v1/events"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEventsKey(ctx, acme.ID, c.ID, "h2", "https://y/api/v1/events"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectionByEventsKey(ctx, "h1"); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("the replaced key: %v", err)
	}
	got, err := s.ConnectionByEventsKey(ctx, "h2")
	if err != nil || got.ID != c.ID {
		t.Fatalf("%+v %v", got, err)
	}
	if ep, _ := s.EventsEndpoint(ctx, acme.ID, c.ID); ep != "https://y/api/v1/events" {
		t.Fatalf("endpoint %q", ep)
	}
	if ep, _ := s.EventsEndpoint(ctx, beta.ID, c.ID); ep != "" {
		t.Fatalf("beta read acme's endpoint %q", ep)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	e := store.CloudEvent{ConnectionID: c.ID, ID: "ev-1", TenantID: acme.ID, Account: "111122223333", Region: "us-east-1", Source: "aws.iam", EventName: "CreateUser",
		Time: now, ReceivedAt: now, Detail: json.RawMessage(`{"eventName":"CreateUser"}`)}
	for i, want := range []bool{true, false} {
		fresh, err := s.RecordEvent(ctx, e)
		if err != nil || fresh != want {
			t.Fatalf("record %d: %v %v", i, fresh, err)
		}
	}
	evs, err := s.CloudEvents(ctx, acme.ID, now.Add(-time.Minute), 10)
	if err != nil || len(evs) != 1 || evs[0].EventName != "CreateUser" || !evs[0].Time.Equal(now) || string(evs[0].Detail) != `{"eventName":"CreateUser"}` {
		t.Fatalf("%+v %v", evs, err)
	}
	if evs, _ := s.CloudEvents(ctx, beta.ID, now.Add(-time.Minute), 10); len(evs) != 0 {
		t.Fatalf("beta sees %d events", len(evs))
	}
}

// TestAutomationFile: a tenant's policy file is kept, replaced, read
// back with its last runs, and another tenant's is NotFound.
func TestAutomationFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	if _, err := s.AutomationFile(ctx, acme.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("none yet: %v", err)
	}
	for _, src := range []string{"policies: [a]\n", "policies: [b]\n"} {
		if err := s.SetAutomationFile(ctx, acme.ID, src, "cli:ann"); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if err := s.RecordAutomationRuns(ctx, acme.ID, map[string]time.Time{"b": at}); err != nil {
		t.Fatal(err)
	}
	f, err := s.AutomationFile(ctx, acme.ID)
	if err != nil || f.Source != "policies: [b]\n" || f.UpdatedBy != "cli:ann" || !f.LastRuns["b"].Equal(at) {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := s.AutomationFile(ctx, beta.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta: %v", err)
	}
	if ts, err := s.TenantsWithAutomation(ctx); err != nil || len(ts) != 1 || ts[0] != acme.ID {
		t.Fatalf("%v %v", ts, err)
	}
}
