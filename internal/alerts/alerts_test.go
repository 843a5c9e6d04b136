package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

// world is a tenant with the commitments fixture's two weeks of CUR
// (2026-01-01 to 2026-01-15) in a real cost store, a webhook channel on
// every alert topic, and the store's clock on 2026-01-15.
type world struct {
	st     *store.Store
	cs     *costs.Store
	tenant crossbill.TenantID
	mu     sync.Mutex
	got    []notify.Payload
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs, err := costs.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	ten, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Ingest(ctx, cs, ingest.Options{Source: commitmentstest.Export(t, t.TempDir()), Tenant: ten.ID}); err != nil {
		t.Fatal(err)
	}
	st.SetClock(func() time.Time { return time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC) })
	w := &world{st: st, cs: cs, tenant: ten.ID}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("payload %s: %v", b, err)
		}
		w.mu.Lock()
		w.got = append(w.got, p)
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: ten.ID, Name: "hook", Kind: notify.KindWebhook, URL: srv.URL, Topics: []string{"alert.*"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

type savings []alerts.Opportunity

func (s savings) Opportunities(context.Context, crossbill.TenantID) ([]alerts.Opportunity, error) {
	return s, nil
}

// TestRulesFireOnceEach: on the fixture, the budget rule fires on actual
// and forecast spend, a budget scoped to an account without spend does
// not; the Savings Plan ending in 26 days fires a 30-day expiry rule and
// the reservation ending in 45 does not; the reservation used 75% fires
// an 80% utilization rule and the plan used 90% does not; savings above
// the bar fire. A second evaluation sends nothing new (dedup), and what
// was sent reaches the webhook.
func TestRulesFireOnceEach(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	add := func(name, kind string, p alerts.Params) {
		t.Helper()
		if _, err := alerts.AddRule(ctx, w.st, alerts.RuleRequest{By: store.AuditEntry{Actor: "test"}, Tenant: w.tenant, Name: name, Kind: kind, Params: p}); err != nil {
			t.Fatal(err)
		}
	}
	add("monthly", alerts.KindBudget, alerts.Params{Amount: 100, Forecast: true})
	add("idle-account", alerts.KindBudget, alerts.Params{Amount: 1, Scope: "account=999999999999"})
	add("expiring", alerts.KindCommitExpiry, alerts.Params{Days: 30})
	add("underused", alerts.KindCommitUtilized, alerts.Params{BelowPct: 80, Days: 14})
	add("big-savings", alerts.KindSavings, alerts.Params{MinAmount: 100})
	src := alerts.Sources{Costs: w.cs, Savings: savings{{ID: "rec-1", Title: "Delete idle volume", Resource: "vol-1", MonthlySavings: 150}, {ID: "rec-2", Title: "small", MonthlySavings: 5}}}

	dry, err := alerts.Evaluate(ctx, w.st, w.tenant, src, "", true)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, r := range dry.Rules {
		if r.Error != "" {
			t.Errorf("%s: %s", r.Rule, r.Error)
		}
		for _, f := range r.Firings {
			keys[r.Rule] = append(keys[r.Rule], f.Key)
		}
	}
	want := map[string][]string{
		"monthly":     {"budget:2026-01:actual", "budget:2026-01:forecast"},
		"expiring":    {"expiry:sp-1:2026-02-10"},
		"big-savings": {"savings:rec-1"},
	}
	for rule, k := range want {
		if strings.Join(keys[rule], ",") != strings.Join(k, ",") {
			t.Errorf("%s fired %v, want %v", rule, keys[rule], k)
		}
	}
	if len(keys["idle-account"]) != 0 {
		t.Errorf("a budget of an account without spend fired: %v", keys["idle-account"])
	}
	if len(keys["underused"]) != 1 || !strings.Contains(keys["underused"][0], "db-ri-1") {
		t.Errorf("underused fired %v, want the reservation only", keys["underused"])
	}
	if n, _ := w.st.NotificationLog(ctx, w.tenant, "", 10); len(n) != 0 {
		t.Fatalf("a dry run queued %d messages", len(n))
	}

	first, err := alerts.Evaluate(ctx, w.st, w.tenant, src, "", false)
	if err != nil || first.Fired != dry.Fired || first.Fired != 5 {
		t.Fatalf("first evaluation fired %d (dry run %d, want 5): %v", first.Fired, dry.Fired, err)
	}
	second, err := alerts.Evaluate(ctx, w.st, w.tenant, src, "", false)
	if err != nil || second.Fired != 0 {
		t.Fatalf("the second evaluation fired %d again: %v", second.Fired, err)
	}
	if _, err := notify.Deliver(ctx, w.st, w.tenant, notify.Options{}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.got) != 5 {
		t.Fatalf("the webhook got %d messages, want 5", len(w.got))
	}
	topics := map[string]int{}
	for _, p := range w.got {
		topics[p.Topic]++
	}
	if topics["alert.budget"] != 2 || topics["alert.commitment-expiry"] != 1 || topics["alert.savings"] != 1 {
		t.Fatalf("topics %v", topics)
	}
	rules, _ := alerts.Rules(ctx, w.st, w.tenant)
	for _, r := range rules {
		if r.LastRunAt == nil {
			t.Errorf("%s: no last run recorded", r.Name)
		}
	}
}

// TestRuleChecks: bad rules are refused saying what to give; a rule
// needing the cost store reports it missing without failing the others.
func TestRuleChecks(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	for _, req := range []alerts.RuleRequest{
		{Name: "b", Kind: alerts.KindBudget},
		{Name: "b", Kind: alerts.KindBudget, Params: alerts.Params{Amount: 10, Scope: "colour=blue"}},
		{Name: "u", Kind: alerts.KindCommitUtilized, Params: alerts.Params{BelowPct: 150}},
		{Name: "a", Kind: alerts.KindAccessFinding, Params: alerts.Params{Findings: []string{"dormant-user"}}},
		{Name: "x", Kind: "weather"},
		{Name: "", Kind: alerts.KindAnomaly},
	} {
		req.Tenant = ten.ID
		if _, err := alerts.AddRule(ctx, st, req); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%+v: %v", req, err)
		}
	}
	for _, k := range []string{alerts.KindAnomaly, alerts.KindAccessFinding} {
		if _, err := alerts.AddRule(ctx, st, alerts.RuleRequest{By: store.AuditEntry{Actor: "test"}, Tenant: ten.ID, Name: k, Kind: k}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := alerts.Evaluate(ctx, st, ten.ID, alerts.Sources{}, "", false)
	if err != nil || len(rep.Rules) != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, r := range rep.Rules {
		switch r.Kind {
		case alerts.KindAnomaly:
			if !strings.Contains(r.Error, "cost store") {
				t.Errorf("anomaly without a cost store: %q", r.Error)
			}
		case alerts.KindAccessFinding:
			if r.Error != "" || len(r.Firings) != 0 {
				t.Errorf("access without synced connections: %+v", r)
			}
		}
	}
}
