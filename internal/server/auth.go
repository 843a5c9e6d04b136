package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// The roles routes declare. public needs no credentials.
const (
	public   store.Role = "public"
	viewer              = store.RoleViewer
	analyst             = store.RoleAnalyst
	approver            = store.RoleApprover
	admin               = store.RoleAdmin
	operator            = store.RoleOperator
)

// authInfo is who is calling, set once by authorize: an API token (in the
// Authorization header), or a browser session of a person or of a token
// (the UI's token sign-in; break-glass when it is an operator token).
type authInfo struct {
	ok      bool
	token   store.Token    // the token, for a token or a token's session
	session *store.Session // the session, for a cookie
	user    *store.User    // the person acting, if known
	all     store.Role     // a role in every tenant (operator), or ""
	roles   map[crossbill.TenantID]store.Role
	tenant  store.Tenant // the tenant named in the path, resolved and checked
	csrf    string       // the session's CSRF token
}

// authOf returns the caller; routes that are not public always have one.
func authOf(r *http.Request) *authInfo {
	a, _ := r.Context().Value(keyAuth).(*authInfo)
	if a == nil {
		return &authInfo{}
	}
	return a
}

// tenantOf is the tenant the request is about. Handlers take it from here
// and nowhere else, so tenant isolation is decided in authorize alone.
func tenantOf(r *http.Request) store.Tenant { return authOf(r).tenant }

// roleIn is the caller's role in a tenant ("" for none).
func (a *authInfo) roleIn(t crossbill.TenantID) store.Role {
	if a.all != "" {
		return a.all
	}
	return a.roles[t]
}

// top is the caller's highest role anywhere.
func (a *authInfo) top() store.Role {
	top := a.all
	for _, r := range a.roles {
		if r.Rank() > top.Rank() {
			top = r
		}
	}
	return top
}

// id names the caller in logs: the token or the session.
func (a *authInfo) id() string {
	if a.session != nil {
		return a.session.ID
	}
	return a.token.ID
}

// breakGlass reports a session opened with an operator token instead of
// the identity provider.
func (a *authInfo) breakGlass() bool {
	return a.session != nil && a.session.UserID == "" && a.token.Operator()
}

// audit is the caller as an audit line names them: the person (by their
// IdP subject and email) whenever one is known.
func (a *authInfo) audit() store.AuditEntry {
	e := store.AuditEntry{Actor: "token:" + a.token.ID}
	if a.breakGlass() {
		e.Actor = "break-glass:" + a.token.ID
	}
	if a.user != nil {
		e.Actor, e.PersonSubject, e.PersonEmail = "user:"+a.user.ID, a.user.Subject, a.user.Email
	}
	return e
}

func bearer(r *http.Request) (store.Secret, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return store.Secret(strings.TrimSpace(tok)), true
}

