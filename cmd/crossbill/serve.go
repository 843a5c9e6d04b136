package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"

	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/verify"
)

// goWorkingRoom is the Go heap a server needs besides its answer cache:
// start-up data (templates, the IAM catalogue) and answers being computed.
const goWorkingRoom = 64 << 20

func newServeCmd(app *App) *cobra.Command {
	m := &server.Main{}
	var logFormat string
	var cacheMB, tenantCacheMB, costCacheMB int64
	var sso *signInFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the JSON API, the web UI and the background scheduler",
		Long: `Serve the JSON API (/api/v1, described at /api/v1/openapi.json), the web UI,
/healthz, /readyz and Prometheus metrics at /metrics, and run the scheduler
that verifies connections and ingests their bills.

On first start an operator token is created and printed once; keep it.
Stop with Ctrl-C (SIGINT) or SIGTERM: requests in flight finish first.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m.DataDir, m.Database, m.Version = app.DataDir, app.DatabaseURL(), version
			m.Logger = serverLogger(app, logFormat)
			if cacheMB <= 0 || tenantCacheMB <= 0 || m.HeavyQueries <= 0 || m.HeavyQueriesAll <= 0 {
				return crossbill.Errorf(crossbill.CodeInvalid, "serve", "--cache-mb, --tenant-cache-mb, --heavy-queries and --heavy-queries-total must be positive")
			}
			m.CacheBytes, m.TenantCacheBytes = cacheMB<<20, tenantCacheMB<<20
			if err := sso.apply(m); err != nil {
				return err
			}
			if costCacheMB <= 0 {
				return crossbill.Errorf(crossbill.CodeInvalid, "serve", "--cost-cache-mb must be positive")
			}
			m.CostCacheBytes = costCacheMB << 20
			if err := jobRetentionFromEnv(cmd, m); err != nil {
				return err
			}
			if m.MaxRows == 0 {
				m.MaxRows = -1 // the server's "no cap"
			}
			// Cached answers are live heap, and by default Go lets garbage
			// grow the heap to twice the live size before collecting: a
			// soft limit of the cache's cap plus working room keeps the
			// heap near what it holds. GOMEMLIMIT, when set, wins.
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(m.CacheBytes + goWorkingRoom)
			}
			if err := m.Run(cmd.Context()); err != nil {
				m.Close() //nolint:errcheck // the Run error matters more
				return err
			}
			printBanner(app, m, "")
			err := m.Wait(cmd.Context())
			if cerr := m.Close(); err == nil {
				err = cerr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&m.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	cmd.Flags().DurationVar(&m.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish on shutdown")
	cmd.Flags().Float64Var(&m.RatePerSecond, "rate", 50, "requests per second allowed per API token (negative: no limit)")
	cmd.Flags().IntVar(&m.RateBurst, "burst", 100, "burst of requests allowed per API token")
	cmd.Flags().IntVar(&m.MaxTokensPerTenant, "max-tokens-per-tenant", 100, "live API tokens a tenant may create through the API (negative: no cap)")
	cmd.Flags().IntVar(&m.AuthFailures, "auth-failures", 10, "failed authentications one client address may make per --auth-fail-window before it gets 429 (negative: no limit)")
	cmd.Flags().DurationVar(&m.AuthFailWindow, "auth-fail-window", time.Minute, "the window of --auth-failures")
	cmd.Flags().IntVar(&m.MaxRows, "max-rows", costs.DefaultMaxRows, "rows one cost answer may have; larger ones are refused with how to narrow them (0: no cap)")
	cmd.Flags().Int64Var(&cacheMB, "cache-mb", 32, "MiB of answers (costs, commitments) the cache keeps, all tenants together")
	cmd.Flags().Int64Var(&tenantCacheMB, "tenant-cache-mb", 8, "MiB of answers the cache keeps per tenant")
	cmd.Flags().IntVar(&m.HeavyQueries, "heavy-queries", 2, "cost and commitment queries one tenant may run at once; more wait, then get 429")
	cmd.Flags().StringVar(&m.DuckDBMemory, "duckdb-memory", costs.DefaultMemoryLimit, "memory DuckDB may use for cost queries and ingests, e.g. 512MB (its buffer pool keeps scanned data up to it; beyond, joins and aggregates spill to disk)")
	cmd.Flags().IntVar(&m.HeavyQueriesAll, "heavy-queries-total", 2, "cost and commitment queries all tenants together may run at once (DuckDB runs on 2 threads: more only share them, at the cost of memory)")
	cmd.Flags().StringVar(&m.CostStore, "cost-store", os.Getenv("CROSSBILL_COST_STORE"), "cluster mode: keep the cost data in S3-compatible object storage at s3://BUCKET/PREFIX, shared by every replica of one --database postgres://...; env CROSSBILL_COST_STORE")
	cmd.Flags().StringVar(&m.CostStoreEndpoint, "cost-store-endpoint", os.Getenv("CROSSBILL_COST_STORE_ENDPOINT"), "URL of an S3-compatible store (MinIO, Ceph...) holding --cost-store; default AWS S3 (env CROSSBILL_COST_STORE_ENDPOINT)")
	cmd.Flags().Int64Var(&costCacheMB, "cost-cache-mb", 10240, "MiB of --cost-store objects each replica caches on local disk (must hold the largest tenant's Parquet files)")
	cmd.Flags().StringVar(&logFormat, "log-format", "json", "log format on stderr: json or text")
	cmd.Flags().StringVar(&m.ReplicaID, "replica-id", "", "this replica's name in job leases, unique among the replicas sharing a --database (default: made once and kept in the data directory)")
	cmd.Flags().DurationVar(&m.JobLease, "job-lease", time.Minute, "how long a job claimed by this replica stays its own without a heartbeat: after a replica dies, another takes its jobs over this long after its last heartbeat")
	cmd.Flags().DurationVar(&m.JobRetention, "job-retention", server.DefaultJobRetention, "finished jobs that ended longer ago are deleted by an hourly sweep, e.g. 720h (negative: keep all; env CROSSBILL_JOB_RETENTION)")
	cmd.Flags().IntVar(&m.JobKeep, "job-keep", server.DefaultJobKeep, "finished jobs kept per connection and job kind whatever their age, so that job history shows the last runs (env CROSSBILL_JOB_KEEP)")
	hubFlags(cmd, m)
	sso = addSignInFlags(cmd)
	return writes(cmd)
}

// jobRetentionFromEnv applies CROSSBILL_JOB_RETENTION and
// CROSSBILL_JOB_KEEP where the flags were not given, and checks both.
func jobRetentionFromEnv(cmd *cobra.Command, m *server.Main) error {
	const op = "serve"
	if v := os.Getenv("CROSSBILL_JOB_RETENTION"); v != "" && !cmd.Flags().Changed("job-retention") {
		d, err := time.ParseDuration(v)
		if err != nil || d == 0 {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "CROSSBILL_JOB_RETENTION=%q is not a duration such as 336h (negative: keep all jobs)", v)
		}
		m.JobRetention = d
	}
	if v := os.Getenv("CROSSBILL_JOB_KEEP"); v != "" && !cmd.Flags().Changed("job-keep") {
		n, err := strconv.Atoi(v)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "CROSSBILL_JOB_KEEP=%q is not a number of jobs", v)
		}
		m.JobKeep = n
	}
	if m.JobRetention == 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--job-retention must not be 0 (negative: keep all jobs)")
	}
	if m.JobKeep < 1 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--job-keep must be at least 1, so that each job's history shows its last run")
	}
	return nil
}

// hubFlags are the flags of crossbill's own AWS identity.
func hubFlags(cmd *cobra.Command, m *server.Main) {
	fl := cmd.Flags()
	fl.StringVar(&m.HubPrincipal, "hub-principal", m.HubPrincipal, "ARN of crossbill's own IAM role or user that customer roles trust (the onboarding default)")
	fl.StringVar(&m.Hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
	fl.StringVar(&m.Hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
	fl.StringVar(&m.Hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	fl.StringVar(&m.TemplateURLBase, "template-url-base", "", "https URL of the folder where templates are hosted, for console quick-create links")
	fl.DurationVar(&m.VerifyWait, "verify-wait", m.VerifyWait, fmt.Sprintf("how long verification retries a role that cannot be assumed yet (0: %s; negative: no retry)", verify.DefaultPropagationWait))
	if m.VerifyWait < 0 {
		// The demo has no AWS to wait for: say so instead of "-1ns".
		fl.Lookup("verify-wait").DefValue = "no retry"
	}
}

// serverLogger logs to stderr at info level (debug with -v).
func serverLogger(app *App, format string) *slog.Logger {
	level := slog.LevelInfo
	if app.Verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(app.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(app.Stderr, opts))
}

// printBanner tells the person at the terminal where to go, and shows a
// freshly created token once (on stdout, never in the logs). With --json it
// is one JSON object.
func printBanner(app *App, m *server.Main, token string) {
	if token == "" {
		token = string(m.BootstrapToken)
	}
	v := map[string]string{"url": m.URL(), "data": m.DataDir}
	if token != "" {
		v["token"] = token
	}
	err := app.Print(v, func(w io.Writer) error {
		fmt.Fprintf(w, "crossbill is serving on %s\n", m.URL())
		if token != "" {
			fmt.Fprintf(w, "\nAdmin (operator) token, shown once:\n\n    %s\n\nSign in to the web UI with it, or call the API with\n    curl -H 'Authorization: Bearer %s' %s/api/v1/me\n\n", token, token, m.URL())
		}
		_, err := fmt.Fprintln(w, "Press Ctrl-C to stop.")
		return err
	})
	if err != nil {
		app.Logger.Warn("printing banner", "err", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
