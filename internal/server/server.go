// Package server is crossbill's HTTP face: the JSON API under /api/v1 (with
// its OpenAPI document), Flexera's onboarding call, health and metrics
// endpoints and the embedded web UI, behind one authorization middleware.
package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/cluster"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/signin"
	"github.com/crossbill/crossbill/internal/store"
)

// Config is what a Server is built from.
type Config struct {
	Store     *store.Store
	Scheduler *scheduler.Scheduler
	Logger    *slog.Logger
	DataDir   string

	RatePerSecond float64 // per token; zero: 50
	RateBurst     int     // zero: 100
	// AuthFailures failed authentications from one client address within
	// AuthFailWindow lock the address out for the rest of the window;
	// zero: 10 a minute, negative: no limit.
	AuthFailures   int
	AuthFailWindow time.Duration
	// MaxTokensPerTenant caps a tenant's live tokens; zero: 100, negative:
	// no cap.
	MaxTokensPerTenant int
	MaxBody            int64 // JSON bodies; zero: 1 MiB (uploads get UploadMaxBody)
	UploadMaxBody      int64 // zero: 8 MiB
	Version            string

	// Costs is the cost store (DuckDB); nil answers cost routes with 503.
	Costs *costs.Store
	// ClusterCosts, when set (--cost-store s3://...), answers cost queries
	// from the shared cost store; Costs then only stages ingests.
	ClusterCosts *cluster.Cluster
	// MaxRows caps the rows of one cost answer; zero: costs.DefaultMaxRows,
	// negative: no cap.
	MaxRows int
	// Limits of the answer cache and of heavy queries (costs, commitments).
	CacheBytes       int64         // whole cache; zero: 32 MiB
	TenantCacheBytes int64         // per tenant; zero: 8 MiB
	HeavyQueries     int           // concurrent heavy queries per tenant; zero: 2
	HeavyQueriesAll  int           // all tenants together; zero: 2
	HeavyQueryWait   time.Duration // wait for a free slot before 429; zero: 10s
	// AWS is the process's one factory of customer-role credentials, on
	// crossbill's own (hub) AWS configuration: verify, members and ingest
	// share it, so cached sessions live as long as the server. nil: a
	// factory without hub credentials (every AWS use says so).
	AWS *awsclient.Factory
	// HubPrincipal is the ARN customer roles trust; the onboarding wizard's
	// default.
	HubPrincipal string
	// TemplateURLBase is where templates are hosted, for quick-create links.
	TemplateURLBase string
	// HubProblem, when set, says why the hub cannot reach AWS (no
	// credentials); the onboarding wizard shows it.
	HubProblem string
	// VerifyWait bounds the retries of a new role's first AssumeRole.
	VerifyWait time.Duration
	// VerifyRetry is how soon a connection whose verification failed or
	// could not check is verified again; zero: 5 minutes.
	VerifyRetry time.Duration
	Now         func() time.Time

	// Inventory is what optimization evaluations read; nil: the
	// inventory store (what the inventory job writes).
	Inventory optimize.Source

	// SignIn signs people in through identity providers; nil: token
	// sign-in only.
	SignIn *signin.Service
	// SessionIdle ends a session unused this long; zero: 30 minutes.
	SessionIdle time.Duration
	// SessionAbsolute ends a session this long after sign-in; zero: 12 hours.
	SessionAbsolute time.Duration
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto.
	TrustedProxies []netip.Prefix
	// Notify tunes the notify job's deliveries (zero: notify's defaults).
	Notify notify.Options
	// Savings feeds the savings alert rule (nil: the tenant's open
	// optimization recommendations).
	Savings alerts.SavingsSource
	// Automation feeds and carries out automation policies (zero fields:
	// recommendations from internal/optimize, marks and remediation plans
	// through internal/remediation).
	Automation automation.Sources
}

// Server serves the API and the UI.
type Server struct {
	store *store.Store
	sched *scheduler.Scheduler
	// unsubscribe ends the store events' delivery to the caches (events.go).
	unsubscribe func()
	log         *slog.Logger
	dataDir     string
	metrics     *metrics
	limits      *limiters
	cfg         Config
	routes      []route
	handler     http.Handler

	readyMu sync.RWMutex
	ready   error // nil when ready
	costs   *costCache
	costsDB *costs.Store
	now     func() time.Time
	tokens  *tokenCache

	authFails *authFailures

	tenantMu    sync.Mutex
	tenantCache map[crossbill.TenantID]store.Tenant
}

