package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

// newAlertsCmd: notification channels, the delivery log and alert rules,
// the same use cases as the API's .../alerts routes.
func newAlertsCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Alerts: notification channels (webhook, Slack, email), alert rules, the delivery log",
	}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant (required)")
	open := func(ctx context.Context) (*store.Store, store.Tenant, error) {
		if tenant == "" {
			return nil, store.Tenant{}, crossbill.Errorf(crossbill.CodeInvalid, "alerts", "--tenant is required")
		}
		st, err := app.Store(ctx)
		if err != nil {
			return nil, store.Tenant{}, err
		}
		t, err := st.TenantByName(ctx, tenant)
		return st, t, err
	}
	costStoreFlags(cmd, app)
	cmd.AddCommand(newAlertsChannelCmd(app, open), newAlertsRuleCmd(app, open), newAlertsDeliveriesCmd(app, open))
	return cmd
}

type alertsOpener func(ctx context.Context) (*store.Store, store.Tenant, error)

func printChannels(app *App, cs []store.NotifyChannel) error {
	return app.Print(cs, func(w io.Writer) error {
		tw := newTable(w, 0)
		fmt.Fprintln(tw, "NAME\tID\tKIND\tTARGET\tTOPICS\tSNOOZED UNTIL")
		for _, c := range cs {
			snoozed := ""
			if c.SnoozedUntil != nil {
				snoozed = c.SnoozedUntil.Format(time.RFC3339)
			}
			rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.ID, c.Kind, c.Target, strings.Join(c.Topics, ","), snoozed)
		}
		return tw.Flush()
	})
}

