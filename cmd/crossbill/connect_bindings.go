package main

import (
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// newConnectBindingsCmd is `crossbill connect bindings`: which tenant holds
// which AWS account. An operator command: it reads the store directly.
func newConnectBindingsCmd(app *App) *cobra.Command {
	var tenant, account string
	cmd := &cobra.Command{
		Use:   "bindings [--tenant T] [--account ID]",
		Short: "List the AWS accounts bound to tenants, with their roles and when each was last assumed",
		Long: `An AWS account (and a role of it) is bound to a tenant by the first verification
that assumes one of its roles with that tenant's connection's external ID; from
then on no other tenant can bind it. This lists the bindings. A role without
ASSUMED has no stored verification that assumed it (bound before crossbill
required one): check it, and release the account with ` + "`crossbill connect unbind`" + ` if
the tenant does not own it.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			f := store.BindingFilter{AccountID: crossbill.AccountID(account)}
			if tenant != "" {
				t, err := s.TenantByName(ctx, tenant)
				if err != nil {
					return err
				}
				f.TenantID = t.ID
			}
			bs, err := s.Bindings(ctx, f)
			if err != nil {
				return err
			}
			return app.Print(bs, func(w io.Writer) error { return printBindings(w, bs) })
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's accounts")
	cmd.Flags().StringVar(&account, "account", "", "only this account")
	return cmd
}

func printBindings(w io.Writer, bs []store.Binding) error {
	if len(bs) == 0 {
		_, err := fmt.Fprintln(w, "no account is bound to a tenant")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tTENANT\tCONNECTION\tROLE\tSTATUS\tASSUMED")
	for _, b := range bs {
		for _, r := range b.Roles {
			assumed := "-"
			if r.AssumedAt != nil {
				assumed = r.AssumedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.AccountID, b.TenantName, r.ConnectionID, r.RoleARN, r.Status, assumed)
		}
		for _, m := range b.Members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t(organization member)\tverified\t-\n", b.AccountID, b.TenantName, m)
		}
		if len(b.Roles) == 0 && len(b.Members) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\n", b.AccountID, b.TenantName)
		}
	}
	return tw.Flush()
}

// newConnectUnbindCmd is `crossbill connect unbind ACCOUNT --reason TEXT`.
func newConnectUnbindCmd(app *App) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "unbind ACCOUNT_ID --reason TEXT",
		Short: "Release an AWS account from the tenant it is bound to (operator); writes an audit line",
		Long: `Unbind frees an AWS account from its tenant: the tenant's connections with roles
in it go back to pending without a role, its verified organization member records
go back to pending, and the audit log records who released it and why. The account
can then be bound by the next verification that assumes one of its roles with a
connection's external ID (its real owner's, or the old tenant's again if the role
still trusts that tenant's external ID).

Exit code 0 when released; 2 for a malformed account ID or a missing --reason;
3 when the account is not bound.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			b, err := s.ReleaseAccount(ctx, crossbill.AccountID(strings.TrimSpace(args[0])), store.AuditEntry{Actor: cliActor()}, reason)
			if err != nil {
				return err
			}
			return app.Print(b, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "released account %s from tenant %s (%d role(s) unbound, %d member record(s) reset)\n",
					b.AccountID, b.TenantName, len(b.Roles), len(b.Members))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log (required)")
	return cmd
}

// cliActor names the person at the terminal for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
