package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// newConnectMembersCmd is `crossbill connect members`: list the member
// accounts of a connected organization and check that the members stack
// put a working role into each.
func newConnectMembersCmd(app *App) *cobra.Command {
	var (
		tenant string
		connID string
		hub    awsclient.HubOptions
		opts   verify.MembersOptions
	)
	cmd := &cobra.Command{
		Use:   "members --tenant NAME [--verify]",
		Short: "List an organization's member accounts and verify the crossbill role in each",
		Long: `Members reads the AWS Organization through the connection's role (which must be in
the management account or a delegated administrator, with the org module), stores its
accounts, and marks those that left the organization as gone (their record is kept).

With --verify it then checks every ACTIVE member account other than the connection's
own: the hub assumes the role the members stack put there (--role-name, same external
ID), the session must be in that account, the role must refuse a missing or wrong
external ID, and each member module's probe must pass. Up to --concurrency accounts are
checked at once. An account another tenant already connected is reported as a
conflict and never checked.

Exit code 0 when every member checked is verified (or without --verify); 5 when some
failed; 4 when the only problem is accounts owned by another tenant; 6 when the hub has
no AWS credentials; 2 for bad input (not a management account, no org module);
3 for an unknown tenant or connection.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			t, err := s.TenantByName(ctx, tenant)
			if err != nil {
				return err
			}
			conn, err := verify.MembersOf(ctx, s, t, crossbill.ConnectionID(connID))
			if err != nil {
				return err
			}
			if opts.AWS, err = app.AWS(ctx, hub); err != nil {
				return err
			}
			opts.Tenant = t.Name
			opts.Progress = app.Progress
			res, err := verify.Members(ctx, s, conn, opts)
			if err != nil {
				return err
			}
			app.Progress("%s", res.Summary)
			if err := app.Print(res, func(w io.Writer) error { return printMembers(w, res) }); err != nil {
				return err
			}
			return res.Err()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant the connection belongs to (required)")
	fl.StringVar(&connID, "connection", "", "connection of the management account (default: the tenant's one connection with the org module)")
	fl.StringVar(&opts.RoleName, "role-name", onboarding.DefaultRoleName, "role name the members stack puts into every member account")
	fl.BoolVar(&opts.Verify, "verify", false, "check every ACTIVE member's role (default: list only)")
	fl.IntVar(&opts.Concurrency, "concurrency", verify.DefaultMemberConcurrency, "member accounts checked at once (1-64)")
	fl.BoolVar(&opts.IncludePaid, "include-paid", false, "also make probes that cost the customer money (Cost Explorer, $0.01 each per member)")
	fl.StringVar(&hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
	fl.StringVar(&hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
	fl.StringVar(&hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	if err := cmd.MarkFlagRequired("tenant"); err != nil {
		panic(err) // a flag name typo: a bug caught by every test run
	}
	return cmd
}

func printMembers(w io.Writer, r verify.MembersResult) error {
	fmt.Fprintf(w, "organization %s, management account %s, connection %s (tenant %s)\n", r.OrganizationID, r.ManagementAccount, r.ConnectionID, r.Tenant)
	fmt.Fprintf(w, "%s (role %s, %s)\n\n", r.Summary, r.RoleName, (time.Duration(r.DurationMS) * time.Millisecond).String())
	tw := newTable(w, 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tSTATE\tSTATUS\tCLASS\tCHECKED")
	for _, m := range r.Members {
		state := m.State
		if m.Gone() {
			state = "GONE " + m.GoneAt.Format(time.DateOnly)
		}
		checked := "-"
		if m.CheckedAt != nil {
			checked = m.CheckedAt.Format(time.RFC3339)
		}
		rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.AccountID, orDash(m.Name), orDash(state), m.Status, orDash(m.Class), checked)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range r.Members {
		if m.Gone() || (m.Status != store.MemberFailed && m.Status != store.MemberConflict) {
			continue
		}
		if _, err := fmt.Fprintf(w, "\n%s (%s): %s\n  fix: %s\n", m.AccountID, m.Name, m.Message, m.Fix); err != nil {
			return err
		}
	}
	if len(r.Gone) > 0 {
		if _, err := fmt.Fprintf(w, "\nleft the organization since the last run (kept, marked gone): %v\n", r.Gone); err != nil {
			return err
		}
	}
	if !r.Verified {
		if _, err := fmt.Fprintf(w, "\nmember roles not checked: run again with --verify\n"); err != nil {
			return err
		}
	}
	return nil
}
