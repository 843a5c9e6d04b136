package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/costs"
)

func newCostsExplorerCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explorer",
		Short: "Day-zero costs from Cost Explorer through a connection's role, until the CUR export arrives ($0.01 a request, capped per month)",
		Args:  exactArgs(0),
	}
	cmd.AddCommand(newCostsExplorerLoadCmd(app), newCostsExplorerStatusCmd(app), newCostsExplorerReconcileCmd(app))
	return cmd
}

// explorerConnection resolves --tenant and --connection.
func explorerConnection(ctx context.Context, app *App, tenant, conn string) (crossbill.TenantID, crossbill.ConnectionID, error) {
	if conn == "" {
		return "", "", crossbill.Errorf(crossbill.CodeInvalid, "cost explorer", "--connection is required")
	}
	t, err := costTenant(ctx, app, tenant)
	if err != nil {
		return "", "", err
	}
	return t.ID, crossbill.ConnectionID(conn), nil
}

func newCostsExplorerLoadCmd(app *App) *cobra.Command {
	var tenant, conn string
	var force bool
	var hub awsclient.HubOptions
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Load daily cost from Cost Explorer: 12 months the first time, then the days since the last load (the server does this daily by itself)",
		Long: `Load the connection's daily cost from Cost Explorer through its role, grouped by
account+service, account+region, service+usage-type and up to 5 cost-allocation
tags (+service), with Cost Explorer's own forecast of this month and the next 3
(shown by costs forecast) and, while an account has not been looked up, the
accounts' names (shown by costs --group-by account): 5 requests plus one per tag
key when each answer fits a page (6 when names are asked), $0.01 each. The first load covers the current month and the 11 before it; later
loads only the days since the last one plus the 3 before it (AWS restates
them), at most once a day unless --force. Billing periods the CUR export holds
are skipped. At the monthly budget the load stops with status budget_reached.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, c, err := explorerConnection(ctx, app, tenant, conn)
			if err != nil {
				return err
			}
			st, err := app.Store(ctx)
			if err != nil {
				return err
			}
			f, err := app.AWS(ctx, hub)
			if err != nil {
				return err
			}
			var shared costexplorer.Shared
			if app.CostStore != "" { // cluster mode: pull, load locally, publish
				sc, cleanup, err := app.sharedCosts(ctx)
				if err != nil {
					return err
				}
				defer cleanup()
				shared = sc
			}
			return withCosts(ctx, app, func(cs *costs.Store) error {
				rep, err := costexplorer.Load(ctx, costexplorer.Request{Tenant: t, Connection: c, Force: force},
					costexplorer.Options{Store: st, Costs: cs, AWS: f, Progress: app.Progress, Shared: shared})
				if err != nil {
					return err
				}
				return app.Print(rep, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "%s: %s\n", rep.Status, rep.Message)
					if err == nil {
						err = printUsage(w, rep.Usage)
					}
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant of the connection")
	cmd.Flags().StringVar(&conn, "connection", "", "verified connection with the cost module (required)")
	cmd.Flags().BoolVar(&force, "force", false, "load even if today's load is done (still only the new and unsettled days)")
	cmd.Flags().StringVar(&hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator)")
	cmd.Flags().StringVar(&hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	return cmd
}

func newCostsExplorerStatusCmd(app *App) *cobra.Command {
	var tenant, conn string
	var budget int
	cmd := &cobra.Command{
		Use:   "status",
		Short: "A connection's Cost Explorer requests this month against its budget, and its load; --budget N sets the monthly budget",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, c, err := explorerConnection(ctx, app, tenant, conn)
			if err != nil {
				return err
			}
			st, err := app.Store(ctx)
			if err != nil {
				return err
			}
			u, err := costexplorer.Status(ctx, st, t, c, budget, time.Now())
			if err != nil {
				return err
			}
			return app.Print(u, func(w io.Writer) error { return printUsage(w, u) })
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant of the connection")
	cmd.Flags().StringVar(&conn, "connection", "", "connection (required)")
	cmd.Flags().IntVar(&budget, "budget", -1, fmt.Sprintf("set the monthly budget in requests ($0.01 each; 0: the default, %d)", costexplorer.DefaultMonthlyBudget))
	return cmd
}

func printUsage(w io.Writer, u costexplorer.Usage) error {
	tw := newTable(w, 0)
	rowf(tw, "connection\t%s\n", u.Connection)
	rowf(tw, "requests in %s\t%d ($%.2f) of %d ($%.2f)\n", u.Month, u.Requests, u.SpentUSD, u.Budget, u.BudgetUSD)
	ops := make([]string, 0, len(u.ByOperation))
	for op := range u.ByOperation {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		rowf(tw, "  %s\t%d\n", op, u.ByOperation[op])
	}
	if u.LoadedThrough != "" {
		rowf(tw, "loaded\t%s to %s (%s)\n", u.LoadedFrom, u.LoadedThrough, u.Label)
	}
	if u.Status != "" {
		rowf(tw, "last load\t%s: %s\n", u.Status, u.Message)
	}
	return tw.Flush()
}

func newCostsExplorerReconcileCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "reconciliation",
		Short: "Cost Explorer against the CUR for each billing period the CUR replaced (unblended; flagged above $1 or 1%)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := costTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			return withTenantCosts(ctx, app, t.ID, func(cs *costs.Store) error {
				rec, err := cs.Reconciliations(ctx, t.ID)
				if err != nil {
					return err
				}
				return app.Print(rec, func(w io.Writer) error {
					tw := newTable(w, 0)
					fmt.Fprintln(tw, "PERIOD\tACCOUNT\tCOST EXPLORER\tCUR\tDIFFERENCE\tFLAG")
					for _, r := range rec {
						acct, flag := r.Account, ""
						if acct == "" {
							acct = "(total)"
						}
						if r.OverTolerance {
							flag = "over tolerance"
						}
						rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Period, acct, money(r.Explorer), money(r.CUR), money(r.Difference), flag)
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant")
	return cmd
}
