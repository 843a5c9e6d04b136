package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
)

// optimizeTenant opens the store and the --tenant (or the only tenant).
func optimizeTenant(ctx context.Context, app *App, name string) (*store.Store, store.Tenant, error) {
	st, err := app.Store(ctx)
	if err != nil {
		return nil, store.Tenant{}, err
	}
	if name != "" {
		t, err := st.TenantByName(ctx, name)
		return st, t, err
	}
	all, err := st.Tenants(ctx)
	if err != nil {
		return nil, store.Tenant{}, err
	}
	if len(all) != 1 {
		return nil, store.Tenant{}, crossbill.Errorf(crossbill.CodeInvalid, "optimize", "there are %d tenants: give --tenant", len(all))
	}
	return st, all[0], nil
}

func newOptimizeCmd(app *App) *cobra.Command {
	var (
		tenant, format string
		f              optimize.Filter
		account        string
	)
	cmd := &cobra.Command{
		Use:   "optimize [--rule RULE] [--account ID] [--state open|resolved|all] [--format table|csv|json]",
		Short: "Optimization recommendations: idle, orphaned, oversized and outdated resources with their monthly savings",
		Long: `Lists the recommendations of the tenant's newest evaluation, biggest saving first: the
rule, the action (Stop, Delete, Rightsize, Upgrade, MigrateToGraviton, ScaleIn, Schedule),
the resource, and what it saves a 730-hour month. A saving is after discounts when the
resource's amortized cost came from the CUR, else before discounts from the list price;
the JSON and CSV say which, with the evidence, effort, restart, rollback, confidence and
how it interacts with Savings Plans and reservations. The server evaluates after each
inventory sync; ` + "`optimize evaluate`" + ` runs one now, ` + "`optimize rules`" + ` shows the thresholds.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if format == "json" {
				app.JSON = true
			} else if format != "table" && format != "csv" {
				return crossbill.Errorf(crossbill.CodeInvalid, "optimize", "--format %q: use table, csv or json", format)
			}
			st, t, err := optimizeTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			f.Account = crossbill.AccountID(account)
			l, err := optimize.List(ctx, st, t.ID, f)
			if err != nil {
				return err
			}
			if format == "csv" && !app.JSON {
				return writeRecommendationsCSV(app.Stdout, l.Recommendations)
			}
			return app.Print(l, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ID\tRULE\tACTION\tACCOUNT\tRESOURCE\tCHANGE\tMONTHLY\tBASIS\tCONFIDENCE")
				for _, r := range l.Recommendations {
					change := r.Current
					if r.Target != "" {
						change += " -> " + r.Target
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n", r.ID, r.Rule, r.Action, r.AccountID, r.ResourceID, change, r.Savings.Monthly, r.Savings.Basis, r.Confidence)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				_, err := fmt.Fprintf(w, "%d recommendation(s), %.2f %s a month (a resource counted once, at its biggest saving); evaluated %s over %d resources\n",
					l.Summary.Count, l.Summary.Total, "USD", l.EvaluatedAt.Format("2006-01-02 15:04 MST"), l.Resources)
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant (default: the only tenant)")
	fl.StringVar(&f.Rule, "rule", "", "only this rule's recommendations (the rules: crossbill optimize rules)")
	fl.StringVar(&account, "account", "", "only this AWS account's")
	fl.StringVar(&f.State, "state", "open", "open, resolved (no longer made by the newest evaluation) or all")
	fl.StringVar(&format, "format", "table", "table, csv or json")
	cmd.AddCommand(newOptimizeShowCmd(app), newOptimizeRulesCmd(app), newOptimizeEvaluateCmd(app))
	return cmd
}

func writeRecommendationsCSV(w io.Writer, recs []*optimize.Recommendation) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(optimize.CSVHeader); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "optimize", "writing CSV: %w", err)
	}
	for _, r := range recs {
		if err := cw.Write(optimize.CSVRow(r)); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, "optimize", "writing CSV: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

func newOptimizeShowCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use: "show ID", Short: "One recommendation with its savings, evidence and commitment interaction", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := optimizeTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			r, err := optimize.Get(ctx, st, t.ID, args[0])
			if err != nil {
				return err
			}
			return app.Print(r, func(w io.Writer) error {
				s := r.Savings
				fmt.Fprintf(w, "%s  %s (%s)\n%s\n\n", r.ID, r.Rule, r.State, r.Summary)
				fmt.Fprintf(w, "resource     %s (%s, account %s, %s)\n", r.ARN, r.ResourceType, r.AccountID, r.Region)
				fmt.Fprintf(w, "action       %s %s\n", r.Action, strings.TrimSpace(r.Current+" -> "+r.Target))
				fmt.Fprintf(w, "saves        %.2f %s a month (%d h), %s; before discounts %.2f, after %.2f\n", s.Monthly, s.Currency, s.Hours, s.Basis, s.BeforeDiscounts, s.AfterDiscounts)
				fmt.Fprintf(w, "cost from    %s\n", s.CostLabel)
				if s.Note != "" {
					fmt.Fprintf(w, "note         %s\n", s.Note)
				}
				fmt.Fprintf(w, "effort       %s; restart needed: %v; rollback: %s\n", r.Effort, r.RestartNeeded, r.Rollback)
				fmt.Fprintf(w, "confidence   %s\ncommitments  %s\n\nevidence     %s\n", r.Confidence, r.Commitment, r.Evidence.Test)
				for _, c := range r.Evidence.Checks {
					fmt.Fprintf(w, "  %s: %g %s %g %s\n", c.Name, c.Observed, c.Op, c.Threshold, c.Unit)
				}
				for _, ser := range r.Evidence.Series {
					vals := make([]string, len(ser.Points))
					for i, p := range ser.Points {
						vals[i] = strconv.FormatFloat(p.Value, 'g', 4, 64)
					}
					fmt.Fprintf(w, "  %s %s %s (%ds): %s\n", ser.Namespace, ser.Metric, ser.Stat, ser.Period, strings.Join(vals, " "))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default: the only tenant)")
	return cmd
}

func newOptimizeRulesCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use: "rules", Short: "The rules and the tenant's thresholds (`rules set RULE NAME=VALUE...` changes them)", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, t, err := optimizeTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			views, err := optimize.RuleSettings(ctx, st, t.ID)
			if err != nil {
				return err
			}
			return app.Print(views, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "RULE\tACTION\tRESOURCE\tTHRESHOLDS\tFROM")
				for _, v := range views {
					rowf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Name, v.Action, v.Resource, describeThresholds(v), v.Anchor)
				}
				return tw.Flush()
			})
		},
	}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant (default: the only tenant)")
	var reset bool
	set := &cobra.Command{
		Use:   "set RULE [NAME=VALUE...] [--reset]",
		Short: "Change a rule's thresholds for the tenant (audited); --reset puts them back to the defaults first",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			values := map[string]float64{}
			for _, a := range args[1:] {
				k, v, ok := strings.Cut(a, "=")
				x, err := strconv.ParseFloat(v, 64)
				if !ok || err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "optimize rules set", "%q: give NAME=NUMBER", a)
				}
				values[k] = x
			}
			st, t, err := optimizeTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			v, err := optimize.SetThresholds(ctx, st, t.ID, args[0], values, reset, store.AuditEntry{Actor: cliActor()})
			if err != nil {
				return err
			}
			return app.Print(v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s: %s\n", v.Name, describeThresholds(v))
				return err
			})
		},
	}
	set.Flags().BoolVar(&reset, "reset", false, "back to the defaults, then apply NAME=VALUE if given")
	cmd.AddCommand(set)
	return cmd
}

// describeThresholds prints a rule's parameters, * marking the tenant's.
func describeThresholds(v optimize.RuleView) string {
	var parts []string
	custom := map[string]bool{}
	for _, c := range v.Customized {
		custom[c] = true
	}
	for _, p := range v.Params {
		if p.Name == "enabled" && v.Values[p.Name] == 1 {
			continue
		}
		mark := ""
		if custom[p.Name] {
			mark = "*"
		}
		parts = append(parts, fmt.Sprintf("%s=%g%s", p.Name, v.Values[p.Name], mark))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func newOptimizeEvaluateCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use: "evaluate", Short: "Evaluate the rules over the tenant's inventory now and store the recommendations", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, t, err := optimizeTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			src := app.Inventory
			if src == nil {
				src = optimize.InventoryStore{Store: st}
			}
			e, err := optimize.Evaluate(ctx, st, t.ID, src)
			if err != nil {
				return err
			}
			return app.Print(e, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "evaluation %s: %d resources, %d recommendation(s), %.2f USD a month\n", e.ID, e.Resources, e.Summary.Count, e.Summary.Total)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default: the only tenant)")
	return cmd
}
