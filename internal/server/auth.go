package server

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// access is what a route requires of the caller's token.
type access int

const (
	public   access = iota // no token
	read                   // any live token
	admin                  // a token with admin scope
	operator               // an operator token (admin scope, every tenant)
)

func (a access) String() string {
	return [...]string{"public", "read", "admin", "operator"}[a]
}

// authInfo is who is calling, set once by authorize.
type authInfo struct {
	ok     bool
	token  store.Token
	tenant store.Tenant // the tenant named in the path, resolved and checked
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

func bearer(r *http.Request) (store.Secret, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return store.Secret(strings.TrimSpace(tok)), true
}

// authorize is the one place where tokens are checked and the tenant in the
// path is resolved. A tenant token naming another tenant gets NotFound, the
// same answer as for a tenant that does not exist, so tokens cannot probe
// for other tenants; the scope is checked only after, so a read token of
// tenant A writing to tenant B also sees 404.
func (s *Server) authorize(rt route, next http.Handler) http.Handler {
	if rt.access == public {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		if !ok {
			writeError(w, r, crossbill.Errorf(crossbill.CodeUnauthorized, "authenticate",
				"missing bearer token: send Authorization: Bearer <token> (create one with `crossbill token create`)"))
			return
		}
		addr := clientAddr(r)
		if wait := s.authFails.blocked(addr); wait > 0 {
			s.metrics.authBlocked.Inc()
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, r, crossbill.Errorf(crossbill.CodeThrottled, "authenticate",
				"too many failed authentications from this address; retry after %s with a valid token", wait.Round(time.Second)))
			return
		}
		tok, err := s.tokens.authenticate(r.Context(), s.store, secret)
		if err != nil {
			if crossbill.ErrorCode(err) == crossbill.CodeUnauthorized {
				s.authFails.fail(addr)
			}
			writeError(w, r, err)
			return
		}
		a := authOf(r)
		a.ok, a.token = true, tok
		if !s.limits.allow(tok.ID) {
			s.metrics.rateLimited.Inc()
			w.Header().Set("Retry-After", "1")
			writeError(w, r, crossbill.Errorf(crossbill.CodeThrottled, "rate limit", "too many requests for this token; slow down and retry"))
			return
		}
		s.tokens.touch(s.store, tok.ID, logger(r.Context()))
		if rt.tenantParam != "" {
			t, err := s.resolveTenant(r, tok, r.PathValue(rt.tenantParam))
			if err != nil {
				writeError(w, r, err)
				return
			}
			a.tenant = t
		}
		switch {
		case rt.access == operator && !(tok.Operator() && tok.Scope == store.ScopeAdmin):
			writeError(w, r, crossbill.Errorf(crossbill.CodeAccessDenied, "authorize", "this call needs an operator token (`crossbill token create --operator`)"))
			return
		case rt.access >= admin && tok.Scope != store.ScopeAdmin:
			writeError(w, r, crossbill.Errorf(crossbill.CodeAccessDenied, "authorize", "this token has read scope; the call needs an admin token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// resolveTenant finds the tenant named (by ID or name) in the path, if the
// token may see it.
func (s *Server) resolveTenant(r *http.Request, tok store.Token, ref string) (store.Tenant, error) {
	hidden := crossbill.Errorf(crossbill.CodeNotFound, "tenant", "no tenant %q", ref)
	if !tok.Operator() {
		t, err := s.tenantByID(r.Context(), tok.TenantID)
		if err != nil {
			return store.Tenant{}, err
		}
		if ref != string(t.ID) && ref != t.Name {
			return store.Tenant{}, hidden
		}
		return t, nil
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
