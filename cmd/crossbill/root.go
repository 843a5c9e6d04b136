package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// newRootCmd wires every command explicitly; there is no init() registry.
func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "crossbill",
		Short: "Connect AWS accounts through least-privilege roles, then see their costs, commitments and third-party access",
		Long: `crossbill connects AWS accounts and whole AWS Organizations through
least-privilege cross-account IAM roles (one generated external ID per
connection, temporary credentials only), then shows their costs from the
Cost and Usage Report, manages Savings Plans and reservations, and reviews
third-party access.

Start with "crossbill demo" (no AWS account needed), or connect an account:
"crossbill tenant create", "crossbill connect init", "crossbill connect verify".`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			app.createsData = cmd.Annotations[createsData] != ""
			level := slog.LevelWarn
			if app.Verbose {
				level = slog.LevelDebug
			}
			app.Logger = slog.New(slog.NewTextHandler(app.Stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.PersistentFlags().StringVar(&app.DataDir, "data", defaultDataDir(), "data directory, for every command including demo (env CROSSBILL_DATA); created only by commands that write (tenant create, token create, cur ingest, serve, demo)")
	root.PersistentFlags().StringVar(&app.Database, "database", "", "PostgreSQL URL for the metadata, postgres://USER:PASSWORD@HOST:PORT/DB (env CROSSBILL_DATABASE; default: SQLite in the data directory)")
	root.PersistentFlags().BoolVar(&app.JSON, "json", false, "print machine-readable JSON on stdout")
	root.PersistentFlags().BoolVarP(&app.Verbose, "verbose", "v", false, "log debug details on stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &crossbill.Error{Code: crossbill.CodeInvalid, Message: err.Error()}
	})

	root.AddCommand(
		newTenantCmd(app),
		newTokenCmd(app),
		newAuditCmd(app),
		newApprovalsCmd(app),
		newOrgCmd(app),
		newServeCmd(app),
		newDemoCmd(app),
		newBenchCmd(app),
		newConnectCmd(app),
		newPermissionsCmd(app),
		newReviewCmd(app),
		newIAMCmd(app),
		newCurCmd(app),
		newCommitmentsCmd(app),
		newCostsCmd(app),
		newSandboxCmd(app),
		newAccessCmd(app),
		newAlertsCmd(app),
		newPolicyCmd(app),
		newOptimizeCmd(app),
		newRemediateCmd(app),
		newInventoryCmd(app),
	)
	return root
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := &App{Stdout: stdout, Stderr: stderr, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	defer app.Close()
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var status exitStatus
		if errors.As(err, &status) {
			return int(status) // the command printed its result; the code is part of it
		}
		if ctx.Err() != nil {
			app.Stderr.Write([]byte("crossbill: interrupted\n")) //nolint:errcheck // stderr
			return 130
		}
		// cobra's own usage errors (unknown command, wrong arg count) are
		// plain errors; they are the caller's fault.
		if crossbill.ErrorCode(err) == crossbill.CodeInternal && isUsageError(err) {
			err = &crossbill.Error{Code: crossbill.CodeInvalid, Message: err.Error()}
		}
		return app.reportError(err)
	}
	return 0
}
