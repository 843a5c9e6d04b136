package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/orgshare"
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
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			f, err := app.AWS(ctx, p.hub)
			if err != nil {
				return err
			}
			if err := awsclient.CheckHub(ctx, f.Hub()); err != nil {
				return err
			}
			inv, err := orgshare.Invite(ctx, st, f.Hub(), tenant, crossbill.AccountID(args[0]), by)
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
			st, tenant, by, err := p.open(ctx)
			if err != nil {
				return err
			}
			f, err := app.AWS(ctx, p.hub)
			if err != nil {
				return err
			}
			invs, err := orgshare.Handshakes(ctx, st, f.Hub(), tenant, by)
			if err != nil {
				return err
			}
			if len(invs) == 0 {
				return app.Print(invs, func(w io.Writer) error { _, err := fmt.Fprintln(w, "no invitations"); return err })
			}
			return show(invs, false)
		},
	}
	register(invite)
	register(handshakes)
	cmd.AddCommand(invite, handshakes)
	return cmd
}
