package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// commitmentFlags are the flags every commitments command shares.
type commitmentFlags struct {
	tenant   string
	tenantID crossbill.TenantID // what withCommitments resolved --tenant to
	lookback string
	end      string
	account  string
	gross    bool
	hub      *awsclient.HubOptions // the Athena engine's hub: the command's AWS flags
}

func (f *commitmentFlags) register(cmd *cobra.Command, lookback string) {
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "tenant whose costs to read (default: the only tenant with cost data)")
	cmd.Flags().StringVar(&f.lookback, "lookback", lookback, "history to use: 7d, 30d, 60d or any number of days (e.g. 14d)")
	cmd.Flags().StringVar(&f.end, "end", "", "end of the window, YYYY-MM-DD (default: the last hour of CUR data)")
	cmd.Flags().StringVar(&f.account, "account", "", "limit usage to one linked account (linked-account scope; default: payer scope)")
}

// parseDays reads "30d", "30" or "30days".
func parseDays(s string) (int, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "days"), "d")
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > 3*366 {
		return 0, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "--lookback %q: use a number of days such as 7d, 30d or 60d", s)
	}
	return n, nil
}

// window turns the flags into a window ending at --end or at the last
// hour of CUR data.
func (f *commitmentFlags) window(ctx context.Context, r commitments.Reader) (commitments.Window, error) {
	days, err := parseDays(f.lookback)
	if err != nil {
		return commitments.Window{}, err
	}
	w := commitments.Window{Tenant: f.tenantID, Gross: f.gross}
	if f.account != "" {
		w.Account = crossbill.AccountID(f.account)
		if !w.Account.Valid() {
			return w, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "--account %q is not a 12-digit AWS account ID", f.account)
		}
	}
	if f.end != "" {
		end, err := time.Parse(time.DateOnly, f.end)
		if err != nil {
			return w, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "--end %q: use YYYY-MM-DD", f.end)
		}
		w.End = end
	} else {
		end, err := commitments.DataEnd(ctx, r, f.tenantID)
		if err != nil {
			return w, err
		}
		w.End = end
	}
	w.Start = w.End.Add(-time.Duration(days) * 24 * time.Hour)
	return w, nil
}

func newCommitmentsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "commitments",
		Short: "Savings Plans and reservations: inventory, utilization, coverage and what to buy",
	}
	costStoreFlags(cmd, app)
	cmd.AddCommand(newCommitmentsInventoryCmd(app), newCommitmentsUtilizationCmd(app), newCommitmentsCoverageCmd(app),
		newCommitmentsRecommendCmd(app), newCommitmentsSimulateCmd(app), newCommitmentsBacktestCmd(app), newCommitmentsCompareCmd(app))
	cmd.AddCommand(newCommitmentsLifecycleCmds(app)...)
	return cmd
}

