package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/store"
)

// accessFlags are the flags every `crossbill access` command shares.
type accessFlags struct {
	tenant, connID string
	unusedDays     int
	keyAgeDays     int
	csv            bool
}

// open returns the store and the --tenant the command reads.
func (f *accessFlags) open(ctx context.Context, app *App) (*store.Store, store.Tenant, error) {
	s, err := app.Store(ctx)
	if err != nil {
		return nil, store.Tenant{}, err
	}
	t, err := s.TenantByName(ctx, f.tenant)
	return s, t, err
}

func (f *accessFlags) add(cmd *cobra.Command, thresholds, csvOut bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.tenant, "tenant", "", "tenant the connection belongs to (required)")
	fl.StringVar(&f.connID, "connection", "", "connection to read (default: the tenant's one connection with access-read)")
	if thresholds {
		fl.IntVar(&f.unusedDays, "unused-days", 90, "days without use after which a user is dormant and a key, role or service unused")
		fl.IntVar(&f.keyAgeDays, "key-age-days", 90, "age in days past which an active access key should be rotated")
	}
	if csvOut {
		fl.BoolVar(&f.csv, "csv", false, "print the table as CSV")
	}
	if err := cmd.MarkFlagRequired("tenant"); err != nil {
		panic(err) // a flag name typo: a bug caught by every test run
	}
}

func (f *accessFlags) thresholds() (access.Thresholds, error) {
	if f.unusedDays < 1 || f.keyAgeDays < 1 {
		return access.Thresholds{}, crossbill.Errorf(crossbill.CodeInvalid, "access", "--unused-days and --key-age-days must be at least 1")
	}
	return access.Thresholds{Unused: time.Duration(f.unusedDays) * 24 * time.Hour, KeyAge: time.Duration(f.keyAgeDays) * 24 * time.Hour}, nil
}

// out prints v as JSON (--json), CSV (--csv) or a table.
func (f *accessFlags) out(app *App, v any, rows [][]string) error {
	if f.csv && !app.JSON {
		w := csv.NewWriter(app.Stdout)
		if err := w.WriteAll(rows); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, "access", "writing CSV: %w", err)
		}
		return nil
	}
	return app.Print(v, func(w io.Writer) error {
		tw := newTable(w, 0)
		for _, r := range rows {
			rowf(tw, "%s\n", strings.Join(r, "\t"))
		}
		return tw.Flush()
	})
}

func newAccessCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Access governance: who can do what in every connected account",
		Long: `Access reads IAM, IAM Identity Center and the organization's SCPs and RCPs through a
connection's access-read role (every verified member account of an organization too),
keeps each sync as a snapshot, and answers from the newest one: principals, a
principal's effective permissions with the path behind each, who can call an action,
findings, and what changed between syncs. Run ` + "`access sync`" + ` first; the server
syncs every connection with access-read daily.

Just-in-time access (the access-jit module): ` + "`access policy set`" + ` says who may request
what; ` + "`access request`" + `, ` + "`approve`" + `, ` + "`deny`" + `, ` + "`revoke`" + ` and ` + "`leases`" + ` run the leases, which a
running server grants and revokes; ` + "`access reconcile`" + ` compares them with AWS.`,
	}
	cmd.AddCommand(newAccessSyncCmd(app), newAccessPrincipalsCmd(app), newAccessShowCmd(app), newAccessWhoCanCmd(app),
		newAccessFindingsCmd(app), newAccessChangesCmd(app))
	cmd.AddCommand(newAccessJITCmds(app)...)
	return cmd
}

