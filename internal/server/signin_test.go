package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/crossbill/crossbill"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/signin"
	"github.com/crossbill/crossbill/internal/store"
)

// TestEveryRouteEnforcesItsRole walks the OpenAPI document (built from
// the same route table as the router): each operation names its role, a
// caller one role below gets 403 (no credentials: 401), and a caller with
// exactly the role gets past authorization.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := startServer(t, nil)
	acme, _, _ := ts.tenantWithTokens(t, "acme")
	tokens := map[store.Role]string{store.RoleOperator: ts.op}
	for _, r := range []store.Role{store.RoleViewer, store.RoleAnalyst, store.RoleApprover, store.RoleAdmin} {
		_, secret, err := ts.Store().NewToken(ctx, store.TokenRequest{Tenant: crossbill.TenantID(acme.ID), Role: r})
		if err != nil {
			t.Fatal(err)
		}
		tokens[r] = string(secret)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Role string `json:"x-role"`
		} `json:"paths"`
	}
	if st := ts.do(t, "GET", "/api/v1/openapi.json", "", nil, &doc); st != 200 {
		t.Fatal(st)
	}
	roles := store.Roles()
	n := 0
	for p, methods := range doc.Paths {
		for m, op := range methods {
			method, where := strings.ToUpper(m), strings.ToUpper(m)+" "+p
			if op.Role == "public" {
				continue
			}
			need := store.Role(op.Role)
			if need.Rank() == 0 {
				t.Errorf("%s: x-role %q is not a role", where, op.Role)
				continue
			}
			path := strings.NewReplacer("{tenant}", "acme", "{org_id}", "acme").Replace(p)
			for _, w := range pathParamsOf(path) {
				path = strings.Replace(path, "{"+w+"}", "x", 1)
			}
			var body any
			if method == "POST" || method == "PUT" {
				body = map[string]any{}
			}
			below, belowWant := "", 401
			if i := slices.Index(roles, need); i > 0 {
				below, belowWant = tokens[roles[i-1]], 403
			}
			if st := ts.do(t, method, path, below, body, nil); st != belowWant {
				t.Errorf("%s needs %s: one role below got %d, want %d", where, need, st, belowWant)
			}
			if st := ts.do(t, method, path, tokens[need], body, nil); st == 401 || st == 403 {
				t.Errorf("%s needs %s: a %s got %d", where, need, need, st)
			}
			n++
		}
	}
	if n < 35 {
		t.Fatalf("only %d operations walked", n)
	}
	t.Logf("%d operations: each refused one role below and reached with its own", n)
}

// idp is an in-process OpenID provider (mockoidc) and a crossbill server
// signing people in through it.
type idp struct {
	*mockoidc.MockOIDC
	ts *testServer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startWithIdP(t *testing.T, database string) *idp {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() }) //nolint:errcheck // test teardown
	addr := freeAddr(t)
	cfg := signin.Config{Providers: []signin.Provider{{Name: "corp", Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecretEnv: "SECRET",
		RedirectURL: "http://" + addr + "/api/v1/auth/callback",
		Roles: []signin.Mapping{
			{Claim: "groups", Value: "acme-viewers", Tenant: "acme", Role: store.RoleViewer},
			{Claim: "groups", Value: "acme-analysts", Tenant: "acme", Role: store.RoleAnalyst},
			{Claim: "groups", Value: "acme-approvers", Tenant: "acme", Role: store.RoleApprover},
		}}}}
	if err := cfg.Resolve(func(string) string { return m.ClientSecret }); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(mn *server.Main) { mn.Addr, mn.SignIn, mn.Database = addr, &cfg, database })
	return &idp{MockOIDC: m, ts: ts}
}

// browser is a cookie jar client that records the redirects it follows.
type browser struct {
	*http.Client
	hops []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		b.hops = append(b.hops, r.URL.String())
		return nil
	}}
	return b
}

