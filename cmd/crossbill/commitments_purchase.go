package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
)

// purchaseCLI is what every commitment lifecycle command shares: the
// tenant, the person acting (--as) and the hub's AWS options.
type purchaseCLI struct {
	app    *App
	tenant string
	as     string
	hub    awsclient.HubOptions
}

func (p *purchaseCLI) register(cmd *cobra.Command, aws bool) {
	cmd.Flags().StringVar(&p.tenant, "tenant", "", "tenant (required)")
	cmd.Flags().StringVar(&p.as, "as", "", "the person acting, by email (a signed-in person of the tenant; the audit log names them, and a plan's author cannot approve it)")
	if aws {
		cmd.Flags().StringVar(&p.hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
		cmd.Flags().StringVar(&p.hub.Profile, "profile", "", "AWS shared-config profile of the hub's credentials")
	}
}

func (p *purchaseCLI) open(ctx context.Context) (*store.Store, crossbill.TenantID, store.AuditEntry, error) {
	by := store.AuditEntry{Actor: cliActor()}
	if p.tenant == "" {
		return nil, "", by, crossbill.Errorf(crossbill.CodeInvalid, "commitments", "--tenant is required")
	}
	st, err := p.app.Store(ctx)
	if err != nil {
		return nil, "", by, err
	}
	t, err := st.TenantByName(ctx, p.tenant)
	if err != nil {
		return nil, "", by, err
	}
	if p.as != "" {
		u, err := st.LocalUser(ctx, p.as)
		if err != nil {
			return nil, "", by, err
		}
		by.PersonEmail, by.PersonSubject = u.Email, u.Subject
	}
	return st, t.ID, by, nil
}

func (p *purchaseCLI) account(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID) (purchase.Account, error) {
	// The connection is checked first: its refusal (not verified, no
	// commitments-purchase module) says more than missing hub credentials.
	f, ferr := p.app.AWS(ctx, p.hub)
	acct, err := purchase.Open(ctx, st, f, tenant, conn)
	if err != nil {
		return purchase.Account{}, err
	}
	return acct, ferr
}

func newCommitmentsLifecycleCmds(app *App) []*cobra.Command {
	return []*cobra.Command{newPlanCmd(app), newPlansCmd(app), newPlanApproveCmd(app), newPlanExecuteCmd(app), newPlanCancelCmd(app),
		newGuardrailsCmd(app), newRenewalsCmd(app), newSellCmd(app)}
}

func printPlan(app *App, v purchase.View) error {
	return app.Print(v, func(w io.Writer) error {
		p := v.Plan
		fmt.Fprintf(w, "%s  %s  %s  by %s\n", v.ID, v.Kind, v.State, firstNonEmptyString(v.Person, v.CreatedBy))
		size := fmt.Sprintf("$%.3f/h", p.HourlyCommitment)
		if p.Count > 0 {
			size = fmt.Sprintf("%d × %s in %s", p.Count, p.InstanceType, p.Region)
		}
		if s := p.Sale; s != nil {
			var steps []string
			for _, pr := range s.Schedule {
				steps = append(steps, fmt.Sprintf("%dm $%.2f", pr.Months, pr.Price))
			}
			fmt.Fprintf(w, "  list reservation %s (%d × %s, %.0f%% used) through connection %s\n  price schedule: %s\n", s.Reservation.ID, s.Reservation.Count,
				s.Reservation.InstanceType, s.Utilization*100, v.Connection, strings.Join(steps, ", "))
		} else {
			fmt.Fprintf(w, "  %s %s, %d year(s) %s, from %s through connection %s\n", p.Type, size, p.TermYears, p.Payment, p.Start.Format(time.DateOnly), v.Connection)
			fmt.Fprintf(w, "  offering %s (%s)\n", p.Offering.ID, p.Offering.Description)
		}
		fmt.Fprintf(w, "  upfront $%.2f, then $%.2f a month; $%.4f/h all in\n", p.Upfront, p.MonthlyRecurring, p.HourlyEquivalent)
		if e := p.Expected; e != nil {
			fmt.Fprintf(w, "  expected: utilization %.1f%%, coverage %.1f%%, savings $%.2f a month; if usage drops 20%%: $%.2f, 30%%: $%.2f\n",
				e.Utilization*100, e.Coverage*100, e.MonthlySavings, e.Downside20, e.Downside30)
		}
		if p.ExpectedBasis != "" {
			state := "expected figures "
			if p.Expected == nil {
				state = "expected utilization, coverage and savings unknown: "
			}
			fmt.Fprintf(w, "  %s%s\n", state, p.ExpectedBasis)
		}
		tw := newTable(w, 0)
		fmt.Fprintln(tw, "  TRANCHE\tDUE\tSIZE\tUPFRONT\tSTATE\tCOMMITMENT")
		for i, t := range v.Tranches {
			lp := p.Ladder[i]
			size := fmt.Sprintf("$%.3f/h", lp.HourlyCommitment)
			if lp.Count > 0 {
				size = fmt.Sprintf("%d", lp.Count)
			}
			rowf(tw, "  %d\t%s\t%s\t$%.2f\t%s\t%s\n", t.Index, t.Due.Format(time.DateOnly), size, lp.Upfront, t.State, t.CommitmentID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if a := v.Approval; a != nil {
			fmt.Fprintf(w, "  approval %s: %s\n", a.ID, a.State)
		}
		for _, n := range v.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		return nil
	})
}

func firstNonEmptyString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func newPlanCmd(app *App) *cobra.Command {
	p := &purchaseCLI{app: app}
	var req purchase.Request
	var payment, start, from string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Write a purchase plan (by hand or --from a recommendation): the offering, costs, ladder; opens its approval",
		Long: `Write a commitment purchase plan and open its approval. The plan names the AWS
offering it will buy (read through the connection's role, which needs the opt-in
commitments-purchase module): a Savings Plan, or a reservation of EC2, RDS, ElastiCache,
OpenSearch or Redshift; its upfront and monthly cost, its tranches (--tranches N: N
purchases a month apart), and its expected utilization, coverage, savings and the savings
if usage drops, computed by crossbill from the tenant's own usage in the cost store (the
last 30 days; by hand or from a recommendation, never taken from the request). With no
usage to estimate from they are unknown, and a minimum-utilization guardrail refuses the
plan with the reason. The tenant's guardrails refuse a plan over a limit, saying which.
A person other than the author approves it (crossbill commitments approve), then an admin
executes it.

--from FILE reads one recommendation as 'crossbill commitments recommend --json' prints it
(one element of its "recommendations").`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			r := req
			if from != "" {
				b, err := os.ReadFile(filepath.Clean(from))
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "commitments plan", "--from: %v", err)
				}
				var rec commitments.Recommendation
				if err := json.Unmarshal(b, &rec); err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "commitments plan", "--from %s is not one recommendation as `commitments recommend --json` prints it: %v", from, err)
				}
				if r, err = purchase.FromRecommendation(rec); err != nil {
					return err
				}
				r.Connection, r.Note = req.Connection, req.Note
				if cmd.Flags().Changed("tranches") {
					r.Tranches = req.Tranches
				}
			} else {
				if payment != "" {
					pay, ok := commitments.ParsePayment(payment)
					if !ok {
						return crossbill.Errorf(crossbill.CodeInvalid, "commitments plan", "--payment %q: use no, partial or all (upfront)", payment)
					}
					r.Payment = pay
				}
				r.Source = "manual"
			}
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "commitments plan", "--start %q: use YYYY-MM-DD", start)
				}
				r.Start = t
			}
			r.Tenant = tenant
			if r.Connection == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, "commitments plan", "--connection is required: the connection whose account buys")
			}
			acct, err := p.account(ctx, st, tenant, r.Connection)
			if err != nil {
				return err
			}
			acct.Usage = planUsage(app, p.tenant)
			v, err := purchase.Draft(ctx, st, acct, r, by)
			if err != nil {
				return err
			}
			return printPlan(app, v)
		},
	}
	p.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar((*string)(&req.Connection), "connection", "", "the verified connection whose account buys (needs the commitments-purchase module)")
	fl.StringVar(&from, "from", "", "a recommendation (JSON file) to plan from")
	fl.StringVar(&req.Type, "type", "", "ComputeSavingsPlans, EC2InstanceSavingsPlans, or reservations: EC2, RDS, ElastiCache, OpenSearch or Redshift")
	fl.IntVar(&req.TermYears, "term", 1, "term in years: 1 or 3")
	fl.StringVar(&payment, "payment", "no", "payment option: no, partial or all (upfront)")
	fl.Float64Var(&req.HourlyCommitment, "hourly", 0, "Savings Plans: total hourly commitment in dollars (at least $0.001 per tranche)")
	fl.IntVar(&req.Count, "count", 0, "reservations: total number of instances")
	fl.StringVar(&req.InstanceType, "instance-type", "", "reservations: the instance type, DB instance class or node type, e.g. m5.large, db.r6g.large, cache.r6g.large, r6g.large.search, ra3.xlplus")
	fl.StringVar(&req.Platform, "platform", "", "reservations: the EC2 product description (default Linux/UNIX), or the RDS or ElastiCache engine, e.g. postgresql, redis")
	fl.BoolVar(&req.MultiAZ, "multi-az", false, "RDS reservations: Multi-AZ")
	fl.StringVar(&req.Region, "region", "", "region of an EC2 Instance Savings Plan or a reservation")
	fl.StringVar(&req.Family, "family", "", "EC2 Instance Savings Plans: the instance family, e.g. m5")
	fl.IntVar(&req.Tranches, "tranches", 1, "split into N equal purchases a month apart (a ladder), 1 to 12")
	fl.StringVar(&start, "start", "", "start of the first tranche, YYYY-MM-DD (default now; later dates are queued)")
	fl.StringVar(&req.Note, "note", "", "why, for the approver")
	return cmd
}

