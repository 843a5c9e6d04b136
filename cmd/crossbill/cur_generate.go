package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
)

func newCurGenerateCmd(app *App) *cobra.Command {
	var (
		opts  cur.GenerateOptions
		start string
	)
	cmd := &cobra.Command{
		Use:   "generate --out DIR",
		Short: "Write a synthetic organization's CUR 2.0 export (and FOCUS 1.2) in the AWS Data Exports S3 layout",
		Long: `Generate a deterministic synthetic AWS organization (a management account and linked
accounts with EC2, EBS, RDS, S3, Lambda, Fargate, data transfer, NAT gateways and
CloudWatch usage, Savings Plans and Reserved Instances, tax, credits, refunds and a few
injected anomalies) and write it as a CUR 2.0 export:

  DIR/PREFIX/EXPORT/data/BILLING_PERIOD=YYYY-MM/EXPORT-00001.snappy.parquet
  DIR/PREFIX/EXPORT/metadata/BILLING_PERIOD=YYYY-MM/EXPORT-Manifest.json

The same flags always give the same data. --json prints the accounts, commitments and
injected anomalies.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse("2006-01", start)
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, "cur generate", "--start %q: give a month as YYYY-MM", start)
				}
				opts.Start = t
			}
			opts.Progress = app.Progress
			res, err := cur.Generate(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error { return printGenerateResult(w, res) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "out", "", "output directory (the bucket root); required")
	f.Uint64Var(&opts.Seed, "seed", 1, "random seed: the same seed gives the same data")
	f.IntVar(&opts.Accounts, "accounts", 5, "linked accounts besides the management account")
	f.IntVar(&opts.Months, "months", 3, "billing periods to generate")
	f.StringVar(&start, "start", "", "first billing period YYYY-MM (default: --months months before the current month)")
	f.StringVar(&opts.Prefix, "prefix", "cur", "S3 prefix of the export")
	f.StringVar(&opts.Export, "export", "crossbill-cur2", "export name")
	f.StringVar(&opts.Bucket, "bucket", "crossbill-cur", "bucket named in the manifests' s3:// data file URIs")
	f.IntVar(&opts.ResourcesPerAccount, "resources", 40, "fleet size per account (about 50 line items per account-hour at 40)")
	f.Int64Var(&opts.RowsPerFile, "rows-per-file", 5_000_000, "split a month into data files of at most this many rows")
	f.BoolVar(&opts.FOCUS, "focus", false, "also write a FOCUS 1.2 export named EXPORT-focus")
	f.StringSliceVar(&opts.Restate, "restate", nil, "billing periods (YYYY-MM) to write as restated: corrections and a new execution ID")
	return cmd
}

func printGenerateResult(w io.Writer, res cur.GenerateResult) error {
	fmt.Fprintf(w, "organization %s: %d accounts, %d line items in %.1fs (%.0f rows/min)\n\n",
		res.Organization, len(res.Accounts), res.Rows, res.Seconds, res.RowsPerMinute)
	tw := newTable(w, 0)
	fmt.Fprintln(tw, "PERIOD\tROWS\tUNBLENDED\tAMORTIZED\tEXECUTION ID\tMANIFEST")
	for _, m := range res.Months {
		rowf(tw, "%s\t%d\t%.2f\t%.2f\t%s\t%s\n", m.Period, m.Rows, m.UnblendedCost, m.AmortizedCost, m.ExecutionID, m.Manifest)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w, 0)
	fmt.Fprintln(tw, "COMMITMENT\tTERM\tPAYMENT\t$/HOUR\tSTART\tARN")
	for _, c := range res.Commitments {
		rowf(tw, "%s\t%s\t%s\t%.3f\t%s\t%s\n", c.Type, c.Term, c.Payment, c.HourlyCommitment, c.Start.Format("2006-01-02"), c.ARN)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w, 0)
	fmt.Fprintln(tw, "ANOMALY\tACCOUNT\tSERVICE\tUSAGE TYPE\tSTART\tEND")
	for _, a := range res.Anomalies {
		rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Kind, a.AccountName, a.Service, a.UsageType, a.Start.Format(time.RFC3339), a.End.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	export := filepath.Join(res.Dir, res.Prefix, res.Export)
	_, err := fmt.Fprintf(w, "\nexport: %s\nload it with: crossbill cur ingest --source %s\n", export, export)
	return err
}
