package e2e

import (
	"html/template"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// people the test identity provider signs in: the button's label, and the
// user it approves (their groups map to crossbill roles in signin.test.js).
var people = map[string]*mockoidc.MockUser{
	"ann": {Subject: "e2e-ann", Email: "ann@example.com", EmailVerified: true, PreferredUsername: "ann", Groups: []string{"acme-approvers"}},
	"vic": {Subject: "e2e-vic", Email: "vic@example.com", EmailVerified: true, PreferredUsername: "vic", Groups: []string{"acme-viewers"}},
	"ana": {Subject: "e2e-ana", Email: "ana@example.com", EmailVerified: true, PreferredUsername: "ana", Groups: []string{"acme-analysts"}},
}

// loginPage is the provider's sign-in page: mockoidc approves whoever is
// next in its queue, so this page asks who signs in, queues them and
// resubmits the authorization request.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html><html><head><title>Test IdP</title></head><body>
<h1>Test identity provider</h1><form method="get" action="{{.Path}}">
{{range $k, $vs := .Query}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button name="as" value="ann">Sign in as ann@example.com</button>
<button name="as" value="vic">Sign in as vic@example.com</button>
<button name="as" value="ana">Sign in as ana@example.com</button>
</form></body></html>`))

func startIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.AuthorizationEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			who := r.URL.Query().Get("as")
			if u := people[who]; u != nil {
				m.QueueUser(u)
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			loginPage.Execute(w, map[string]any{"Path": r.URL.Path, "Query": r.URL.Query()}) //nolint:errcheck // test page
		})
	})
	if err != nil {
		t.Fatal(err)
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

// TestBrowserSignIn runs signin.test.js: single sign-on through an
// in-process OpenID provider's page, roles from its groups, an approval
// and a viewer who cannot approve, an analyst's saved view and export
// (a viewer's export refused), sign-out.
func TestBrowserSignIn(t *testing.T) {
	chromium, node, bin, ctx := browserTools(t)
	idp := startIdP(t)
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "signin.test.js")
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium,
		"CROSSBILL_E2E_OIDC_ISSUER="+idp.Issuer(), "CROSSBILL_OIDC_CLIENT_ID="+idp.ClientID, "CROSSBILL_OIDC_CLIENT_SECRET="+idp.ClientSecret)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser sign-in test failed: %v (screenshots in e2e/screenshots/)", err)
	}
}
