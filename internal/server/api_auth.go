package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/signin"
	"github.com/crossbill/crossbill/internal/store"
)

// Cookies: the session's (SameSite=Strict: never sent on a request another
// site starts) and the short-lived one that binds a sign-in's state to the
// browser that started it (Lax: it must come back on the provider's
// redirect, a cross-site top-level navigation).
const (
	sessionCookie = "crossbill_session"
	loginCookie   = "crossbill_login"
	csrfHeader    = "X-CSRF-Token"
)

// authRoutes are sign-in, sign-out, people and the audit chain's check.
func (s *Server) authRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/api/v1/auth/providers", role: public, handler: s.authProviders, tag: "auth", summary: "How to sign in: the identity providers configured, and whether token sign-in is open", resp: "SignInOptions"},
		{method: http.MethodGet, path: "/api/v1/auth/login", role: public, handler: s.authLogin, tag: "auth", summary: "Start single sign-on: redirects to the identity provider (authorization code flow with PKCE, state and nonce)",
			query: []param{q("provider", "the provider's name (optional with one provider)")}, status: http.StatusFound},
		{method: http.MethodGet, path: "/api/v1/auth/callback", role: public, handler: s.authCallback, tag: "auth", summary: "The identity provider's redirect: checks state, code and ID token, opens a session (cookie) and redirects to the UI",
			query: []param{q("code", "the authorization code"), q("state", "the sign-in's state"), q("error", "the provider's refusal"), q("error_description", "")}, anyQuery: true, status: http.StatusFound},
		{method: http.MethodPost, path: "/api/v1/auth/token", role: public, handler: s.authToken, tag: "auth", summary: "Sign a browser in with an API token (the operator token: break-glass sign-in, marked in the UI and the audit log)", body: "TokenSignIn", resp: "Me"},
		{method: http.MethodPost, path: "/api/v1/auth/logout", role: viewer, handler: s.authLogout, tag: "auth", summary: "Sign this session out", status: http.StatusNoContent},
		{method: http.MethodPost, path: "/api/v1/auth/logout-everywhere", role: viewer, handler: s.authLogoutEverywhere, tag: "auth", summary: "Sign the person out of every session", resp: "SignedOut"},
		{method: http.MethodGet, path: "/api/v1/audit/verify", role: operator, handler: s.auditVerify, tag: "auth", summary: "Recompute the audit log's hash chain; ok false lists each line found changed, removed or inserted", resp: "AuditCheck"},
		{method: http.MethodGet, path: tenantPath + "/people", role: admin, tenantParam: "tenant", handler: s.listPeople, tag: "auth", summary: "People with a role in the tenant", resp: "PersonList"},
		{method: http.MethodGet, path: tenantPath + "/people/{person}", role: admin, tenantParam: "tenant", handler: s.getPerson, tag: "auth", summary: "One person: their role here and their recent actions in the tenant", resp: "PersonDetail"},
		{method: http.MethodPost, path: tenantPath + "/reviews/{review}/acknowledge", role: approver, tenantParam: "tenant", handler: s.acknowledgeReview, tag: "review", summary: "Approve an access review: acknowledge its findings (once; audited with the approver's name)", body: "ReviewAcknowledge", resp: "Review"},
	}
}

// secure reports whether the browser reached crossbill over TLS: directly,
// or through a trusted proxy that says so.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || (s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

func remoteIP(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	a, ok := remoteIP(r)
	return ok && s.trusted(a)
}

// clientAddr is the address failures are counted under. Behind a trusted
// proxy it is the nearest address in X-Forwarded-For that is not a trusted
// proxy; X-Forwarded-For from anyone else is ignored (it is the client's
// to invent).
func (s *Server) clientAddr(r *http.Request) string {
	a, ok := remoteIP(r)
	if !ok {
		return r.RemoteAddr
	}
	if s.trusted(a) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			a = h
			if !s.trusted(h) {
				break
			}
		}
	}
	return addrKey(a)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfToken is derived from the session's secret: the server needs to
// store nothing, and it is worthless without the cookie.
func csrfToken(secret string) string {
	h := sha256.Sum256([]byte("crossbill-csrf\x00" + secret))
	return hex.EncodeToString(h[:16])
}

// checkOrigin refuses a request another site's page started (the browser
// says so in Sec-Fetch-Site and Origin).
func checkOrigin(r *http.Request) error {
	denied := func(why string) error {
		return crossbill.Errorf(crossbill.CodeAccessDenied, "csrf", "cross-site request refused (%s): use the crossbill UI, or send an API token in the Authorization header", why)
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return denied("Sec-Fetch-Site: " + site)
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return denied("Origin " + crossbill.Printable(o))
		}
	}
	return nil
}

