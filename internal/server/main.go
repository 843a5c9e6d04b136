package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/cluster"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/signin"
	"github.com/crossbill/crossbill/internal/store"
)

// Main is a running crossbill server: store, scheduler and HTTP listener.
// The serve and demo commands and the end-to-end tests all use it: Run
// starts everything and returns once the listener is up; Close shuts down.
type Main struct {
	Addr            string // e.g. 127.0.0.1:8080; port 0 picks a free one
	DataDir         string
	Database        string // metadata on PostgreSQL (a postgres:// URL); "": SQLite in DataDir
	Logger          *slog.Logger
	Version         string
	ShutdownTimeout time.Duration // zero: 10s
	Scheduler       scheduler.Options
	RatePerSecond   float64
	RateBurst       int
	// AuthFailures, AuthFailWindow and MaxTokensPerTenant: see Config.
	AuthFailures       int
	AuthFailWindow     time.Duration
	MaxTokensPerTenant int
	// Memory bounds (see Config): rows per cost answer, answer cache bytes
	// (whole and per tenant), concurrent heavy queries (per tenant and in
	// all).
	MaxRows          int
	CacheBytes       int64
	TenantCacheBytes int64
	HeavyQueries     int
	HeavyQueriesAll  int
	// DuckDBMemory is the cost store's DuckDB memory_limit (its buffer
	// pool keeps scanned data up to it); "": costs.Options' default.
	DuckDBMemory string
	// CostStore, when set (s3://BUCKET/PREFIX), is cluster mode's shared
	// cost store: replicas answer cost queries from it through a local
	// object cache of CostCacheBytes (default 10 GiB); CostStoreEndpoint
	// is an S3-compatible store's URL ("": AWS S3). See costs/cluster.
	CostStore         string
	CostStoreEndpoint string
	CostCacheBytes    int64
	// NoBootstrap skips creating an operator token on an empty database.
	NoBootstrap bool
	// HubOptional says that running without AWS credentials is expected
	// (the demo): their absence is logged at info, not as a warning.
	HubOptional bool
	// Hub says where crossbill's own AWS credentials come from (default
	// chain, profile, emulator endpoint).
	Hub awsclient.HubOptions
	// HubAPIOptions are added to the hub configuration (tests stub the
	// operations the emulator does not serve).
	HubAPIOptions   []func(*middleware.Stack) error
	HubPrincipal    string
	TemplateURLBase string
	VerifyWait      time.Duration
	// VerifyRetry: see Config.VerifyRetry.
	VerifyRetry time.Duration
	// ReplicaID names this process in job leases; "": the ID kept in the
	// data directory (replicaIDFile), made on first start.
	ReplicaID string
	// JobLease: see scheduler.Options.Lease (zero: its default).
	JobLease time.Duration
	// JobRetention: finished jobs that ended longer ago are deleted by an
	// hourly sweep (zero: DefaultJobRetention; negative: never), except
	// the newest JobKeep of each (tenant, connection, kind) (zero:
	// DefaultJobKeep).
	JobRetention time.Duration
	JobKeep      int
	// Inventory is what optimization evaluations read; nil: the
	// inventory store.
	Inventory optimize.Source
	// Runners are extra job kinds (the demo's data loader).
	Runners map[string]scheduler.Runner
	// Notify tunes notification deliveries (zero: the defaults).
	Notify notify.Options

	// SignIn is the single sign-on configuration (Resolved); nil or
	// without providers: token sign-in only.
	SignIn *signin.Config
	// SessionIdle and SessionAbsolute: see Config.
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto.
	TrustedProxies []netip.Prefix
	// TLSCert and TLSKey are PEM files: serve HTTPS (and HSTS).
	TLSCert, TLSKey string

	// BootstrapToken is set by Run when it created the first operator
	// token; show it once.
	BootstrapToken store.Secret

	store   *store.Store
	costs   *costs.Store
	shared  *cluster.Cluster
	sched   *scheduler.Scheduler
	aws     *awsclient.Factory
	srv     *Server
	http    *http.Server
	ln      net.Listener
	cancel  context.CancelFunc
	jitDone chan struct{} // closed when the JIT lease loop has stopped
	served  chan error
	close   sync.Once
}

