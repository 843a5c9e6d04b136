package server

import (
	"net/http"
	"strings"

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
		tok, err := s.store.Authenticate(r.Context(), secret)
		if err != nil {
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
		if err := s.store.TouchToken(r.Context(), tok.ID); err != nil {
			logger(r.Context()).Warn("recording token use", "err", err)
		}
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
		t, err := s.store.TenantByID(r.Context(), tok.TenantID)
		if err != nil {
			return store.Tenant{}, err
		}
		if ref != string(t.ID) && ref != t.Name {
			return store.Tenant{}, hidden
		}
		return t, nil
	}
	t, err := s.store.TenantByID(r.Context(), crossbill.TenantID(ref))
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		t, err = s.store.TenantByName(r.Context(), ref)
	}
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return store.Tenant{}, hidden
	}
	return t, err
}
