package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/crossbill/crossbill/internal/server"
)

// lockedBuffer collects logs written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is a running server on a free loopback port and its operator
// token.
type testServer struct {
	*server.Main
	op   string
	logs *lockedBuffer
}

func startServer(tb testing.TB, tweak func(*server.Main)) *testServer {
	tb.Helper()
	logs := &lockedBuffer{}
	m := &server.Main{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(m)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Error(err)
		}
	})
	if m.BootstrapToken == "" {
		tb.Fatal("no bootstrap token on an empty database")
	}
	return &testServer{Main: m, op: string(m.BootstrapToken), logs: logs}
}

// do calls the API and decodes a JSON answer into out (when not nil).
func (ts *testServer) do(tb testing.TB, method, path, token string, body any, out any) int {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, ts.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if out != nil && len(data) > 0 && (resp.StatusCode < 300) == !isErrJSON(out) {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: decoding %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

type tenantJSON struct{ ID, Name string }

type tokenJSON struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	Scope string `json:"scope"`
}

func isErrJSON(v any) bool { _, ok := v.(*errJSON); return ok }

type errJSON struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
}

// tenantWithTokens creates a tenant and a read and an admin token for it.
func (ts *testServer) tenantWithTokens(tb testing.TB, name string) (tenant tenantJSON, readTok, adminTok string) {
	tb.Helper()
	if st := ts.do(tb, "POST", "/api/v1/tenants", ts.op, map[string]string{"name": name}, &tenant); st != http.StatusCreated {
		tb.Fatalf("create tenant %s: %d", name, st)
	}
	var r, a tokenJSON
	if st := ts.do(tb, "POST", "/api/v1/tenants/"+name+"/tokens", ts.op, map[string]string{"scope": "read", "name": "r"}, &r); st != http.StatusCreated || r.Token == "" {
		tb.Fatalf("read token: %d %+v", st, r)
	}
	if st := ts.do(tb, "POST", "/api/v1/tenants/"+name+"/tokens", ts.op, map[string]string{"scope": "admin", "name": "a"}, &a); st != http.StatusCreated {
		tb.Fatalf("admin token: %d", st)
	}
	return tenant, r.Token, a.Token
}

func TestAuthAndIsolation(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	a, aRead, aAdmin := ts.tenantWithTokens(t, "acme")
	b, _, bAdmin := ts.tenantWithTokens(t, "beta")

	cases := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"no token", "GET", "/api/v1/me", "", nil, 401},
		{"malformed header", "GET", "/api/v1/tenants", "", nil, 401},
		{"unknown token", "GET", "/api/v1/me", "cbt_nope_nope", nil, 401},
		{"no token on tenant data", "GET", "/api/v1/tenants/acme/jobs", "", nil, 401},
		{"own tenant read", "GET", "/api/v1/tenants/acme/jobs", aRead, nil, 200},
		{"own tenant by id", "GET", "/api/v1/tenants/" + a.ID, aRead, nil, 200},
		{"read scope writing", "POST", "/api/v1/tenants/acme/tokens", aRead, map[string]string{"scope": "read"}, 403},
		{"read scope listing tokens", "GET", "/api/v1/tenants/acme/tokens", aRead, nil, 403},
		{"tenant admin creating tenant", "POST", "/api/v1/tenants", aAdmin, map[string]string{"name": "gamma"}, 403},
		{"other tenant by name", "GET", "/api/v1/tenants/beta", aAdmin, nil, 404},
		{"other tenant by id", "GET", "/api/v1/tenants/" + b.ID, aAdmin, nil, 404},
		{"other tenant jobs", "GET", "/api/v1/tenants/beta/jobs", aRead, nil, 404},
		{"read token writing to other tenant", "POST", "/api/v1/tenants/beta/tokens", aRead, map[string]string{"scope": "admin"}, 404},
		{"admin token writing to other tenant", "POST", "/api/v1/tenants/beta/tokens", aAdmin, map[string]string{"scope": "admin"}, 404},
		{"no such tenant", "GET", "/api/v1/tenants/nosuch/jobs", ts.op, nil, 404},
		{"other tenant reviews", "GET", "/api/v1/tenants/acme/reviews", bAdmin, nil, 404},
		{"operator sees any tenant", "GET", "/api/v1/tenants/beta/jobs", ts.op, nil, 200},
	}
	for _, tc := range cases {
		var e errJSON
		got := ts.do(t, tc.method, tc.path, tc.token, tc.body, &e)
		if got != tc.want {
			t.Errorf("%s: %s %s = %d (%s), want %d", tc.name, tc.method, tc.path, got, e.Error, tc.want)
		}
		if got >= 400 && (e.Code == "" || e.RequestID == "") {
			t.Errorf("%s: error body %+v lacks code or request_id", tc.name, e)
		}
	}

	// A tenant token lists only its own tenant.
	var list []tenantJSON
	if st := ts.do(t, "GET", "/api/v1/tenants", aRead, nil, &list); st != 200 || len(list) != 1 || list[0].Name != "acme" {
		t.Fatalf("tenant list for acme token: %d %+v", st, list)
	}
	// Revoking: beta's admin cannot revoke acme's token (404), acme's can.
	var me struct {
		TokenID string `json:"token_id"`
		Tenant  string `json:"tenant"`
	}
	if st := ts.do(t, "GET", "/api/v1/me", aRead, nil, &me); st != 200 || me.Tenant != "acme" {
		t.Fatalf("me: %d %+v", st, me)
	}
	if st := ts.do(t, "DELETE", "/api/v1/tenants/beta/tokens/"+me.TokenID, bAdmin, nil, nil); st != 404 {
		t.Fatalf("cross-tenant revoke: %d, want 404", st)
	}
	if st := ts.do(t, "DELETE", "/api/v1/tenants/acme/tokens/"+me.TokenID, aAdmin, nil, nil); st != 204 {
		t.Fatalf("revoke: %d, want 204", st)
	}
	if st := ts.do(t, "GET", "/api/v1/me", aRead, nil, nil); st != 401 {
		t.Fatalf("revoked token: %d, want 401", st)
	}
}