type inventoryReport struct {
	Commitments []commitments.Commitment        `json:"commitments"`
	Expiring    []commitments.ExpirationBuckets `json:"expiring"`
	// Athena is what the answer cost in Athena (an Athena tenant's).
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

func newCommitmentsInventoryCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var fromAWS bool
	var regions []string
	var access customerAWS
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "List every Savings Plan and reservation, from the CUR and optionally the AWS APIs",
		Long: `List Savings Plans and reservations seen in the CUR over the lookback, and with
--aws also those the AWS APIs report, through --connection's role (or for
--account with the environment's AWS credentials;
reservations are read in each of --regions). Shows expirations in 30/60/90 days.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				w, err := f.window(ctx, r)
				if err != nil {
					return err
				}
				fromCUR, err := commitments.FromCUR(ctx, r, w)
				if err != nil {
					return err
				}
				var fromAPI []commitments.Commitment
				if fromAWS {
					if fromAPI, err = inventoryFromAWS(ctx, app, &access, f.tenant, crossbill.AccountID(f.account), regions); err != nil {
						return err
					}
				}
				all := commitments.Merge(fromAPI, fromCUR)
				rep := inventoryReport{Commitments: all, Expiring: commitments.Expirations(all, time.Now().UTC()), Athena: athena.Spent(r)}
				if rep.Commitments == nil {
					rep.Commitments = []commitments.Commitment{}
				}
				return app.Print(rep, func(w io.Writer) error {
					tw := newTable(w, 0)
					fmt.Fprintln(tw, "TYPE\tID\tTERM\tPAYMENT\tHOURLY\tSCOPE\tEND\tACCOUNT\tSOURCE")
					for _, c := range all {
						scope := strings.Trim(c.Family+" "+c.InstanceType+" "+c.Region, " ")
						if c.Count > 0 {
							scope = fmt.Sprintf("%d× %s", c.Count, scope)
						}
						rowf(tw, "%s\t%s\t%gy\t%s\t%.4f\t%s\t%s\t%s\t%s\n", c.Type, c.ID, c.TermYears, c.Payment, c.HourlyCommitment,
							scope, c.End.Format(time.DateOnly), c.Account, c.Source)
					}
					for _, e := range rep.Expiring {
						rowf(tw, "expiring within %d days:\t%d\t($%.4f/h)\n", e.Days, e.Count, e.HourlyLost)
					}
					athenaNote(tw, rep.Athena)
					return tw.Flush()
				})
			})
		},
	}
	f.register(cmd, "30d")
	cmd.Flags().BoolVar(&fromAWS, "aws", false, "also read the AWS APIs: through --connection's role, or with the environment's credentials (then --account names their account)")
	cmd.Flags().StringSliceVar(&regions, "regions", []string{"us-east-1"}, "regions whose reservations to read with --aws")
	access.register(cmd, "Savings Plans and reservations (with --aws), and the Athena engine")
	f.hub = &access.hub
	return cmd
}

// inventoryFromAWS reads Savings Plans once and reservations per region,
// through the connection's role or with the environment's credentials.
func inventoryFromAWS(ctx context.Context, app *App, access *customerAWS, tenant string, account crossbill.AccountID, regions []string) ([]commitments.Commitment, error) {
	const op = "commitments inventory"
	cfgFor, reached, err := access.open(ctx, app, op, tenant)
	if err != nil {
		return nil, err
	}
	switch {
	case reached != "" && account != "" && account != reached:
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--account %s is not the account of connection %s (%s)", account, access.connection, reached)
	case reached != "":
		account = reached
	case !account.Valid():
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--aws needs --connection, or --account: the 12-digit ID of the account the credentials belong to")
	}
	var out []commitments.Commitment
	for i, region := range regions {
		cfg := cfgFor(region)
		c := commitments.NewCollector(cfg, account)
		if i == 0 {
			app.Progress("reading Savings Plans of %s", account)
			sps, err := c.SavingsPlansOf(ctx)
			if err != nil {
				return nil, err
			}
			out = append(out, sps...)
		}
		app.Progress("reading reservations of %s in %s", account, region)
		ris, err := c.Reservations(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, ris...)
	}
	return out, nil
}

func newCommitmentsUtilizationCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var granularity, by string
	cmd := &cobra.Command{
		Use:   "utilization",
		Short: "How much of each Savings Plan and reservation was used, per plan or per account",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			g, err := commitments.ParseGranularity(granularity)
			if err != nil {
				return err
			}
			key, err := utilizationKey(by)
			if err != nil {
				return err
			}
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				w, err := f.window(ctx, r)
				if err != nil {
					return err
				}
				if err := commitments.CheckData(ctx, r, w); err != nil {
					return err
				}
				rows, err := commitments.Utilization(ctx, r, w, g)
				if err != nil {
					return err
				}
				rep := struct {
					Summary []commitments.Summary        `json:"summary"`
					Periods []commitments.UtilizationRow `json:"periods"`
					Athena  *costs.EngineCost            `json:"athena,omitempty"`
				}{commitments.Summarize(rows, key), rows, athena.Spent(r)}
				if rep.Periods == nil {
					rep.Periods, rep.Summary = []commitments.UtilizationRow{}, []commitments.Summary{}
				}
				return app.Print(rep, func(out io.Writer) error {
					tw := newTable(out, 0)
					rowf(tw, "%s\tCOMMITMENT\tUSED\tUNUSED\tUTILIZATION\tNET SAVINGS\n", strings.ToUpper(by))
					for _, s := range rep.Summary {
						rowf(tw, "%s\t%s\t%s\t%s\t%.1f%%\t%s\n", s.Key, money(s.Commitment), money(s.Used), money(s.Unused), 100*s.Utilization, money(s.NetSavings))
					}
					athenaNote(tw, rep.Athena)
					return tw.Flush()
				})
			})
		},
	}
	f.register(cmd, "30d")
	cmd.Flags().StringVar(&granularity, "granularity", "daily", "hourly or daily periods (in --json)")
	cmd.Flags().StringVar(&by, "by", "plan", "summarize by plan, account or type")
	f.registerAthenaHub(cmd)
	return cmd
}

func utilizationKey(by string) (func(commitments.UtilizationRow) string, error) {
	switch by {
	case "plan":
		return func(r commitments.UtilizationRow) string { return r.ARN }, nil
	case "account":
		return func(r commitments.UtilizationRow) string { return string(r.Account) }, nil
	case "type":
		return func(r commitments.UtilizationRow) string { return r.Type }, nil
	}
	return nil, crossbill.Errorf(crossbill.CodeInvalid, "commitments utilization", "--by %q: use plan, account or type", by)
}

func newCommitmentsCoverageCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var granularity string
	var byAccount bool
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "Share of eligible on-demand-equivalent spend covered by Savings Plans and reservations",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			g, err := commitments.ParseGranularity(granularity)
			if err != nil {
				return err
			}
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				w, err := f.window(ctx, r)
				if err != nil {
					return err
				}
				if err := commitments.CheckData(ctx, r, w); err != nil {
					return err
				}
				rows, err := commitments.Coverage(ctx, r, w, g, byAccount)
				if err != nil {
					return err
				}
				// The answer is a list (its JSON too): what Athena
				// charged goes to stderr.
				commitmentsAthenaNote(app.Stderr, r)
				if rows == nil {
					rows = []commitments.CoverageRow{}
				}
				return app.Print(rows, func(out io.Writer) error {
					tw := newTable(out, 0)
					fmt.Fprintln(tw, "PERIOD\tACCOUNT\tCLASS\tON-DEMAND\tBY SP\tBY RI\tCOVERAGE")
					for _, r := range rows {
						rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f%%\n", r.Period.Format("2006-01-02 15:04"), r.Account, r.Class,
							money(r.OnDemand), money(r.CoveredBySP), money(r.CoveredByRI), 100*r.Coverage)
					}
					return tw.Flush()
				})
			})
		},
	}
	f.register(cmd, "30d")
	cmd.Flags().StringVar(&granularity, "granularity", "daily", "hourly or daily")
	cmd.Flags().BoolVar(&byAccount, "by-account", false, "one row per linked account")
	f.registerAthenaHub(cmd)
	return cmd
}

// compareReport is the comparison with Cost Explorer's figures with what
// crossbill's side cost in Athena (an Athena tenant's).
type compareReport struct {
	commitments.FiguresReport
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

func newCommitmentsCompareCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var connection string
	var hub awsclient.HubOptions
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Cost Explorer's Savings Plans and reservation utilization and coverage, and each plan's utilization, beside crossbill's, through --connection's role (5 requests, $0.05)",
		Long: `Put Cost Explorer's own utilization and coverage of Savings Plans and
reservations, and each Savings Plan's utilization, beside crossbill's figures
from the CUR (read in the tenant's cost engine: crossbill's store, or Athena),
over the same window. Cost Explorer is asked through
--connection's role (it answers for the account that calls it): 5 requests at
$0.01 (more when answers page), counted against the connection's monthly Cost
Explorer budget. Each figure says where the two definitions differ.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withCommitments(ctx, app, &f, func(r commitments.Reader) error {
				w, err := f.window(ctx, r)
				if err != nil {
					return err
				}
				ce, err := customerCostExplorer(ctx, app, hub, w.Tenant, connection)
				if err != nil {
					return err
				}
				figures, err := commitments.CompareFiguresWithAWS(ctx, r, w, ce)
				if err != nil {
					return err
				}
				rep := compareReport{figures, athena.Spent(r)}
				return app.Print(rep, func(out io.Writer) error {
					tw := newTable(out, 0)
					rowf(tw, "%s to %s (exclusive)\n", rep.From, rep.To)
					fmt.Fprintln(tw, "FIGURE\tCROSSBILL (CUR)\tCOST EXPLORER")
					pct := func(v *float64) string {
						if v == nil {
							return "-"
						}
						return fmt.Sprintf("%.1f%%", 100**v)
					}
					for _, x := range rep.Figures {
						rowf(tw, "%s\t%s\t%s\n", x.Name, pct(x.Crossbill), pct(x.AWS))
					}
					if len(rep.Plans) > 0 {
						fmt.Fprintln(tw, "\nSAVINGS PLAN\tCROSSBILL (CUR)\tCOST EXPLORER")
						for _, p := range rep.Plans {
							rowf(tw, "%s\t%s\t%s\n", p.ARN, pct(p.Crossbill), pct(p.AWS))
						}
					}
					athenaNote(tw, rep.Athena)
					if err := tw.Flush(); err != nil {
						return err
					}
					for _, x := range rep.Figures {
						rowf(out, "why %s may differ: %s\n", x.Name, x.Why)
					}
					return nil
				})
			})
		},
	}
	f.register(cmd, "30d")
	cmd.Flags().StringVar(&connection, "connection", "", "verified connection (cost module) whose role Cost Explorer is asked through (required)")
	cmd.Flags().StringVar(&hub.EndpointURL, "endpoint-url", "", "send AWS calls (Cost Explorer, the Athena engine) to this endpoint (an emulator)")
	cmd.Flags().StringVar(&hub.Profile, "profile", "", "AWS shared-config profile of the hub identity (Cost Explorer, the Athena engine)")
	f.hub = &hub
	return cmd
}
