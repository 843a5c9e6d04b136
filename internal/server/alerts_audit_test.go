package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestAlertAPIChangesAreAudited: channel and rule changes through the API
// are on the audit chain in the caller's name, without the channel's URL
// token.
func TestAlertAPIChangesAreAudited(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	tenant, _, admin := ts.tenantWithTokens(t, "acme")
	base := "/api/v1/tenants/acme/alerts"
	steps := []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", base + "/channels", map[string]any{"name": "ops", "kind": "slack", "url": "https://hooks.example.com/services/T0/B0/TOKEN42"}, 201},
		{"POST", base + "/channels/ops/snooze", map[string]any{"for": "2h"}, 200},
		{"DELETE", base + "/channels/ops", nil, 200},
		{"POST", base + "/rules", map[string]any{"name": "spend", "kind": "budget", "params": map[string]any{"amount": 500}}, 201},
		{"DELETE", base + "/rules/spend", nil, 200},
	}
	for _, s := range steps {
		if code := ts.do(t, s.method, s.path, admin, s.body, nil); code != s.want {
			t.Fatalf("%s %s: %d, want %d", s.method, s.path, code, s.want)
		}
	}
	lines, err := ts.Store().AuditLog(context.Background(), "", crossbill.TenantID(tenant.ID))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		if !strings.HasPrefix(l.Action, "alerts.") {
			continue
		}
		if !strings.HasPrefix(l.Actor, "token:") || strings.Contains(string(l.Detail), "TOKEN42") {
			t.Errorf("line %s: actor %q detail %s", l.Action, l.Actor, l.Detail)
		}
		got = append(got, l.Action)
	}
	want := []string{store.AuditChannelCreate, store.AuditChannelSnooze, store.AuditChannelDelete, store.AuditAlertRuleCreate, store.AuditAlertRuleDelete}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit actions %v, want %v", got, want)
	}
	if c, err := ts.Store().VerifyAudit(context.Background()); err != nil || !c.OK {
		t.Fatalf("audit chain: %+v %v", c, err)
	}
}
