package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/store"
)

func newCostsEngineCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Where the tenant's cost queries run: local (crossbill's cost store, the default) or athena (Amazon Athena over the CUR in place)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := costTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			st, err := app.Store(ctx)
			if err != nil {
				return err
			}
			e, err := athena.Engine(ctx, st, t.ID, time.Now())
			if err != nil {
				return err
			}
			return app.Print(e, func(w io.Writer) error { return printEngine(w, e) })
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default: the only tenant with cost data)")
	cmd.AddCommand(newCostsEngineSetCmd(app))
	return cmd
}

func newCostsEngineSetCmd(app *App) *cobra.Command {
	var tenant, conn string
	cmd := &cobra.Command{
		Use:   "set local|athena",
		Short: "Run the tenant's cost queries in Athena through --connection's role, or back in crossbill's cost store",
		Long: `athena: the tenant's cost queries (crossbill costs, GET .../costs) and its
commitments analyses (inventory, utilization, coverage, recommend, simulate,
backtest; renewals, sale and compare read crossbill's store) run in the
customer's Amazon Athena over the CUR 2.0 export in place, through the role of
--connection: a verified connection with the cur module whose CUR stack was
deployed with EnableAthena=true (its Glue table crossbill_cur.cur2 and workgroup
crossbill). Athena bills the customer per TB scanned ($5 in most regions); the
server caches each answer for an hour. Verification then probes the Glue table.
local: back to crossbill's own cost store (the default).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := costTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			st, err := app.Store(ctx)
			if err != nil {
				return err
			}
			e, err := athena.SetEngine(ctx, st, athena.EngineRequest{Tenant: t.ID, Connection: crossbill.ConnectionID(conn), Engine: args[0]})
			if err != nil {
				return err
			}
			return app.Print(e, func(w io.Writer) error { return printEngine(w, e) })
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default: the only tenant with cost data)")
	cmd.Flags().StringVar(&conn, "connection", "", "athena: the verified cur connection whose role runs the queries")
	return cmd
}

func printEngine(w io.Writer, e store.CostEngine) error {
	if e.Engine != store.EngineAthena {
		rowf(w, "engine: local (crossbill's cost store)\n")
	} else {
		rowf(w, "engine: athena, table %s, workgroup %s, through connection %s\n", e.Table, e.WorkGroup, e.ConnectionID)
	}
	if sp := e.AthenaSpend; sp != nil && (sp.Queries > 0 || e.Engine == store.EngineAthena) {
		rowf(w, "athena spend %s (UTC, billed to the customer's account): %d queries, %s scanned, %s billed, $%.4f\n",
			sp.Month, sp.Queries, bytesLabel(sp.ScannedBytes), bytesLabel(sp.BilledBytes), sp.CostUSD)
	}
	return nil
}

// athenaNote is one line saying what an Athena answer cost (nothing for
// the local engine's).
func athenaNote(w io.Writer, c *costs.EngineCost) {
	if c == nil {
		return
	}
	rowf(w, "athena: %d queries, %s scanned, %s billed, $%.4f (billed to the customer's account)\n",
		c.Queries, bytesLabel(c.ScannedBytes), bytesLabel(c.BilledBytes), c.CostUSD)
}

// bytesLabel is a byte count in binary units, as Athena bills them.
func bytesLabel(n int64) string {
	v, unit := float64(n), "B"
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	if unit == "B" {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}
