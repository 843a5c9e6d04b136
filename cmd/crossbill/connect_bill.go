package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/verify"
)

// newConnectBillCmd is `crossbill connect bill`: set or change the
// connection's bill source by hand, for when verification cannot find it.
func newConnectBillCmd(app *App) *cobra.Command {
	var id, source string
	cmd := &cobra.Command{
		Use:   "bill --connection ID --source s3://BUCKET/PREFIX/EXPORT",
		Short: "Set or change a connection's bill source (its CUR 2.0 export)",
		Long: `Bill registers where a connection's CUR 2.0 export lives: s3://BUCKET/PREFIX/EXPORT,
the folder holding data/ and metadata/. ` + "`crossbill connect verify`" + ` registers the
export of the CUR stack by itself; set it here when the export is elsewhere or
the payer has several. A verified connection's ingest is queued at once: a
running server on the same data (--data or --database) starts it within
seconds. Exit code 2 for bad input, 3 for an unknown connection.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			c, err := s.ConnectionByID(ctx, crossbill.ConnectionID(id))
			if err != nil {
				return err
			}
			b, err := verify.SetBill(ctx, s, c.TenantID, c.ID, source)
			if err != nil {
				return err
			}
			return app.Print(b, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "connection %s: bill s3://%s/%s (account %s)\n", b.ConnectionID, b.Bucket, b.Path, b.AccountID)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&id, "connection", "", "connection ID (required)")
	cmd.Flags().StringVar(&source, "source", "", "s3://BUCKET/PREFIX/EXPORT (required)")
	for _, name := range []string{"connection", "source"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name typo: a bug caught by every test run
		}
	}
	return cmd
}
