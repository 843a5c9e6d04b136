package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/store"
)

// jitFlags are the flags the just-in-time commands share: the tenant, the
// person acting (the CLI has no sign-in: --as names them, as for
// `approvals approve`) and the hub's AWS access for the commands that reach AWS.
type jitFlags struct {
	tenant, user string
	hub          awsclient.HubOptions
}

func (f *jitFlags) add(cmd *cobra.Command, user, aws bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.tenant, "tenant", "", "tenant (required)")
	if err := cmd.MarkFlagRequired("tenant"); err != nil {
		panic(err)
	}
	if user {
		fl.StringVar(&f.user, "as", "", "the person acting, by email (required; the CLI has no sign-in)")
		if err := cmd.MarkFlagRequired("as"); err != nil {
			panic(err)
		}
	}
	if aws {
		fl.StringVar(&f.hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
		fl.StringVar(&f.hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
		fl.StringVar(&f.hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	}
}

func (f *jitFlags) open(ctx context.Context, app *App, aws bool) (*store.Store, store.Tenant, jit.Options, error) {
	var opts jit.Options
	s, err := app.Store(ctx)
	if err != nil {
		return nil, store.Tenant{}, opts, err
	}
	t, err := s.TenantByName(ctx, f.tenant)
	if err != nil {
		return nil, store.Tenant{}, opts, err
	}
	if aws {
		if opts.AWS, err = app.AWS(ctx, f.hub); err != nil {
			return nil, store.Tenant{}, opts, err
		}
	}
	return s, t, opts, nil
}

func (f *jitFlags) by() store.AuditEntry {
	e := store.AuditEntry{Actor: cliActor()}
	if f.user != "" {
		e.PersonEmail = strings.ToLower(f.user)
	}
	return e
}

func printLease(app *App, l jit.Lease) error {
	return app.Print(l, func(w io.Writer) error {
		fmt.Fprintf(w, "lease %s: %s\n", l.ID, l.State)
		var t jit.Target
		_ = json.Unmarshal(l.Target, &t)
		fmt.Fprintf(w, "  %s for %s (%s), %s, policy %s\n", t, l.Requester, l.PrincipalName, time.Duration(l.DurationS)*time.Second, l.Policy)
		if l.ExpiresAt != nil {
			fmt.Fprintf(w, "  expires %s (%s left)\n", l.ExpiresAt.Format(time.RFC3339), time.Duration(l.RemainingS)*time.Second)
		}
		if l.ApprovalID != "" {
			fmt.Fprintf(w, "  approval %s\n", l.ApprovalID)
		}
		if l.LastError != "" {
			fmt.Fprintf(w, "  retrying (%d attempt(s)): %s\n", l.Attempts, l.LastError)
		}
		return nil
	})
}

func newAccessJITCmds(app *App) []*cobra.Command {
	return []*cobra.Command{newAccessRequestCmd(app), newAccessDecideCmd(app, true), newAccessDecideCmd(app, false), newAccessRevokeCmd(app),
		newAccessLeasesCmd(app), newAccessReconcileCmd(app), newAccessPolicyCmd(app)}
}

func newAccessRequestCmd(app *App) *cobra.Command {
	var (
		f       jitFlags
		in      jit.RequestInput
		account string
		dur     time.Duration
		conn    string
	)
	cmd := &cobra.Command{
		Use:   "request --tenant T --as EMAIL --policy P (--permission-set ARN|NAME | --group NAME) --account ID --duration 1h --reason TEXT",
		Short: "Request just-in-time access: a permission set in an account, or a crossbill-jit/ IAM group",
		Long: `Request checks the policy (the person may request, the target is allowed, the duration is
within its maximum) and the module's scope (a permission set tagged crossbill-jit=allowed, a
group under /crossbill-jit/), maps the person to their Identity Center user (user name = email)
or IAM user, and files the request: approved at once by break-glass or an auto-approval rule,
else waiting for its approvers (` + "`access approve`" + `, or the approvals inbox). A running server
grants it once approved and revokes it at expiry. --extends LEASE asks for more time: a new
lease on the same target.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, opts, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			in.Tenant, in.TenantName, in.Duration, in.Connection = t.ID, t.Name, jit.Duration(dur), crossbill.ConnectionID(conn)
			in.Target.Account = crossbill.AccountID(account)
			l, err := jit.Request(ctx, s, in, f.by(), opts)
			if err != nil {
				return err
			}
			return printLease(app, l)
		},
	}
	f.add(cmd, true, true)
	fl := cmd.Flags()
	fl.StringVar(&in.Policy, "policy", "", "the eligibility policy the request relies on (required)")
	fl.StringVar(&in.Target.PermissionSet, "permission-set", "", "permission set ARN or name")
	fl.StringVar(&in.Target.Group, "group", "", "IAM group name (under /crossbill-jit/)")
	fl.StringVar(&account, "account", "", "the account (required)")
	fl.DurationVar(&dur, "duration", time.Hour, "how long")
	fl.StringVar(&in.Reason, "reason", "", "why (required)")
	fl.StringVar(&in.Extends, "extends", "", "a lease this one extends")
	fl.StringVar(&conn, "connection", "", "connection with access-jit (default: the tenant's one)")
	for _, n := range []string{"policy", "account", "reason"} {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err)
		}
	}
	return cmd
}

func newAccessDecideCmd(app *App, approve bool) *cobra.Command {
	var (
		f      jitFlags
		reason string
	)
	verb := map[bool]string{true: "approve", false: "deny"}[approve]
	cmd := &cobra.Command{
		Use:   verb + " LEASE --tenant T --as EMAIL [--reason TEXT]",
		Short: map[bool]string{true: "Approve a request (never your own)", false: "Deny a request, with the reason"}[approve],
		Long: `The decision goes to the lease's approval (the same one the approvals inbox shows): the
requester cannot decide their own request, a policy may name the approvers and want two.
An approved lease is granted at once.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, opts, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			l, err := jit.Decide(ctx, s, t.ID, args[0], approve, reason, f.by(), opts)
			if err != nil {
				return err
			}
			return printLease(app, l)
		},
	}
	f.add(cmd, true, true)
	cmd.Flags().StringVar(&reason, "reason", "", "the reason (required to deny)")
	return cmd
}

func newAccessRevokeCmd(app *App) *cobra.Command {
	var (
		f      jitFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "revoke LEASE --tenant T --reason TEXT [--as EMAIL]",
		Short: "End a lease now: a waiting request is cancelled, a grant removed (kept while another lease shares it)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, opts, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			l, err := jit.Revoke(ctx, s, t.ID, args[0], reason, true, f.by(), opts)
			if err != nil {
				return err
			}
			return printLease(app, l)
		},
	}
	f.add(cmd, false, true)
	cmd.Flags().StringVar(&f.user, "as", "", "the person revoking, by email")
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	return cmd
}

