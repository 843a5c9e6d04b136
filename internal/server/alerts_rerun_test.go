package server

import (
	"context"
	"errors"
	"testing"
	"time"

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
