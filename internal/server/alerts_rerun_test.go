package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// TestAlertsRunAgainAfterEvents: an event received while the alerts (or
// automation) job ran makes it run again at once (the endpoint's request
// found the job running and queued nothing: TestEventsEndpoint's alert
// then waited for the next day when the rule's first evaluation was still
// running); without such an event the job ends.
func TestAlertsRunAgainAfterEvents(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	s := &Server{store: st}
	start := st.Now()
	if err := s.againIfEventsArrived(ctx, ten.ID, start); err != nil {
		t.Fatalf("no event: %v", err)
	}
	if _, err := st.RecordEvent(ctx, store.CloudEvent{ConnectionID: "c1", ID: "e1", TenantID: ten.ID, Account: "111122223333", Region: "us-east-1",
		Source: "aws.iam", EventName: "CreateUser", Time: start, ReceivedAt: st.Now(), Detail: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var d *scheduler.DeferError
	if err := s.againIfEventsArrived(ctx, ten.ID, start); !errors.As(err, &d) || d.Until.After(st.Now()) {
		t.Fatalf("an event during the run: %v", err)
	}
	if err := s.againIfEventsArrived(ctx, ten.ID, st.Now().Add(time.Second)); err != nil {
		t.Fatalf("an event before the run: %v", err)
	}
}

// TestRemediationNoticesReachTheOutbox: remediation's notices go to the
// tenant's channels subscribed to remediation.*, once per dedup key.
func TestRemediationNoticesReachTheOutbox(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: ten.ID, Name: "ops", Kind: notify.KindSlack, URL: "http://127.0.0.1:1/x", Topics: []string{"remediation.*"}}); err != nil {
		t.Fatal(err)
	}
	n := remediation.Notice{Topic: remediation.TopicAwaiting, Subject: "Remediation plan rp_1 waits for an approver", Text: "t",
		Plan: remediation.Plan{ID: "rp_1", TenantID: ten.ID}, DedupKey: remediation.TopicAwaiting + "/rp_1"}
	remediationNotify(st)(ctx, n)
	remediationNotify(st)(ctx, n)
	log, err := st.NotificationLog(ctx, ten.ID, "ops", 10)
	if err != nil || len(log) != 1 || log[0].Topic != remediation.TopicAwaiting {
		t.Fatalf("%+v %v", log, err)
	}
}
