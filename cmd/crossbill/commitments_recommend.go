package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// optionFlags select commitment types, terms and payment options, and
// where discount rates come from.
type optionFlags struct {
	types    []string
	terms    []int
	payments []string
	rates    string
	pricing  bool
	perClass int
	hub      awsclient.HubOptions
}

func (o *optionFlags) register(cmd *cobra.Command, multi bool) {
	if multi {
		cmd.Flags().StringSliceVar(&o.types, "type", nil, "COMPUTE_SP, EC2_INSTANCE_SP, RDS_RI, ELASTICACHE_RI, OPENSEARCH_RI, REDSHIFT_RI (default all)")
		cmd.Flags().IntSliceVar(&o.terms, "term", nil, "term in years, 1 or 3 (default both)")
		cmd.Flags().StringSliceVar(&o.payments, "payment", nil, "no, partial or all (upfront) (default all three)")
	} else {
		cmd.Flags().StringSliceVar(&o.types, "type", []string{commitments.OptionComputeSP}, "COMPUTE_SP, EC2_INSTANCE_SP, RDS_RI, ELASTICACHE_RI, OPENSEARCH_RI or REDSHIFT_RI")
		cmd.Flags().IntSliceVar(&o.terms, "term", []int{1}, "term in years, 1 or 3")
		cmd.Flags().StringSliceVar(&o.payments, "payment", []string{"no"}, "no, partial or all (upfront)")
	}
	cmd.Flags().StringVar(&o.rates, "rates", "", "JSON file of discount rates overriding the embedded table, the Pricing API's and the CUR's observed rates")
	cmd.Flags().BoolVar(&o.pricing, "pricing", false, "compute discount rates from the AWS Price List and Savings Plans offering rates (free; hub credentials)")
	cmd.Flags().IntVar(&o.perClass, "pricing-top", commitments.DefaultPricedPerClass, "with --pricing, instance types (per region) priced per usage class, most on-demand spend first")
	cmd.Flags().StringVar(&o.hub.EndpointURL, "endpoint-url", "", "send AWS calls (--pricing, --aws-compare, the Athena engine) to this endpoint (an emulator)")
	cmd.Flags().StringVar(&o.hub.Profile, "profile", "", "AWS shared-config profile of the hub identity (--pricing, --aws-compare, the Athena engine)")
}

// awsConfig is the hub's AWS configuration, from the process's factory, for
// the us-east-1 services (Price List, Savings Plans, Cost Explorer).
func (o *optionFlags) awsConfig(ctx context.Context, app *App) (aws.Config, error) {
	f, err := app.AWS(ctx, o.hub)
	if err != nil {
		return aws.Config{}, err
	}
	cfg := f.Hub()
	cfg.Region = "us-east-1"
	// One clear error up front rather than a failed first call.
	if err := awsclient.CheckHub(ctx, cfg); err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

// registerGross adds --gross to the commands that size commitments.
func registerGross(cmd *cobra.Command, f *commitmentFlags) {
	cmd.Flags().BoolVar(&f.gross, "gross", false, "size from scratch: count usage existing commitments cover as eligible (plan renewals)")
}

func (o *optionFlags) options() (commitments.Options, error) {
	opts := commitments.Options{Terms: o.terms}
	for _, t := range o.types {
		opts.Types = append(opts.Types, strings.ToUpper(t))
	}
	for _, p := range o.payments {
		pay, ok := commitments.ParsePayment(p)
		if !ok {
			return opts, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "--payment %q: use no, partial or all", p)
		}
		opts.Payments = append(opts.Payments, pay)
	}
	return opts, opts.Validate()
}

// single returns the one type, term and payment of simulate and backtest.
func (o *optionFlags) single() (string, int, commitments.Payment, error) {
	opts, err := o.options()
	if err != nil {
		return "", 0, "", err
	}
	if len(opts.Types) != 1 || len(opts.Terms) != 1 || len(opts.Payments) != 1 {
		return "", 0, "", crossbill.Errorf(crossbill.CodeInvalid, "commitments", "give exactly one --type, --term and --payment")
	}
	return opts.Types[0], opts.Terms[0], opts.Payments[0], nil
}

// rateSources are where --pricing and --rates say discount rates come
// from beyond the embedded table and the CUR's observed rates.
func (o *optionFlags) rateSources(ctx context.Context, app *App) (commitments.RateSources, error) {
	src := commitments.RateSources{File: o.rates, Progress: app.Progress}
	if o.pricing {
		cfg, err := o.awsConfig(ctx, app)
		if err != nil {
			return src, err
		}
		src.Pricing = commitments.NewPriceSource(cfg)
		src.Pricing.PerClass, src.Pricing.Progress = o.perClass, app.Progress
	}
	return src, nil
}

