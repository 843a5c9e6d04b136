package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// costFlags are the flags every costs subcommand shares.
type costFlags struct {
	tenant, metric, groupBy, granularity, from, to, format, month string
	view                                                          string
	filters, billingPeriods                                       []string
	top, maxRows                                                  int
	hub                                                           awsclient.HubOptions // the Athena engine's hub
}

func (f *costFlags) register(cmd *cobra.Command, query bool) {
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "tenant whose costs to read (default: the only tenant with cost data)")
	cmd.Flags().StringVar(&f.metric, "metric", costs.MetricAmortized, "unblended, amortized, net, list or usage")
	cmd.Flags().StringArrayVar(&f.filters, "filter", nil, "keep DIM=V1[,V2] (repeatable), e.g. service=AmazonEC2, tag:team=web")
	cmd.Flags().StringVar(&f.format, "format", "table", "table, csv or json")
	cmd.Flags().StringSliceVar(&f.billingPeriods, "billing-period", nil,
		"keep the line items of these invoice months, YYYY-MM (same as --filter billing-period=...); without --from/--to, all their days")
	if query {
		cmd.Flags().StringVar(&f.groupBy, "group-by", "", "service, account, region, usage-type, operation, charge-type, billing-period, tag:KEY or cost-category:KEY")
		cmd.Flags().StringVar(&f.granularity, "granularity", "daily", "hourly, daily or monthly")
		cmd.Flags().StringVar(&f.from, "from", "", "first day, YYYY-MM-DD or YYYY-MM (default: start of the latest month with data)")
		cmd.Flags().StringVar(&f.to, "to", "", "day after the last, exclusive (default: after the latest day with data)")
		cmd.Flags().IntVar(&f.top, "top", 0, "keep the N largest groups (at most 1000), fold the rest into \"others\"")
		cmd.Flags().StringVar(&f.view, "view", "", "run the tenant's saved view NAME (see: crossbill costs views list) instead of the query flags")
	}
	cmd.Flags().StringVar(&f.hub.EndpointURL, "endpoint-url", "", "the Athena engine: send AWS calls to this endpoint (an emulator)")
	cmd.Flags().StringVar(&f.hub.Profile, "profile", "", "the Athena engine: AWS shared-config profile of the hub identity")
}

// registerEngine registers the flags of a command that only needs the
// tenant and the hub of its engine.
func (f *costFlags) registerEngine(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "tenant (default: the only tenant with cost data)")
	cmd.Flags().StringVar(&f.hub.EndpointURL, "endpoint-url", "", "the Athena engine: send AWS calls to this endpoint (an emulator)")
	cmd.Flags().StringVar(&f.hub.Profile, "profile", "", "the Athena engine: AWS shared-config profile of the hub identity")
}

// engines is the tenant's cost engine for a command, with the hub of
// the flags when Athena needs it.
func (f *costFlags) engines(ctx context.Context, app *App) (athena.Engines, error) {
	st, err := app.Store(ctx)
	if err != nil {
		return athena.Engines{}, err
	}
	hub := func(ctx context.Context) (*awsclient.Factory, error) { return app.AWS(ctx, f.hub) }
	return athena.Engines{Store: st, OpenAWS: hub}, nil
}

// query turns the flags into a costs.Query.
func (f *costFlags) query(ctx context.Context, app *App) (costs.Query, error) {
	tenant, err := costTenant(ctx, app, f.tenant)
	if err != nil {
		return costs.Query{}, err
	}
	if f.view != "" {
		e, err := f.engines(ctx, app)
		if err != nil {
			return costs.Query{}, err
		}
		return e.ViewQuery(ctx, tenant.ID, f.view, f.maxRows)
	}
	return costs.ParseQuery(tenant.ID, costs.QueryInput{
		Metric: f.metric, GroupBy: f.groupBy, Granularity: f.granularity, From: f.from, To: f.to,
		Filters: f.filters, BillingPeriods: f.billingPeriods, Top: f.top, MaxRows: f.maxRows,
	})
}

// parse reads every flag: the output format, the query and --month (zero
// when not given).
func (f *costFlags) parse(ctx context.Context, app *App) (format string, q costs.Query, month time.Time, err error) {
	if format, err = f.output(app); err != nil {
		return
	}
	if q, err = f.query(ctx, app); err != nil {
		return
	}
	month, err = parseMonth(f.month)
	return
}

// output picks the format: --json wins, else --format.
func (f *costFlags) output(app *App) (string, error) {
	if app.JSON {
		return "json", nil
	}
	switch f.format {
	case "table", "csv", "json":
		return f.format, nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "costs", "unknown --format %q; use table, csv or json", f.format)
}