func newAccessSyncCmd(app *App) *cobra.Command {
	var (
		f    accessFlags
		hub  awsclient.HubOptions
		opts access.SyncOptions
	)
	cmd := &cobra.Command{
		Use:   "sync --tenant NAME",
		Short: "Read identities and entitlements now and record what changed",
		Long: `Sync reads the connection's account and every verified member account (run
` + "`connect members --verify`" + ` first for an organization), at most --concurrency accounts at
once. What cannot be read is listed per account and service and does not fail the sync;
a connection role that cannot read IAM at all does (exit 5).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, err := f.open(ctx, app)
			if err != nil {
				return err
			}
			conn, err := access.ConnectionFor(ctx, s, t.ID, crossbill.ConnectionID(f.connID))
			if err != nil {
				return err
			}
			if opts.AWS, err = app.AWS(ctx, hub); err != nil {
				return err
			}
			opts.Tenant, opts.Progress = t.Name, app.Progress
			res, err := access.Sync(ctx, s, conn, opts)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error {
				fmt.Fprintf(w, "sync %s of connection %s: %d account(s), %d principals, %d grants, %d change(s), %d part(s) unread\n",
					res.SyncID, res.ConnectionID, res.Accounts, res.Principals, res.Grants, len(res.Changes), len(res.Errors))
				for _, e := range res.Errors {
					fmt.Fprintf(w, "  unread: %s %s %s: %s\n    fix: %s\n", e.Account, e.Service, e.Operation, e.Message, orDash(e.Fix))
				}
				for _, c := range res.Changes {
					fmt.Fprintf(w, "  %s %s %s in %s: %s\n", c.Kind, c.Principal, c.Entitlement, c.Account, c.Detail)
				}
				return nil
			})
		},
	}
	f.add(cmd, false, false)
	fl := cmd.Flags()
	fl.IntVar(&opts.Concurrency, "concurrency", access.DefaultConcurrency, "accounts read at once")
	fl.StringVar(&opts.Region, "sso-region", "us-east-1", "region of the Identity Center instance")
	fl.StringVar(&hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
	fl.StringVar(&hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
	fl.StringVar(&hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	return cmd
}

func newAccessPrincipalsCmd(app *App) *cobra.Command {
	var (
		f      accessFlags
		filter access.PrincipalFilter
		acct   string
	)
	cmd := &cobra.Command{
		Use:   "principals --tenant NAME [--kind K] [--account ID] [--admin] [--search TEXT]",
		Short: "List users, roles, groups and Identity Center principals",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, err := f.open(ctx, app)
			if err != nil {
				return err
			}
			filter.Account = crossbill.AccountID(acct)
			res, err := access.Principals(ctx, s, t.ID, crossbill.ConnectionID(f.connID), filter)
			if err != nil {
				return err
			}
			rows := [][]string{{"ACCOUNT", "KIND", "NAME", "ADMIN", "GRANTS", "LAST_USED", "ID"}}
			for _, p := range res.Principals {
				rows = append(rows, []string{orDash(string(p.Account)), p.Kind, p.Name, strconv.FormatBool(p.Admin), strconv.Itoa(p.Grants), stamp(p.LastUsed), p.ID})
			}
			return f.out(app, res, rows)
		},
	}
	f.add(cmd, false, true)
	fl := cmd.Flags()
	fl.StringVar(&filter.Kind, "kind", "", "iam-user, iam-role, iam-group, sso-user or sso-group")
	fl.StringVar(&acct, "account", "", "only principals of this account")
	fl.BoolVar(&filter.Admin, "admin", false, "only admin-equivalent principals")
	fl.StringVar(&filter.Search, "search", "", "part of the name or ID")
	return cmd
}

func stamp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func newAccessShowCmd(app *App) *cobra.Command {
	var f accessFlags
	cmd := &cobra.Command{
		Use:   "show PRINCIPAL --tenant NAME",
		Short: "A principal's grants with their paths, effective permissions and findings",
		Long: `Show takes an ARN, an ID from ` + "`access principals`" + ` (sso-user:..., sso-group:...) or a
unique name. Effective permissions are listed per account, path and service: the actions
its identity policies grant that its permissions boundary, SCPs and RCPs also allow.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, err := f.open(ctx, app)
			if err != nil {
				return err
			}
			th, err := f.thresholds()
			if err != nil {
				return err
			}
			res, err := access.ShowPrincipal(ctx, s, t.ID, crossbill.ConnectionID(f.connID), args[0], th)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error {
				p := res.Principal
				fmt.Fprintf(w, "%s %s (%s), admin-equivalent: %v, last used %s\n\ngrants:\n", p.Kind, p.Name, p.ID, p.Admin, stamp(p.LastUsed))
				for _, g := range res.Grants {
					fmt.Fprintf(w, "  %-14s %-28s %s  (%s)\n", orDash(string(g.Account)), g.Kind+":"+g.Entitlement, strings.Join(g.Path, " → "), g.Kind)
				}
				fmt.Fprintln(w, "\neffective permissions:")
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ACCOUNT\tPATH\tSERVICE\tALLOWED\tDENIED\tACTIONS")
				for _, sp := range res.Permissions {
					acts := strings.Join(sp.Actions, ",")
					if len(acts) > 60 {
						acts = acts[:57] + "..."
					}
					rowf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%s\n", sp.Account, strings.Join(sp.Path, " → "), sp.Service, sp.Allowed, sp.Of, sp.Denied, acts)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if len(res.Findings) > 0 {
					fmt.Fprintln(w, "\nfindings:")
				}
				for _, fd := range res.Findings {
					fmt.Fprintf(w, "  [%s] %s: %s\n    fix: %s\n", fd.Severity, fd.Title, fd.Evidence, fd.Fix)
				}
				return nil
			})
		},
	}
	f.add(cmd, true, false)
	return cmd
}