// signIn runs the whole flow in b as a person in groups; it returns where
// the flow ended (the UI, with signin_error when refused).
func (p *idp) signIn(t *testing.T, b *browser, sub, email string, groups ...string) string {
	t.Helper()
	p.QueueUser(&mockoidc.MockUser{Subject: sub, Email: email, Groups: groups})
	resp, err := b.Get(p.ts.URL() + "/api/v1/auth/login?provider=corp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Request.URL.String()
}

// call sends a request as the browser's page would (same origin, the
// session's CSRF token when csrf is not empty).
func (b *browser) call(t *testing.T, base, method, path, csrf string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		rd = strings.NewReader(string(js))
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

type meJSON struct {
	Kind       string `json:"kind"`
	Role       string `json:"role"`
	BreakGlass bool   `json:"break_glass"`
	CSRF       string `json:"csrf_token"`
	Person     *struct{ ID, Email, Subject string }
	Roles      []struct{ Tenant, Role string }
	Recent     []struct{ Action string }
}

// TestSignInSessionsCSRFAndApproval runs on SQLite and on PostgreSQL.
func TestSignInSessionsCSRFAndApproval(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); signInSessionsCSRFAndApproval(t, "") })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); signInSessionsCSRFAndApproval(t, pgtest.Database(t)) })
}