// checkCSRF: a state-changing request authenticated by the cookie must
// come from crossbill's own page, which proves it with the session's CSRF
// token (a header another site's form cannot set).
func checkCSRF(r *http.Request, want string) error {
	if err := checkOrigin(r); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(want)) != 1 {
		return crossbill.Errorf(crossbill.CodeAccessDenied, "csrf", "missing or wrong %s header on a request authenticated by the session cookie: reload the UI (it reads the token from GET /api/v1/me), or use an API token", csrfHeader)
	}
	return nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, ses store.Session, secret store.Secret) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: string(secret), Path: "/", Expires: ses.ExpiresAt,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	mode := http.SameSiteStrictMode
	if name == loginCookie {
		mode = http.SameSiteLaxMode
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: mode})
}

type signInOptions struct {
	Providers   []string `json:"providers"`
	TokenSignIn bool     `json:"token_sign_in"`
}

func (s *Server) authProviders(w http.ResponseWriter, r *http.Request) error {
	out := signInOptions{Providers: []string{}, TokenSignIn: true}
	if s.cfg.SignIn != nil {
		out.Providers = s.cfg.SignIn.Providers()
	}
	return ok(w, r, out)
}

func (s *Server) signInService() (*signin.Service, error) {
	if s.cfg.SignIn == nil {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, "sign in", "single sign-on is not configured: start the server with --oidc-issuer ... or --oidc-config FILE (see docs/signin.md)")
	}
	return s.cfg.SignIn, nil
}

func (s *Server) authLogin(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.signInService()
	if err != nil {
		return err
	}
	st, err := svc.Begin(r.Context(), s.store, r.URL.Query().Get("provider"))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: st.Browser, Path: "/api/v1/auth/", MaxAge: int(signin.LoginTTL.Seconds()),
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, st.URL, http.StatusFound)
	return nil
}

// authCallback ends at the UI either way; a refusal is shown there.
func (s *Server) authCallback(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.signInService()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	s.clearCookie(w, r, loginCookie, "/api/v1/auth/")
	fail := func(err error) error {
		logger(r.Context()).Warn("sign-in refused", "err", err)
		http.Redirect(w, r, "/?signin_error="+url.QueryEscape(crossbill.Printable(err.Error())), http.StatusFound)
		return nil
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return fail(crossbill.Errorf(crossbill.CodeUnauthorized, "sign in", "the identity provider refused: %s %s", e, q.Get("error_description")))
	}
	var browser string
	if c, err := r.Cookie(loginCookie); err == nil {
		browser = c.Value
	}
	res, err := svc.Complete(r.Context(), s.store, q.Get("state"), q.Get("code"), browser, signin.Timeouts{Idle: s.cfg.SessionIdle, Absolute: s.cfg.SessionAbsolute})
	if err != nil {
		return fail(err)
	}
	s.setSessionCookie(w, r, res.Session, res.Secret)
	http.Redirect(w, r, "/", http.StatusFound)
	return nil
}

type tokenSignIn struct {
	Token string `json:"token"`
}

// authToken opens a browser session for an API token. With the operator
// token it is the break-glass way in when the identity provider is down.
func (s *Server) authToken(w http.ResponseWriter, r *http.Request) error {
	if err := checkOrigin(r); err != nil {
		return err
	}
	var in tokenSignIn
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a := authOf(r)
	r.Header.Set("Authorization", "Bearer "+in.Token)
	if err := s.authenticate(w, r, a); err != nil {
		return err
	}
	ses, secret, err := s.store.CreateSession(r.Context(), "", a.token.ID, s.cfg.SessionAbsolute)
	if err != nil {
		return err
	}
	a.session, a.csrf = &ses, csrfToken(string(secret))
	e := a.audit()
	e.Action, e.Subject = store.AuditSignIn, a.token.ID
	method := "token"
	if a.breakGlass() {
		method = "break-glass"
	}
	if err := s.store.AppendAudit(r.Context(), e, map[string]string{"method": method, "session": ses.ID}); err != nil {
		return err
	}
	s.setSessionCookie(w, r, ses, secret)
	w.Header().Set("Cache-Control", "no-store")
	out, err := s.whoami(r, a)
	if err != nil {
		return err
	}
	return ok(w, r, out)
}

