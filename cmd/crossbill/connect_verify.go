package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// newConnectVerifyCmd is `crossbill connect verify`: assume the customer's
// role, check the confused-deputy protections and probe each module.
func newConnectVerifyCmd(app *App) *cobra.Command {
	var (
		req    verify.Request
		tenant string
		hub    awsclient.HubOptions
		opts   verify.Options
	)
	cmd := &cobra.Command{
		Use:   "verify --tenant NAME --role-arn ARN",
		Short: "Verify a connection: assume the role, check the external ID protection, probe each module",
		Long: `Verify assumes the customer's role with the connection's external ID, checks that
the session is in the role's account, checks that the role refuses crossbill
without the external ID and with a wrong one (confused deputy), and makes one
cheap read per enabled module. Paid Cost Explorer calls run only with
--include-paid. Every failure names its class and the fix to apply.

The hub's AWS credentials come from the default chain (environment, profile,
SSO, instance or container role); without any, verify stops before recording
anything. The role and its account are bound to the tenant only when the role
was assumed with the connection's external ID; a role or account another tenant
holds fails like any role that does not trust that external ID (see
` + "`crossbill connect bindings`" + `).

For a connection with the cur module, a verified role is also used to find
the CUR 2.0 export and register it as the connection's bill
(` + "`crossbill connect bill`" + ` sets it by hand); its ingest is queued, and a running
server on the same data starts it within seconds. An account outside any AWS Organization
is said in the org module's check.

Exit code 0 when verified; 5 when access was denied or a check failed; 6 when
the hub has no AWS credentials or only passing AWS faults stopped a check
(inconclusive); 2 for bad input; 3 for an unknown tenant.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			if opts.AWS, err = app.AWS(ctx, hub); err != nil {
				return err
			}
			t, err := s.TenantByName(ctx, tenant)
			if err != nil {
				return err
			}
			req.Tenant = t.ID
			opts.Progress = app.Progress
			app.Progress("verifying %s for tenant %s", req.RoleARN, t.Name)
			res, err := verify.Connection(ctx, s, req, opts)
			if err != nil {
				return err
			}
			if err := app.Print(res, func(w io.Writer) error { return printVerification(w, res) }); err != nil {
				return err
			}
			return res.Err()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant the connection belongs to (required)")
	fl.StringVar(&req.RoleARN, "role-arn", "", "the RoleArn output of the customer's stack (required)")
	fl.StringVar((*string)(&req.Connection), "connection", "", "connection ID, when the tenant has several waiting for a role")
	fl.StringVar(&hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
	fl.StringVar(&hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
	fl.StringVar(&hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	fl.BoolVar(&opts.IncludePaid, "include-paid", false, "also make probes that cost the customer money (Cost Explorer, $0.01 each)")
	fl.DurationVar(&opts.PropagationWait, "wait", verify.DefaultPropagationWait, "how long to retry a role that cannot be assumed yet (new roles take seconds to propagate)")
	for _, name := range []string{"tenant", "role-arn"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name typo: a bug caught by every test run
		}
	}
	return cmd
}

func printVerification(w io.Writer, r verify.Result) error {
	tw := newTable(w, 0)
	rowf(tw, "connection:\t%s (tenant %s)\n", r.ConnectionID, r.Tenant)
	rowf(tw, "role:\t%s\n", r.RoleARN)
	rowf(tw, "status:\t%s in %s\n", r.Status, (time.Duration(r.DurationMS) * time.Millisecond).String())
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = newTable(w, 0)
	fmt.Fprintln(tw, "\nCHECK\tSTATUS\tCLASS\tMS")
	for _, c := range r.Checks {
		rowf(tw, "%s\t%s\t%s\t%d\n", c.Name, c.Status, orDash(c.Class), c.DurationMS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Failed() {
		if _, err := fmt.Fprintf(w, "\n%s: %s\n  fix: %s\n", c.Name, c.Message, c.Advice); err != nil {
			return err
		}
	}
	// Why a module's probe was skipped, and what a passing one found out
	// (an account outside any organization).
	for _, c := range r.Checks {
		if c.Status != store.CheckFail && c.Module != "" && c.Message != "" {
			if _, err := fmt.Fprintf(w, "\n%s: %s: %s\n", c.Name, c.Status, c.Message); err != nil {
				return err
			}
		}
	}
	if r.Bill != nil {
		if _, err := fmt.Fprintf(w, "\n%s\n", r.Bill); err != nil {
			return err
		}
	}
	if r.Status == store.VerificationVerified && slices.Contains(r.Modules, manifest.ModuleCost) {
		// Day-zero costs: nothing to wait for while the CUR is delivered.
		if _, err := fmt.Fprintf(w, "\ncosts before the CUR arrives: `crossbill costs explorer load --tenant %s --connection %s` (Cost Explorer through this role, 12 months of daily cost; `crossbill serve` does it daily by itself; $0.01 a request, capped per month)\n", r.Tenant, r.ConnectionID); err != nil {
			return err
		}
	}
	return nil
}

// newConnectHistoryCmd is `crossbill connect history ID`: the stored
// verifications of a connection, newest first.
func newConnectHistoryCmd(app *App) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history ID",
		Short: "Show a connection's verifications, newest first, with every check",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			c, err := s.ConnectionByID(ctx, crossbill.ConnectionID(args[0]))
			if err != nil {
				return err
			}
			vs, err := s.Verifications(ctx, c.ID, limit)
			if err != nil {
				return err
			}
			return app.Print(vs, func(w io.Writer) error {
				if len(vs) == 0 {
					_, err := fmt.Fprintf(w, "connection %s was never verified: run `crossbill connect verify`\n", c.ID)
					return err
				}
				for _, v := range vs {
					fmt.Fprintf(w, "%s  %s  %s  (%d ms)\n", v.StartedAt.Format(time.RFC3339), v.Status, v.RoleARN, v.DurationMS)
					for _, ch := range v.Checks {
						rowf(w, "    %-4s %s %s\n", ch.Status, ch.Name, ch.Class)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 10, "how many verifications to show (0: all)")
	return cmd
}
