package main

import (
	"github.com/spf13/cobra"
)

// newCurCmd groups the Cost and Usage Report commands.
func newCurCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cur",
		Short: "Cost and Usage Report (CUR 2.0 / FOCUS 1.2) exports: generate synthetic data, ingest",
	}
	cmd.AddCommand(
		newCurGenerateCmd(app),
		newCurIngestCmd(app),
	)
	return cmd
}