func signInSessionsCSRFAndApproval(t *testing.T, database string) {
	ctx := context.Background()
	p := startWithIdP(t, database)
	ts := p.ts
	_, _, acmeAdmin := ts.tenantWithTokens(t, "acme")
	ts.tenantWithTokens(t, "beta")
	var rv struct{ ID string }
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/reviews?name=p.json", acmeAdmin, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, &rv); st != 201 {
		t.Fatalf("review: %d", st)
	}
	base := ts.URL()

	ann := newBrowser(t)
	if end := p.signIn(t, ann, "sub-ann", "ann@example.com", "acme-approvers"); end != base+"/" {
		t.Fatalf("sign-in ended at %s (hops %v)", end, ann.hops)
	}
	u, _ := url.Parse(base)
	var sessionCookie *http.Cookie
	for _, c := range ann.Jar.Cookies(u) {
		if c.Name == "crossbill_session" {
			sessionCookie = c
		}
	}
	if sessionCookie == nil || !strings.HasPrefix(sessionCookie.Value, store.SessionPrefix) {
		t.Fatalf("no session cookie after sign-in: %v", ann.Jar.Cookies(u))
	}
	var me meJSON
	if st := ann.call(t, base, "GET", "/api/v1/me", "", nil, &me); st != 200 || me.Kind != "session" || me.Person == nil || me.Person.Email != "ann@example.com" ||
		len(me.Roles) != 1 || me.Roles[0].Tenant != "acme" || me.Roles[0].Role != "approver" || me.CSRF == "" || len(me.Recent) == 0 || me.Recent[0].Action != "session.signin" {
		t.Fatalf("me: %d %+v", st, me)
	}
	var tenants []struct{ Name string }
	if st := ann.call(t, base, "GET", "/api/v1/tenants", "", nil, &tenants); st != 200 || len(tenants) != 1 || tenants[0].Name != "acme" {
		t.Fatalf("tenants the claims map to: %+v", tenants)
	}
	if st := ann.call(t, base, "GET", "/api/v1/tenants/beta", "", nil, nil); st != 404 {
		t.Fatalf("a tenant the claims do not map to: %d", st)
	}

	// The callback cannot be replayed: its state was used.
	var callback string
	for _, h := range ann.hops {
		if strings.Contains(h, "/api/v1/auth/callback") {
			callback = h
		}
	}
	// (with a parameter of the provider's own, which the callback accepts)
	resp, err := newBrowser(t).Get(callback + "&authuser=0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Request.URL.RawQuery, "signin_error") {
		t.Fatalf("replayed callback ended at %s", resp.Request.URL)
	}

	// CSRF: a cross-site form post carrying the valid session cookie.
	ack := "/api/v1/tenants/acme/reviews/" + rv.ID + "/acknowledge"
	form, _ := http.NewRequest("POST", base+ack, strings.NewReader("note=pwned"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.Header.Set("Origin", "https://evil.example")
	form.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := ann.Do(form); err != nil || resp.StatusCode != 403 {
		t.Fatalf("cross-site form post: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Same origin but without the CSRF token (an old browser without
	// Sec-Fetch-Site and Origin is stopped by the token alone).
	bare, _ := http.NewRequest("POST", base+ack, strings.NewReader(`{"note":"x"}`))
	bare.Header.Set("Content-Type", "application/json")
	if resp, err := ann.Do(bare); err != nil || resp.StatusCode != 403 {
		t.Fatalf("cookie write without the CSRF token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A viewer cannot approve; the approver can, named in the audit log.
	vic := newBrowser(t)
	p.signIn(t, vic, "sub-vic", "vic@example.com", "acme-viewers")
	var vme meJSON
	vic.call(t, base, "GET", "/api/v1/me", "", nil, &vme)
	if st := vic.call(t, base, "POST", ack, vme.CSRF, map[string]string{"note": "ok"}, nil); st != 403 {
		t.Fatalf("viewer acknowledging: %d", st)
	}
	var acked struct {
		Acknowledged *struct{ Person, Actor string }
	}
	if st := ann.call(t, base, "POST", ack, me.CSRF, map[string]string{"note": "accepted risk"}, &acked); st != 200 || acked.Acknowledged == nil || acked.Acknowledged.Person != "ann@example.com" {
		t.Fatalf("approver acknowledging: %d %+v", st, acked)
	}
	if st := ann.call(t, base, "POST", ack, me.CSRF, map[string]string{}, nil); st != 409 {
		t.Fatalf("second acknowledgement: %d", st)
	}

	// An admin sees the person and their actions in the tenant.
	var person struct {
		Person struct{ Email, Role string }
		Recent []struct {
			Action      string
			PersonEmail string `json:"person_email"`
		}
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/people/"+me.Person.ID, acmeAdmin, nil, &person); st != 200 || person.Person.Role != "approver" ||
		len(person.Recent) == 0 || person.Recent[0].Action != store.AuditReviewApproved || person.Recent[0].PersonEmail != "ann@example.com" {
		t.Fatalf("person page: %d %+v", st, person)
	}

	// Sign out everywhere: another session of Ann's ends too.
	ann2 := newBrowser(t)
	p.signIn(t, ann2, "sub-ann", "ann@example.com", "acme-approvers")
	if st := ann2.call(t, base, "GET", "/api/v1/me", "", nil, nil); st != 200 {
		t.Fatalf("second session: %d", st)
	}
	var out struct{ Sessions int }
	if st := ann.call(t, base, "POST", "/api/v1/auth/logout-everywhere", me.CSRF, nil, &out); st != 200 || out.Sessions != 2 {
		t.Fatalf("sign out everywhere: %d %+v", st, out)
	}
	for _, b := range []*browser{ann, ann2} {
		if st := b.call(t, base, "GET", "/api/v1/me", "", nil, nil); st != 401 {
			t.Fatalf("after sign-out everywhere: %d", st)
		}
	}
	if st := vic.call(t, base, "POST", "/api/v1/auth/logout", vme.CSRF, nil, nil); st != 204 {
		t.Fatalf("sign out: %d", st)
	}
	if st := vic.call(t, base, "GET", "/api/v1/me", "", nil, nil); st != 401 {
		t.Fatalf("after sign-out: %d", st)
	}

	log, err := ts.Store().AuditLog(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if strings.HasPrefix(e.Action, "session.") || e.Action == store.AuditReviewApproved {
			got = append(got, e.Action+" "+e.PersonEmail)
		}
	}
	want := []string{"session.signin ann@example.com", "session.signin vic@example.com", "review.acknowledge ann@example.com", "session.signin ann@example.com", "session.signout_all ann@example.com", "session.signout vic@example.com"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit:\n got %q\nwant %q", got, want)
	}
	var chk struct{ OK bool }
	if st := ts.do(t, "GET", "/api/v1/audit/verify", ts.op, nil, &chk); st != 200 || !chk.OK {
		t.Fatalf("audit verify: %d %+v", st, chk)
	}
}

func TestBreakGlassTokenSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := startServer(t, nil)
	_, read, _ := ts.tenantWithTokens(t, "acme")
	base := ts.URL()
	op := newBrowser(t)
	var me meJSON
	if st := op.call(t, base, "POST", "/api/v1/auth/token", "", map[string]string{"token": ts.op}, &me); st != 200 || !me.BreakGlass || me.Role != "operator" || me.Kind != "session" {
		t.Fatalf("break-glass sign-in: %d %+v", st, me)
	}
	if st := op.call(t, base, "POST", "/api/v1/tenants", me.CSRF, map[string]string{"name": "gamma"}, nil); st != 201 {
		t.Fatalf("operator session creating a tenant: %d", st)
	}
	reader := newBrowser(t)
	var rme meJSON
	if st := reader.call(t, base, "POST", "/api/v1/auth/token", "", map[string]string{"token": read}, &rme); st != 200 || rme.BreakGlass || rme.Role != "viewer" {
		t.Fatalf("token sign-in: %d %+v", st, rme)
	}
	if st := reader.call(t, base, "POST", "/api/v1/auth/token", "", map[string]string{"token": "cbt_nope"}, nil); st != 401 {
		t.Fatalf("unknown token: %d", st)
	}
	log, err := ts.Store().AuditLog(ctx, store.AuditSignIn, "")
	if err != nil || len(log) != 2 || !strings.HasPrefix(log[0].Actor, "break-glass:tok_") || !strings.Contains(string(log[0].Detail), `"method":"break-glass"`) ||
		!strings.HasPrefix(log[1].Actor, "token:") {
		t.Fatalf("sign-ins audited: %+v %v", log, err)
	}
}

func TestTrustedProxyAndHSTS(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(m *server.Main) {
		m.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		m.AuthFailures = 3
	})
	get := func(hdr map[string]string, token string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL()+"/api/v1/me", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(map[string]string{"X-Forwarded-Proto": "https"}, ""); r.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS behind a trusted proxy that says https")
	}
	if r := get(nil, ""); r.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS on plain HTTP")
	}
	// Failures count per client as the trusted proxy names it.
	for range 3 {
		get(map[string]string{"X-Forwarded-For": "203.0.113.9"}, "cbt_wrong")
	}
	if r := get(map[string]string{"X-Forwarded-For": "203.0.113.9"}, ts.op); r.StatusCode != 429 {
		t.Fatalf("the failing client is not locked out: %d", r.StatusCode)
	}
	if r := get(map[string]string{"X-Forwarded-For": "198.51.100.7"}, ts.op); r.StatusCode != 200 {
		t.Fatalf("another client behind the proxy is locked out: %d", r.StatusCode)
	}

	// Without trusting the proxy, X-Forwarded-For and -Proto are ignored.
	plain := startServer(t, func(m *server.Main) { m.AuthFailures = 3 })
	for i := range 3 {
		req, _ := http.NewRequest("GET", plain.URL()+"/api/v1/me", nil)
		req.Header.Set("X-Forwarded-For", "192.0.2."+string(rune('1'+i)))
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("Authorization", "Bearer cbt_wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Fatal("HSTS from an untrusted X-Forwarded-Proto")
		}
	}
	if st := plain.do(t, "GET", "/api/v1/me", plain.op, nil, nil); st != 429 {
		t.Fatalf("invented X-Forwarded-For escaped the lockout: %d", st)
	}
}

func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, cert, key)
	ts := startServer(t, func(m *server.Main) { m.TLSCert, m.TLSKey = cert, key })
	if !strings.HasPrefix(ts.URL(), "https://") {
		t.Fatalf("URL %s", ts.URL())
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the test's own certificate
	body := strings.NewReader(`{"token":"` + ts.op + `"}`)
	req, _ := http.NewRequest("POST", ts.URL()+"/api/v1/auth/token", body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	var ses *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "crossbill_session" {
			ses = ck
		}
	}
	if ses == nil || !ses.Secure || !ses.HttpOnly || ses.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie over TLS: %+v", ses)
	}
}

func writeSelfSigned(t *testing.T, certPath, keyPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
}
