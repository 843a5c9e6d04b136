package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

// optionFlags select commitment types, terms and payment options.
type optionFlags struct {
	types    []string
	terms    []int
	payments []string
	rates    string
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
	cmd.Flags().StringVar(&o.rates, "rates", "", "JSON file of discount rates overriding the embedded table and the CUR's observed rates")
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

// loadRates layers the discount table: embedded defaults, then rates
// observed in the CUR over the window, then the user's --rates file.
func (o *optionFlags) loadRates(ctx context.Context, db *sql.DB, w commitments.Window) (*commitments.Rates, error) {
	rates, err := commitments.DefaultRates()
	if err != nil {
		return nil, err
	}
	observed, err := commitments.ObservedRates(ctx, db, w, 10)
	if err != nil {
		return nil, err
	}
	for _, r := range observed {
		rates.Set(r)
	}
	if o.rates != "" {
		if err := rates.ReadRates(filepath.Clean(o.rates)); err != nil {
			return nil, err
		}
	}
	return rates, nil
}

type recommendReport struct {
	Window          windowJSON                      `json:"window"`
	Recommendations []commitments.Recommendation    `json:"recommendations"`
	AWS             []commitments.AWSRecommendation `json:"aws_cost_explorer,omitempty"`
}

type windowJSON struct {
	Tenant  string    `json:"tenant"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Account string    `json:"account,omitempty"`
}

func toWindowJSON(w commitments.Window) windowJSON {
	return windowJSON{Tenant: w.Tenant, Start: w.Start, End: w.End, Account: string(w.Account)}
}

func newCommitmentsRecommendCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var o optionFlags
	var ladder, top int
	var compare bool
	cmd := &cobra.Command{
		Use:   "recommend",
		Short: "Recommend the Savings Plans and reservations that maximize net savings",
		Long: `Build the hourly on-demand spend each commitment type could cover over the
lookback (net of what existing Savings Plans and reservations already cover) and
choose, for each type, term and payment option, the hourly commitment that
maximizes net savings (exact optimum; see docs/commitments.md). With
--aws-compare, Cost Explorer's own Savings Plans recommendation is shown next to
crossbill's (default AWS credentials; $0.01 per request).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			opts, err := o.options()
			if err != nil {
				return err
			}
			opts.Ladder = ladder
			return withCommitmentsDB(ctx, app, &f, func(db *sql.DB) error {
				w, err := f.window(ctx, db)
				if err != nil {
					return err
				}
				rates, err := o.loadRates(ctx, db, w)
				if err != nil {
					return err
				}
				app.Progress("recommending from %s to %s", w.Start.Format(time.DateOnly), w.End.Format(time.DateOnly))
				recs, err := commitments.Recommend(ctx, db, w, rates, opts)
				if err != nil {
					return err
				}
				rep := recommendReport{Window: toWindowJSON(w), Recommendations: recs}
				if rep.Recommendations == nil {
					rep.Recommendations = []commitments.Recommendation{}
				}
				if compare {
					if rep.AWS, err = compareWithAWS(ctx, app, opts, f, w); err != nil {
						return err
					}
				}
				return app.Print(rep, func(out io.Writer) error { return printRecommendations(out, rep, top) })
			})
		},
	}
	f.register(cmd, "30d")
	registerGross(cmd, &f)
	o.register(cmd, true)
	cmd.Flags().IntVar(&ladder, "ladder", 0, "split each purchase into N tranches bought a month apart")
	cmd.Flags().IntVar(&top, "top", 20, "rows to print (text output)")
	cmd.Flags().BoolVar(&compare, "aws-compare", false, "also show Cost Explorer's recommendation (Savings Plans; lookback 7, 30 or 60 days)")
	return cmd
}