func (s *Server) authLogout(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	if a.session == nil {
		return crossbill.Errorf(crossbill.CodeInvalid, "sign out", "this request carries an API token, not a session: revoke the token instead")
	}
	if err := s.store.EndSession(r.Context(), a.session.ID); err != nil {
		return err
	}
	e := a.audit()
	e.Action, e.Subject = store.AuditSignOut, a.session.ID
	if err := s.store.AppendAudit(r.Context(), e, nil); err != nil {
		return err
	}
	s.clearCookie(w, r, sessionCookie, "/")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type signedOut struct {
	Sessions int `json:"sessions"`
}

func (s *Server) authLogoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	if a.user == nil {
		return crossbill.Errorf(crossbill.CodeInvalid, "sign out", "no person is signed in here (a token): revoke the token instead")
	}
	n, err := s.store.EndUserSessions(r.Context(), a.user.ID)
	if err != nil {
		return err
	}
	e := a.audit()
	e.Action, e.Subject = store.AuditSignOutAll, a.user.ID
	if err := s.store.AppendAudit(r.Context(), e, map[string]int{"sessions": n}); err != nil {
		return err
	}
	if a.session != nil {
		s.clearCookie(w, r, sessionCookie, "/")
	}
	return ok(w, r, signedOut{Sessions: n})
}

type meRole struct {
	TenantID crossbill.TenantID `json:"tenant_id,omitempty"`
	Tenant   string             `json:"tenant,omitempty"`
	Role     store.Role         `json:"role"`
}

type meResponse struct {
	Kind       string             `json:"kind"` // token or session
	TokenID    string             `json:"token_id,omitempty"`
	Name       string             `json:"name,omitempty"`
	Scope      store.Scope        `json:"scope,omitempty"`
	Role       store.Role         `json:"role"`
	Operator   bool               `json:"operator"`
	TenantID   crossbill.TenantID `json:"tenant_id,omitempty"`
	Tenant     string             `json:"tenant,omitempty"`
	BreakGlass bool               `json:"break_glass,omitempty"`
	Person     *store.User        `json:"person,omitempty"`
	Roles      []meRole           `json:"roles"`
	SessionID  string             `json:"session_id,omitempty"`
	ExpiresAt  *time.Time         `json:"session_expires_at,omitempty"`
	CSRFToken  string             `json:"csrf_token,omitempty"`
	Recent     []store.AuditEntry `json:"recent"`
}

// whoami is the caller, their roles and their latest audited actions.
func (s *Server) whoami(r *http.Request, a *authInfo) (meResponse, error) {
	out := meResponse{Kind: "token", Role: a.top(), Operator: a.all == operator, Roles: []meRole{}, BreakGlass: a.breakGlass(), Person: a.user}
	if a.token.ID != "" {
		out.TokenID, out.Name, out.Scope, out.TenantID = a.token.ID, a.token.Name, a.token.Scope, a.token.TenantID
	}
	if a.session != nil {
		out.Kind, out.SessionID, out.ExpiresAt, out.CSRFToken = "session", a.session.ID, &a.session.ExpiresAt, a.csrf
	}
	if a.all != "" {
		out.Roles = append(out.Roles, meRole{Role: a.all})
	}
	for id, role := range a.roles {
		t, err := s.tenantByID(r.Context(), id)
		if err != nil {
			return out, err
		}
		out.Roles = append(out.Roles, meRole{TenantID: id, Tenant: t.Name, Role: role})
		if id == out.TenantID {
			out.Tenant = t.Name
		}
	}
	sortRoles(out.Roles)
	recent, err := s.store.ActorAudit(r.Context(), a.audit().Actor, "", 20)
	if err != nil {
		return out, err
	}
	out.Recent = recent
	return out, nil
}

