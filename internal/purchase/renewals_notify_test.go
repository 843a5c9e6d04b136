package purchase_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
)

// TestRenewalAlertsReachTheOutbox: renewal alerts sent through notify's
// outbox (as `commitments renewals --notify` does) reach the channels
// subscribed to commitments.*, and a second run the same day queues
// nothing new.
func TestRenewalAlertsReachTheOutbox(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acme, _ := st.CreateTenant(ctx, "acme")
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: acme.ID, Name: "finops", Kind: "slack", URL: "https://hooks.slack.com/services/T0/B0/x", Topics: []string{"commitments.*"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rs := purchase.Renewals([]commitments.Commitment{
		{ID: "sp-a", Type: commitments.TypeComputeSP, TermYears: 1, Payment: commitments.NoUpfront, HourlyCommitment: 10, End: now.AddDate(0, 0, 25)},
		{ID: "sp-late", Type: commitments.TypeComputeSP, TermYears: 1, HourlyCommitment: 5, End: now.AddDate(0, 0, 200)},
	}, map[string]float64{"sp-a": 0.9}, "conn_1", now)
	enqueue := func(ctx context.Context, m purchase.Message) error {
		return notify.Enqueue(ctx, st, notify.Message{Tenant: m.Tenant, Topic: m.Topic, Subject: m.Subject, Text: m.Text, Data: m.Data, DedupKey: m.DedupKey})
	}
	for range 2 {
		if n, err := purchase.SendRenewalAlerts(ctx, enqueue, acme.ID, rs); err != nil || n != 1 {
			t.Fatalf("sent %d, %v", n, err)
		}
	}
	log, err := st.NotificationLog(ctx, acme.ID, "", 10)
	if err != nil || len(log) != 1 || log[0].Topic != purchase.TopicRenewal || log[0].ChannelName != "finops" {
		t.Fatalf("outbox: %+v %v", log, err)
	}
}
