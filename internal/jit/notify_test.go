package jit

import (
	"context"
	"testing"

	outbox "github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

// TestNotifyQueuesToTheOutbox: without a test hook, JIT notifications go
// to the tenant's outbox, routed to the channels subscribed to the topic,
// once per dedup key.
func TestNotifyQueuesToTheOutbox(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acme, _ := st.CreateTenant(ctx, "acme")
	if _, err := outbox.AddChannel(ctx, st, outbox.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: acme.ID, Name: "approvers", Kind: "slack", URL: "https://hooks.slack.com/services/T0/B0/secret", Topics: []string{"access.*"}}); err != nil {
		t.Fatal(err)
	}
	m := Message{Tenant: acme.ID, Topic: TopicRequested, Subject: "Access requested: lease_1", Text: "ann asks for admin", DedupKey: "lease_1:requested"}
	notify(ctx, st, Options{}, m)
	notify(ctx, st, Options{}, m)
	log, err := st.NotificationLog(ctx, acme.ID, "", 10)
	if err != nil || len(log) != 1 || log[0].Topic != TopicRequested || log[0].Subject != m.Subject {
		t.Fatalf("outbox: %+v %v", log, err)
	}
}
