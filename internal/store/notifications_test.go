package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestNotifyChannelsAndOutbox: channel names are unique per tenant and
// bounded, another tenant's channel is NotFound, a dedup key queues once,
// due rows come in order, an attempt's outcome sticks, removing a channel
// drops its pending rows, and the log lists newest first.
func TestNotifyChannelsAndOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	ch := store.NotifyChannel{TenantID: acme.ID, Name: "ops", Kind: "webhook", Target: "https://h", Topics: []string{"alert.*", "event"}, Sealed: "x", CreatedBy: "t"}
	c, err := s.CreateNotifyChannel(ctx, ch, 2, store.AuditEntry{Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNotifyChannel(ctx, ch, 2, store.AuditEntry{Actor: "t"}); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("same name: %v", err)
	}
	ch.Name = "two"
	if _, err := s.CreateNotifyChannel(ctx, ch, 2, store.AuditEntry{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	ch.Name = "three"
	if _, err := s.CreateNotifyChannel(ctx, ch, 2, store.AuditEntry{Actor: "t"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("over the bound: %v", err)
	}
	if _, err := s.NotifyChannel(ctx, beta.ID, c.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta read acme's channel: %v", err)
	}
	got, err := s.NotifyChannel(ctx, acme.ID, "ops")
	if err != nil || len(got.Topics) != 2 || got.Topics[1] != "event" || got.Sealed != "x" {
		t.Fatalf("%+v %v", got, err)
	}
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	if got, err = s.SnoozeNotifyChannel(ctx, acme.ID, "ops", until, store.AuditEntry{Actor: "t"}); err != nil || got.SnoozedUntil == nil || !got.SnoozedUntil.Equal(until) {
		t.Fatalf("snooze: %+v %v", got, err)
	}
	if got, err = s.SnoozeNotifyChannel(ctx, acme.ID, "ops", time.Time{}, store.AuditEntry{Actor: "t"}); err != nil || got.SnoozedUntil != nil {
		t.Fatalf("unsnooze: %+v %v", got, err)
	}

	item := store.OutboxItem{ChannelID: c.ID, ChannelName: c.Name, Topic: "alert.budget", Subject: "s", Text: "t", Data: json.RawMessage(`{"a":1}`)}
	out, dup, err := s.EnqueueNotifications(ctx, acme.ID, "k1", []store.OutboxItem{item})
	if err != nil || dup || len(out) != 1 {
		t.Fatalf("%+v %v %v", out, dup, err)
	}
	if _, dup, err := s.EnqueueNotifications(ctx, acme.ID, "k1", []store.OutboxItem{item}); err != nil || !dup {
		t.Fatalf("the key twice: %v %v", dup, err)
	}
	if _, dup, err := s.EnqueueNotifications(ctx, beta.ID, "k1", nil); err != nil || dup {
		t.Fatalf("the key in another tenant: %v %v", dup, err)
	}
	if _, _, err := s.EnqueueNotifications(ctx, acme.ID, "", []store.OutboxItem{item}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueNotifications(ctx, acme.ID, s.Now().Add(time.Second), 10)
	if err != nil || len(due) != 2 || string(due[0].Data) != `{"a":1}` {
		t.Fatalf("due %+v %v", due, err)
	}
	if tenants, err := s.TenantsWithPendingNotifications(ctx); err != nil || len(tenants) != 1 || tenants[0] != acme.ID {
		t.Fatalf("pending tenants %v %v", tenants, err)
	}
	retry := s.Now().Add(time.Minute)
	if err := s.RecordDelivery(ctx, acme.ID, due[0].ID, store.DeliveryOutcome{Status: store.OutboxPending, NextAt: retry, Err: "503"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDelivery(ctx, beta.ID, due[1].ID, store.DeliveryOutcome{Status: store.OutboxDelivered}); err != nil {
		t.Fatal(err)
	}
	next, ok, err := s.NextNotificationDue(ctx, acme.ID)
	if err != nil || !ok || next.After(retry) {
		t.Fatalf("next %v %v %v", next, ok, err)
	}
	if err := s.RecordDelivery(ctx, acme.ID, due[1].ID, store.DeliveryOutcome{Status: store.OutboxDelivered}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteNotifyChannel(ctx, acme.ID, "ops", store.AuditEntry{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	log, err := s.NotificationLog(ctx, acme.ID, "ops", 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("log %+v %v", log, err)
	}
	status := map[string]store.OutboxItem{}
	for _, it := range log {
		status[it.ID] = it
	}
	if a := status[due[0].ID]; a.Status != store.OutboxDropped || a.Attempts != 1 {
		t.Fatalf("the retried row after its channel went: %+v", a)
	}
	if b := status[due[1].ID]; b.Status != store.OutboxDelivered || b.DeliveredAt == nil || b.Attempts != 1 {
		t.Fatalf("the delivered row (beta's write must not have counted): %+v", b)
	}
	if _, ok, _ := s.NextNotificationDue(ctx, acme.ID); ok {
		t.Fatal("still pending")
	}
}
