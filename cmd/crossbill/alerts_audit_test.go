package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/store"
)

// TestAlertChangesAreAudited: adding, snoozing and removing channels and
// adding and removing rules each write an audit line naming the change and
// its actor; no line holds a channel's secret (URL path token, signing
// secret, SMTP password); `audit verify` still finds the chain intact.
func TestAlertChangesAreAudited(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: code %d, stderr %s", args, code, errOut)
		}
		return out
	}
	must("tenant", "create", "acme")
	const urlToken, password = "URLTOKEN7f3a", "SMTPPASS9c1e"
	urlFile, passFile := filepath.Join(t.TempDir(), "url"), filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(urlFile, []byte("https://hooks.example.com/services/T0/B0/"+urlToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(passFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	var added struct{ Secret string }
	if err := json.Unmarshal([]byte(must("alerts", "channel", "add", "hook", "--tenant", "acme", "--kind", "webhook", "--url-file", urlFile, "--json")), &added); err != nil || added.Secret == "" {
		t.Fatalf("webhook add: %+v %v", added, err)
	}
	must("alerts", "channel", "add", "mail", "--tenant", "acme", "--kind", "email", "--smtp-addr", "smtp.example.com:587",
		"--from", "crossbill@example.com", "--to", "finops@example.com", "--smtp-user", "crossbill", "--smtp-password-file", passFile)
	must("alerts", "channel", "snooze", "mail", "--tenant", "acme", "--for", "1h")
	must("alerts", "channel", "remove", "hook", "--tenant", "acme")
	must("alerts", "rule", "add", "monthly", "--tenant", "acme", "--kind", "budget", "--amount", "1000")
	must("alerts", "rule", "remove", "monthly", "--tenant", "acme")

	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := st.AuditLog(context.Background(), "", "")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		if !strings.HasPrefix(l.Action, "alerts.") {
			continue
		}
		js, _ := json.Marshal(l)
		for _, secret := range []string{urlToken, password, added.Secret} {
			if strings.Contains(string(js), secret) {
				t.Errorf("audit line %s holds a secret: %s", l.Action, js)
			}
		}
		if l.Actor == "" || l.TenantID == "" || l.Subject == "" {
			t.Errorf("audit line without actor, tenant or subject: %s", js)
		}
		var d struct{ Name string }
		if json.Unmarshal(l.Detail, &d) != nil || d.Name == "" {
			t.Errorf("audit line does not name the channel or rule: %s", js)
		}
		got = append(got, l.Action)
	}
	want := []string{store.AuditChannelCreate, store.AuditChannelCreate, store.AuditChannelSnooze, store.AuditChannelDelete, store.AuditAlertRuleCreate, store.AuditAlertRuleDelete}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit actions %v, want %v", got, want)
	}
	if out := must("audit", "verify"); !strings.Contains(out, "the chain is intact") {
		t.Fatalf("audit verify: %s", out)
	}
}