func TestLogsCarryRequestIDsAndNoSecrets(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	_, read, _ := ts.tenantWithTokens(t, "acme")
	req, err := http.NewRequest("GET", ts.URL()+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+read)
	req.Header.Set("X-Request-ID", "trace-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "trace-42" {
		t.Fatalf("request ID not echoed: %q", resp.Header.Get("X-Request-ID"))
	}
	logs := ts.logs.String()
	for _, secret := range []string{read, ts.op} {
		if strings.Contains(logs, secret) {
			t.Fatal("a token secret reached the logs")
		}
	}
	if !strings.Contains(logs, `"request_id":"trace-42"`) || !strings.Contains(logs, `"route":"/api/v1/me"`) {
		t.Fatalf("access log line missing request_id or route:\n%s", logs)
	}
}

func TestRateLimitPerToken(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(m *server.Main) { m.RatePerSecond, m.RateBurst = 0.001, 3 })
	_, aRead, _ := ts.tenantWithTokens(t, "acme") // uses the operator's burst
	codes := map[int]int{}
	for range 5 {
		codes[ts.do(t, "GET", "/api/v1/me", aRead, nil, nil)]++
	}
	if codes[200] != 3 || codes[429] != 2 {
		t.Fatalf("codes %v: want 3 ok then 429s", codes)
	}
}

func TestBodyLimitsAndBadJSON(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	for name, tc := range map[string]struct {
		body string
		want int
	}{
		"too large":     {big, 413},
		"empty":         {"", 400},
		"not json":      {"name=acme", 400},
		"unknown field": {`{"name":"acme","nmae":"x"}`, 400},
		"trailing data": {`{"name":"acme"} {}`, 400},
		"bad name":      {`{"name":"Not Valid"}`, 400},
	} {
		var e errJSON
		if got := ts.do(t, "POST", "/api/v1/tenants", ts.op, tc.body, &e); got != tc.want || e.Code != "invalid" {
			t.Errorf("%s: %d %+v, want %d invalid", name, got, e, tc.want)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	if st := ts.do(t, "GET", "/healthz", "", nil, nil); st != 200 {
		t.Fatalf("healthz %d", st)
	}
	if st := ts.do(t, "GET", "/readyz", "", nil, nil); st != 200 {
		t.Fatalf("readyz %d", st)
	}
	resp, err := http.Get(ts.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `crossbill_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("metrics lack the healthz request:\n%.2000s", body)
	}
	if st := ts.do(t, "GET", "/api/v1/nosuch", ts.op, nil, nil); st != 404 {
		t.Fatalf("unknown API path: %d", st)
	}
}

func TestRestartKeepsTokensAndBootstrapsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := &server.Main{Addr: "127.0.0.1:0", DataDir: dir}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok := m.BootstrapToken
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := &server.Main{Addr: "127.0.0.1:0", DataDir: dir}
	if err := m2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if m2.BootstrapToken != "" {
		t.Fatal("a second operator token was bootstrapped")
	}
	ts := &testServer{Main: m2}
	if st := ts.do(t, "GET", "/api/v1/me", string(tok), nil, nil); st != 200 {
		t.Fatalf("first token after restart: %d", st)
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(m2.URL() + "/healthz"); err == nil {
		t.Fatal("server still answers after Close")
	}
}
