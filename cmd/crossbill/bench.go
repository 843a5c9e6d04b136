package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/demo"
	"github.com/crossbill/crossbill/internal/loadtest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

func newBenchCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure crossbill's performance on this machine"}
	var clients, replicas, jobs int
	var duration time.Duration
	var killOne bool
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Load-test the API: concurrent clients querying costs on loopback; prints latency percentiles",
		Long: `Prepare the demo organization (in --data, else a temporary directory), serve
the API on a free loopback port, and run --clients concurrent clients, each
with its own read token, sending cost queries (several groupings, ranges and
granularities) for --duration. Reports requests per second, errors and
p50/p95/p99 latency. The target: 200 clients for 30 s with p99 under 200 ms
and no errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if replicas > 1 {
				return benchReplicas(cmd, app, replicaBench{replicas: replicas, clients: clients, duration: duration, killOne: killOne, jobs: jobs})
			}
			dir, tenant, tokens, cleanup, err := benchData(cmd, app, app.DatabaseURL(), clients)
			if err != nil {
				return err
			}
			defer cleanup()
			// The per-token rate limit (50/s by default) is off here: the
			// load test measures what the server can serve, and on a quiet
			// machine each client asks faster than the limit allows. The
			// server tests cover the limit itself.
			m := &server.Main{Addr: "127.0.0.1:0", DataDir: dir, Database: app.DatabaseURL(), NoBootstrap: true, Logger: discardLogger(), RatePerSecond: -1}
			if err := m.Run(ctx); err != nil {
				m.Close() //nolint:errcheck // the Run error matters more
				return err
			}
			defer m.Close()
			paths := benchPaths(tenant)
			app.Progress("bench: %d clients for %s against %s", clients, duration, m.URL())
			res, err := loadtest.Run(ctx, loadtest.Options{BaseURL: m.URL(), Tokens: tokens, Paths: paths, Clients: clients, Duration: duration})
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, res.String())
				return err
			})
		},
	}
	serve.Flags().IntVar(&clients, "clients", 200, "concurrent clients")
	serve.Flags().DurationVar(&duration, "duration", 30*time.Second, "how long to send requests")
	serve.Flags().IntVar(&replicas, "replicas", 1, "serve processes sharing --database (PostgreSQL, needed above 1), clients spread over them")
	serve.Flags().BoolVar(&killOne, "kill-one", false, "with --replicas: kill -9 one replica halfway through")
	serve.Flags().IntVar(&jobs, "jobs", 200, "with --replicas: background jobs enqueued during the run, each to finish once")
	cmd.AddCommand(serve, newBenchMemoryCmd(app))
	return cmd
}

// benchPaths are the cost queries the load test sends.
func benchPaths(tenant string) []string {
	base := "/api/v1/tenants/" + url.PathEscape(tenant) + "/costs?"
	var paths []string
	for _, g := range []string{"service", "account", "region", "charge-type", "usage-type"} {
		for _, gran := range []string{"daily", "monthly"} {
			paths = append(paths, base+url.Values{"group_by": {g}, "granularity": {gran}, "top": {"8"}}.Encode())
		}
	}
	return append(paths, base+url.Values{"group_by": {"service"}, "filter": {"region=us-east-1"}}.Encode())
}

// benchData prepares the demo organization with its costs (in --data, else
// a temporary directory that cleanup removes) and n read tokens; the
// metadata goes to database ("": SQLite in the directory).
func benchData(cmd *cobra.Command, app *App, database string, n int) (dir, tenant string, tokens []string, cleanup func(), err error) {
	ctx := cmd.Context()
	dir, cleanup = app.DataDir, func() {}
	if !rootFlagChanged(cmd, "data") && os.Getenv("CROSSBILL_DATA") == "" {
		tmp, err := os.MkdirTemp("", "crossbill-bench-")
		if err != nil {
			return "", "", nil, nil, err
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	fail := func(err error) (string, string, []string, func(), error) {
		cleanup()
		return "", "", nil, nil, err
	}
	st, err := store.OpenDatabase(ctx, dir, database)
	if err != nil {
		return fail(err)
	}
	failOpen := func(err error) (string, string, []string, func(), error) {
		st.Close() //nolint:errcheck // err matters more
		return fail(err)
	}
	rep, err := demo.Prepare(ctx, st, demo.Options{DataDir: dir, Progress: app.Progress})
	if err != nil {
		return failOpen(err)
	}
	cs, err := costs.Open(ctx, dir)
	if err != nil {
		return failOpen(err)
	}
	_, err = demo.LoadCosts(ctx, st, demo.Options{DataDir: dir, Progress: app.Progress, Costs: cs})
	if cerr := cs.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return failOpen(err)
	}
	tokens = make([]string, n)
	for i := range tokens {
		_, secret, err := st.CreateToken(ctx, rep.Tenant.ID, fmt.Sprintf("bench-%d", i), store.ScopeRead)
		if err != nil {
			return failOpen(err)
		}
		tokens[i] = string(secret)
	}
	if err := st.Close(); err != nil {
		return fail(err)
	}
	return dir, rep.Tenant.Name, tokens, cleanup, nil
}

// rootFlagChanged reports whether a persistent flag was given.
func rootFlagChanged(cmd *cobra.Command, name string) bool {
	f := cmd.Root().PersistentFlags().Lookup(name)
	return f != nil && f.Changed
}
