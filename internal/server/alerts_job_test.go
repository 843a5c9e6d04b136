package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/server"
)

// TestNotifyJobRetriesUntilDelivered: the server's notify job delivers an
// enqueued message to a webhook that answers 503 twice, retrying with
// backoff (the job defers itself to each retry), and the third attempt
// lands signed with the secret the API answered when the channel was
// added. It logs the delivery latency: the figure reported for a failing
// then recovering receiver (with a 1 s base backoff: 1 s + 2 s of waits,
// plus the scheduler's 1 s poll).
func TestNotifyJobRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(m *server.Main) { m.Notify = notify.Options{BaseBackoff: time.Second} })
	tenant, _, admin := ts.tenantWithTokens(t, "acme")
	var mu sync.Mutex
	var secret string
	var calls []time.Time
	delivered := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, time.Now())
		if err := notify.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery %d: %v", len(calls), err)
		}
		if len(calls) <= 2 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if len(calls) == 3 {
			close(delivered)
		}
	}))
	defer rc.Close()
	var added struct{ Secret string }
	if code := ts.do(t, "POST", "/api/v1/tenants/acme/alerts/channels", admin, map[string]any{"name": "ops", "kind": "webhook", "url": rc.URL}, &added); code != 201 || added.Secret == "" {
		t.Fatalf("add channel: %d", code)
	}
	mu.Lock()
	secret = added.Secret
	mu.Unlock()
	start := time.Now()
	if err := notify.Enqueue(context.Background(), ts.Store(), notify.Message{Tenant: crossbill.TenantID(tenant.ID), Topic: "alert.budget", Subject: "over budget", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-delivered:
	case <-time.After(60 * time.Second):
		t.Fatalf("not delivered in 60 s; calls %v", calls)
	}
	t.Logf("delivery latency with 2 failures (1 s base backoff): %s; attempts at %v", time.Since(start).Round(time.Millisecond), calls)
	var log []struct {
		Status   string
		Attempts int
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ts.do(t, "GET", "/api/v1/tenants/acme/alerts/deliveries", admin, nil, &log)
		if len(log) == 1 && log[0].Status == "delivered" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(log) != 1 || log[0].Status != "delivered" || log[0].Attempts != 3 {
		t.Fatalf("log %+v", log)
	}
}
