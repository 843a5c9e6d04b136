package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill/internal/demo"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

func newDemoCmd(app *App) *cobra.Command {
	// No AWS in the demo: verification fails fast (and says why) instead of
	// waiting for a role to propagate.
	m := &server.Main{NoBootstrap: true, HubOptional: true, HubPrincipal: "arn:aws:iam::111122223333:role/CrossbillHub", VerifyWait: -1}
	var logFormat string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run crossbill on a synthetic organization, no AWS needed: web UI and API on 127.0.0.1:8080",
		Long: `Generate a synthetic AWS organization (10 accounts, 3 months of CUR 2.0 bills
with Savings Plans and reservations), ingest it, compute commitment
recommendations, review the seed vendors' policies, and serve the web UI and
the API. An admin (operator) token is printed: sign in with it. Each start
prints a new one and revokes the previous start's. The API refuses
unauthenticated calls, as in production.

Data goes to the data directory every command uses (--data, shown below;
env CROSSBILL_DATA), so "crossbill costs" and the other commands then read
the demo's tenant without flags; a second run reuses it and starts at once.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			started := time.Now()
			m.DataDir, m.Version = app.DataDir, version
			m.Logger = serverLogger(app, logFormat)
			if quiet {
				m.Logger = discardLogger()
			}
			// The sandbox (an emulator, a few seconds to start) comes up
			// while the data directory is prepared.
			type sandboxRun struct {
				sb     *sandbox
				runner scheduler.Runner
			}
			sbc := make(chan sandboxRun, 1)
			go func() {
				sb, r := demoSandbox(ctx, app, m)
				sbc <- sandboxRun{sb, r}
			}()
			sbFor := func() sandboxRun { v := <-sbc; sbc <- v; return v }
			defer func() {
				if sb := sbFor().sb; sb != nil {
					sb.srv.Close()
				}
			}()
			st, err := store.Open(ctx, m.DataDir)
			if err != nil {
				return err
			}
			rep, err := demo.Prepare(ctx, st, demo.Options{DataDir: m.DataDir, Progress: app.Progress})
			if err != nil {
				st.Close()
				return err
			}
			secret, err := demo.OperatorToken(ctx, st)
			if err == nil {
				// The cost data is generated and ingested by a job, so that the
				// UI is up at once and shows the job's progress.
				_, err = st.EnqueueJob(ctx, store.JobSpec{TenantID: rep.Tenant.ID, Kind: demo.JobKind, MaxAttempts: 2})
			}
			sb := sbFor()
			if err == nil && sb.sb != nil {
				_, err = st.EnqueueJob(ctx, store.JobSpec{TenantID: rep.Tenant.ID, Kind: demoSandboxJob, MaxAttempts: 2})
			}
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			m.Runners = map[string]scheduler.Runner{demo.JobKind: func(ctx context.Context, j store.Job, progress scheduler.Progress) error {
				n := 0
				res, err := demo.LoadCosts(ctx, m.Store(), demo.Options{DataDir: m.DataDir, Costs: m.Costs(), Progress: func(format string, args ...any) {
					n++
					msg := fmt.Sprintf(format, args...)
					app.Progress("%s", msg)
					progress(min(0.95, float64(n)/30), msg)
				}})
				m.Server().InvalidateCosts(j.TenantID)
				if err == nil {
					err = m.Server().ScheduleOptimize(ctx, j.TenantID, time.Now().Add(24*time.Hour))
				}
				if err == nil {
					app.Progress("demo: cost data ready %.1fs after start (%d steps)", time.Since(started).Seconds(), len(res.Steps))
				}
				return err
			}}
			if sb.runner != nil {
				m.Runners[demoSandboxJob] = sb.runner
			}
			if err := m.Run(ctx); err != nil {
				m.Close() //nolint:errcheck // the Run error matters more
				return err
			}
			app.Progress("demo: serving %.1fs after start; cost data loads in the background (Jobs page)", time.Since(started).Seconds())
			printBanner(app, m, string(secret))
			err = m.Wait(ctx)
			if cerr := m.Close(); err == nil {
				err = cerr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&m.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format on stderr: json or text")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no request logs on stderr")
	hubFlags(cmd, m)
	return cmd
}
