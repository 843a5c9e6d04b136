package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

type health struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return ok(w, r, health{Status: "ok", Version: s.cfg.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	s.readyMu.RLock()
	notReady := s.ready
	s.readyMu.RUnlock()
	if notReady == nil {
		notReady = s.store.DB().PingContext(r.Context())
	}
	if notReady != nil {
		writeJSON(w, r, http.StatusServiceUnavailable, health{Status: "not ready", Error: notReady.Error()})
		return nil
	}
	return ok(w, r, health{Status: "ready", Version: s.cfg.Version})
}

type tenantCreate struct {
	Name string `json:"name"`
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in tenantCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.store.CreateTenant(r.Context(), in.Name)
	if err != nil {
		return err
	}
	return created(w, r, t)
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) error {
	return ok(w, r, tenantOf(r))
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.Tokens(r.Context(), tenantOf(r).ID, false)
	if err != nil {
		return err
	}
	return ok(w, r, ts)
}

type tokenCreate struct {
	Name  string      `json:"name"`
	Scope store.Scope `json:"scope"`
	Role  store.Role  `json:"role"`
}

type tokenCreated struct {
	store.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, secret, err := s.store.NewToken(r.Context(), store.TokenRequest{Tenant: tenantOf(r).ID, Name: in.Name, Scope: in.Scope, Role: in.Role, Max: s.cfg.MaxTokensPerTenant})
	if err != nil {
		return err
	}
	e := authOf(r).audit()
	e.Action, e.TenantID, e.Subject = store.AuditTokenCreate, t.TenantID, t.ID
	if err := s.store.AppendAudit(r.Context(), e, map[string]string{"role": string(t.Role), "name": t.Name}); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return created(w, r, tokenCreated{Token: t, Secret: string(secret)})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	// Scoped to the path's tenant even for operators: the URL names it.
	if err := s.store.RevokeToken(r.Context(), tenantOf(r).ID, false, r.PathValue("token")); err != nil {
		return err
	}
	s.tokens.forget(r.PathValue("token"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	f := store.JobFilter{ConnectionID: crossbill.ConnectionID(r.URL.Query().Get("connection")), Kind: r.URL.Query().Get("kind")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return crossbill.Errorf(crossbill.CodeInvalid, "jobs", "limit %q: use a positive number", l)
		}
		f.Limit = n
	}
	js, err := s.store.Jobs(r.Context(), tenantOf(r).ID, f)
	if err != nil {
		return err
	}
	return ok(w, r, js)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	j, err := s.store.JobByID(r.Context(), tenantOf(r).ID, r.PathValue("job"))
	if err != nil {
		return err
	}
	return ok(w, r, j)
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.store.Reviews(r.Context(), tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, rs)
}

func (s *Server) getReview(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.store.ReviewByID(r.Context(), tenantOf(r).ID, r.PathValue("review"))
	if err != nil {
		return err
	}
	return ok(w, r, rv)
}

// splitList parses a comma-separated query value.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