// emit writes v as JSON, or calls csvRows / table.
func emit(app *App, format string, v any, csvRows func() [][]string, table func(w io.Writer) error) error {
	switch format {
	case "json":
		enc := json.NewEncoder(app.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "csv":
		w := csv.NewWriter(app.Stdout)
		if err := w.WriteAll(csvRows()); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, "costs", "writing CSV: %w", err)
		}
		return nil
	}
	return table(app.Stdout)
}

// withCosts opens the cost store for one command.
func withCosts(ctx context.Context, app *App, f func(*costs.Store) error) error {
	s, err := app.Costs(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return f(s)
}

// money shows dollars to the cent; amounts that round to zero print as 0.00,
// never -0.00.
func money(v float64) string {
	if math.Abs(v) < 0.005 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func newCostsCmd(app *App) *cobra.Command {
	var f costFlags
	runQuery := func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		format, q, _, err := f.parse(ctx, app)
		if err != nil {
			return err
		}
		e, err := f.engines(ctx, app)
		if err != nil {
			return err
		}
		res, err := e.Query(ctx, q, tenantCosts(app, q.Tenant))
		if err != nil {
			return err
		}
		return emit(app, format, res, res.CSV, func(w io.Writer) error {
			tw := newTable(w, tabwriter.AlignRight)
			rowf(tw, "%s %s, %s to %s (exclusive), from %s\n", res.Metric, res.Granularity, res.From, res.To, res.Source)
			for _, src := range res.Sources {
				if src.Included {
					rowf(tw, "source: %s, %s to %s\n", src.Label, src.From, src.To)
				} else {
					rowf(tw, "source: %s, %s to %s, %s\n", src.Label, src.From, src.To, src.Note)
				}
			}
			athenaNote(tw, res.Athena)
			rowf(tw, "PERIOD\tGROUP\t%s\t\n", res.Metric)
			for _, r := range res.Rows {
				rowf(tw, "%s\t%s\t%s\t\n", periodLabel(r.Period, res.Granularity), res.Label(r.Group), money(r.Value))
			}
			fmt.Fprintln(tw, "\t\t\t")
			rowf(tw, "TOTAL\tGROUP\t%s\t\n", res.Metric)
			for _, t := range res.Totals {
				rowf(tw, "\t%s\t%s\t\n", res.Label(t.Group), money(t.Value))
			}
			rowf(tw, "\tall\t%s\t\n", money(res.Total))
			return tw.Flush()
		})
	}
	cmd := &cobra.Command{
		Use:   "costs",
		Short: "Query costs: metrics by service, account, region, tag...; month over month, forecast, anomalies",
		Args:  exactArgs(0),
		RunE:  runQuery,
	}
	f.register(cmd, true)
	maxRows := func(c *cobra.Command, f *costFlags) {
		c.Flags().IntVar(&f.maxRows, "max-rows", costs.DefaultMaxRows, "refuse answers of more rows, saying how to narrow the query (0: no cap)")
	}
	maxRows(cmd, &f)
	var qf costFlags
	query := &cobra.Command{
		Use:   "query",
		Short: "Cost by time bucket and group (the default of `crossbill costs`)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f = qf
			return runQuery(cmd, args)
		},
	}
	qf.register(query, true)
	maxRows(query, &qf)
	costStoreFlags(cmd, app)
	cmd.AddCommand(query, newCostsMoMCmd(app), newCostsForecastCmd(app), newCostsAnomaliesCmd(app), newCostsPeriodsCmd(app), newCostsDimensionsCmd(app), newCostsExplorerCmd(app), newCostsViewsCmd(app), newCostsEngineCmd(app))
	return cmd
}

func periodLabel(t time.Time, g costs.Granularity) string { return costs.PeriodLabel(t, g) }

