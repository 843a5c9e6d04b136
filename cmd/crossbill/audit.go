package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
)

func newAuditCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The audit log (sign-ins, role changes, approvals, bindings): a hash chain",
	}
	verifyCmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit log's hash chain; exit 5 and list the lines found changed, removed or inserted",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := app.Store(cmd.Context())
			if err != nil {
				return err
			}
			c, err := s.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if err := app.Print(c, func(w io.Writer) error {
				fmt.Fprintf(w, "%d lines, %d chained (%d written before the chain), last line %d\n", c.Lines, c.Chained, c.Unhashed, c.LastID)
				for _, p := range c.Problems {
					fmt.Fprintln(w, "  "+p)
				}
				if c.OK {
					_, err := fmt.Fprintln(w, "the chain is intact")
					return err
				}
				return nil
			}); err != nil {
				return err
			}
			if !c.OK {
				return crossbill.Errorf(crossbill.CodeAccessDenied, "audit verify", "the audit log was tampered with: %d problem(s), first: %s", len(c.Problems), c.Problems[0])
			}
			return nil
		},
	}
	cmd.AddCommand(verifyCmd)
	return cmd
}
