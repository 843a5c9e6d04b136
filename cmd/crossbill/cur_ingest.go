package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

func newCurIngestCmd(app *App) *cobra.Command {
	var source, tenant, region, format string
	var access customerAWS
	cmd := &cobra.Command{
		Use:   "ingest --source s3://BUCKET/PREFIX/EXPORT | DIR | FILE [--format focus]",
		Short: "Load a CUR 2.0 or FOCUS 1.2 export into the cost store (changed billing periods only)",
		Long: `Ingest reads an AWS Data Exports export (CUR 2.0 or FOCUS 1.2, Parquet) from S3
or from a local directory in the same layout (the folder holding data/ and
metadata/), and loads every billing period whose manifest or files changed
since the last ingest. Each period is validated, then replaced whole in one
transaction: a restated month replaces the old one, and an interrupted
ingest leaves the previous data. Running it twice changes nothing.

From S3, --connection reads through a verified connection's role (assumed
from crossbill's hub with the connection's external ID, as the server does);
without it, the environment's AWS credentials are used.

--format focus reads plain FOCUS 1.0-1.2 files instead, as Azure, GCP, OCI
and FinOps tools deliver them: a CSV or Parquet file, or every such file
under a directory or S3 prefix, no manifest needed. Columns are converted
to the FOCUS types on load (JSON text tags, integer quantities, numeric
account IDs, ISO 8601 text times), and rows are filed by billing period
(the month of BillingPeriodStart).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if source == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, "cur ingest", "--source is required: s3://BUCKET/PREFIX/EXPORT or a directory")
			}
			t, err := costTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			opt := ingest.Options{Source: source, Tenant: t.ID, Progress: app.Progress, Format: format}
			if loc, err := ingest.ParseLocation(source); err != nil {
				return err
			} else if loc.Bucket != "" {
				cfgFor, _, err := access.open(ctx, app, "cur ingest", t.Name)
				if err != nil {
					return err
				}
				opt.AWS = cfgFor(region)
			} else if access.connection != "" {
				return crossbill.Errorf(crossbill.CodeInvalid, "cur ingest", "--connection reads from S3; %s is a local directory", source)
			} else if opt.Source, err = localExport(source); err != nil {
				return err
			}
			s, err := app.Costs(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := ingest.Ingest(ctx, s, opt)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error { return printIngest(w, res) })
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "s3://BUCKET/PREFIX/EXPORT or a local directory (with --format focus: also a file)")
	cmd.Flags().StringVar(&format, "format", "", "empty for a Data Exports export (manifests); focus for plain FOCUS CSV/Parquet files")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant the costs belong to (default: the only tenant)")
	access.register(cmd, "the export bucket")
	cmd.Flags().StringVar(&region, "region", "us-east-1", "AWS region of the bucket")
	return writes(cmd)
}

func printIngest(w io.Writer, res ingest.Result) error {
	tw := newTable(w, 0)
	rowf(tw, "source %s, tenant %s\n", res.Source, res.Tenant)
	fmt.Fprintln(tw, "PERIOD\tSTATUS\tFORMAT\tFILES\tROWS\tEXECUTION")
	for _, p := range res.Periods {
		rowf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", p.Period, p.Status, p.Format, p.Files, p.Rows, p.ExecutionID)
	}
	return tw.Flush()
}
