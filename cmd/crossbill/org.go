package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/store"
)

// newOrgCmd is the hub's commitment-sharing organization: invitations of
// customer accounts, with the hub's own credentials (its management
// account).
func newOrgCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "org",
		Short: "The hub's commitment-sharing organization: invite a customer account, track the invitations",
	}
	var p purchaseCLI
	p.app = app
	register := func(c *cobra.Command) {
		p.register(c, false)
		orgAsFlag(c)
		c.Flags().StringVar(&p.hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
		c.Flags().StringVar(&p.hub.Profile, "profile", "", "AWS shared-config profile of the hub's credentials (the organization's management account)")
	}
	show := func(invs []orgshare.Invitation, one bool) error {
		var v any = invs
		if one {
			v = invs[0]
		}
		return app.Print(v, func(w io.Writer) error {
			for _, inv := range invs {
				fmt.Fprint(w, orgshare.Describe(inv))
			}
			if one {
				fmt.Fprintf(w, "\nThe customer accepts in the invited account: %s\nThe SCP attached to enrolled accounts:\n%s", invs[0].Accept, invs[0].SCP)
			}
			return nil
		})
	}
	invite := &cobra.Command{
		Use: "invite ACCOUNT", Short: "Invite a customer account into the hub's organization (the customer accepts; see the annex)", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, by, hub, err := p.openHub(ctx, true)
			if err != nil {
				return err
			}
			inv, err := orgshare.Invite(ctx, st, hub, tenant, crossbill.AccountID(args[0]), by)
			if err != nil {
				return err
			}
			return show([]orgshare.Invitation{inv}, true)
		},
	}
	handshakes := &cobra.Command{
		Use: "handshakes", Short: "The tenant's invitations: open, accepted, declined, expired (open ones read from AWS)", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, tenant, by, hub, err := p.openHub(ctx, false)
			if err != nil {
				return err
			}
			invs, err := orgshare.Handshakes(ctx, st, hub, tenant, by)
			if err != nil {
				return err
			}
			if len(invs) == 0 {
				return app.Print(invs, func(w io.Writer) error { _, err := fmt.Fprintln(w, "no invitations"); return err })
			}
			return show(invs, false)
		},
	}
	cancel := &cobra.Command{
		Use: "cancel HANDSHAKE", Short: "Withdraw an open invitation (accepted, declined or expired ones cannot be cancelled)", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, by, hub, err := p.openHub(ctx, false)
			if err != nil {
				return err
			}
			inv, err := orgshare.Cancel(ctx, st, hub, tenant, args[0], by)
			if err != nil {
				return err
			}
			return show([]orgshare.Invitation{inv}, false)
		},
	}
	register(invite)
	register(handshakes)
	register(cancel)
	cmd.AddCommand(invite, handshakes, cancel, newOrgSCPCmd(app))
	return cmd
}

func newOrgSCPCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "scp", Short: "The sharing SCP in the hub's organization"}
	p := purchaseCLI{app: app}
	var dryRun bool
	attach := &cobra.Command{
		Use:   "attach ACCOUNT",
		Short: "Create the sharing SCP in the hub's organization and attach it to an account that accepted (a dry run unless --dry-run=false)",
		Long: `Puts the sharing SCP (crossbill permissions annex shows it) on an account that accepted the
tenant's invitation, with the hub's own credentials (the organization's management
account): enables service control policies on the root if needed, creates the policy
named ` + orgshare.SCPName + ` or updates it when its content differs, and attaches it to
the account. Running it again changes nothing. By default it only prints the steps;
--dry-run=false applies them, each on the audit log.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, tenant, by, hub, err := p.openHub(ctx, false)
			if err != nil {
				return err
			}
			a, err := orgshare.AttachSCP(ctx, st, hub, tenant, crossbill.AccountID(args[0]), !dryRun, by)
			if err != nil {
				return err
			}
			return app.Print(a, func(w io.Writer) error {
				fmt.Fprint(w, orgshare.DescribeSCP(a))
				return nil
			})
		},
	}
	p.register(attach, true)
	orgAsFlag(attach)
	attach.Flags().BoolVar(&dryRun, "dry-run", true, "only print the steps; --dry-run=false applies them")
	cmd.AddCommand(attach)
	return cmd
}

// openHub opens the store and the hub's own AWS configuration (its
// management account); check first confirms the credentials work.
func (p *purchaseCLI) openHub(ctx context.Context, check bool) (*store.Store, crossbill.TenantID, store.AuditEntry, aws.Config, error) {
	st, tenant, by, err := p.open(ctx)
	if err != nil {
		return nil, "", store.AuditEntry{}, aws.Config{}, err
	}
	f, err := p.app.AWS(ctx, p.hub)
	if err == nil && check {
		err = awsclient.CheckHub(ctx, f.Hub())
	}
	if err != nil {
		return nil, "", store.AuditEntry{}, aws.Config{}, err
	}
	return st, tenant, by, f.Hub(), nil
}

// orgAsFlag words --as for the organization commands, which have no plan
// to approve.
func orgAsFlag(c *cobra.Command) {
	c.Flags().Lookup("as").Usage = "the person acting, by email (a signed-in person of the tenant; the audit log names them)"
}