// loadRates is the discount table simulate and backtest use: the same
// layering as recommend's.
func (o *optionFlags) loadRates(ctx context.Context, app *App, r commitments.Reader, w commitments.Window) (*commitments.Rates, error) {
	src, err := o.rateSources(ctx, app)
	if err != nil {
		return nil, err
	}
	return commitments.LoadRates(ctx, r, w, src)
}

type recommendReport struct {
	Window          windowJSON                      `json:"window"`
	Recommendations []commitments.Recommendation    `json:"recommendations"`
	AWS             []commitments.AWSRecommendation `json:"aws_cost_explorer,omitempty"`
	// Rates are the discount rates used, each with its source.
	Rates []commitments.Rate `json:"rates"`
	// Athena is what the answer cost in Athena (an Athena tenant's).
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

type windowJSON struct {
	Tenant  string    `json:"tenant"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Account string    `json:"account,omitempty"`
}

func toWindowJSON(w commitments.Window) windowJSON {
	return windowJSON{Tenant: string(w.Tenant), Start: w.Start, End: w.End, Account: string(w.Account)}
}

func newCommitmentsRecommendCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var o optionFlags
	var ladder, top, maxBreakEven int
	var compare, allowLoss bool
	var rank, connection string
	cmd := &cobra.Command{
		Use:   "recommend",
		Short: "Recommend the Savings Plans and reservations that maximize net savings",
		Long: `Build the hourly on-demand spend each commitment type could cover over the
lookback (net of what existing Savings Plans and reservations already cover) and
choose, for each type, term and payment option, the hourly commitment that
maximizes net savings, adjusted for the lookback's trend: held at the recent
floor while usage declines, sized on the last 7 days after a level drop or
during steady growth (never above observed usage); each adjusted row says why.

Rows are ranked by monthly savings if usage drops 20% (the downside, shown
beside the expected savings); options breaking even after --max-break-even
months (default 12) or losing money in that drop (unless --allow-loss) are
hidden. --rank optimum gives the exact lookback optimum of every option,
ranked by expected savings, nothing hidden (see docs/commitments.md).

Discount rates: the embedded table, then with --pricing the AWS Price List and
Savings Plans offering rates of the instance types in use (free), then rates
observed in the CUR, then --rates FILE; each rate's source is in the output.
With --aws-compare, Cost Explorer's own Savings Plans and reservation
recommendations for the customer's account, asked through --connection's role,
are shown next to crossbill's ($0.01 per request, one request per type, term
and payment option, counted against the connection's monthly Cost Explorer
budget). They differ where the definitions do: Cost Explorer looks back 7, 30
or 60 days on its own usage data and sizes on amortized cost net of existing
commitments; crossbill uses the CUR over --lookback, adjusted for the trend.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			opts, err := o.options()
			if err != nil {
				return err
			}
			opts.Ladder, opts.Rank, opts.MaxBreakEven, opts.AllowLoss = ladder, rank, maxBreakEven, allowLoss
			if maxBreakEven == 0 {
				opts.MaxBreakEven = -1 // 0 on the command line means no limit
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				w, err := f.window(ctx, r)
				if err != nil {
					return err
				}
				src, err := o.rateSources(ctx, app)
				if err != nil {
					return err
				}
				res, err := commitments.Recommend(ctx, r, commitments.Request{Window: w, Options: opts, Rates: src})
				if err != nil {
					return err
				}
				rep := recommendReport{Window: toWindowJSON(w), Recommendations: res.Recommendations, Rates: res.Rates, Athena: athena.Spent(r)}
				if compare {
					ce, err := customerCostExplorer(ctx, app, o.hub, w.Tenant, connection)
					if err != nil {
						return err
					}
					if rep.AWS, err = commitments.CompareWithAWS(ctx, ce, opts, w, app.Progress); err != nil {
						return err
					}
				}
				return app.Print(rep, func(out io.Writer) error {
					if err := printRecommendations(out, rep, top); err != nil {
						return err
					}
					athenaNote(out, rep.Athena)
					_, err := fmt.Fprintln(out, rankNote(opts))
					return err
				})
			})
		},
	}
	f.register(cmd, "30d")
	registerGross(cmd, &f)
	o.register(cmd, true)
	f.hub = &o.hub
	cmd.Flags().IntVar(&ladder, "ladder", 0, "split each purchase into N tranches bought a month apart")
	cmd.Flags().IntVar(&top, "top", 20, "rows to print (text output)")
	cmd.Flags().StringVar(&rank, "rank", commitments.RankRisk, "risk: trend-adjusted, ranked by savings if usage drops 20%, risky options hidden; optimum: the exact lookback optimum of every option, ranked by expected savings")
	cmd.Flags().IntVar(&maxBreakEven, "max-break-even", commitments.DefaultMaxBreakEven, "with --rank risk, hide options breaking even after this month (0: no limit)")
	cmd.Flags().BoolVar(&allowLoss, "allow-loss", false, "with --rank risk, keep options that lose money if usage drops 20%")
	cmd.Flags().BoolVar(&compare, "aws-compare", false, "also show Cost Explorer's recommendations through --connection's role (Savings Plans and reservations; lookback 7, 30 or 60 days; $0.01 per request, counted against the connection's budget)")
	cmd.Flags().StringVar(&connection, "connection", "", "with --aws-compare: the verified connection (cost module) whose role Cost Explorer is asked through")
	return cmd
}

