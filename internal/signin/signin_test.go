package signin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/signin"
	"github.com/crossbill/crossbill/internal/store"
)

// person is a provider's user whose ID token claims a test may bend.
type person struct {
	mockoidc.MockUser
	bend func(*mockoidc.IDTokenClaims)
}

func (p *person) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if p.bend != nil {
		p.bend(c)
	}
	return p.MockUser.Claims(scope, c)
}

// provider starts mockoidc, a real OIDC provider (discovery, JWKS, code
// flow with PKCE, RS256 ID tokens) in process.
func provider(t *testing.T, mw ...func(http.Handler) http.Handler) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mw {
		if err := m.AddMiddleware(f); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() }) //nolint:errcheck // test teardown
	return m
}

func config(t *testing.T, m *mockoidc.MockOIDC) signin.Config {
	t.Helper()
	cfg := signin.Config{Providers: []signin.Provider{{
		Name: "corp", Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecretEnv: "CORP_SECRET", RedirectURL: "http://127.0.0.1:1/api/v1/auth/callback",
		Roles: []signin.Mapping{
			{Claim: "groups", Value: "acme-viewers", Tenant: "acme", Role: store.RoleViewer},
			{Claim: "groups", Value: "acme-approvers", Tenant: "acme", Role: store.RoleApprover},
			{Claim: "groups", Value: "platform", Role: store.RoleOperator},
			{Claim: "email", Value: "boss@example.com", Tenant: "beta", Role: store.RoleAdmin},
		},
	}}}
	if err := cfg.Resolve(func(k string) string {
		if k == "CORP_SECRET" {
			return m.ClientSecret
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// authorize follows the provider's authorization endpoint (mockoidc
// approves at once) and returns the code and state it sends back.
func authorize(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSignInFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := provider(t)
	svc := signin.New(config(t, m), nil, nil)
	db := openStore(t)
	m.QueueUser(&person{MockUser: mockoidc.MockUser{Subject: "u-1", Email: "ann@example.com", Groups: []string{"acme-viewers", "acme-approvers", "other"}}})
	st, err := svc.Begin(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(st.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorization request lacks PKCE, nonce or state: %s", st.URL)
	}
	code, state := authorize(t, st.URL)
	if _, err := svc.Finish(ctx, db, state, code, "another browser"); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("state used from another browser: %v", err)
	}
	// That attempt consumed the state: start again.
	m.QueueUser(&person{MockUser: mockoidc.MockUser{Subject: "u-1", Email: "ann@example.com", Groups: []string{"acme-viewers", "acme-approvers", "other"}}})
	st, err = svc.Begin(ctx, db, "corp")
	if err != nil {
		t.Fatal(err)
	}
	code, state = authorize(t, st.URL)
	id, err := svc.Finish(ctx, db, state, code, st.Browser)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "u-1" || id.Email != "ann@example.com" || id.Issuer != m.Issuer() || len(id.Grants) != 2 ||
		id.Grants[0] != (signin.Grant{Tenant: "acme", Role: store.RoleViewer}) || id.Grants[1] != (signin.Grant{Tenant: "acme", Role: store.RoleApprover}) {
		t.Fatalf("identity: %+v", id)
	}
	if _, err := svc.Finish(ctx, db, state, code, st.Browser); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("replayed state: %v", err)
	}
	if _, err := svc.Begin(ctx, db, "nosuch"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("unknown provider: %v", err)
	}
}

// TestSignInRefusesBadTokens: every ID token crossbill must not accept,
// signed by the provider's own key unless said otherwise.
func TestSignInRefusesBadTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bend func(*mockoidc.IDTokenClaims)
		swap bool // replace the ID token with one signed by another key
		want string
	}{
		{name: "wrong audience", bend: func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-client"} }, want: "audience"},
		{name: "expired", bend: func(c *mockoidc.IDTokenClaims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
		}, want: "expired"},
		{name: "bad nonce", bend: func(c *mockoidc.IDTokenClaims) { c.Nonce = "not-the-one-sent" }, want: "nonce"},
		{name: "wrong issuer", bend: func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://evil.example" }, want: "different provider"},
		{name: "foreign signature", swap: true, want: "signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var mw []func(http.Handler) http.Handler
			if c.swap {
				mw = append(mw, forgeIDTokens(t))
			}
			m := provider(t, mw...)
			svc := signin.New(config(t, m), nil, nil)
			db := openStore(t)
			m.QueueUser(&person{MockUser: mockoidc.MockUser{Subject: "u-2", Groups: []string{"platform"}}, bend: c.bend})
			st, err := svc.Begin(ctx, db, "corp")
			if err != nil {
				t.Fatal(err)
			}
			code, state := authorize(t, st.URL)
			_, err = svc.Finish(ctx, db, state, code, st.Browser)
			if crossbill.ErrorCode(err) != crossbill.CodeUnauthorized || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want refused (%s), got %v", c.want, err)
			}
		})
	}
}

// forgeIDTokens makes the provider's token endpoint answer with ID tokens
// whose claims are right but which another key signed.
func forgeIDTokens(t *testing.T) func(http.Handler) http.Handler {
	t.Helper()
	other, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/token") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				w.WriteHeader(500)
				return
			}
			if raw, ok := body["id_token"].(string); ok {
				claims := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err == nil {
					body["id_token"], _ = other.SignJWT(claims)
				}
			}
			var out bytes.Buffer
			json.NewEncoder(&out).Encode(body) //nolint:errcheck // to a buffer
			w.Header().Set("Content-Type", "application/json")
			io.Copy(w, &out) //nolint:errcheck // test provider
		})
	}
}

func TestCompleteRecordsPeopleRolesAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := provider(t)
	svc := signin.New(config(t, m), nil, nil)
	st := openStore(t)
	db := st
	acme, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(u *person) (signin.Result, error) {
		m.QueueUser(u)
		b, err := svc.Begin(ctx, db, "corp")
		if err != nil {
			t.Fatal(err)
		}
		code, state := authorize(t, b.URL)
		return svc.Complete(ctx, st, state, code, b.Browser, signin.Timeouts{Idle: time.Hour, Absolute: 8 * time.Hour})
	}
	res, err := signIn(&person{MockUser: mockoidc.MockUser{Subject: "u-3", Email: "ann@example.com", Groups: []string{"acme-approvers"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roles) != 1 || res.Roles[0] != (store.RoleGrant{TenantID: acme.ID, Role: store.RoleApprover}) || res.Secret == "" {
		t.Fatalf("result: %+v", res)
	}
	// Moved to the viewers group at the IdP: the next sign-in lowers the role.
	if _, err := signIn(&person{MockUser: mockoidc.MockUser{Subject: "u-3", Email: "ann@example.com", Groups: []string{"acme-viewers"}}}); err != nil {
		t.Fatal(err)
	}
	// No group crossbill knows (beta does not exist yet): refused.
	if _, err := signIn(&person{MockUser: mockoidc.MockUser{Subject: "u-4", Email: "boss@example.com"}}); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("no role: %v", err)
	}
	log, err := st.AuditLog(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+" "+e.PersonEmail)
	}
	want := "role.grant ann@example.com|session.signin ann@example.com|role.grant ann@example.com|session.signin ann@example.com|session.signin_refused boss@example.com"
	if got := strings.Join(actions, "|"); got != want {
		t.Fatalf("audit:\n got %s\nwant %s", got, want)
	}
	if chk, err := st.VerifyAudit(ctx); err != nil || !chk.OK {
		t.Fatalf("chain: %+v %v", chk, err)
	}
}

func TestConfigResolve(t *testing.T) {
	t.Parallel()
	bad := []struct {
		p    signin.Provider
		want string
	}{
		{signin.Provider{Issuer: "https://i", ClientID: "c", RedirectURL: "https://r"}, "no role mappings"},
		{signin.Provider{Issuer: "https://i", ClientID: "c", RedirectURL: "https://r", Tenant: "acme", Roles: []signin.Mapping{{Claim: "g", Value: "v", Tenant: "beta", Role: store.RoleAdmin}}}, "cannot give roles elsewhere"},
		{signin.Provider{Issuer: "https://i", ClientID: "c", RedirectURL: "https://r", Roles: []signin.Mapping{{Claim: "g", Value: "v", Tenant: "acme", Role: store.RoleOperator}}}, "operator"},
		{signin.Provider{Issuer: "https://i", ClientID: "c", RedirectURL: "https://r", ClientSecretEnv: "NOPE", Roles: []signin.Mapping{{Claim: "g", Value: "v", Tenant: "acme", Role: store.RoleAdmin}}}, "NOPE is empty"},
	}
	for _, c := range bad {
		cfg := signin.Config{Providers: []signin.Provider{c.p}}
		if err := cfg.Resolve(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.p, err, c.want)
		}
	}
	// A tenant's provider gives its own tenant by default.
	cfg := signin.Config{Providers: []signin.Provider{{Issuer: "https://i", ClientID: "c", RedirectURL: "https://r", Tenant: "acme", Roles: []signin.Mapping{{Claim: "g", Value: "v", Role: store.RoleAdmin}}}}}
	if err := cfg.Resolve(func(string) string { return "" }); err != nil || cfg.Providers[0].Roles[0].Tenant != "acme" || cfg.Providers[0].Name != "default" {
		t.Fatalf("%+v %v", cfg, err)
	}
	m, err := signin.ParseMapping("groups=finops:acme:analyst")
	if err != nil || m != (signin.Mapping{Claim: "groups", Value: "finops", Tenant: "acme", Role: store.RoleAnalyst}) {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := signin.ParseMapping("groups:acme"); err == nil {
		t.Fatal("bad mapping accepted")
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{"groups=finops:acme:analyst", "groups=platform::operator", "a=b:c", "=:::", "x=y:z:w:v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := signin.ParseMapping(s)
		if err == nil && m.Claim+"="+m.Value+":"+m.Tenant+":"+string(m.Role) != s {
			t.Fatalf("%q parsed to %+v, which does not print back", s, m)
		}
	})
}

// TestSignInAcrossReplicas: a sign-in begun by one replica is finished by
// another on the same database, once; the database holds neither the
// state nor the nonce nor the PKCE verifier in clear.
func TestSignInAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := provider(t)
	dir := t.TempDir()
	open := func() *store.Store {
		st, err := store.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	dbA, dbB := open(), open()
	a, b := signin.New(config(t, m), nil, nil), signin.New(config(t, m), nil, nil)
	m.QueueUser(&person{MockUser: mockoidc.MockUser{Subject: "u-5", Email: "eve@example.com", Groups: []string{"acme-viewers"}}})
	started, err := a.Begin(ctx, dbA, "corp")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(started.URL)
	var row string
	if err := dbB.DB().QueryRowContext(ctx, `SELECT state_hash || provider || browser_hash || sealed FROM pending_logins`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{u.Query().Get("state"), u.Query().Get("nonce"), started.Browser} {
		if strings.Contains(row, secret) {
			t.Fatalf("the pending sign-in holds %q in clear: %s", secret, row)
		}
	}
	code, state := authorize(t, started.URL)
	id, err := b.Finish(ctx, dbB, state, code, started.Browser)
	if err != nil || id.Subject != "u-5" {
		t.Fatalf("finish on the other replica: %+v, %v", id, err)
	}
	if _, err := a.Finish(ctx, dbA, state, code, started.Browser); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("replay on the first replica: %v", err)
	}
}