func newPlansCmd(app *App) *cobra.Command {
	p := &purchaseCLI{app: app}
	cmd := &cobra.Command{
		Use: "plans [PLAN]", Short: "List the tenant's purchase plans, or show one with its tranches and approval", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, _, err := p.open(ctx)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				v, err := purchase.Get(ctx, st, tenant, args[0])
				if err != nil {
					return err
				}
				return printPlan(app, v)
			}
			vs, err := purchase.List(ctx, st, tenant)
			if err != nil {
				return err
			}
			return app.Print(vs, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ID\tKIND\tSTATE\tTYPE\tSIZE\tTRANCHES\tSTART\tUPFRONT\tMONTHLY\tAUTHOR")
				for _, v := range vs {
					size := fmt.Sprintf("$%.3f/h", v.Plan.HourlyCommitment)
					if v.Plan.Count > 0 {
						size = fmt.Sprintf("%d × %s", v.Plan.Count, v.Plan.InstanceType)
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t$%.2f\t$%.2f\t%s\n", v.ID, v.Kind, v.State, v.Plan.Type, size, len(v.Tranches),
						v.Plan.Start.Format(time.DateOnly), v.Plan.Upfront, v.Plan.MonthlyRecurring, firstNonEmptyString(v.Person, v.CreatedBy))
				}
				return tw.Flush()
			})
		},
	}
	p.register(cmd, false)
	return cmd
}