func printRecommendations(out io.Writer, rep recommendReport, top int) error {
	tw := newTable(out, 0)
	rowf(tw, "window %s to %s, tenant %s\n", rep.Window.Start.Format(time.DateOnly), rep.Window.End.Format(time.DateOnly), rep.Window.Tenant)
	var whys []string // row, reason: printed under the table so long lines do not break its columns
	fmt.Fprintln(tw, "#\tTYPE\tKEY\tTERM\tPAYMENT\tHOURLY\tCOUNT\tUPFRONT\tMONTHLY SAVINGS\tIF USAGE -20%\tIF -30%\tSAVINGS%\tBREAK-EVEN\tUTIL\tCOVERAGE")
	for i, r := range rep.Recommendations {
		if i >= top {
			rowf(tw, "… %d more (use --json or --top)\n", len(rep.Recommendations)-top)
			break
		}
		count := ""
		if r.Count > 0 {
			count = fmt.Sprint(r.Count)
		}
		be := "never"
		if r.BreakEvenMonth > 0 {
			be = fmt.Sprintf("month %d", r.BreakEvenMonth)
		}
		rowf(tw, "%d\t%s\t%s\t%dy\t%s\t%.4f\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f%%\t%s\t%.1f%%\t%.1f%%\n", i+1, r.Type, r.Key, r.Term, r.Payment,
			r.HourlyCommitment, count, r.Upfront, r.MonthlySavings, r.Downside20, r.Downside30, 100*r.SavingsPercent, be, 100*r.Utilization, 100*r.Coverage)
		if r.Why != "" {
			whys = append(whys, fmt.Sprintf("#%d %s %s %dy %s", i+1, r.Type, r.Key, r.Term, r.Payment), r.Why)
		}
	}
	for _, a := range rep.AWS {
		hourly := ""
		if a.HourlyCommitment > 0 {
			hourly = fmt.Sprintf("%.4f", a.HourlyCommitment)
		}
		rowf(tw, "\tAWS %s\t(Cost Explorer, %s)\t%dy\t%s\t%s\t\t%.0f\t%.2f\t\t\t%.1f%%\n", a.Type, a.Scope, a.Term, a.Payment, hourly, a.Upfront, a.MonthlySavings, 100*a.SavingsPercent)
		for _, d := range a.Details {
			if d.InstanceType == "" {
				continue // Savings Plans details repeat the summary per account
			}
			rowf(tw, "\tAWS %s\t%s/%s\t%dy\t%s\t\t%g\t%.0f\t%.2f\t\t\t\t%.1f months\t%.1f%%\n", a.Type, d.InstanceType, d.Region, a.Term, a.Payment,
				d.Count, d.Upfront, d.MonthlySavings, d.BreakEvenMonths, 100*d.Utilization)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i := 0; i < len(whys); i += 2 {
		rowf(out, "why %s: %s\n", whys[i], whys[i+1])
	}
	return printRateSources(out, rep.Rates)
}

// rankNote says how the rows were chosen and ordered.
func rankNote(o commitments.Options) string {
	if o.Rank == commitments.RankOptimum {
		return "ranked by expected monthly savings: exact lookback optimum of every option, no trend adjustment (--rank optimum)"
	}
	limits := "no break-even limit"
	if o.MaxBreakEven > 0 {
		limits = fmt.Sprintf("options breaking even after month %d hidden", o.MaxBreakEven)
	} else if o.MaxBreakEven == 0 {
		limits = fmt.Sprintf("options breaking even after month %d hidden", commitments.DefaultMaxBreakEven)
	}
	if !o.AllowLoss {
		limits += ", and those losing money if usage drops 20%"
	}
	return "ranked by monthly savings if usage drops 20%; " + limits + "; --rank optimum lists the exact optimum of every option"
}

// printRateSources counts the rates used per source and lists those the
// Pricing API gave.
func printRateSources(out io.Writer, rates []commitments.Rate) error {
	count := map[string]int{}
	for _, r := range rates {
		count[r.Source]++
	}
	var parts []string
	for _, s := range []string{"default", "pricing", "cur", "file"} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, count[s]))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	tw := newTable(out, 0)
	rowf(tw, "discount rates by source: %s (all in --json)\n", strings.Join(parts, ", "))
	for _, r := range rates {
		if r.Source == "pricing" {
			rowf(tw, "  pricing\t%s\t%s\t%dy\t%s\t%.1f%%\n", r.Type, r.Class, r.Term, r.Payment, 100*r.Discount)
		}
	}
	return tw.Flush()
}

func newCommitmentsSimulateCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var o optionFlags
	var commitment float64
	var key string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "What if: the savings, utilization and coverage an hourly commitment would have had",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			typ, term, pay, err := o.single()
			if err != nil {
				return err
			}
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				w, err := f.window(ctx, r)
				if err != nil {
					return err
				}
				rates, err := o.loadRates(ctx, app, r, w)
				if err != nil {
					return err
				}
				rec, err := commitments.Simulate(ctx, r, w, rates, typ, term, pay, key, commitment)
				if err != nil {
					return err
				}
				// The answer's JSON is the recommendation: what Athena
				// charged goes to stderr.
				commitmentsAthenaNote(app.Stderr, r)
				return app.Print(rec, func(out io.Writer) error {
					return printRecommendations(out, recommendReport{Window: toWindowJSON(w), Recommendations: []commitments.Recommendation{rec}}, 1)
				})
			})
		},
	}
	f.register(cmd, "30d")
	registerGross(cmd, &f)
	o.register(cmd, false)
	f.hub = &o.hub
	cmd.Flags().Float64Var(&commitment, "commitment", 0, "hourly commitment in dollars at commitment rates (required)")
	cmd.Flags().StringVar(&key, "key", "", "family/region (EC2_INSTANCE_SP) or instance-type/region (reservations), e.g. m5/us-east-1")
	return cmd
}

func newCommitmentsBacktestCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var o optionFlags
	var testDays string
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "Recommend on one window, score on the next: versus the hindsight optimum and rules of thumb",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			typ, term, pay, err := o.single()
			if err != nil {
				return err
			}
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				// --end (or the data's end) closes the test window; the
				// training window (--lookback) precedes it.
				test, err := (&commitmentFlags{tenant: f.tenant, tenantID: f.tenantID, lookback: testDays, end: f.end, account: f.account, gross: f.gross}).window(ctx, r)
				if err != nil {
					return err
				}
				days, err := parseDays(f.lookback)
				if err != nil {
					return err
				}
				train := test
				train.End = test.Start
				train.Start = test.Start.Add(-time.Duration(days) * 24 * time.Hour)
				rates, err := o.loadRates(ctx, app, r, train)
				if err != nil {
					return err
				}
				res, err := commitments.Backtest(ctx, r, train, test, rates, typ, term, pay)
				if err != nil {
					return err
				}
				commitmentsAthenaNote(app.Stderr, r)
				return app.Print(res, func(out io.Writer) error {
					tw := newTable(out, 0)
					rowf(tw, "%s %dy %s: train %s..%s, test %s..%s\n", res.Type, res.Term, res.Payment, res.TrainStart.Format(time.DateOnly),
						res.TrainEnd.Format(time.DateOnly), res.TestStart.Format(time.DateOnly), res.TestEnd.Format(time.DateOnly))
					fmt.Fprintln(tw, "CHOICE\tHOURLY\tNET SAVINGS (TEST)\tUTILIZATION\tCOVERAGE")
					for _, s := range []struct {
						name string
						s    commitments.Score
					}{{"crossbill (trend-aware)", res.Recommended}, {"lookback optimum", res.Optimum}, {"hindsight optimum", res.Hindsight}, {"floor rule", res.Floor}, {"mean rule", res.Mean}} {
						rowf(tw, "%s\t%.4f\t%s\t%.1f%%\t%.1f%%\n", s.name, s.s.HourlyCommitment, money(s.s.NetSavings), 100*s.s.Utilization, 100*s.s.Coverage)
					}
					rowf(tw, "efficiency (crossbill / hindsight)\t%.1f%%\n", 100*res.Efficiency)
					rowf(tw, "efficiency (lookback optimum / hindsight)\t%.1f%%\n", 100*res.OptimumEfficiency)
					for _, a := range res.Adjustments {
						rowf(tw, "why: %s\n", a)
					}
					return tw.Flush()
				})
			})
		},
	}
	f.register(cmd, "30d")
	registerGross(cmd, &f)
	o.register(cmd, false)
	f.hub = &o.hub
	cmd.Flags().StringVar(&testDays, "test", "7d", "length of the scoring window after the training window")
	return cmd
}