// Run opens the store, resumes the job queue, starts the scheduler and the
// HTTP listener, and returns; the server runs until Close or ctx ends.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.ShutdownTimeout == 0 {
		m.ShutdownTimeout = 10 * time.Second
	}
	st, err := store.OpenDatabase(ctx, m.DataDir, m.Database)
	if err != nil {
		return err
	}
	m.store = st
	if !m.NoBootstrap {
		if err := m.bootstrap(ctx); err != nil {
			return err
		}
	}
	hubOpts := m.Hub
	if hubOpts.Logger == nil {
		hubOpts.Logger = m.Logger
	}
	hub, err := awsclient.HubConfig(ctx, hubOpts)
	if err != nil {
		return err
	}
	hub.APIOptions = append(hub.APIOptions, m.HubAPIOptions...)
	// Without credentials of its own crossbill cannot assume any customer
	// role; say so at start and in the onboarding wizard, rather than only
	// through failed verifications.
	var hubProblem string
	if err := awsclient.CheckHub(ctx, hub); err != nil {
		hubProblem = awsclient.NoHubCredentials
		level := slog.LevelWarn
		if m.HubOptional {
			level = slog.LevelInfo
		}
		m.Logger.Log(ctx, level, "no hub AWS credentials: verification and ingestion cannot reach customer accounts", "err", err)
	}
	m.costs, err = costs.OpenWith(ctx, m.DataDir, costs.Options{MemoryLimit: m.DuckDBMemory})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	if m.CostStore != "" {
		if m.shared, err = m.openCluster(hub); err != nil {
			return err
		}
		go m.collectCostVersions(runCtx)
	}
	go m.expireApprovals(runCtx)
	sopts := m.Scheduler
	if sopts.Owner == "" {
		if sopts.Owner = m.ReplicaID; sopts.Owner == "" {
			if sopts.Owner, err = replicaID(m.DataDir); err != nil {
				return err
			}
		}
	}
	if m.JobLease > 0 {
		sopts.Lease = m.JobLease
	}
	go m.pruneJobs(runCtx, sopts.Owner)
	m.sched = scheduler.New(st, m.Logger, sopts)
	m.aws = awsclient.MustFactory(hub)
	var sso *signin.Service
	if m.SignIn != nil && m.SignIn.Enabled() {
		sso = signin.New(*m.SignIn, nil, nil)
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return crossbill.Errorf(crossbill.CodeInvalid, "serve", "give both --tls-cert and --tls-key, or neither")
	}
	m.srv = New(Config{Store: st, Scheduler: m.sched, Logger: m.Logger, DataDir: m.DataDir, Version: m.Version,
		RatePerSecond: m.RatePerSecond, RateBurst: m.RateBurst, Costs: m.costs, ClusterCosts: m.shared, AWS: m.aws,
		AuthFailures: m.AuthFailures, AuthFailWindow: m.AuthFailWindow, MaxTokensPerTenant: m.MaxTokensPerTenant,
		MaxRows: m.MaxRows, CacheBytes: m.CacheBytes, TenantCacheBytes: m.TenantCacheBytes, HeavyQueries: m.HeavyQueries, HeavyQueriesAll: m.HeavyQueriesAll,
		HubPrincipal: m.HubPrincipal, TemplateURLBase: m.TemplateURLBase, VerifyWait: m.VerifyWait, VerifyRetry: m.VerifyRetry, HubProblem: hubProblem,
		SignIn: sso, SessionIdle: m.SessionIdle, SessionAbsolute: m.SessionAbsolute, TrustedProxies: m.TrustedProxies, Notify: m.Notify, Inventory: m.Inventory})
	m.srv.registerRunners()
	for kind, r := range m.Runners {
		m.sched.Handle(kind, r)
	}
	if err := m.sched.Start(runCtx); err != nil {
		return err
	}
	m.jitDone = make(chan struct{})
	go func() {
		defer close(m.jitDone)
		m.srv.JITLoop(runCtx)
	}()
	if err := m.srv.EnsureSchedules(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "serve", "cannot listen on %s (in use? pass another --addr): %w", m.Addr, err)
	}
	m.ln = ln
	m.http = &http.Server{
		Handler:           m.srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return runCtx },
	}
	m.served = make(chan error, 1)
	if m.TLSCert != "" {
		// Loaded now, so that a bad file fails the start, not the first request.
		cert, err := tls.LoadX509KeyPair(m.TLSCert, m.TLSKey)
		if err != nil {
			ln.Close()
			return crossbill.Errorf(crossbill.CodeInvalid, "serve", "loading --tls-cert and --tls-key (PEM certificate chain and its private key): %v", err)
		}
		m.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		go func() { m.served <- m.http.ServeTLS(ln, "", "") }()
	} else {
		go func() { m.served <- m.http.Serve(ln) }()
	}
	m.Logger.Info("serving", "url", m.URL(), "data", m.DataDir, "database", m.store.Engine(), "scheduler", m.sched.String())
	return nil
}

// replicaIDFile keeps a data directory's replica ID: each replica has its
// own data directory, so the ID is unique among replicas and survives
// restarts (a restarted replica resumes its own jobs at once).
const replicaIDFile = "replica-id"

// replicaID reads the data directory's replica ID, making one (host name
// and a random suffix) on first use.
func replicaID(dir string) (string, error) {
	path := filepath.Join(dir, replicaIDFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "replica"
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := host + "-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", crossbill.Errorf(crossbill.CodeUnavailable, "serve", "writing the replica ID to %s (is the data directory writable?): %w", path, err)
	}
	return id, nil
}

// bootstrap creates the first operator token when there is none.
func (m *Main) bootstrap(ctx context.Context) error {
	ops, err := m.store.Tokens(ctx, "", false)
	if err != nil {
		return err
	}
	for _, t := range ops {
		if t.RevokedAt == nil {
			return nil
		}
	}
	_, secret, err := m.store.CreateToken(ctx, "", "bootstrap", store.ScopeAdmin)
	if err != nil {
		return err
	}
	m.BootstrapToken = secret
	return nil
}