func newAccessWhoCanCmd(app *App) *cobra.Command {
	var f accessFlags
	cmd := &cobra.Command{
		Use:   "who-can ACTION [RESOURCE] --tenant NAME",
		Short: "Who may call an action (on a resource) across the organization, and through what",
		Long: `Who-can evaluates every IAM user and role and every Identity Center user (in each
account a permission set gives it) with their identity policies, permissions boundary,
SCPs, RCPs and explicit denies. A RESOURCE ARN that names an account narrows the answer
to that account; resource-based policies are not evaluated.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, err := f.open(ctx, app)
			if err != nil {
				return err
			}
			resource := ""
			if len(args) == 2 {
				resource = args[1]
			}
			res, err := access.WhoCanDo(ctx, s, t.ID, crossbill.ConnectionID(f.connID), args[0], resource)
			if err != nil {
				return err
			}
			rows := [][]string{{"ACCOUNT", "KIND", "NAME", "DECISION", "PATH"}}
			for _, a := range res.Answers {
				rows = append(rows, []string{string(a.Account), a.Kind, a.Name, string(a.Decision), strings.Join(a.Path, " → ")})
			}
			return f.out(app, res, rows)
		},
	}
	f.add(cmd, false, true)
	return cmd
}

func newAccessFindingsCmd(app *App) *cobra.Command {
	var (
		f   accessFlags
		min string
	)
	cmd := &cobra.Command{
		Use:   "findings --tenant NAME [--severity high]",
		Short: "Findings of the newest sync, with severity, evidence and fix",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, err := f.open(ctx, app)
			if err != nil {
				return err
			}
			th, err := f.thresholds()
			if err != nil {
				return err
			}
			res, err := access.FindingsFor(ctx, s, t.ID, crossbill.ConnectionID(f.connID), th, policy.Severity(min))
			if err != nil {
				return err
			}
			rows := [][]string{{"SEVERITY", "ID", "ACCOUNT", "NAME", "TITLE", "EVIDENCE", "FIX"}}
			for _, fd := range res.Findings {
				rows = append(rows, []string{string(fd.Severity), fd.ID, orDash(string(fd.Account)), fd.Name, fd.Title, fd.Evidence, fd.Fix})
			}
			if !f.csv && !app.JSON {
				for i := range rows {
					rows[i] = rows[i][:5] // the table keeps to one line per finding; --csv and --json have all
				}
			}
			return f.out(app, res, rows)
		},
	}
	f.add(cmd, true, true)
	cmd.Flags().StringVar(&min, "severity", "", "only findings at or above: info, low, medium, high, critical")
	return cmd
}

func newAccessChangesCmd(app *App) *cobra.Command {
	var (
		f     accessFlags
		since string
	)
	cmd := &cobra.Command{
		Use:   "changes --tenant NAME [--since 24h|2026-03-01|RFC3339]",
		Short: "What the syncs since a time found changed: entitlements gained or lost, new outside trust",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			at, err := parseSince(since, time.Now())
			if err != nil {
				return err
			}
			s, t, err := f.open(ctx, app)
			if err != nil {
				return err
			}
			res, err := access.ChangesSince(ctx, s, t.ID, crossbill.ConnectionID(f.connID), at)
			if err != nil {
				return err
			}
			rows := [][]string{{"AT", "KIND", "ACCOUNT", "PRINCIPAL", "ENTITLEMENT", "DETAIL"}}
			for _, c := range res.Changes {
				rows = append(rows, []string{c.At.Format(time.RFC3339), c.Kind, string(c.Account), c.Principal, c.Entitlement, c.Detail})
			}
			return f.out(app, res, rows)
		},
	}
	f.add(cmd, false, true)
	cmd.Flags().StringVar(&since, "since", "24h", "a duration before now (24h, 168h), a date (2026-03-01) or an RFC 3339 time")
	return cmd
}

// parseSince reads --since: a duration back from now, a date or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, crossbill.Errorf(crossbill.CodeInvalid, "access changes", "--since %q: give a duration (24h), a date (2026-03-01) or an RFC 3339 time", s)
}