func newAccessLeasesCmd(app *App) *cobra.Command {
	var (
		f      jitFlags
		states string
		trail  string
	)
	cmd := &cobra.Command{
		Use:   "leases --tenant T [--state active,requested] [--trail LEASE]",
		Short: "List just-in-time leases with the time each active one has left, or one lease's audit trail",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, opts, err := f.open(ctx, app, false)
			if err != nil {
				return err
			}
			if trail != "" {
				lines, err := jit.Trail(ctx, s, t.ID, trail)
				if err != nil {
					return err
				}
				return app.Print(lines, func(w io.Writer) error {
					tw := newTable(w, 0)
					rowf(tw, "%s\t%s\t%s\t%s\t%s\n", "AT", "ACTION", "ACTOR", "PERSON", "DETAIL")
					for _, e := range lines.Lines {
						rowf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Action, e.Actor, orDash(e.PersonEmail), string(e.Detail))
					}
					return tw.Flush()
				})
			}
			var st []string
			if states != "" {
				st = strings.Split(states, ",")
			}
			ls, err := jit.Leases(ctx, s, t.ID, st, opts)
			if err != nil {
				return err
			}
			return app.Print(ls, func(w io.Writer) error {
				tw := newTable(w, 0)
				rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", "LEASE", "STATE", "REQUESTER", "TARGET", "LEFT", "POLICY")
				for _, l := range ls.Leases {
					var t jit.Target
					_ = json.Unmarshal(l.Target, &t)
					left := "-"
					if l.RemainingS > 0 {
						left = (time.Duration(l.RemainingS) * time.Second).String()
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.State, l.Requester, t.String(), left, l.Policy)
				}
				return tw.Flush()
			})
		},
	}
	f.add(cmd, false, false)
	cmd.Flags().StringVar(&states, "state", "", "only these states (comma-separated)")
	cmd.Flags().StringVar(&trail, "trail", "", "print this lease's audit trail instead")
	return cmd
}