// URL is the server's base URL.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	if m.TLSCert != "" {
		return "https://" + m.ln.Addr().String()
	}
	return "http://" + m.ln.Addr().String()
}

// Store is the metadata store (open after Run).
func (m *Main) Store() *store.Store { return m.store }

// AWS is the server's one AWS client factory (the hub), after Run.
func (m *Main) AWS() *awsclient.Factory { return m.aws }

// Costs is the cost store (open after Run).
func (m *Main) Costs() *costs.Store { return m.costs }

// SharedCosts is cluster mode's shared cost store (after Run; nil without
// CostStore).
func (m *Main) SharedCosts() *cluster.Cluster { return m.shared }

// Server is the HTTP handler (after Run).
func (m *Main) Server() *Server { return m.srv }

// Wait blocks until the HTTP server stops serving on its own (a listener
// failure) or ctx ends.
func (m *Main) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return crossbill.Errorf(crossbill.CodeUnavailable, "serve", "HTTP server stopped: %w", err)
	}
}

// Close stops accepting requests, lets running ones finish (up to
// ShutdownTimeout), stops the scheduler (running jobs resume on next
// start) and closes the store.
func (m *Main) Close() error {
	var errs []error
	m.close.Do(func() {
		if m.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
			if err := m.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shutting down HTTP: %w", err))
			}
			cancel()
		}
		if m.cancel != nil {
			m.cancel()
		}
		if m.sched != nil {
			m.sched.Wait()
		}
		if m.jitDone != nil {
			<-m.jitDone
		}
		if m.srv != nil {
			m.srv.Wait()
		}
		if m.shared != nil {
			if err := m.shared.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if m.costs != nil {
			if err := m.costs.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing cost store: %w", err))
			}
		}
		if m.store != nil {
			if err := m.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing store: %w", err))
			}
		}
		m.Logger.Info("stopped")
	})
	return errors.Join(errs...)
}

// openCluster opens the shared cost store with the hub's credentials.
func (m *Main) openCluster(hub aws.Config) (*cluster.Cluster, error) {
	return cluster.Dial(hub, m.CostStoreEndpoint, cluster.Config{URL: m.CostStore, Versions: m.store,
		CacheDir: filepath.Join(m.DataDir, "costs-cache"), CacheBytes: m.CostCacheBytes})
}

// collectCostVersions deletes the objects of replaced cost versions, every
// few minutes; every replica does it (deleting twice is harmless).
func (m *Main) collectCostVersions(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := m.shared.GC(ctx); err != nil {
				m.Logger.Warn("collecting replaced cost versions", "err", err)
			} else if n > 0 {
				m.Logger.Info("collected replaced cost versions", "versions", n)
			}
		}
	}
}

// Job retention defaults: two weeks of history, and at least the last 20
// runs of each scheduled job whatever their age.
const (
	DefaultJobRetention = 14 * 24 * time.Hour
	DefaultJobKeep      = 20
	// jobSweepEvery is the sweep's period across replicas; each replica
	// asks every jobSweepPoll whether the period has passed.
	jobSweepEvery = time.Hour
	jobSweepPoll  = 5 * time.Minute
)

// pruneJobs deletes old finished job rows (the per-minute jobs add one per
// connection a minute): once per jobSweepEvery across the replicas sharing
// the database, whichever claims the sweep first; the first try at start.
func (m *Main) pruneJobs(ctx context.Context, owner string) {
	r := store.JobRetention{Age: m.JobRetention, Keep: m.JobKeep}
	if r.Age < 0 {
		return
	}
	if r.Age == 0 {
		r.Age = DefaultJobRetention
	}
	if r.Keep <= 0 {
		r.Keep = DefaultJobKeep
	}
	t := time.NewTicker(jobSweepPoll)
	defer t.Stop()
	for {
		if ok, err := m.store.ClaimSweep(ctx, "job-retention", owner, jobSweepEvery); err != nil {
			if ctx.Err() == nil {
				m.Logger.Warn("claiming the job retention sweep", "err", err)
			}
		} else if ok {
			if n, err := m.store.PruneJobs(ctx, r); err != nil {
				if ctx.Err() == nil {
					m.Logger.Warn("pruning finished jobs", "err", err, "deleted", n)
				}
			} else if n > 0 {
				m.Logger.Info("pruned finished jobs", "deleted", n, "older_than", r.Age, "kept_per_job", r.Keep)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireApprovals ends pending approvals past their expiry every half
// minute; every replica does it (the update is conditional, so an
// approval expires once).
func (m *Main) expireApprovals(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if as, err := approval.Expire(ctx, m.store); err != nil {
				m.Logger.Warn("expiring approvals", "err", err)
			} else if len(as) > 0 {
				m.Logger.Info("expired approvals", "approvals", len(as))
			}
		}
	}
}
