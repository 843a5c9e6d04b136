package main

import (
	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
)

// newConnectVerifyCmd is `crossbill connect verify`: assume the customer's
// role, check the confused-deputy protections and probe each module.
func newConnectVerifyCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a connection: assume the role, check the external ID protection, probe each module",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return crossbill.Errorf(crossbill.CodeUnavailable, "connect verify", "not implemented yet")
		},
	}
	return cmd
}