func newPlanApproveCmd(app *App) *cobra.Command {
	p := &purchaseCLI{app: app}
	var deny bool
	var reason string
	cmd := &cobra.Command{
		Use: "approve PLAN", Short: "Approve (or --deny) a purchase plan: never your own (shared approvals model)", Args: exactArgs(1),
		Long: "Approve or deny a purchase plan's approval. Exit code 5 when you wrote the plan, 4 when it is decided or expired.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			v, err := purchase.Approve(ctx, st, tenant, args[0], !deny, reason, by)
			if err != nil {
				return err
			}
			return printPlan(app, v)
		},
	}
	p.register(cmd, false)
	cmd.Flags().BoolVar(&deny, "deny", false, "deny the plan (needs --reason)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, kept in the audit log")
	return cmd
}

func newPlanExecuteCmd(app *App) *cobra.Command {
	p := &purchaseCLI{app: app}
	cmd := &cobra.Command{
		Use: "execute PLAN", Short: "Buy an approved plan through the connection's role (safe to run again: never buys twice)", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			pl, err := st.PurchasePlan(ctx, tenant, args[0])
			if err != nil {
				return err
			}
			acct, err := p.account(ctx, st, tenant, pl.ConnectionID)
			if err != nil {
				return err
			}
			v, err := purchase.Execute(ctx, st, acct, tenant, args[0], by)
			if err != nil {
				return err
			}
			return printPlan(app, v)
		},
	}
	p.register(cmd, true)
	return cmd
}

