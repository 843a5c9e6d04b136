package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/server"
)

// TestTenantTextRefusesControlCharacters: names a tenant sends may not
// carry terminal escapes, bidi overrides or invalid UTF-8; the 400 names
// the field.
func TestTenantTextRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	_, _, admin := ts.tenantWithTokens(t, "acme")
	for name, tc := range map[string]struct {
		method, path string
		body         any
		field        string
	}{
		"escape in token name": {"POST", "/api/v1/tenants/acme/tokens", map[string]string{"name": "\x1b]0;owned\x07ci", "scope": "read"}, "name"},
		"bidi in token name":   {"POST", "/api/v1/tenants/acme/tokens", map[string]string{"name": "ci\u202egnp.exe", "scope": "read"}, "name"},
		"C1 in token name":     {"POST", "/api/v1/tenants/acme/tokens", map[string]string{"name": "ci\u009b2J", "scope": "read"}, "name"},
		"invalid UTF-8":        {"POST", "/api/v1/tenants/acme/tokens", []byte("{\"name\":\"ci\xff\",\"scope\":\"read\"}"), "UTF-8:"},
		"escape in a list":     {"POST", "/api/v1/tenants/acme/connections", map[string]any{"modules": []string{"cost\x1b[2J"}, "hub_principal": "arn:aws:iam::111122223333:role/Hub"}, "modules[0]"},
		"newline in bill path": {"POST", "/api/onboarding/orgs/acme/bill_connects/aws/iam_role", map[string]string{"aws_bill_account_id": "111122223333", "aws_bucket_name": "bills", "aws_bucket_path": "cur/x\n", "aws_sts_role_arn": "arn:aws:iam::111122223333:role/R"}, "aws_bucket_path"},
		"bidi in review name":  {"POST", "/api/v1/tenants/acme/reviews?name=" + url.QueryEscape("a\u2066b.yaml"), `{"Version":"2012-10-17","Statement":[]}`, "name"},
	} {
		var e errJSON
		if st := ts.do(t, tc.method, tc.path, admin, tc.body, &e); st != 400 || e.Code != "invalid" || !strings.Contains(e.Error, tc.field+" ") {
			t.Errorf("%s: %d %+v, want 400 naming %s", name, st, e, tc.field)
		}
	}
	var tok tokenJSON
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/tokens", admin, map[string]string{"name": "Zoë's CI 財務", "scope": "read"}, &tok); st != 201 {
		t.Errorf("a name with ordinary non-ASCII letters: %d", st)
	}
}

// TestNonFiniteNumbersAre400: numbers beyond float64 or a commitment
// whose arithmetic overflows get a 400, never a 200 with an empty body.
func TestNonFiniteNumbersAre400(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	_, read, _ := ts.tenantWithTokens(t, "acme")
	for name, body := range map[string]string{
		"1e400":  `{"type":"COMPUTE_SP","term_years":1,"payment_option":"NO_UPFRONT","hourly_commitment":1e400}`,
		"NaN":    `{"type":"COMPUTE_SP","term_years":1,"payment_option":"NO_UPFRONT","hourly_commitment":NaN}`,
		"1e308":  `{"type":"COMPUTE_SP","term_years":1,"payment_option":"NO_UPFRONT","hourly_commitment":1e308}`,
		"-1e308": `{"type":"COMPUTE_SP","term_years":1,"payment_option":"NO_UPFRONT","hourly_commitment":-1e308}`,
	} {
		var e errJSON
		if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/simulate", read, body, &e); st != 400 || e.Error == "" {
			t.Errorf("%s: %d %+v, want 400 with a message", name, st, e)
		}
	}
}

// TestTokensPerTenantAreCapped: a tenant admin cannot mint tokens without
// end; revoking one makes room again.
func TestTokensPerTenantAreCapped(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(m *server.Main) { m.MaxTokensPerTenant = 4 })
	_, _, admin := ts.tenantWithTokens(t, "acme") // two tokens
	var last tokenJSON
	for i := range 2 {
		if st := ts.do(t, "POST", "/api/v1/tenants/acme/tokens", admin, map[string]string{"name": fmt.Sprint("t", i), "scope": "read"}, &last); st != 201 {
			t.Fatalf("token %d: %d", i+3, st)
		}
	}
	var e errJSON
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/tokens", admin, map[string]string{"name": "one too many", "scope": "read"}, &e); st != 409 || !strings.Contains(e.Error, "4 live tokens") || !strings.Contains(e.Error, "revoke") {
		t.Fatalf("fifth token: %d %+v, want 409 saying the cap and what to do", st, e)
	}
	if st := ts.do(t, "DELETE", "/api/v1/tenants/acme/tokens/"+last.ID, admin, nil, nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/tokens", admin, map[string]string{"name": "again", "scope": "read"}, nil); st != 201 {
		t.Fatalf("after a revocation: %d, want 201", st)
	}
	// The cap is per tenant.
	ts.tenantWithTokens(t, "beta")
}

// TestFailedAuthenticationsAreLimitedPerAddress: after N bad tokens from
// one address it gets 429 with Retry-After, even with a good token, while
// another address authenticates as usual.
func TestFailedAuthenticationsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(m *server.Main) { m.AuthFailures, m.AuthFailWindow = 3, time.Hour })
	_, read, _ := ts.tenantWithTokens(t, "acme")
	// Requests from 127.0.0.1 (the default) and from 127.0.0.2: Linux
	// routes all of 127/8 to the loopback interface.
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	call := func(c *http.Client, token string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", ts.URL()+"/api/v1/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 3 {
		if st := call(http.DefaultClient, fmt.Sprintf("cbt_guess_%d", i)).StatusCode; st != 401 {
			t.Fatalf("guess %d: %d, want 401", i, st)
		}
	}
	for _, tok := range []string{"cbt_guess_4", read} {
		resp := call(http.DefaultClient, tok)
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != 429 || secs < 3500 || secs > 3600 {
			t.Errorf("after 3 failures: %d Retry-After %q, want 429 and about an hour", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if st := call(other, read).StatusCode; st != 200 {
		t.Errorf("another address with a good token: %d, want 200", st)
	}
	if st := call(other, "cbt_guess_5").StatusCode; st != 401 {
		t.Errorf("another address, first bad token: %d, want 401", st)
	}
}
