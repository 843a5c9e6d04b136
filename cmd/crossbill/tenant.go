package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

func newTenantCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Manage tenants (one per customer whose accounts you connect)",
	}
	cmd.AddCommand(writes(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := app.Store(cmd.Context())
			if err != nil {
				return err
			}
			t, err := s.CreateTenant(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return app.Print(t, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "created tenant %s (%s)\n", t.Name, t.ID)
				return err
			})
		},
	}), &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := app.Store(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := s.Tenants(cmd.Context())
			if err != nil {
				return err
			}
			return app.Print(ts, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "NAME\tID\tCREATED")
				for _, t := range ts {
					rowf(tw, "%s\t%s\t%s\n", t.Name, t.ID, t.CreatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	})
	return cmd
}