func newAccessReconcileCmd(app *App) *cobra.Command {
	var (
		f    jitFlags
		conn string
		full bool
	)
	cmd := &cobra.Command{
		Use:   "reconcile --tenant T [--full]",
		Short: "Compare leases with AWS now: remove expired grants, put back missing ones, report out-of-band grants",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, opts, err := f.open(ctx, app, true)
			if err != nil {
				return err
			}
			c, err := jit.Connection(ctx, s, t.ID, crossbill.ConnectionID(conn))
			if err != nil {
				return err
			}
			scope := jit.ScopeDue
			if full {
				scope = jit.ScopeFull
			}
			res, err := jit.Reconcile(ctx, s, t.ID, c.ID, scope, opts, 8)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error {
				what := "leased"
				if res.Full {
					what = "every managed"
				}
				fmt.Fprintf(w, "%d %s target(s) in %d ms, %d drift(s)\n", res.Targets, what, res.DurationMS, len(res.Drifts))
				for _, d := range res.Drifts {
					fmt.Fprintf(w, "  %s: %s on %s %s\n", d.Kind, d.Principal, d.Target, d.Error)
				}
				for _, e := range res.Errors {
					fmt.Fprintf(w, "  error: %s\n", e)
				}
				return nil
			})
		},
	}
	f.add(cmd, false, true)
	cmd.Flags().StringVar(&conn, "connection", "", "connection with access-jit (default: the tenant's one)")
	cmd.Flags().BoolVar(&full, "full", false, "list every managed target (each policy's accounts x permission sets) now; default: the leased targets, and all of them when the daily full pass is due")
	return cmd
}

func newAccessPolicyCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Just-in-time eligibility policies: set FILE|-, list, show NAME, delete NAME",
	}
	var f jitFlags
	set := &cobra.Command{
		Use:   "set FILE|- --tenant T",
		Short: "Create or replace a policy from its JSON (see docs/jit.md)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, _, err := f.open(ctx, app, false)
			if err != nil {
				return err
			}
			var data []byte
			if args[0] == "-" {
				data, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, "jit policy", "reading %s: %v", args[0], err)
			}
			var p jit.Policy
			dec := json.NewDecoder(strings.NewReader(string(data)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, "jit policy", "%s is not a policy: %v", args[0], err)
			}
			out, err := jit.SetPolicy(ctx, s, t.ID, p, store.AuditEntry{Actor: cliActor()})
			if err != nil {
				return err
			}
			return app.Print(out, func(w io.Writer) error { _, err := fmt.Fprintf(w, "policy %s set\n", out.Name); return err })
		},
	}
	f.add(set, false, false)
	var lf jitFlags
	list := &cobra.Command{
		Use:   "list --tenant T",
		Short: "List the tenant's policies: targets, maximum duration, who approves",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, _, err := lf.open(ctx, app, false)
			if err != nil {
				return err
			}
			ps, err := jit.Policies(ctx, s, t.ID)
			if err != nil {
				return err
			}
			return app.Print(jit.PolicyList{Policies: ps}, func(w io.Writer) error {
				tw := newTable(w, 0)
				rowf(tw, "%s\t%s\t%s\t%s\n", "NAME", "TARGETS", "MAX", "APPROVAL")
				for _, p := range ps {
					how := "any approver"
					switch {
					case p.BreakGlass:
						how = "break-glass"
					case p.TwoPerson:
						how = "two-person"
					case len(p.Approvers) > 0:
						how = strings.Join(p.Approvers, ",")
					}
					rowf(tw, "%s\t%d\t%s\t%s\n", p.Name, len(p.Targets), time.Duration(p.MaxDuration), how)
				}
				return tw.Flush()
			})
		},
	}
	lf.add(list, false, false)
	var sf jitFlags
	show := &cobra.Command{
		Use:   "show NAME --tenant T",
		Short: "Print one policy as JSON (the shape policy set reads)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, _, err := sf.open(ctx, app, false)
			if err != nil {
				return err
			}
			p, err := jit.LoadPolicy(ctx, s, t.ID, args[0])
			if err != nil {
				return err
			}
			return app.Print(p, func(w io.Writer) error {
				b, _ := json.MarshalIndent(p, "", "  ")
				_, err := fmt.Fprintln(w, string(b))
				return err
			})
		},
	}
	sf.add(show, false, false)
	var df jitFlags
	del := &cobra.Command{
		Use:   "delete NAME --tenant T",
		Short: "Delete a policy (the leases it allowed run to their end)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, _, err := df.open(ctx, app, false)
			if err != nil {
				return err
			}
			if err := jit.DeletePolicy(ctx, s, t.ID, args[0], store.AuditEntry{Actor: cliActor()}); err != nil {
				return err
			}
			return app.Print(map[string]string{"deleted": args[0]}, func(w io.Writer) error { _, err := fmt.Fprintf(w, "policy %s deleted\n", args[0]); return err })
		},
	}
	df.add(del, false, false)
	cmd.AddCommand(set, list, show, del)
	return cmd
}
