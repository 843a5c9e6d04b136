package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

func open(t *testing.T) (*store.Store, crossbill.TenantID) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ten, err := st.CreateTenant(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return st, ten.ID
}

// fast retries, so that a test walks several attempts in milliseconds.
var fast = notify.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}

// drain runs Deliver as the notify job does, coming back when the next
// row is due, until nothing is pending or the deadline passes.
func drain(t *testing.T, st *store.Store, tenant crossbill.TenantID, opts notify.Options) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p, err := notify.Deliver(context.Background(), st, tenant, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Any {
			return
		}
		time.Sleep(time.Until(p.NextAt))
	}
	t.Fatal("the outbox did not drain")
}

// receiver is a webhook receiver that fails its first failures requests
// with 503, then checks each signature as a customer's receiver would.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failures int32
	calls    atomic.Int32
	ids      []string
	bodies   []string
	badSig   []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n := rc.calls.Add(1)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.ids = append(rc.ids, r.Header.Get(notify.DeliveryHeader))
	if err := notify.Verify(rc.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.badSig = append(rc.badSig, err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if n <= rc.failures {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	rc.bodies = append(rc.bodies, string(body))
}

// TestWebhookFailsThenRecovers: a receiver down for two attempts gets the
// message on the third, signed (HMAC-SHA256 over timestamp and body) with
// the secret shown at creation, under the same delivery ID each time; the
// log shows the attempts.
func TestWebhookFailsThenRecovers(t *testing.T) {
	ctx := context.Background()
	st, tenant := open(t)
	rc := &receiver{failures: 2}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	added, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "ops", Kind: notify.KindWebhook, URL: srv.URL + "/hook?token=abc", Topics: []string{"alert.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(added.Secret, notify.SecretPrefix) || strings.Contains(added.Channel.Target, "token") {
		t.Fatalf("secret %q, target %q", added.Secret, added.Channel.Target)
	}
	rc.secret = added.Secret
	res, err := notify.Send(ctx, st, notify.Message{Tenant: tenant, Topic: "alert.budget", Subject: "Budget 80% used", Text: "acme spent $800 of $1,000", Data: map[string]any{"amount": 800}})
	if err != nil || len(res.Queued) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	jobs, err := st.Jobs(ctx, tenant, store.JobFilter{})
	if err != nil || len(jobs) != 1 || jobs[0].Kind != notify.JobKind {
		t.Fatalf("the notify job was not queued: %+v %v", jobs, err)
	}
	drain(t, st, tenant, fast)
	if len(rc.badSig) != 0 || rc.calls.Load() != 3 || len(rc.bodies) != 1 {
		t.Fatalf("calls %d, bad signatures %v, bodies %v", rc.calls.Load(), rc.badSig, rc.bodies)
	}
	for _, id := range rc.ids {
		if id != res.Queued[0].ID {
			t.Fatalf("delivery IDs %v, want %s each time", rc.ids, res.Queued[0].ID)
		}
	}
	if !strings.Contains(rc.bodies[0], `"amount":800`) || !strings.Contains(rc.bodies[0], `"topic":"alert.budget"`) {
		t.Fatalf("body %s", rc.bodies[0])
	}
	log, err := notify.Log(ctx, st, tenant, "ops", 10)
	if err != nil || len(log) != 1 || log[0].Status != store.OutboxDelivered || log[0].Attempts != 3 || log[0].DeliveredAt == nil || !strings.Contains(log[0].LastError, "503") {
		t.Fatalf("log %+v %v", log, err)
	}
}

// TestVerifyRefuses: a changed body, a wrong secret and a stale timestamp
// fail the receiver's check.
func TestVerifyRefuses(t *testing.T) {
	now := time.Now()
	ts := "1700000000"
	body := []byte(`{"a":1}`)
	h := http.Header{}
	h.Set(notify.TimestampHeader, ts)
	h.Set(notify.SignatureHeader, notify.Sign("s1", ts, body))
	at := time.Unix(1700000000, 0)
	if err := notify.Verify("s1", h, body, at, time.Minute); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if notify.Verify("s1", h, []byte(`{"a":2}`), at, time.Minute) == nil || notify.Verify("s2", h, body, at, time.Minute) == nil || notify.Verify("s1", h, body, now, time.Minute) == nil {
		t.Fatal("a changed body, another secret or a stale timestamp passed")
	}
}

// TestRefusedForGood: a 4xx (not 408/429) is not retried; a 500 every time
// fails after MaxAttempts.
func TestRefusedForGood(t *testing.T) {
	ctx := context.Background()
	st, tenant := open(t)
	var gone, down atomic.Int32
	srvGone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gone.Add(1)
		http.Error(w, "no such hook", http.StatusGone)
	}))
	defer srvGone.Close()
	srvDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srvDown.Close()
	for name, u := range map[string]string{"gone": srvGone.URL, "down": srvDown.URL} {
		if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: name, Kind: notify.KindSlack, URL: u}); err != nil {
			t.Fatal(err)
		}
	}
	if err := notify.Enqueue(ctx, st, notify.Message{Tenant: tenant, Topic: "alert.anomaly", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	opts := fast
	opts.MaxAttempts = 3
	drain(t, st, tenant, opts)
	if gone.Load() != 1 || down.Load() != 3 {
		t.Fatalf("gone called %d times (want 1), down %d (want 3)", gone.Load(), down.Load())
	}
	log, _ := notify.Log(ctx, st, tenant, "", 10)
	for _, it := range log {
		if it.Status != store.OutboxFailed {
			t.Fatalf("%s: %+v", it.ChannelName, it)
		}
	}
}

// TestDedupSnoozeRouting: a dedup key sends once; a snoozed channel logs
// the message as snoozed and sends nothing; topics route.
func TestDedupSnoozeRouting(t *testing.T) {
	ctx := context.Background()
	st, tenant := open(t)
	var slack, hook atomic.Int32
	srvSlack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { slack.Add(1) }))
	defer srvSlack.Close()
	srvHook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hook.Add(1) }))
	defer srvHook.Close()
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "slack", Kind: notify.KindSlack, URL: srvSlack.URL, Topics: []string{"alert.budget"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "hook", Kind: notify.KindWebhook, URL: srvHook.URL}); err != nil {
		t.Fatal(err)
	}
	m := notify.Message{Tenant: tenant, Topic: "alert.budget", Subject: "over budget", Text: "t", DedupKey: "budget:acme:2026-12:100"}
	r1, err := notify.Send(ctx, st, m)
	if err != nil || r1.Deduplicated || len(r1.Queued) != 2 {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := notify.Send(ctx, st, m)
	if err != nil || !r2.Deduplicated || len(r2.Queued) != 0 {
		t.Fatalf("second: %+v %v", r2, err)
	}
	r3, err := notify.Send(ctx, st, notify.Message{Tenant: tenant, Topic: "alert.anomaly", Subject: "anomaly", Text: "t"})
	if err != nil || len(r3.Queued) != 1 || r3.Queued[0].ChannelName != "hook" {
		t.Fatalf("routing: %+v %v", r3, err)
	}
	drain(t, st, tenant, fast)
	if slack.Load() != 1 || hook.Load() != 2 {
		t.Fatalf("slack %d hook %d", slack.Load(), hook.Load())
	}
	if _, err := notify.Snooze(ctx, st, tenant, "slack", time.Hour, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	r4, err := notify.Send(ctx, st, notify.Message{Tenant: tenant, Topic: "alert.budget", Subject: "again", Text: "t"})
	if err != nil || len(r4.Queued) != 2 {
		t.Fatalf("%+v %v", r4, err)
	}
	drain(t, st, tenant, fast)
	if slack.Load() != 1 || hook.Load() != 3 {
		t.Fatalf("snoozed slack was called: slack %d hook %d", slack.Load(), hook.Load())
	}
	log, _ := notify.Log(ctx, st, tenant, "slack", 10)
	if len(log) != 2 || log[0].Status != store.OutboxSnoozed {
		t.Fatalf("slack log %+v", log)
	}
	if _, err := notify.Snooze(ctx, st, tenant, "slack", 0, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := notify.Enqueue(ctx, st, notify.Message{Tenant: tenant, Topic: "alert.budget", Subject: "after", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	drain(t, st, tenant, fast)
	if slack.Load() != 2 {
		t.Fatalf("after the snooze ended slack got %d", slack.Load())
	}
}

// TestChannelChecks: bad input is refused with what to do; another
// tenant's channel is NotFound; a removed channel's pending rows drop.
func TestChannelChecks(t *testing.T) {
	ctx := context.Background()
	st, tenant := open(t)
	for _, req := range []notify.ChannelRequest{
		{Name: "a", Kind: notify.KindWebhook, URL: "http://example.com/x"},
		{Name: "a", Kind: notify.KindWebhook, URL: "https://user:pw@example.com/x"},
		{Name: "a", Kind: "pager"},
		{Name: "a\x1b[31m", Kind: notify.KindSlack, URL: "https://hooks.example.com/x"},
		{Name: "a", Kind: notify.KindEmail, SMTPAddr: "mail", From: "a@b.c", To: []string{"x@y.z"}},
		{Name: "a", Kind: notify.KindEmail, SMTPAddr: "mail:25", From: "a@b.c"},
		{Name: "a", Kind: notify.KindSlack, URL: "https://hooks.example.com/x", Topics: []string{"Alert Budget"}},
	} {
		req.Tenant = tenant
		if _, err := notify.AddChannel(ctx, st, req); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%+v: %v", req, err)
		}
	}
	other, _ := st.CreateTenant(ctx, "beta")
	c, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "ops", Kind: notify.KindSlack, URL: "https://hooks.example.com/services/T0/B0/SECRETPART"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Channel.Sealed, "SECRETPART") || strings.Contains(c.Channel.Target, "SECRETPART") {
		t.Fatal("the Slack URL is stored in clear")
	}
	if _, err := notify.RemoveChannel(ctx, st, other.ID, c.Channel.ID, store.AuditEntry{Actor: "test"}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta removed acme's channel: %v", err)
	}
	if err := notify.Enqueue(ctx, st, notify.Message{Tenant: tenant, Topic: "x", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.RemoveChannel(ctx, st, tenant, "ops", store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	log, _ := notify.Log(ctx, st, tenant, "ops", 10)
	if len(log) != 1 || log[0].Status != store.OutboxDropped {
		t.Fatalf("%+v", log)
	}
	if err := notify.Enqueue(ctx, st, notify.Message{Tenant: tenant, Topic: "x", Subject: "two\nlines"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("a two-line subject: %v", err)
	}
}

// TestSecretNeedsTheKey: a channel's secrets do not open with another
// key: the delivery fails saying which key to set.
func TestSecretNeedsTheKey(t *testing.T) {
	ctx := context.Background()
	st, tenant := open(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "ops", Kind: notify.KindWebhook, URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(notify.KeyEnv, strings.Repeat("ab", 32))
	if _, err := notify.TestChannel(ctx, st, tenant, "ops", fast); err == nil || !strings.Contains(err.Error(), notify.KeyEnv) || calls.Load() != 0 {
		t.Fatalf("opened with another key: %v, %d calls", err, calls.Load())
	}
}