// New builds a server. The scheduler is optional (tests of pure API parts).
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Inventory == nil && cfg.Store != nil {
		cfg.Inventory = optimize.InventoryStore{Store: cfg.Store}
	}
	if cfg.Savings == nil && cfg.Store != nil {
		cfg.Savings = alerts.OptimizeSavings{Store: cfg.Store}
	}
	if cfg.Automation.Recommendations == nil && cfg.Store != nil {
		cfg.Automation.Recommendations = automation.Optimize{Store: cfg.Store}
	}
	if cfg.Automation.Remediator == nil && cfg.Store != nil {
		cfg.Automation.Remediator = automation.Remediation{Env: remediation.Env{Store: cfg.Store, AWS: cfg.AWS, Notify: remediationNotify(cfg.Store)}}
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = 50
	}
	if cfg.RateBurst == 0 {
		cfg.RateBurst = 100
	}
	if cfg.AuthFailures == 0 {
		cfg.AuthFailures = 10
	}
	if cfg.AuthFailWindow == 0 {
		cfg.AuthFailWindow = time.Minute
	}
	if cfg.MaxTokensPerTenant == 0 {
		cfg.MaxTokensPerTenant = 100
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.UploadMaxBody == 0 {
		cfg.UploadMaxBody = 8 << 20
	}
	if cfg.AWS == nil {
		cfg.AWS = awsclient.MustFactory(aws.Config{})
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionAbsolute == 0 {
		cfg.SessionAbsolute = 12 * time.Hour
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = costs.DefaultMaxRows
	}
	s := &Server{
		store: cfg.Store, sched: cfg.Scheduler, log: cfg.Logger.With("component", "http"), dataDir: cfg.DataDir,
		metrics: newMetrics(), limits: newLimiters(cfg.RatePerSecond, cfg.RateBurst), cfg: cfg,
		costs:   newCostCache(cacheLimits{Bytes: cfg.CacheBytes, TenantBytes: cfg.TenantCacheBytes, Slots: cfg.HeavyQueries, TotalSlots: cfg.HeavyQueriesAll, SlotWait: cfg.HeavyQueryWait}),
		costsDB: cfg.Costs, now: cfg.Now, tokens: newTokenCache(TokenCacheTTL),
		tenantCache: map[crossbill.TenantID]store.Tenant{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.authFails = newAuthFailures(cfg.AuthFailures, cfg.AuthFailWindow, s.now)
	s.metrics.watchCache(s.costs)
	if s.costsDB != nil {
		s.metrics.watchDuckDB(s.costsDB)
	}
	if s.sched != nil {
		s.sched.OnJobEnd(func(j store.Job, err error) {
			outcome := "succeeded"
			if err != nil {
				outcome = "failed"
			}
			s.metrics.jobs.WithLabelValues(j.Kind, outcome).Inc()
		})
	}
	s.unsubscribe = func() {}
	if cfg.Store != nil {
		s.unsubscribe = cfg.Store.Subscribe(s.onEvent)
	}
	s.routes = s.routeTable()
	s.handler = s.buildMux()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Wait waits for the server's background writes to end; call it after the
// HTTP server stopped and before the store closes.
func (s *Server) Wait() {
	s.unsubscribe()
	s.tokens.wait()
}

// SetReady records whether the server is ready (readyz); err says why not.
func (s *Server) SetReady(err error) {
	s.readyMu.Lock()
	s.ready = err
	s.readyMu.Unlock()
}

// handlerFunc is an API handler: it writes its answer, or returns an error
// that the router writes with the status of its code.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) buildMux() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		rt, h := rt, rt.handler
		maxBody := s.cfg.MaxBody
		if rt.upload {
			maxBody = s.cfg.UploadMaxBody
		}
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := checkQuery(rt, r.URL.Query()); err != nil && !rt.anyQuery {
				writeError(w, r, err)
				return
			}
			if err := h(w, r); err != nil {
				writeError(w, r, err)
			}
		})
		mux.Handle(rt.method+" "+rt.path, s.observe(rt.path, s.authorize(rt, inner)))
	}
	mux.Handle("/", s.observe("/ui", s.uiHandler()))
	// Unknown API paths answer JSON, not the UI's index page.
	mux.Handle("/api/", s.observe("/api/*", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, crossbill.Errorf(crossbill.CodeNotFound, "route", "no API route %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path))
	})))
	return s.securityHeaders(mux)
}

// securityHeaders set on every response: the UI loads nothing from
// elsewhere, so the policy can be strict; over TLS, browsers are told to
// never use plain HTTP for this host again (HSTS).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.secure(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// decodeJSON reads a JSON body into v; unknown fields and trailing data are
// errors, so that typos in field names do not pass silently.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err // a MaxBytesError becomes 413
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(body) {
		return crossbill.Errorf(crossbill.CodeInvalid, "request", "request body is not valid UTF-8: send UTF-8 JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return crossbill.Errorf(crossbill.CodeInvalid, "request", "empty request body: send a JSON object")
		}
		return crossbill.Errorf(crossbill.CodeInvalid, "request", "request body is not the expected JSON: %v", err)
	}
	if dec.More() {
		return crossbill.Errorf(crossbill.CodeInvalid, "request", "request body has data after the JSON object")
	}
	return checkText(reflect.ValueOf(v), "")
}

// checkText applies crossbill.CheckText to every string in a decoded body,
// so that no field a tenant sends can carry terminal escapes or bidi tricks
// into the store, the logs or an operator's screen.
func checkText(v reflect.Value, field string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkText(v.Elem(), field)
		}
	case reflect.String:
		return crossbill.CheckText("request", field, v.String())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (json.RawMessage) are data, not text
		}
		for i := range v.Len() {
			if err := checkText(v.Index(i), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			name := fmt.Sprintf("%s[%s]", field, crossbill.Printable(fmt.Sprint(it.Key())))
			if err := checkText(it.Key(), name+" (key)"); err != nil {
				return err
			}
			if err := checkText(it.Value(), name); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if f.Anonymous {
				name = field
			} else if field != "" {
				name = field + "." + name
			}
			if err := checkText(v.Field(i), name); err != nil {
				return err
			}
		}
	}
	return nil
}

func ok(w http.ResponseWriter, r *http.Request, v any) error {
	writeJSON(w, r, http.StatusOK, v)
	return nil
}

func created(w http.ResponseWriter, r *http.Request, v any) error {
	writeJSON(w, r, http.StatusCreated, v)
	return nil
}
