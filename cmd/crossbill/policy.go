package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
)

// newPolicyCmd: declarative automation policies (internal/automation).
func newPolicyCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Automation policies (YAML): validate, apply (the server runs them on their schedules), show, run (--dry-run shows what each would do)"}
	readFile := func(path string) ([]automation.Policy, error) {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, "policy", "reading %s: %v", path, err)
		}
		ps, err := automation.Parse(src)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, "policy", "%s: %v", path, err)
		}
		return ps, nil
	}
	printPolicies := func(ps []automation.Policy) error {
		return app.Print(ps, func(w io.Writer) error {
			for _, p := range ps {
				fmt.Fprintf(w, "%s (line %d): %s %s, %d filter(s), %s\n", p.Name, p.Line, p.Action, p.Resource, len(p.Filters), p.Schedule)
			}
			return nil
		})
	}
	validate := &cobra.Command{
		Use: "validate FILE", Short: "Check a policy file: every mistake with its line (exit 2)", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := readFile(args[0])
			if err != nil {
				return err
			}
			return printPolicies(ps)
		},
	}
	var tenant string
	var dry bool
	openTenant := func(cmd *cobra.Command) (*store.Store, store.Tenant, error) {
		if tenant == "" {
			return nil, store.Tenant{}, crossbill.Errorf(crossbill.CodeInvalid, "policy", "--tenant is required")
		}
		st, err := app.Store(cmd.Context())
		if err != nil {
			return nil, store.Tenant{}, err
		}
		t, err := st.TenantByName(cmd.Context(), tenant)
		return st, t, err
	}
	apply := &cobra.Command{
		Use: "apply FILE --tenant T", Short: "Validate FILE and keep it as the tenant's policies: the server runs each on its schedule, events policies on each event", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, "policy", "reading %s: %v", args[0], err)
			}
			st, t, err := openTenant(cmd)
			if err != nil {
				return err
			}
			ps, err := automation.Apply(cmd.Context(), st, t.ID, src, cliActor())
			if err != nil {
				return err
			}
			return printPolicies(ps)
		},
	}
	show := &cobra.Command{
		Use: "show --tenant T", Short: "The tenant's applied policy file (with --json: its policies and their last runs)", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, t, err := openTenant(cmd)
			if err != nil {
				return err
			}
			f, _, err := automation.Applied(cmd.Context(), st, t.ID)
			if err != nil {
				return err
			}
			return app.Print(f, func(w io.Writer) error {
				_, err := fmt.Fprint(w, f.Source)
				return err
			})
		},
	}
	for _, c := range []*cobra.Command{apply, show} {
		c.Flags().StringVar(&tenant, "tenant", "", "tenant (required)")
	}
	run := &cobra.Command{
		Use: "run [FILE] --tenant T [--dry-run]", Short: "Run the policies of FILE (default: the tenant's applied ones) against the tenant's recommendations, findings and events", Args: cobra.MaximumNArgs(1),
		Long: `Run each policy: select the tenant's recommendations, access findings or real-time events
with its filters and act on the matches: notify (through the tenant's alert channels, once per
item), mark (for a later operation) or remediate (through the remediation engine, which plans,
asks for approval and records every step). --dry-run lists what each policy selects and what
it would do, and changes nothing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := openTenant(cmd)
			if err != nil {
				return err
			}
			var ps []automation.Policy
			if len(args) == 1 {
				ps, err = readFile(args[0])
			} else {
				_, ps, err = automation.Applied(ctx, st, t.ID)
			}
			if err != nil {
				return err
			}
			src := automation.Sources{Recommendations: automation.Optimize{Store: st}}
			// mark and remediate reach AWS through the hub's credentials
			// (a dry run only reads the store); without them those
			// actions say they did nothing.
			env := remediation.Env{Store: st, TenantName: t.Name}
			if dry {
				src.Remediator = automation.Remediation{Env: env}
			} else if hub, err := app.AWS(ctx, awsclient.HubOptions{}); err == nil {
				env.AWS = hub
				src.Remediator = automation.Remediation{Env: env}
			}
			rep, err := automation.Run(ctx, st, t.ID, ps, src, dry)
			if err != nil {
				return err
			}
			return app.Print(rep, func(w io.Writer) error {
				for _, p := range rep.Policies {
					fmt.Fprintf(w, "%s: %s on %s: %d matched\n", p.Name, p.Action, p.Resource, len(p.Matched))
					for _, it := range p.Matched {
						fmt.Fprintf(w, "  %s\n", crossbill.Printable(it.Title))
					}
					if p.Error != "" {
						fmt.Fprintf(w, "  not done: %s\n", crossbill.Printable(p.Error))
					} else {
						fmt.Fprintf(w, "  %s\n", p.Outcome)
					}
				}
				if rep.DryRun {
					fmt.Fprintln(w, "dry run: nothing was changed or sent")
				}
				return nil
			})
		},
	}
	run.Flags().StringVar(&tenant, "tenant", "", "tenant (required)")
	run.Flags().BoolVar(&dry, "dry-run", false, "show what each policy would do; change and send nothing")
	cmd.AddCommand(validate, apply, show, run)
	return cmd
}