func newAlertsChannelCmd(app *App, open alertsOpener) *cobra.Command {
	cmd := &cobra.Command{Use: "channel", Short: "Notification channels: add, list, remove, test, snooze"}
	var req notify.ChannelRequest
	var urlFile, passwordFile string
	add := &cobra.Command{
		Use: "add NAME", Short: "Add a channel; a webhook's signing secret is printed this once", Args: exactArgs(1),
		Long: `Add a notification channel:
  --kind webhook --url https://...      JSON POST, signed: X-Crossbill-Signature: v1=HMAC-SHA256(secret, X-Crossbill-Timestamp + "." + body)
  --kind slack --url-file FILE          a Slack-compatible incoming webhook (its URL is a secret: give it in a file, or --url)
  --kind email --smtp-addr HOST:PORT --from ADDR --to ADDR[,ADDR] [--smtp-user USER --smtp-password-file FILE]
Secrets (URLs, signing secret, SMTP password) are sealed in the store with the server's key (env CROSSBILL_SECRET_KEY, the same on every replica, or secret.key in the data directory).
--topics picks the messages: alert.budget, alert.* (every alert), * (default: all).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			if urlFile != "" {
				b, err := os.ReadFile(urlFile)
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "channel add", "reading --url-file: %v", err)
				}
				req.URL = strings.TrimSpace(string(b))
			}
			if passwordFile != "" {
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "channel add", "reading --smtp-password-file: %v", err)
				}
				req.Password = strings.TrimRight(string(b), "\r\n")
			} else if v := os.Getenv("CROSSBILL_SMTP_PASSWORD"); v != "" && req.Username != "" {
				req.Password = v
			}
			req.Tenant, req.Name, req.By = t.ID, args[0], store.AuditEntry{Actor: cliActor()}
			a, err := notify.AddChannel(ctx, st, req)
			if err != nil {
				return err
			}
			return app.Print(a, func(w io.Writer) error {
				fmt.Fprintf(w, "channel %s (%s): %s %s, topics %s\n", a.Channel.Name, a.Channel.ID, a.Channel.Kind, a.Channel.Target, strings.Join(a.Channel.Topics, ","))
				if a.Secret != "" {
					fmt.Fprintf(w, "signing secret (shown once; the receiver verifies %s with it): %s\n", notify.SignatureHeader, a.Secret)
				}
				return nil
			})
		},
	}
	fl := add.Flags()
	fl.StringVar(&req.Kind, "kind", "", "webhook, slack or email (required)")
	fl.StringSliceVar(&req.Topics, "topics", nil, "topics to receive: alert.budget, alert.* or * (default *)")
	fl.StringVar(&req.URL, "url", "", "webhook or slack: the receiver's https:// URL")
	fl.StringVar(&urlFile, "url-file", "", "webhook or slack: a file holding the URL (keeps a Slack URL out of the shell history)")
	fl.StringVar(&req.SMTPAddr, "smtp-addr", "", "email: the SMTP server, host:port (STARTTLS when offered)")
	fl.StringVar(&req.From, "from", "", "email: the sender address")
	fl.StringSliceVar(&req.To, "to", nil, "email: recipients")
	fl.StringVar(&req.Username, "smtp-user", "", "email: SMTP login (the password from --smtp-password-file or env CROSSBILL_SMTP_PASSWORD)")
	fl.StringVar(&passwordFile, "smtp-password-file", "", "email: a file holding the SMTP password")

	list := &cobra.Command{
		Use: "list", Short: "List the tenant's channels (no secrets)", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := notify.Channels(cmd.Context(), st, t.ID)
			if err != nil {
				return err
			}
			return printChannels(app, cs)
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a channel (its pending deliveries are dropped)", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			c, err := notify.RemoveChannel(cmd.Context(), st, t.ID, args[0], store.AuditEntry{Actor: cliActor()})
			if err != nil {
				return err
			}
			return app.Print(c, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "removed channel %s (%s)\n", c.Name, c.ID)
				return err
			})
		},
	}
	test := &cobra.Command{
		Use: "test NAME", Short: "Send a test message now, once; exit 6 with the receiver's answer when it fails", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			it, err := notify.TestChannel(cmd.Context(), st, t.ID, args[0], notify.Options{})
			if err != nil {
				return err
			}
			return app.Print(it, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "delivered test message %s to %s\n", it.ID, it.ChannelName)
				return err
			})
		},
	}
	var snoozeFor time.Duration
	snooze := &cobra.Command{
		Use: "snooze NAME --for 24h", Short: "Snooze a channel (--for 0 ends it): messages meanwhile are logged as snoozed, not sent", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			c, err := notify.Snooze(cmd.Context(), st, t.ID, args[0], snoozeFor, store.AuditEntry{Actor: cliActor()})
			if err != nil {
				return err
			}
			return printChannels(app, []store.NotifyChannel{c})
		},
	}
	snooze.Flags().DurationVar(&snoozeFor, "for", 24*time.Hour, "how long, up to 90 days (2160h); 0 ends the snooze")
	cmd.AddCommand(add, list, remove, test, snooze)
	return cmd
}

func newAlertsDeliveriesCmd(app *App, open alertsOpener) *cobra.Command {
	var channel string
	var limit int
	var deliver bool
	cmd := &cobra.Command{
		Use: "deliveries", Short: "The delivery log, newest first (--deliver: send what is due now, as the server's notify job does)", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			if deliver {
				if _, err := notify.Deliver(ctx, st, t.ID, notify.Options{}); err != nil {
					return err
				}
			}
			log, err := notify.Log(ctx, st, t.ID, channel, limit)
			if err != nil {
				return err
			}
			return app.Print(log, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "CREATED\tCHANNEL\tTOPIC\tSTATUS\tATTEMPTS\tSUBJECT\tLAST ERROR")
				for _, it := range log {
					rowf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", it.CreatedAt.Format(time.RFC3339), it.ChannelName, it.Topic, it.Status, it.Attempts, it.Subject, it.LastError)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many lines (up to 1000)")
	cmd.Flags().BoolVar(&deliver, "deliver", false, "first deliver the due messages (one attempt each; retries stay queued)")
	return cmd
}

func printRules(app *App, rs []store.AlertRule) error {
	return app.Print(rs, func(w io.Writer) error {
		tw := newTable(w, 0)
		fmt.Fprintln(tw, "NAME\tID\tKIND\tPARAMS\tLAST RUN\tFIRED\tERROR")
		for _, r := range rs {
			last := ""
			if r.LastRunAt != nil {
				last = r.LastRunAt.Format(time.RFC3339)
			}
			rowf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Name, r.ID, r.Kind, string(r.Params), last, r.LastFired, r.LastError)
		}
		return tw.Flush()
	})
}

func newAlertsRuleCmd(app *App, open alertsOpener) *cobra.Command {
	cmd := &cobra.Command{Use: "rule", Short: "Alert rules: add, list, remove, evaluate"}
	var req alerts.RuleRequest
	add := &cobra.Command{
		Use: "add NAME --kind KIND", Short: "Add an alert rule (the server evaluates rules daily and after each ingest)", Args: exactArgs(1),
		Long: `Kinds and their flags:
  budget --amount USD [--scope account=ID|service=NAME|tag:KEY=VALUE] [--percent 80] [--forecast]
  anomaly [--min-amount 10] [--days 7]
  commitment-expiry [--days 30]
  commitment-utilization [--below 80] [--days 7]
  savings [--min-amount 50]           (new optimization recommendations, once internal/optimize is wired)
  access-finding [--findings admin-equivalent,outside-trust]
  event [--events CreateUser,aws.organizations] [--days 1]   (real-time events of the connections' events stacks)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			req.Tenant, req.Name, req.By = t.ID, args[0], store.AuditEntry{Actor: cliActor()}
			r, err := alerts.AddRule(cmd.Context(), st, req)
			if err != nil {
				return err
			}
			return printRules(app, []store.AlertRule{r})
		},
	}
	fl := add.Flags()
	fl.StringVar(&req.Kind, "kind", "", strings.Join(alerts.Kinds(), ", ")+" (required)")
	fl.Float64Var(&req.Params.Amount, "amount", 0, "budget: the monthly budget, USD")
	fl.StringVar(&req.Params.Scope, "scope", "", "budget: a cost filter (account=ID, service=NAME, tag:KEY=VALUE); default the whole tenant")
	fl.Float64Var(&req.Params.Percent, "percent", 0, "budget: fire at this share of the amount (default 100)")
	fl.BoolVar(&req.Params.Forecast, "forecast", false, "budget: the month's forecast fires too")
	fl.Float64Var(&req.Params.MinAmount, "min-amount", 0, "anomaly: smallest change, USD (default 10); savings: smallest monthly saving (default 50)")
	fl.IntVar(&req.Params.Days, "days", 0, "commitment-expiry: within N days (default 30); anomaly, commitment-utilization: look back N days (default 7)")
	fl.Float64Var(&req.Params.BelowPct, "below", 0, "commitment-utilization: fire below this utilization percent (default 80)")
	fl.StringSliceVar(&req.Params.Findings, "findings", nil, "access-finding: admin-equivalent, outside-trust (default both)")
	fl.StringSliceVar(&req.Params.Events, "events", nil, "event: CloudTrail event names or sources (aws.iam); default every event")

	list := &cobra.Command{
		Use: "list", Short: "List the tenant's rules with their last evaluation", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			rs, err := alerts.Rules(cmd.Context(), st, t.ID)
			if err != nil {
				return err
			}
			return printRules(app, rs)
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a rule", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, t, err := open(cmd.Context())
			if err != nil {
				return err
			}
			r, err := alerts.RemoveRule(cmd.Context(), st, t.ID, args[0], store.AuditEntry{Actor: cliActor()})
			if err != nil {
				return err
			}
			return app.Print(r, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "removed rule %s (%s)\n", r.Name, r.ID)
				return err
			})
		},
	}
	var dry bool
	evaluate := &cobra.Command{
		Use: "evaluate [NAME]", Short: "Evaluate the rules now (or one): new firings are queued to the channels (the server's notify job, or `alerts deliveries --deliver`, sends them)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			only := ""
			if len(args) == 1 {
				only = args[0]
			}
			var rep alerts.Report
			// An Athena tenant's budget and anomaly rules ask Athena
			// (the hub from the environment's AWS configuration).
			hub := func(ctx context.Context) (*awsclient.Factory, error) { return app.AWS(ctx, awsclient.HubOptions{}) }
			eng, err := athena.Engines{Store: st, OpenAWS: hub}.Athena(ctx, t.ID)
			if err != nil {
				return err
			}
			err = withTenantCosts(ctx, app, t.ID, func(cs *costs.Store) error {
				var err error
				rep, err = alerts.Evaluate(ctx, st, t.ID, alerts.Sources{Costs: cs, Savings: alerts.OptimizeSavings{Store: st}, Engine: eng, Commitments: athena.CommitmentsOf(eng)}, only, dry)
				return err
			})
			if err != nil {
				return err
			}
			return app.Print(rep, func(w io.Writer) error {
				for _, r := range rep.Rules {
					if r.Error != "" {
						fmt.Fprintf(w, "%s (%s): not evaluated: %s\n", r.Rule, r.Kind, crossbill.Printable(r.Error))
						continue
					}
					fmt.Fprintf(w, "%s (%s): %d firing(s)\n", r.Rule, r.Kind, len(r.Firings))
					for _, f := range r.Firings {
						state := "new"
						switch {
						case rep.DryRun:
							state = "would fire"
						case f.Deduplicated:
							state = "sent before"
						}
						fmt.Fprintf(w, "  [%s] %s\n", state, crossbill.Printable(f.Subject))
					}
				}
				_, err := fmt.Fprintf(w, "%d new firing(s)%s\n", rep.Fired, map[bool]string{true: " (dry run: nothing sent)", false: ""}[rep.DryRun])
				return err
			})
		},
	}
	evaluate.Flags().BoolVar(&dry, "dry-run", false, "report what would fire; send nothing")
	cmd.AddCommand(add, list, remove, evaluate)
	return cmd
}