// authorize is the one place where credentials are checked, the tenant in
// the path is resolved and the route's role is enforced. A caller without
// a role in the tenant named gets NotFound, the same answer as for a
// tenant that does not exist, so callers cannot probe for other tenants;
// the role is checked only after, so a viewer of tenant A writing to
// tenant B also sees 404.
func (s *Server) authorize(rt route, next http.Handler) http.Handler {
	if rt.role == public {
		return next
	}
	need := rt.role
	if need.Rank() == 0 {
		need = operator // a route that declares no role: closed to all but operators
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := authOf(r)
		if err := s.authenticate(w, r, a); err != nil {
			writeError(w, r, err)
			return
		}
		if !s.limits.allow(a.id()) {
			s.metrics.rateLimited.Inc()
			w.Header().Set("Retry-After", "1")
			writeError(w, r, crossbill.Errorf(crossbill.CodeThrottled, "rate limit", "too many requests for this token or session; slow down and retry"))
			return
		}
		have := a.top()
		if rt.tenantParam != "" {
			t, err := s.resolveTenant(r, a, r.PathValue(rt.tenantParam))
			if err != nil {
				writeError(w, r, err)
				return
			}
			a.tenant, have = t, a.roleIn(t.ID)
		}
		if !have.AtLeast(need) {
			writeError(w, r, crossbill.Errorf(crossbill.CodeAccessDenied, "authorize", "this call needs role %s; you have %s%s", need, orNone(have), roleHint(a, need)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func orNone(r store.Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

func roleHint(a *authInfo, need store.Role) string {
	switch {
	case need == operator:
		return " (an operator token: `crossbill token create --operator`)"
	case a.session != nil && a.user != nil:
		return " here: ask an administrator for a group that maps to it"
	}
	return fmt.Sprintf(" (a token with the role: `crossbill token create --role %s`)", need)
}

// authenticate fills a from the request's token or session cookie.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, a *authInfo) error {
	addr := s.clientAddr(r)
	secret, isBearer := bearer(r)
	cookie, _ := r.Cookie(sessionCookie)
	if !isBearer && cookie == nil {
		return crossbill.Errorf(crossbill.CodeUnauthorized, "authenticate",
			"missing credentials: sign in, or send Authorization: Bearer <token> (create one with `crossbill token create`)")
	}
	if wait := s.authFails.blocked(addr); wait > 0 {
		s.metrics.authBlocked.Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return crossbill.Errorf(crossbill.CodeThrottled, "authenticate",
			"too many failed authentications from this address; retry after %s with valid credentials", wait.Round(time.Second))
	}
	fail := func(err error) error {
		if crossbill.ErrorCode(err) == crossbill.CodeUnauthorized {
			s.authFails.fail(addr)
		}
		return err
	}
	var tok store.Token
	var err error
	if isBearer {
		// The Authorization header wins: automation is never subject to
		// the cookie's CSRF rules, even in a browser that has a session.
		if tok, err = s.tokens.authenticate(r.Context(), s.store, secret); err != nil {
			return fail(err)
		}
		s.tokens.touch(s.store, tok.ID, logger(r.Context()))
	} else {
		ses, err := s.store.SessionBySecret(r.Context(), store.Secret(cookie.Value), s.cfg.SessionIdle)
		if err != nil {
			return fail(err)
		}
		a.session, a.csrf = &ses, csrfToken(cookie.Value)
		if !safeMethod(r.Method) {
			if err := checkCSRF(r, a.csrf); err != nil {
				return err
			}
		}
		if ses.UserID != "" {
			u, err := s.store.UserByID(r.Context(), ses.UserID)
			if err != nil {
				return err
			}
			grants, err := s.store.UserRoles(r.Context(), u.ID)
			if err != nil {
				return err
			}
			a.ok, a.user, a.roles = true, &u, map[crossbill.TenantID]store.Role{}
			for _, g := range grants {
				if g.TenantID == "" {
					a.all = g.Role
				} else {
					a.roles[g.TenantID] = g.Role
				}
			}
			return nil
		}
		if tok, err = s.store.LiveToken(r.Context(), ses.TokenID); err != nil {
			return fail(err)
		}
	}
	a.ok, a.token = true, tok
	if tok.Operator() {
		a.all = tok.Role
	} else {
		a.roles = map[crossbill.TenantID]store.Role{tok.TenantID: tok.Role}
	}
	if tok.UserID != "" {
		u, err := s.store.UserByID(r.Context(), tok.UserID)
		if err != nil {
			return err
		}
		a.user = &u
	}
	return nil
}

// resolveTenant finds the tenant named (by ID or name) in the path, if the
// caller has a role in it.
func (s *Server) resolveTenant(r *http.Request, a *authInfo, ref string) (store.Tenant, error) {
	hidden := crossbill.Errorf(crossbill.CodeNotFound, "tenant", "no tenant %q", ref)
	if a.all == "" {
		ids := make([]crossbill.TenantID, 0, len(a.roles))
		for id := range a.roles {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			t, err := s.tenantByID(r.Context(), id)
			if err != nil {
				return store.Tenant{}, err
			}
			if ref == string(t.ID) || ref == t.Name {
				return t, nil
			}
		}
		return store.Tenant{}, hidden
	}
	t, err := s.tenantByID(r.Context(), crossbill.TenantID(ref))
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		t, err = s.store.TenantByName(r.Context(), ref)
	}
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return store.Tenant{}, hidden
	}
	return t, err
}

// TokenCacheTTL is how long a server trusts a token it authenticated
// without reading the store again: the delay before a token revoked from
// the CLI (not through this server's API) is refused.
const TokenCacheTTL = 5 * time.Second

// tokenCache keeps recently authenticated tokens for a few seconds, so that
// a busy client costs no database read per request, and records token use
// in the background at most once a minute per token. A revoked token stops
// working at once through this server's API, and within ttl when revoked
// from the CLI.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	live    map[string]cachedToken // by hash of the secret
	touched map[string]time.Time   // by token ID
	wg      sync.WaitGroup
}

type cachedToken struct {
	tok store.Token
	at  time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, live: map[string]cachedToken{}, touched: map[string]time.Time{}}
}

func (c *tokenCache) authenticate(ctx context.Context, st *store.Store, secret store.Secret) (store.Token, error) {
	key := store.HashToken(secret)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.live[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.tok, nil
	}
	tok, err := st.Authenticate(ctx, secret)
	if err != nil {
		return store.Token{}, err
	}
	c.mu.Lock()
	if len(c.live) > 10000 { // bounded: start over rather than grow
		c.live = map[string]cachedToken{}
	}
	c.live[key] = cachedToken{tok: tok, at: now}
	c.mu.Unlock()
	return tok, nil
}

// forget drops a token from the cache (it was revoked).
func (c *tokenCache) forget(id string) {
	c.mu.Lock()
	for k, e := range c.live {
		if e.tok.ID == id {
			delete(c.live, k)
		}
	}
	c.mu.Unlock()
}

// clear drops every cached token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	c.live = map[string]cachedToken{}
	c.mu.Unlock()
}

// touch records a token's use without making the request wait for the
// write.
func (c *tokenCache) touch(st *store.Store, id string, log *slog.Logger) {
	now := time.Now()
	c.mu.Lock()
	if now.Sub(c.touched[id]) < time.Minute {
		c.mu.Unlock()
		return
	}
	c.touched[id] = now
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.TouchToken(ctx, id); err != nil {
			log.Warn("recording token use", "err", err)
		}
	}()
}

// wait waits for background writes (before the store closes).
func (c *tokenCache) wait() { c.wg.Wait() }

// tenantByID reads a tenant through a cache: tenants are never renamed or
// deleted, so an entry never goes stale, and busy clients cost no database
// read per request.
func (s *Server) tenantByID(ctx context.Context, id crossbill.TenantID) (store.Tenant, error) {
	s.tenantMu.Lock()
	t, ok := s.tenantCache[id]
	s.tenantMu.Unlock()
	if ok {
		return t, nil
	}
	t, err := s.store.TenantByID(ctx, id)
	if err != nil {
		return store.Tenant{}, err
	}
	s.tenantMu.Lock()
	if len(s.tenantCache) < 100000 {
		s.tenantCache[id] = t
	}
	s.tenantMu.Unlock()
	return t, nil
}
