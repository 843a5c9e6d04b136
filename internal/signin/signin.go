package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// LoginTTL is how long a started sign-in may take at the provider.
const LoginTTL = 10 * time.Minute

// Service runs sign-ins against the configured providers.
type Service struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	remotes map[string]*remote // by provider name, discovered on first use
}

type remote struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// maxPending bounds the sign-ins in progress (over every replica).
const maxPending = 10000

// New makes a Service; cfg must be Resolved. client is the HTTP client
// for the providers (nil: http.DefaultClient); now is the clock (nil:
// time.Now), also used to check ID token expiry.
func New(cfg Config, client *http.Client, now func() time.Time) *Service {
	if client == nil {
		client = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	return &Service{cfg: cfg, client: client, now: now, remotes: map[string]*remote{}}
}

// Providers lists the providers' names, for the sign-in page.
func (s *Service) Providers() []string {
	var out []string
	for _, p := range s.cfg.Providers {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

func (s *Service) provider(name string) (Provider, bool) {
	if name == "" && len(s.cfg.Providers) == 1 {
		return s.cfg.Providers[0], true
	}
	for _, p := range s.cfg.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// remote discovers a provider (its /.well-known/openid-configuration and
// keys) once; a failed discovery is retried at the next sign-in.
func (s *Service) remote(ctx context.Context, p Provider) (*remote, error) {
	s.mu.Lock()
	r := s.remotes[p.Name]
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	ctx = oidc.ClientContext(ctx, s.client)
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "sign in", "identity provider %s (%s) cannot be reached or is misconfigured: %v", p.Name, p.Issuer, err)
	}
	scopes := p.Scopes
	if len(scopes) == 0 {
		scopes = []string{"email", "profile", "groups"}
	}
	r = &remote{
		oauth: oauth2.Config{ClientID: p.ClientID, ClientSecret: string(p.clientSecret), RedirectURL: p.RedirectURL,
			Endpoint: op.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, scopes...)},
		verifier: op.Verifier(&oidc.Config{ClientID: p.ClientID, Now: s.now}),
	}
	s.mu.Lock()
	s.remotes[p.Name] = r
	s.mu.Unlock()
	return r, nil
}

func random() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "sign in", "reading random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Started is a sign-in to continue at the provider: redirect the browser
// to URL and give it Browser in a short-lived cookie, which Complete needs.
type Started struct {
	URL     string
	Browser string
}

// Begin starts a sign-in with the named provider ("" when there is one).
// The sign-in is kept in st, so that any replica on the same database can
// finish it; only once, and only in the browser that started it.
func (s *Service) Begin(ctx context.Context, st *store.Store, name string) (Started, error) {
	p, ok := s.provider(name)
	if !ok {
		return Started{}, crossbill.Errorf(crossbill.CodeNotFound, "sign in", "no identity provider %q: see GET /api/v1/auth/providers", name)
	}
	r, err := s.remote(ctx, p)
	if err != nil {
		return Started{}, err
	}
	state, err := random()
	if err != nil {
		return Started{}, err
	}
	nonce, err := random()
	if err != nil {
		return Started{}, err
	}
	browser, err := random()
	if err != nil {
		return Started{}, err
	}
	verifier := oauth2.GenerateVerifier()
	sealed, err := seal(state, secrets{Nonce: nonce, Verifier: verifier})
	if err != nil {
		return Started{}, err
	}
	if err := st.StartLogin(ctx, store.PendingLogin{StateHash: hashOf(state), Provider: p.Name, BrowserHash: hashOf(browser),
		Sealed: sealed, ExpiresAt: s.now().Add(LoginTTL)}, maxPending); err != nil {
		return Started{}, err
	}
	url := r.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return Started{URL: url, Browser: browser}, nil
}

// Identity is who the provider says signed in, and the roles its claims
// map to.
type Identity struct {
	Provider string
	Issuer   string
	Subject  string
	Email    string
	Name     string
	Grants   []Grant
}

// refused is every failure of the provider's answer: the same code, and a
// message that says what to do.
func refused(format string, args ...any) error {
	return crossbill.Errorf(crossbill.CodeUnauthorized, "sign in", format, args...)
}

// Finish checks the provider's answer: the state (once, same browser,
// in time), the code exchange with the PKCE verifier, and the ID token
// (signature by the provider's keys, issuer, audience, expiry, nonce).
func (s *Service) Finish(ctx context.Context, st *store.Store, state, code, browser string) (Identity, error) {
	if state == "" {
		return Identity{}, refused("unknown or already used sign-in state: start again from the sign-in page")
	}
	pd, err := st.TakeLogin(ctx, hashOf(state)) // one use, whatever happens next
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return Identity{}, refused("unknown or already used sign-in state: start again from the sign-in page")
	} else if err != nil {
		return Identity{}, err
	}
	if subtle.ConstantTimeCompare([]byte(pd.BrowserHash), []byte(hashOf(browser))) != 1 {
		return Identity{}, refused("this sign-in was started in another browser: start again from the sign-in page")
	}
	if s.now().After(pd.ExpiresAt) {
		return Identity{}, refused("the sign-in took longer than %s: start again", LoginTTL)
	}
	sec, err := unseal(state, pd.Sealed)
	if err != nil {
		return Identity{}, err
	}
	p, ok := s.provider(pd.Provider)
	if !ok {
		return Identity{}, refused("identity provider %q is no longer configured: start again from the sign-in page", pd.Provider)
	}
	r, err := s.remote(ctx, p)
	if err != nil {
		return Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, s.client)
	tok, err := r.oauth.Exchange(ctx, code, oauth2.VerifierOption(sec.Verifier))
	if err != nil {
		return Identity{}, refused("the identity provider refused the code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, refused("the identity provider sent no ID token: check that the client is an OpenID Connect client")
	}
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, refused("the ID token is not valid for this client: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(sec.Nonce)) != 1 {
		return Identity{}, refused("the ID token's nonce does not match this sign-in: start again")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, refused("reading the ID token's claims: %v", err)
	}
	id := Identity{Provider: p.Name, Issuer: idt.Issuer, Subject: idt.Subject, Grants: p.grants(claims)}
	id.Email, _ = claims["email"].(string)
	id.Name, _ = claims["name"].(string)
	if id.Name == "" {
		id.Name, _ = claims["preferred_username"].(string)
	}
	return id, nil
}

// Result is a completed sign-in.
type Result struct {
	User    store.User
	Roles   []store.RoleGrant
	Session store.Session
	Secret  store.Secret
}

// Timeouts of a session.
type Timeouts struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Complete finishes a sign-in: checks the provider's answer, records the
// person and their roles (role changes audited), and opens a session
// (sign-in audited). A person whose claims map to no role of an existing
// tenant is refused (audited too).
func (s *Service) Complete(ctx context.Context, st *store.Store, state, code, browser string, t Timeouts) (Result, error) {
	id, err := s.Finish(ctx, st, state, code, browser)
	if err != nil {
		return Result{}, err
	}
	u, err := st.SignInUser(ctx, id.Issuer, id.Subject, id.Email, id.Name)
	if err != nil {
		return Result{}, err
	}
	var grants []store.RoleGrant
	for _, g := range id.Grants {
		if g.Tenant == "" {
			grants = append(grants, store.RoleGrant{Role: g.Role})
			continue
		}
		tn, err := st.TenantByName(ctx, g.Tenant)
		if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
			continue // mapped to a tenant not created yet
		} else if err != nil {
			return Result{}, err
		}
		grants = append(grants, store.RoleGrant{TenantID: tn.ID, Role: g.Role})
	}
	by := store.AuditEntry{Actor: "idp:" + id.Provider, PersonSubject: id.Subject, PersonEmail: id.Email}
	if err := st.SetUserRoles(ctx, u, grants, by); err != nil {
		return Result{}, err
	}
	who := store.AuditEntry{Actor: "user:" + u.ID, PersonSubject: u.Subject, PersonEmail: u.Email, Subject: u.ID}
	if len(grants) == 0 {
		who.Action = store.AuditSignInRefused
		if err := st.AppendAudit(ctx, who, map[string]string{"provider": id.Provider, "reason": "no role"}); err != nil {
			return Result{}, err
		}
		return Result{}, crossbill.Errorf(crossbill.CodeAccessDenied, "sign in", "%s has no role in crossbill: ask an administrator to add you to a group mapped to a tenant", orSubject(id))
	}
	ses, secret, err := st.CreateSession(ctx, u.ID, "", t.Absolute)
	if err != nil {
		return Result{}, err
	}
	who.Action = store.AuditSignIn
	if err := st.AppendAudit(ctx, who, map[string]string{"provider": id.Provider, "session": ses.ID, "method": "oidc"}); err != nil {
		return Result{}, err
	}
	roles, err := st.UserRoles(ctx, u.ID)
	if err != nil {
		return Result{}, err
	}
	return Result{User: u, Roles: roles, Session: ses, Secret: secret}, nil
}

func orSubject(id Identity) string {
	if id.Email != "" {
		return id.Email
	}
	return id.Subject
}
