package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// newCostsViewsCmd manages saved views: named cost queries of a tenant,
// shared with the API and the web UI's Costs page.
func newCostsViewsCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "views",
		Short: "Saved views: a tenant's named cost queries (list, create, show, delete); run one with `crossbill costs --view NAME`",
	}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant (default: the only tenant with cost data)")
	// open returns the store and the --tenant (or the only one with cost data).
	open := func(ctx context.Context) (*store.Store, costTenantRef, error) {
		t, err := costTenant(ctx, app, tenant)
		if err != nil {
			return nil, costTenantRef{}, err
		}
		st, err := app.Store(ctx)
		return st, t, err
	}
	printView := func(v costs.View) error {
		return app.Print(v, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, v.ID, describeView(v.Query))
			return err
		})
	}

	list := &cobra.Command{
		Use: "list", Short: "List the tenant's saved views", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			vs, err := costs.Views(ctx, st, t.ID)
			if err != nil {
				return err
			}
			return app.Print(vs, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "NAME\tID\tQUERY\tCREATED BY\tCREATED")
				for _, v := range vs {
					by := v.CreatedBy
					if v.Person != "" {
						by = v.Person
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Name, v.ID, describeView(v.Query), by, v.CreatedAt)
				}
				return tw.Flush()
			})
		},
	}

	var f costFlags
	create := &cobra.Command{
		Use: "create NAME", Short: "Save the query given by the flags as the view NAME", Args: exactArgs(1),
		Long: "Save a cost query under a name. Exit code 2 for a bad name or query, 4 when the name is taken.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			q := costs.ViewQuery{Metric: f.metric, GroupBy: f.groupBy, Granularity: f.granularity, From: f.from, To: f.to,
				Filters: f.filters, BillingPeriods: f.billingPeriods, Top: f.top}
			v, err := costs.SaveView(ctx, st, t.ID, args[0], q, store.AuditEntry{Actor: cliActor()})
			if err != nil {
				return err
			}
			return printView(v)
		},
	}
	create.Flags().StringVar(&f.metric, "metric", "", "unblended, amortized (default), net, list or usage")
	create.Flags().StringVar(&f.groupBy, "group-by", "", "service, account, region, usage-type, operation, charge-type, billing-period, tag:KEY or cost-category:KEY")
	create.Flags().StringVar(&f.granularity, "granularity", "", "hourly, daily (default) or monthly")
	create.Flags().StringVar(&f.from, "from", "", "first day, YYYY-MM-DD or YYYY-MM (default when run: the latest month with data)")
	create.Flags().StringVar(&f.to, "to", "", "day after the last, exclusive")
	create.Flags().StringArrayVar(&f.filters, "filter", nil, "keep DIM=V1[,V2] (repeatable)")
	create.Flags().StringSliceVar(&f.billingPeriods, "billing-period", nil, "keep these invoice months, YYYY-MM")
	create.Flags().IntVar(&f.top, "top", 0, "keep the N largest groups")

	show := &cobra.Command{
		Use: "show NAME", Short: "Show one saved view", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			v, err := costs.GetView(ctx, st, t.ID, args[0])
			if err != nil {
				return err
			}
			return printView(v)
		},
	}
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a saved view", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			v, err := costs.DeleteView(ctx, st, t.ID, args[0])
			if err != nil {
				return err
			}
			return app.Print(v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "deleted view %s (%s)\n", v.Name, v.ID)
				return err
			})
		},
	}
	cmd.AddCommand(list, create, show, del)
	return cmd
}

// describeView spells a view's query as the flags that make it.
func describeView(q costs.ViewQuery) string {
	var parts []string
	add := func(flag, v string) {
		if v != "" {
			parts = append(parts, "--"+flag+" "+v)
		}
	}
	add("metric", q.Metric)
	add("group-by", q.GroupBy)
	add("granularity", q.Granularity)
	add("from", q.From)
	add("to", q.To)
	for _, f := range q.Filters {
		add("filter", f)
	}
	if len(q.BillingPeriods) > 0 {
		add("billing-period", strings.Join(q.BillingPeriods, ","))
	}
	if q.Top > 0 {
		parts = append(parts, fmt.Sprintf("--top %d", q.Top))
	}
	if len(parts) == 0 {
		return "(defaults)"
	}
	return strings.Join(parts, " ")
}
