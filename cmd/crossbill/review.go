package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/review"
)

// exitReviewBase is the exit code of `crossbill review` for an info finding
// at or above --fail-on; low, medium, high and critical add 1 to 4 (11-14),
// so scripts can tell findings from errors (1-6).
const exitReviewBase = 10

// exitStatus ends the process with a code and no error message: the report
// has been printed and the code is the result, not a failure.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newReviewCmd(app *App) *cobra.Command {
	var format, failOn, knownFile string
	cmd := &cobra.Command{
		Use:   "review FILE...",
		Short: "Review a vendor's CloudFormation templates or IAM policies: what they let the vendor do",
		Long: `Review reads CloudFormation templates (YAML or JSON) and raw IAM policy
documents and reports what they let a third party do: privilege escalation
paths, data access, credential exposure, writes and deletes, trust problems,
deprecated and unknown actions, with a one-minute summary.

Exit codes: 0 when no finding reaches --fail-on; 10 info, 11 low, 12 medium,
13 high, 14 critical (the highest severity found) when one does; 2 for bad
input (unreadable or malformed file, with its name and line); 3 when a file
does not exist.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &crossbill.Error{Code: crossbill.CodeInvalid, Op: cmd.CommandPath(), Message: "give at least one template or policy file; see --help"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "review"
			if app.JSON {
				format = review.FormatJSON
			}
			switch format {
			case review.FormatText, review.FormatJSON, review.FormatMarkdown, review.FormatSARIF:
			default:
				return crossbill.Errorf(crossbill.CodeInvalid, op, "unknown --format %q; use text, json, md or sarif", format)
			}
			threshold := review.Severity("")
			if failOn != "none" {
				s, err := review.ParseSeverity(failOn)
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, op, "--fail-on: %s", strings.TrimPrefix(err.Error(), "review: "))
				}
				threshold = s
			}
			var opts review.Options
			if knownFile != "" {
				known, err := policy.LoadKnownAccountsFile(knownFile)
				if err != nil {
					return crossbill.Errorf(crossbill.ErrorCode(err), op, "--known-accounts %s: %w", knownFile, err)
				}
				opts.Known = known
			}
			inputs := make([]review.Input, 0, len(args))
			for _, name := range args {
				data, err := os.ReadFile(name)
				if errors.Is(err, fs.ErrNotExist) {
					return crossbill.Errorf(crossbill.CodeNotFound, op, "%s: no such file", name)
				}
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInvalid, op, "%s: cannot read: %w", name, err)
				}
				inputs = append(inputs, review.Input{Name: name, Data: data})
			}
			rep, err := review.Review(cmd.Context(), inputs, opts)
			if err != nil {
				return err
			}
			if err := rep.Write(app.Stdout, format, version); err != nil {
				return crossbill.Errorf(crossbill.CodeInternal, op, "writing the report: %w", err)
			}
			return reviewExit(rep.Highest(), threshold)
		},
	}
	cmd.Flags().StringVar(&format, "format", review.FormatText, "output format: text, json, md or sarif (--json is json)")
	cmd.Flags().StringVar(&failOn, "fail-on", "high", "exit non-zero when a finding is at least this severe: info, low, medium, high, critical or none")
	cmd.Flags().StringVar(&knownFile, "known-accounts", "", "YAML list of known vendor accounts (fwdcloudsec known_aws_accounts format)")
	return cmd
}

// reviewExit returns the exit status for the highest severity found.
func reviewExit(highest, threshold review.Severity) error {
	if threshold == "" || highest == "" || highest.Rank() < threshold.Rank() {
		return nil
	}
	return exitStatus(exitReviewBase + highest.Rank())
}