func newPlanCancelCmd(app *App) *cobra.Command {
	p := &purchaseCLI{app: app}
	var reason string
	cmd := &cobra.Command{
		Use: "cancel PLAN", Short: "Cancel a plan: withdraws its approval, deletes its queued Savings Plans", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			open := func() (purchase.Account, error) {
				pl, err := st.PurchasePlan(ctx, tenant, args[0])
				if err != nil {
					return purchase.Account{}, err
				}
				return p.account(ctx, st, tenant, pl.ConnectionID)
			}
			v, err := purchase.Cancel(ctx, st, open, tenant, args[0], reason, by)
			if err != nil {
				return err
			}
			return printPlan(app, v)
		},
	}
	p.register(cmd, true)
	cmd.Flags().StringVar(&reason, "reason", "", "why, kept in the audit log")
	return cmd
}

func newGuardrailsCmd(app *App) *cobra.Command {
	p := &purchaseCLI{app: app}
	var g purchase.Guardrails
	cmd := &cobra.Command{
		Use: "guardrails", Short: "Show or set the tenant's purchase guardrails (0: no limit)", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			cur, err := purchase.GetGuardrails(ctx, st, tenant)
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			if fl.Changed("max-hourly-per-month") || fl.Changed("max-upfront") || fl.Changed("min-utilization") {
				if !fl.Changed("max-hourly-per-month") {
					g.MaxHourlyPerMonth = cur.MaxHourlyPerMonth
				}
				if !fl.Changed("max-upfront") {
					g.MaxUpfront = cur.MaxUpfront
				}
				if !fl.Changed("min-utilization") {
					g.MinUtilization = cur.MinUtilization
				}
				if cur, err = purchase.SetGuardrails(ctx, st, tenant, g, by); err != nil {
					return err
				}
			}
			return app.Print(cur, func(w io.Writer) error {
				fmt.Fprintf(w, "max new hourly commitment a month: %s\nmax upfront per plan: %s\nmin expected utilization: %s\n",
					limit(cur.MaxHourlyPerMonth, "$%.3f/h"), limit(cur.MaxUpfront, "$%.2f"), limit(cur.MinUtilization*100, "%.0f%%"))
				return nil
			})
		},
	}
	p.register(cmd, false)
	cmd.Flags().Float64Var(&g.MaxHourlyPerMonth, "max-hourly-per-month", 0, "most new hourly commitment (dollars an hour, upfront amortized) starting in one calendar month")
	cmd.Flags().Float64Var(&g.MaxUpfront, "max-upfront", 0, "most upfront payment of one plan, in dollars")
	cmd.Flags().Float64Var(&g.MinUtilization, "min-utilization", 0, "least expected utilization of a plan, 0-1 (0.9 for 90%)")
	return cmd
}

func limit(v float64, format string) string {
	if v == 0 {
		return "no limit"
	}
	return fmt.Sprintf(format, v)
}

// portfolio runs a renewals or sale use case over the tenant's CUR
// window in its cost engine (and the APIs' commitments through
// --connection with --aws).
func portfolio(ctx context.Context, app *App, f *commitmentFlags, fromAWS bool, access *customerAWS, regions []string,
	run func(r commitments.Reader, w commitments.Window, fromAPI []commitments.Commitment) error) error {
	return withCommitments(ctx, app, f, func(r commitments.Reader) error {
		w, err := f.window(ctx, r)
		if err != nil {
			return err
		}
		var fromAPI []commitments.Commitment
		if fromAWS {
			if fromAPI, err = inventoryFromAWS(ctx, app, access, f.tenant, crossbill.AccountID(f.account), regions); err != nil {
				return err
			}
		}
		return run(r, w, fromAPI)
	})
}

// renewalsReport is the renewals use case's answer with what it cost in
// Athena (an Athena tenant's).
type renewalsReport struct {
	purchase.RenewalsReport
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

// salesReport is the sale use case's answer with what it cost in Athena
// (an Athena tenant's).
type salesReport struct {
	purchase.SalesReport
	Athena *costs.EngineCost `json:"athena,omitempty"`
}

// parseAsOf reads --as-of (default: now).
func parseAsOf(v string) (time.Time, error) {
	if v == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, crossbill.Errorf(crossbill.CodeInvalid, "commitments renewals", "as of %q: use YYYY-MM-DD", v)
	}
	return t, nil
}

func newRenewalsCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var fromAWS, send bool
	var regions []string
	var access customerAWS
	var asOf, planID, as, note string
	cmd := &cobra.Command{
		Use:   "renewals",
		Short: "Commitments ending within 90 days, their 90/60/30-day alerts and pre-sized renewal plans",
		Long: `Commitments ending within 90 days, soonest first, each with the alert threshold it
crossed (90, 60 or 30 days) and a renewal plan sized gross: the part of the expiring
commitment that was used over the lookback, same type, term and payment, starting when
it ends. --plan COMMITMENT with --connection turns one into a purchase plan (offering,
guardrails and approval as for 'crossbill commitments plan'). The server's daily renewals
job queues the alerts (--notify does it now).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			at, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			return portfolio(ctx, app, &f, fromAWS, &access, regions, func(r commitments.Reader, w commitments.Window, fromAPI []commitments.Commitment) error {
				q := purchase.RenewalsQuery{Tenant: f.tenantID, Connection: crossbill.ConnectionID(access.connection), AsOf: at}
				if send || planID != "" {
					st, err := app.Store(ctx)
					if err != nil {
						return err
					}
					if send {
						q.Notify = purchase.Outbox(st)
					}
				}
				renewals, err := purchase.ListRenewals(ctx, r, w, fromAPI, q)
				if err != nil {
					return err
				}
				rep := renewalsReport{renewals, athena.Spent(r)}
				if planID != "" {
					if access.connection == "" {
						return crossbill.Errorf(crossbill.CodeInvalid, "commitments renewals", "--plan needs --connection: the connection whose account buys the renewal")
					}
					p := &purchaseCLI{app: app, tenant: f.tenant, as: as, hub: access.hub}
					st, tenant, by, err := p.open(ctx)
					if err != nil {
						return err
					}
					acct, err := p.account(ctx, st, tenant, q.Connection)
					if err != nil {
						return err
					}
					v, err := purchase.PlanRenewal(ctx, st, acct, tenant, q.Connection, rep.RenewalsReport, planID, note, by)
					if err != nil {
						return err
					}
					// The answer is the plan: what Athena charged goes to
					// stderr.
					commitmentsAthenaNote(app.Stderr, r)
					return printPlan(app, v)
				}
				return app.Print(rep, func(w io.Writer) error {
					if send {
						fmt.Fprintf(w, "%d renewal alert(s) queued to the tenant's channels (topic %s)\n", rep.Notified, purchase.TopicRenewal)
					}
					tw := newTable(w, 0)
					fmt.Fprintln(tw, "TYPE\tID\tENDS\tDAYS\tALERT\tUSED\tRENEWAL")
					for _, r := range rep.Renewals {
						used, plan := "unknown", r.Why
						if r.Utilization >= 0 {
							used = fmt.Sprintf("%.0f%%", r.Utilization*100)
						}
						if r.Plan != nil {
							plan = fmt.Sprintf("$%.3f/h", r.Plan.HourlyCommitment)
							if r.Plan.Count > 0 {
								plan = fmt.Sprintf("%d × %s", r.Plan.Count, r.Plan.InstanceType)
							}
							plan += fmt.Sprintf(" %dy %s from %s", r.Plan.TermYears, r.Plan.Payment, r.Plan.Start.Format(time.DateOnly))
						}
						rowf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.Commitment.Type, r.Commitment.ID, r.Commitment.End.Format(time.DateOnly), r.DaysLeft, r.Alert, used, plan)
					}
					athenaNote(tw, rep.Athena)
					return tw.Flush()
				})
			})
		},
	}
	f.register(cmd, "30d")
	cmd.Flags().BoolVar(&fromAWS, "aws", false, "also read the AWS APIs through --connection's role")
	cmd.Flags().BoolVar(&send, "notify", false, "queue each due 90/60/30-day alert to the tenant's notification channels (once per commitment and threshold)")
	cmd.Flags().StringSliceVar(&regions, "regions", []string{"us-east-1"}, "regions whose reservations to read with --aws")
	cmd.Flags().StringVar(&asOf, "as-of", "", "count the days left from this date, YYYY-MM-DD (default today): what a later date will show")
	cmd.Flags().StringVar(&planID, "plan", "", "write the renewal plan of this commitment (ID or ARN) and open its approval; needs --connection")
	cmd.Flags().StringVar(&as, "as", "", "the person writing the plan, by email")
	cmd.Flags().StringVar(&note, "note", "", "why, for the approver")
	access.register(cmd, "Savings Plans and reservations (with --aws); with --plan, the connection that buys")
	f.hub = &access.hub
	return cmd
}

func newSellCmd(app *App) *cobra.Command {
	var f commitmentFlags
	var fromAWS bool
	var regions []string
	var access customerAWS
	var discount float64
	var planRI, as, note string
	cmd := &cobra.Command{
		Use:   "sell",
		Short: "Reserved Instance Marketplace listing plans for unused Standard EC2 reservations, priced by remaining months",
		Long: `Listing plans for the EC2 reservations used under 50% over the lookback. With --plan
RESERVATION and --connection, the reservation's listing plan is stored and its approval
opened, as for a purchase: a person other than the author approves it, an admin executes
it (crossbill commitments execute) and may cancel the listing (crossbill commitments cancel).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return portfolio(ctx, app, &f, fromAWS, &access, regions, func(r commitments.Reader, w commitments.Window, fromAPI []commitments.Commitment) error {
				sales, err := purchase.ListSales(ctx, r, w, fromAPI, discount, time.Now().UTC())
				if err != nil {
					return err
				}
				rep := salesReport{sales, athena.Spent(r)}
				if planRI != "" {
					p := &purchaseCLI{app: app, tenant: f.tenant, as: as}
					st, tenant, by, err := p.open(ctx)
					if err != nil {
						return err
					}
					v, err := purchase.PlanSale(ctx, st, tenant, crossbill.ConnectionID(access.connection), rep.SalesReport, planRI, note, by)
					if err != nil {
						return err
					}
					commitmentsAthenaNote(app.Stderr, r)
					return printPlan(app, v)
				}
				return app.Print(rep, func(w io.Writer) error {
					for _, s := range rep.Sales {
						fmt.Fprintf(w, "%s: %d × %s, %.0f%% used, %d months left\n", s.Reservation.ID, s.Reservation.Count, s.Reservation.InstanceType, s.Utilization*100, s.MonthsRemaining)
						var steps []string
						for _, p := range s.Schedule {
							steps = append(steps, fmt.Sprintf("%dm $%.2f", p.Months, p.Price))
						}
						fmt.Fprintf(w, "  price schedule: %s\n", strings.Join(steps, ", "))
					}
					for _, s := range rep.Skipped {
						fmt.Fprintf(w, "not listable: %s\n", s)
					}
					athenaNote(w, rep.Athena)
					return nil
				})
			})
		},
	}
	f.register(cmd, "30d")
	cmd.Flags().Float64Var(&discount, "discount", 0.1, "ask this share below the remaining upfront value, 0-1")
	cmd.Flags().StringVar(&planRI, "plan", "", "store the listing plan of this reservation (ID) and open its approval; needs --connection")
	cmd.Flags().StringVar(&as, "as", "", "the person writing the plan, by email")
	cmd.Flags().StringVar(&note, "note", "", "why, for the approver")
	cmd.Flags().BoolVar(&fromAWS, "aws", false, "also read the AWS APIs through --connection's role")
	cmd.Flags().StringSliceVar(&regions, "regions", []string{"us-east-1"}, "regions whose reservations to read with --aws")
	access.register(cmd, "Savings Plans and reservations (with --aws)")
	f.hub = &access.hub
	return cmd
}

// planUsage reads the tenant's last 30 days of usage in its cost engine
// for a plan's expected figures, as the API does.
func planUsage(app *App, tenant string) purchase.UsageReader {
	return func(ctx context.Context, gross bool) (purchase.TenantUsage, error) {
		f := commitmentFlags{tenant: tenant, lookback: "30d", gross: gross}
		var out purchase.TenantUsage
		err := withCommitments(ctx, app, &f, func(r commitments.Reader) error {
			w, err := f.window(ctx, r)
			if err != nil {
				return err
			}
			out, err = purchase.ReadUsage(ctx, r, w, commitments.RateSources{})
			return err
		})
		return out, err
	}
}
