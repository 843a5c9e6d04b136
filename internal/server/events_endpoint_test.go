package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/events"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// eventsConnection gives the tenant a connection bound to account
// 111122223333 with the access-read module and an events key.
func eventsConnection(tb testing.TB, ts *testServer, tenant crossbill.TenantID) (store.Connection, string) {
	tb.Helper()
	ctx := context.Background()
	st := ts.Store()
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tenant, ExternalID: "cb-eventsabcdefghijklmnopqrstuvwxyz2", HubPrincipal: "arn:aws:iam::999999999999:role/hub",
		Modules: []manifest.Module{manifest.ModuleAccessRead}})
	if err != nil {
		tb.Fatal(err)
	}
	if c, err = storetest.Bind(ctx, st, c.ID, "arn:aws:iam::111122223333:role/CrossbillAccess"); err != nil {
		tb.Fatal(err)
	}
	key, err := events.IssueKey(ctx, st, tenant, c.ID, "https://crossbill.example.com/api/v1/events")
	if err != nil {
		tb.Fatal(err)
	}
	return c, key
}

func postEvent(tb testing.TB, client *http.Client, base, key string, body []byte) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(manifest.EventsKeyHeader, key)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEventsEndpoint: real-shaped CloudTrail events posted as an
// EventBridge API destination does: a bad key is 401, a malformed event
// 400, a new event 202 and it queues the connection's access sync and the
// tenant's alert evaluation at once, whose event rule then reaches the
// webhook within seconds; the same event again is 200 and ignored.
func TestEventsEndpoint(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	tenant, _, admin := ts.tenantWithTokens(t, "acme")
	c, key := eventsConnection(t, ts, crossbill.TenantID(tenant.ID))
	got := make(chan notify.Payload, 4)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("%s: %v", b, err)
		}
		got <- p
	}))
	defer rc.Close()
	if code := ts.do(t, "POST", "/api/v1/tenants/acme/alerts/channels", admin, map[string]any{"name": "sec", "kind": "webhook", "url": rc.URL, "topics": []string{"alert.event"}}, nil); code != 201 {
		t.Fatalf("channel: %d", code)
	}
	if code := ts.do(t, "POST", "/api/v1/tenants/acme/alerts/rules", admin, map[string]any{"name": "new-users", "kind": "event", "params": map[string]any{"events": []string{"CreateUser"}}}, nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	body, err := os.ReadFile("../events/testdata/iam-create-user.json")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	base := ts.URL()
	if code, _ := postEvent(t, client, base, "", body); code != 401 {
		t.Fatalf("no key: %d", code)
	}
	if code, _ := postEvent(t, client, base, events.KeyPrefix+strings.Repeat("0", 64), body); code != 401 {
		t.Fatalf("bad key: %d", code)
	}
	if code, out := postEvent(t, client, base, key, []byte(`{"version":"0","id":"abc","detail-type":"AWS API Call via CloudTrail","source":"aws.iam"`)); code != 400 {
		t.Fatalf("malformed: %d %s", code, out)
	}
	start := time.Now()
	if code, out := postEvent(t, client, base, key, body); code != 202 || !strings.Contains(out, `"refresh": "access"`) {
		t.Fatalf("event: %d %s", code, out)
	}
	select {
	case p := <-got:
		if p.Topic != "alert.event" || !strings.Contains(p.Subject, "CreateUser") {
			t.Fatalf("notification %+v", p)
		}
		t.Logf("event to webhook notification: %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("the event's alert did not reach the webhook within 20 s")
	}
	if code, out := postEvent(t, client, base, key, body); code != 200 || !strings.Contains(out, `"duplicate": true`) {
		t.Fatalf("replay: %d %s", code, out)
	}
	jobs, err := ts.Store().Jobs(context.Background(), crossbill.TenantID(tenant.ID), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(jobs, func(j store.Job) bool { return j.Kind == "access" && j.ConnectionID == c.ID }) {
		t.Errorf("no access sync queued for the connection: %+v", jobs)
	}
	select {
	case p := <-got:
		t.Fatalf("the replay notified again: %+v", p)
	case <-time.After(1500 * time.Millisecond):
	}
}

// BenchmarkEventsEndpoint posts distinct real-shaped events from 8
// clients, as EventBridge does under load, and reports events per second
// and the p50/p99 latency.
func BenchmarkEventsEndpoint(b *testing.B) {
	ts := startServer(b, func(m *server.Main) { m.RatePerSecond, m.RateBurst = 1e6, 1e6 })
	tenant, _, _ := ts.tenantWithTokens(b, "acme")
	_, key := eventsConnection(b, ts, crossbill.TenantID(tenant.ID))
	tmpl, err := os.ReadFile("../events/testdata/iam-create-user.json")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	base := ts.URL()
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var n int64
	var next sync.Mutex
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := n
				n++
				next.Unlock()
				if i >= int64(b.N) {
					return
				}
				body := bytes.Replace(tmpl, []byte("6f2f3e3a-1b7c-4c9e-9d55-2f0b7e8c1a11"), []byte(fmt.Sprintf("bench-%012d", i)), 1)
				t0 := time.Now()
				code, out := postEvent(b, client, base, key, body)
				d := time.Since(t0)
				if code != 202 {
					b.Errorf("%d %s", code, out)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/el.Seconds(), "events/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	}
}
