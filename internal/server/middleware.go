package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyAuth
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// logger is the request's logger (request ID attached), or a discarding one.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newRequestID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "req-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return hex.EncodeToString(b)
}

// statusWriter records the status and size a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// metrics are the server's Prometheus collectors, on a registry of its own
// (no global registry: tests run many servers in one process).
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited prometheus.Counter
	authBlocked prometheus.Counter
	jobs        *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crossbill_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crossbill_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2.5, 10},
		}, []string{"route"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crossbill_http_rate_limited_total", Help: "Requests refused by the per-token rate limit.",
		}),
		authBlocked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crossbill_http_auth_blocked_total", Help: "Requests refused because their address failed authentication too often.",
		}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crossbill_jobs_total", Help: "Background job attempts by kind and outcome.",
		}, []string{"kind", "outcome"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.rateLimited, m.authBlocked, m.jobs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchCache exports the answer cache's size and the heavy queries.
func (m *metrics) watchCache(c *costCache) {
	gauge := func(name, help string, f func(cacheStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(c.stats()) })
	}
	counter := func(name, help string, f func(cacheStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(c.stats()) })
	}
	m.registry.MustRegister(
		gauge("crossbill_cache_bytes", "Bytes held by the answer cache (costs, commitments).", func(s cacheStats) float64 { return float64(s.Bytes) }),
		gauge("crossbill_cache_max_bytes", "The answer cache's byte cap.", func(s cacheStats) float64 { return float64(s.MaxBytes) }),
		gauge("crossbill_cache_tenant_max_bytes", "The answer cache's byte cap per tenant.", func(s cacheStats) float64 { return float64(s.TenantMax) }),
		gauge("crossbill_cache_entries", "Answers held by the answer cache.", func(s cacheStats) float64 { return float64(s.Entries) }),
		counter("crossbill_cache_evictions_total", "Answers evicted to keep the cache within its caps.", func(s cacheStats) float64 { return float64(s.Evictions) }),
		gauge("crossbill_heavy_queries_running", "Heavy queries (costs, commitments) computing now.", func(s cacheStats) float64 { return float64(s.Running) }),
		counter("crossbill_heavy_queries_rejected_total", "Heavy queries refused (429) because their tenant's slots stayed busy.", func(s cacheStats) float64 { return float64(s.Rejected) }),
	)
}

// watchDuckDB exports the memory DuckDB's buffer manager holds: next to
// the process's RSS it tells DuckDB's share from Go's.
func (m *metrics) watchDuckDB(cs *costs.Store) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "crossbill_duckdb_memory_bytes", Help: "Memory held by DuckDB's buffer manager (the cost store).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := cs.MemoryBytes(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// observe wraps every request: request ID, panic recovery, the access log
// line and metrics. label is the route pattern (bounded cardinality).
func (s *Server) observe(label string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(rid) {
			rid = newRequestID()
		}
		w.Header().Set("X-Request-ID", rid)
		log := s.log.With("request_id", rid)
		auth := &authInfo{} // filled in by authorize, read here for the log line
		ctx := context.WithValue(context.WithValue(context.WithValue(r.Context(), keyRequestID, rid), keyLogger, log), keyAuth, auth)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panicked", "panic", v, "route", label)
				if sw.status == 0 {
					writeError(sw, r, crossbill.Errorf(crossbill.CodeInternal, "request", "panic: %v", v))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			s.metrics.requests.WithLabelValues(label, r.Method, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(label).Observe(elapsed.Seconds())
			// The URL path and query carry no secrets (tokens travel only in
			// the Authorization header, which is never logged).
			attrs := []any{"method", r.Method, "path", r.URL.Path, "route", label, "status", status, "bytes", sw.bytes, "duration_ms", float64(elapsed.Microseconds()) / 1000}
			if auth.ok {
				attrs = append(attrs, "caller", auth.id())
				if auth.user != nil {
					attrs = append(attrs, "person", auth.user.ID)
				}
				if auth.tenant.ID != "" {
					attrs = append(attrs, "tenant", auth.tenant.Name)
				}
			}
			if status >= 500 {
				log.Warn("request", attrs...)
			} else {
				log.Info("request", attrs...)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// limiters holds one token bucket per API token.
type limiters struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newLimiters(perSecond float64, burst int) *limiters {
	return &limiters{rate: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

func (l *limiters) allow(key string) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}
