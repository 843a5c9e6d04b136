package main

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/manifest"
)

func newPermissionsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "permissions",
		Short: "Explain the AWS permissions crossbill asks for",
	}
	var modules, format string
	annex := &cobra.Command{
		Use:   "annex",
		Short: "Print the access annex for a security review: every action and why, can/cannot do, cost impact, SOC 2 / ISO 27001",
		Long: `Print the access annex, generated from the permission manifest, for the chosen modules
(default: cost,cur,commitments,inventory,org). --format md (default) prints Markdown,
--format json (or --json) prints JSON.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			mods, err := manifest.ParseModules(modules)
			if err != nil {
				return err
			}
			a := manifest.BuildAnnex(mods, costexplorer.AnnexSchedule())
			switch strings.ToLower(format) {
			case "json":
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(a)
			case "md", "markdown", "":
				return app.Print(a, func(w io.Writer) error {
					_, err := io.WriteString(w, a.Markdown())
					return err
				})
			}
			return crossbill.Errorf(crossbill.CodeInvalid, "permissions annex", "unknown --format %q: use md or json", format)
		},
	}
	annex.Flags().StringVar(&modules, "modules", "", "comma-separated modules: "+manifest.JoinModules(manifest.ValidModules()))
	annex.Flags().StringVar(&format, "format", "md", "md or json")
	cmd.AddCommand(annex)
	return cmd
}
