package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/signin"
	"github.com/crossbill/crossbill/internal/store"
)

// TestSignInAcrossReplicas: two servers on one metadata store (a shared
// SQLite file, or one PostgreSQL database) behind a load balancer that
// sent the sign-in to A and the provider's callback to B. B finishes it;
// the same callback replayed at A is refused.
func TestSignInAcrossReplicas(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); signInAcrossReplicas(t, "") })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); signInAcrossReplicas(t, pgtest.Database(t)) })
}

func signInAcrossReplicas(t *testing.T, database string) {
	ctx := context.Background()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() }) //nolint:errcheck // test teardown
	dir := t.TempDir()
	var servers [2]*httptest.Server
	for i := range servers {
		servers[i] = httptest.NewUnstartedServer(nil)
	}
	callback := "http://" + servers[1].Listener.Addr().String() + "/api/v1/auth/callback"
	for i, hs := range servers {
		st, err := store.OpenDatabase(ctx, dir, database)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if i == 0 {
			if _, err := st.CreateTenant(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
		}
		cfg := signin.Config{Providers: []signin.Provider{{Name: "corp", Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecretEnv: "SECRET", RedirectURL: callback,
			Roles: []signin.Mapping{{Claim: "groups", Value: "acme-viewers", Tenant: "acme", Role: store.RoleViewer}}}}}
		if err := cfg.Resolve(func(string) string { return m.ClientSecret }); err != nil {
			t.Fatal(err)
		}
		srv := server.New(server.Config{Store: st, SignIn: signin.New(cfg, nil, nil)})
		hs.Config.Handler = srv
		hs.Start()
		t.Cleanup(func() { hs.Close(); srv.Wait() })
	}
	a, b := servers[0].URL, servers[1].URL

	br := newBrowser(t)
	var replay *http.Request // the callback as it left the provider, with the login cookie
	br.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), callback) {
			replay = r.Clone(ctx)
			replay.URL.Host = servers[0].Listener.Addr().String()
			for _, c := range br.Jar.Cookies(r.URL) {
				replay.AddCookie(c)
			}
		}
		return nil
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.com", Groups: []string{"acme-viewers"}})
	resp, err := br.Get(a + "/api/v1/auth/login?provider=corp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if end := resp.Request.URL.String(); end != b+"/" || replay == nil {
		t.Fatalf("sign-in started at A ended at %s, want B's UI", end)
	}
	var me meJSON
	if st := br.call(t, b, "GET", "/api/v1/me", "", nil, &me); st != 200 || me.Person == nil || me.Person.Email != "eve@example.com" {
		t.Fatalf("me on B: %d %+v", st, me)
	}

	replay.RequestURI = ""
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc.Query().Get("signin_error"), "already used") {
		t.Fatalf("replayed callback at A: %d, Location %s", resp.StatusCode, loc)
	}
}