func newCostsMoMCmd(app *App) *cobra.Command {
	var f costFlags
	cmd := &cobra.Command{
		Use:   "mom",
		Short: "Month over month: a month against the one before, by group (like for like when the month is not over)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			format, q, month, err := f.parse(ctx, app)
			if err != nil {
				return err
			}
			e, err := f.engines(ctx, app)
			if err != nil {
				return err
			}
			m, err := e.MonthOverMonth(ctx, q, month, tenantCosts(app, q.Tenant))
			if err != nil {
				return err
			}
			pct := func(p *float64) string {
				if p == nil {
					return "new"
				}
				return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
			}
			return emit(app, format, m, func() [][]string {
				out := [][]string{{"group", "previous", "current", "delta", "percent"}}
				for _, c := range m.Changes {
					out = append(out, []string{c.Group, strconv.FormatFloat(c.Previous, 'f', -1, 64), strconv.FormatFloat(c.Current, 'f', -1, 64),
						strconv.FormatFloat(c.Delta, 'f', -1, 64), pct(c.Percent)})
				}
				return out
			}, func(w io.Writer) error {
				tw := newTable(w, tabwriter.AlignRight)
				rowf(tw, "%s: %s..%s against %s..%s (exclusive ends)\n", m.Metric, m.Current.From, m.Current.To, m.Previous.From, m.Previous.To)
				fmt.Fprintln(tw, "GROUP\tPREVIOUS\tCURRENT\tDELTA\tCHANGE\t")
				for _, c := range m.Changes {
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t\n", m.Label(c.Group), money(c.Previous), money(c.Current), money(c.Delta), pct(c.Percent))
				}
				athenaNote(tw, m.Athena)
				return tw.Flush()
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&f.month, "month", "", "month to compare, YYYY-MM (default: the latest with data)")
	return cmd
}

func parseMonth(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, crossbill.Errorf(crossbill.CodeInvalid, "month", "%q is not a month; use YYYY-MM", s)
	}
	return t, nil
}

func newCostsForecastCmd(app *App) *cobra.Command {
	var f costFlags
	cmd := &cobra.Command{
		Use:   "forecast",
		Short: "Project the month's total (actual to date + a weekday-aware run rate), with Cost Explorer's own forecast beside it after a Cost Explorer load",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			format, q, month, err := f.parse(ctx, app)
			if err != nil {
				return err
			}
			e, err := f.engines(ctx, app)
			if err != nil {
				return err
			}
			fc, err := e.Forecast(ctx, q.Tenant, q.Metric, month, q.Filters, tenantCosts(app, q.Tenant))
			if err != nil {
				return err
			}
			return emit(app, format, fc, func() [][]string {
				return [][]string{{"month", "metric", "actual_to_date", "forecast", "low", "high", "days_actual", "days_in_month"},
					{fc.Month, fc.Metric, money(fc.ActualToDate), money(fc.Forecast), money(fc.Low), money(fc.High),
						strconv.Itoa(fc.DaysActual), strconv.Itoa(fc.DaysInMonth)}}
			}, func(w io.Writer) error {
				if _, err := fmt.Fprintf(w, "%s %s: %s actual over %d of %d days; forecast %s (%s to %s)\nmethod: %s\n",
					fc.Month, fc.Metric, money(fc.ActualToDate), fc.DaysActual, fc.DaysInMonth, money(fc.Forecast), money(fc.Low), money(fc.High), fc.Method); err != nil {
					return err
				}
				athenaNote(w, fc.Athena)
				ce := fc.CostExplorer
				if ce == nil {
					return nil
				}
				rowf(w, "%s: %s (%s to %s) = %s before %s + Cost Explorer's forecast from then on\n",
					ce.Label, money(ce.Forecast), money(ce.Low), money(ce.High), money(ce.ActualBefore), ce.From)
				for _, l := range ce.Later {
					rowf(w, "  %s: %s (%s to %s)\n", l.Month, money(l.Mean), money(l.Low), money(l.High))
				}
				return nil
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&f.month, "month", "", "month to forecast, YYYY-MM (default: the latest with data)")
	return cmd
}

func newCostsAnomaliesCmd(app *App) *cobra.Command {
	var f costFlags
	var by []string
	var window int
	var threshold, minDelta float64
	cmd := &cobra.Command{
		Use:   "anomalies",
		Short: "Days whose cost left its usual range, per service and account (rolling median + MAD)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			format, q, _, err := f.parse(ctx, app)
			if err != nil {
				return err
			}
			o := costs.AnomalyOptions{Tenant: q.Tenant, Metric: q.Metric, From: q.From, To: q.To, Filters: q.Filters,
				Window: window, Threshold: threshold, MinDelta: minDelta}
			for _, b := range by {
				d, err := costs.ParseDim(b)
				if err != nil {
					return err
				}
				o.Dims = append(o.Dims, d)
			}
			e, err := f.engines(ctx, app)
			if err != nil {
				return err
			}
			as, spent, err := e.Anomalies(ctx, o, tenantCosts(app, q.Tenant))
			if err != nil {
				return err
			}
			// The answer is a list (its JSON too): what Athena charged
			// goes to stderr.
			athenaNote(app.Stderr, spent)
			return emit(app, format, as, func() [][]string {
				out := [][]string{{"day", "dim", "group", "value", "baseline", "delta", "score", "direction"}}
				for _, a := range as {
					out = append(out, []string{a.Day, a.Dim, a.Group, money(a.Value), money(a.Baseline), money(a.Delta),
						strconv.FormatFloat(a.Score, 'f', 1, 64), a.Direction})
				}
				return out
			}, func(w io.Writer) error {
				if len(as) == 0 {
					_, err := fmt.Fprintln(w, "no anomalies")
					return err
				}
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "DAY\tDIM\tGROUP\tVALUE\tBASELINE\tDELTA\tSCORE\tDIRECTION")
				for _, a := range as {
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n", a.Day, a.Dim, a.Label(), money(a.Value), money(a.Baseline), money(a.Delta), a.Score, a.Direction)
				}
				return tw.Flush()
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&f.from, "from", "", "first day to judge (default: 30 days before --to)")
	cmd.Flags().StringVar(&f.to, "to", "", "day after the last to judge (default: the latest day with data, which is usually partial)")
	cmd.Flags().StringArrayVar(&by, "by", nil, "dimension to judge (repeatable; default service and account)")
	cmd.Flags().IntVar(&window, "window", 14, "days of history that form the baseline (>= 7)")
	cmd.Flags().Float64Var(&threshold, "threshold", 3.5, "robust z-score to flag")
	cmd.Flags().Float64Var(&minDelta, "min-delta", 10, "smallest absolute change to flag")
	return cmd
}

func newCostsPeriodsCmd(app *App) *cobra.Command {
	var f costFlags
	cmd := &cobra.Command{
		Use:   "periods",
		Short: "List the billing periods of a tenant's cost engine: loaded in crossbill's store, or in Athena's table (the last 36 months)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := costTenant(ctx, app, f.tenant)
			if err != nil {
				return err
			}
			e, err := f.engines(ctx, app)
			if err != nil {
				return err
			}
			ps, spent, err := e.Periods(ctx, t.ID, tenantCosts(app, t.ID))
			if err != nil {
				return err
			}
			// The answer is a list (its JSON too): what Athena charged
			// goes to stderr.
			athenaNote(app.Stderr, spent)
			return app.Print(ps, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "PERIOD\tFORMAT\tROWS\tFILES\tEXECUTION\tINGESTED\tSOURCE")
				for _, p := range ps {
					rowf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", p.Period, p.Format, p.Rows, p.Files, p.ExecutionID, p.IngestedAt, p.Source)
				}
				return tw.Flush()
			})
		},
	}
	f.registerEngine(cmd)
	return cmd
}

func newCostsDimensionsCmd(app *App) *cobra.Command {
	var f costFlags
	var values string
	cmd := &cobra.Command{
		Use:   "dimensions",
		Short: "The metrics, dimensions and billing periods of a tenant's cost engine, and with --values a dimension's values",
		Long: `The metrics, dimensions and billing periods a tenant's costs can be asked
about, as GET .../costs/dimensions (the web UI's pickers): from crossbill's cost
store, or for an Athena tenant from Athena's table (the billing periods of the
last 36 months; what the queries cost goes to stderr). --values lists a
dimension's values over the last 3 billing periods, at most 1000: a plain
dimension (service, account, region...), tag or cost-category alone for their
keys, tag:KEY or cost-category:KEY for that key's values.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := costTenant(ctx, app, f.tenant)
			if err != nil {
				return err
			}
			e, err := f.engines(ctx, app)
			if err != nil {
				return err
			}
			c, err := e.Catalog(ctx, t.ID, values, tenantCosts(app, t.ID))
			if err != nil {
				return err
			}
			return app.Print(c, func(w io.Writer) error {
				rowf(w, "engine: %s\n", c.Engine)
				rowf(w, "metrics: %s\n", strings.Join(c.Metrics, ", "))
				dims := make([]string, len(c.Dimensions))
				for i, d := range c.Dimensions {
					dims[i] = d.Name
					if d.Keyed {
						dims[i] += ":KEY"
					}
				}
				rowf(w, "dimensions: %s\n", strings.Join(dims, ", "))
				if len(c.Periods) == 0 {
					rowf(w, "billing periods: none\n")
				} else {
					rowf(w, "billing periods: %s (default range %s to %s)\n", strings.Join(c.Periods, ", "), c.DefaultFrom, c.DefaultTo)
				}
				if v := c.Values; v != nil {
					more := ""
					if v.Truncated {
						more = fmt.Sprintf(" (the first %d)", costs.MaxValues)
					}
					rowf(w, "%s values in %s%s:\n", v.Dimension, strings.Join(v.BillingPeriods, ", "), more)
					for _, x := range v.Values {
						rowf(w, "  %s\n", x)
					}
				}
				athenaNote(w, c.Athena)
				return nil
			})
		},
	}
	f.registerEngine(cmd)
	cmd.Flags().StringVar(&values, "values", "", "list this dimension's values: service, account, region..., tag or cost-category (their keys), tag:KEY or cost-category:KEY")
	return cmd
}