func compareWithAWS(ctx context.Context, app *App, opts commitments.Options, f commitmentFlags, w commitments.Window) ([]commitments.AWSRecommendation, error) {
	days := int(w.End.Sub(w.Start) / (24 * time.Hour))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnauthorized, "commitments recommend", "loading AWS credentials for Cost Explorer: %w", err)
	}
	ce := costexplorer.NewFromConfig(cfg)
	var out []commitments.AWSRecommendation
	types, terms, pays := opts.Types, opts.Terms, opts.Payments
	if len(types) == 0 {
		types = []string{commitments.OptionComputeSP, commitments.OptionEC2InstanceSP}
	}
	if len(terms) == 0 {
		terms = []int{1, 3}
	}
	if len(pays) == 0 {
		pays = []commitments.Payment{commitments.NoUpfront, commitments.PartialUpfront, commitments.AllUpfront}
	}
	for _, t := range types {
		if t != commitments.OptionComputeSP && t != commitments.OptionEC2InstanceSP {
			continue
		}
		for _, term := range terms {
			for _, p := range pays {
				app.Progress("asking Cost Explorer for %s %dy %s", t, term, p)
				r, err := commitments.FetchAWSRecommendation(ctx, ce, t, term, p, days, f.account != "")
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func printRecommendations(out io.Writer, rep recommendReport, top int) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "window %s to %s, tenant %s\n", rep.Window.Start.Format(time.DateOnly), rep.Window.End.Format(time.DateOnly), rep.Window.Tenant)
	fmt.Fprintln(tw, "TYPE\tKEY\tTERM\tPAYMENT\tHOURLY\tCOUNT\tUPFRONT\tMONTHLY SAVINGS\tSAVINGS%\tBREAK-EVEN\tUTIL\tCOVERAGE\t-10%/-20%/-30%")
	for i, r := range rep.Recommendations {
		if i >= top {
			fmt.Fprintf(tw, "… %d more (use --json or --top)\n", len(rep.Recommendations)-top)
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
		var drops []string
		for _, s := range r.Scenarios {
			drops = append(drops, fmt.Sprintf("%.0f", s.MonthlySavings))
		}
		fmt.Fprintf(tw, "%s\t%s\t%dy\t%s\t%.4f\t%s\t%.0f\t%.2f\t%.1f%%\t%s\t%.1f%%\t%.1f%%\t%s\n", r.Type, r.Key, r.Term, r.Payment,
			r.HourlyCommitment, count, r.Upfront, r.MonthlySavings, 100*r.SavingsPercent, be, 100*r.Utilization, 100*r.Coverage, strings.Join(drops, "/"))
	}
	for _, a := range rep.AWS {
		fmt.Fprintf(tw, "Cost Explorer\t%s %dy %s\t\t\t%.4f\t\t\t%.2f\t%.1f%%\n", a.Type, a.Term, a.Payment, a.HourlyCommitment, a.MonthlySavings, 100*a.SavingsPercent)
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
			return withCommitmentsDB(ctx, app, &f, func(db *sql.DB) error {
				w, err := f.window(ctx, db)
				if err != nil {
					return err
				}
				rates, err := o.loadRates(ctx, db, w)
				if err != nil {
					return err
				}
				r, err := commitments.Simulate(ctx, db, w, rates, typ, term, pay, key, commitment)
				if err != nil {
					return err
				}
				return app.Print(r, func(out io.Writer) error {
					return printRecommendations(out, recommendReport{Window: toWindowJSON(w), Recommendations: []commitments.Recommendation{r}}, 1)
				})
			})
		},
	}
	f.register(cmd, "30d")
	registerGross(cmd, &f)
	o.register(cmd, false)
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
			return withCommitmentsDB(ctx, app, &f, func(db *sql.DB) error {
				// --end (or the data's end) closes the test window; the
				// training window (--lookback) precedes it.
				test, err := (&commitmentFlags{tenant: f.tenant, lookback: testDays, end: f.end, account: f.account, gross: f.gross}).window(ctx, db)
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
				rates, err := o.loadRates(ctx, db, train)
				if err != nil {
					return err
				}
				res, err := commitments.Backtest(ctx, db, train, test, rates, typ, term, pay)
				if err != nil {
					return err
				}
				return app.Print(res, func(out io.Writer) error {
					tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
					fmt.Fprintf(tw, "%s %dy %s: train %s..%s, test %s..%s\n", res.Type, res.Term, res.Payment, res.TrainStart.Format(time.DateOnly),
						res.TrainEnd.Format(time.DateOnly), res.TestStart.Format(time.DateOnly), res.TestEnd.Format(time.DateOnly))
					fmt.Fprintln(tw, "CHOICE\tHOURLY\tNET SAVINGS (TEST)\tUTILIZATION\tCOVERAGE")
					for _, s := range []struct {
						name string
						s    commitments.Score
					}{{"crossbill", res.Recommended}, {"hindsight optimum", res.Hindsight}, {"floor rule", res.Floor}, {"mean rule", res.Mean}} {
						fmt.Fprintf(tw, "%s\t%.4f\t%.2f\t%.1f%%\t%.1f%%\n", s.name, s.s.HourlyCommitment, s.s.NetSavings, 100*s.s.Utilization, 100*s.s.Coverage)
					}
					fmt.Fprintf(tw, "efficiency (crossbill / hindsight)\t%.1f%%\n", 100*res.Efficiency)
					return tw.Flush()
				})
			})
		},
	}
	f.register(cmd, "30d")
	registerGross(cmd, &f)
	o.register(cmd, false)
	cmd.Flags().StringVar(&testDays, "test", "7d", "length of the scoring window after the training window")
	return cmd
}