func sortRoles(rs []meRole) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Tenant < rs[j-1].Tenant; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	out, err := s.whoami(r, authOf(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return ok(w, r, out)
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	if a.all != "" {
		ts, err := s.store.Tenants(r.Context())
		if err != nil {
			return err
		}
		return ok(w, r, ts)
	}
	out := []store.Tenant{}
	for id := range a.roles {
		t, err := s.tenantByID(r.Context(), id)
		if err != nil {
			return err
		}
		out = append(out, t)
	}
	for i := 1; i < len(out); i++ { // by name, as the store lists them
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return ok(w, r, out)
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.VerifyAudit(r.Context())
	if err != nil {
		return err
	}
	return ok(w, r, c)
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.TenantPeople(r.Context(), tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, ps)
}

type personDetail struct {
	Person store.Person       `json:"person"`
	Recent []store.AuditEntry `json:"recent"`
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	t := tenantOf(r)
	p, err := s.store.TenantPerson(r.Context(), t.ID, r.PathValue("person"))
	if err != nil {
		return err
	}
	recent, err := s.store.ActorAudit(r.Context(), "user:"+p.ID, t.ID, 50)
	if err != nil {
		return err
	}
	return ok(w, r, personDetail{Person: p, Recent: recent})
}

type reviewAcknowledge struct {
	Note string `json:"note"`
}

func (s *Server) acknowledgeReview(w http.ResponseWriter, r *http.Request) error {
	var in reviewAcknowledge
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rv, err := s.store.AcknowledgeReview(r.Context(), tenantOf(r).ID, r.PathValue("review"), in.Note, authOf(r).audit())
	if err != nil {
		return err
	}
	return ok(w, r, rv)
}

// authSchemas are the OpenAPI schemas of authRoutes.
func authSchemas() obj {
	user := object([]string{"id", "issuer", "subject"}, obj{"id": str("usr_..."), "issuer": str("the identity provider; local for people named from the CLI"), "subject": str("the IdP's sub claim"),
		"email": str(""), "name": str(""), "created_at": timestamp(""), "last_login_at": timestamp("")})
	audit := object([]string{"id", "at", "actor", "action"}, obj{"id": integer(""), "at": timestamp(""), "actor": str("user:usr_..., token:tok_..., break-glass:tok_..., idp:NAME, scheduler"),
		"action": str("dotted: session.signin, role.grant, review.acknowledge, binding.release, ..."), "tenant_id": str(""), "subject": str("what was acted on"),
		"person_subject": str("the person's IdP subject"), "person_email": str(""), "detail": anyJSON(""), "prev_hash": str("the previous line's hash"), "hash": str("SHA-256 over prev_hash and this line")})
	personProps := obj{"role": obj{"type": "string", "enum": roleNames()}}
	for k, v := range user["properties"].(obj) {
		personProps[k] = v
	}
	return obj{
		"User":              user,
		"AuditEntry":        audit,
		"Person":            object([]string{"id", "role"}, personProps),
		"PersonList":        arrayOf("Person"),
		"PersonDetail":      object([]string{"person", "recent"}, obj{"person": ref("Person"), "recent": obj{"type": "array", "items": ref("AuditEntry")}}),
		"SignInOptions":     object([]string{"providers"}, obj{"providers": obj{"type": "array", "items": obj{"type": "string"}}, "token_sign_in": boolean("an API token may open a session (break-glass with the operator token)")}),
		"TokenSignIn":       object([]string{"token"}, obj{"token": str("an API token (cbt_...)")}),
		"SignedOut":         object([]string{"sessions"}, obj{"sessions": integer("sessions ended")}),
		"ReviewAcknowledge": object(nil, obj{"note": str("why the findings are accepted (at most 1000 characters)")}),
		"AuditCheck": object([]string{"ok", "lines"}, obj{"ok": boolean("the chain is intact"), "lines": integer(""), "chained": integer("lines carrying a hash"),
			"unhashed": integer("lines written before the chain existed"), "last_id": integer(""), "last_hash": str(""), "problems": obj{"type": "array", "items": obj{"type": "string"}}}),
		"Me": object([]string{"kind", "role", "operator", "roles"}, obj{
			"kind": obj{"type": "string", "enum": []string{"token", "session"}}, "token_id": str("the token, for a token or a token's session"), "name": str(""), "scope": str("read or admin"),
			"role": obj{"type": "string", "enum": roleNames(), "description": "the highest role"}, "operator": boolean("may act on every tenant"),
			"tenant_id": str("the token's tenant (absent for operators and people)"), "tenant": str("its name"), "break_glass": boolean("signed in with the operator token, not the identity provider"),
			"person": ref("User"), "roles": obj{"type": "array", "items": object([]string{"role"}, obj{"tenant_id": str("absent: every tenant"), "tenant": str(""), "role": str("")})},
			"session_id": str(""), "session_expires_at": timestamp("the session's absolute end"), "csrf_token": str("send it as X-CSRF-Token on writes authenticated by the session cookie"),
			"recent": obj{"type": "array", "items": ref("AuditEntry")},
		}),
	}
}

func roleNames() []string {
	var out []string
	for _, r := range store.Roles() {
		out = append(out, string(r))
	}
	return out
}
