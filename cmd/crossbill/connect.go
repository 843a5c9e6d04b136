package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

func newConnectCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Connect AWS accounts: make templates and external IDs, verify roles, list connections",
	}
	cmd.AddCommand(newConnectInitCmd(app), newConnectListCmd(app), newConnectShowCmd(app), newConnectVerifyCmd(app), newConnectHistoryCmd(app), newConnectMembersCmd(app), newConnectBindingsCmd(app), newConnectUnbindCmd(app), newConnectBillCmd(app))
	return cmd
}

// initResult is what `connect init --json` prints; scripts depend on it.
type initResult struct {
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	Tenant       string                 `json:"tenant"`
	ExternalID   crossbill.ExternalID   `json:"external_id"`
	Modules      []manifest.Module      `json:"modules"`
	Templates    []string               `json:"templates"`       // file paths
	Links        map[string]string      `json:"links,omitempty"` // template kind -> quick-create link
	Stacks       []onboarding.File      `json:"stacks"`
	EventsKey    string                 `json:"events_key,omitempty"` // with --events-endpoint: shown this once
}

func newConnectInitCmd(app *App) *cobra.Command {
	var (
		tenant, principal, modules, out, format, urlBase, region, events string
		ous                                                              []string
		evaluation, force                                                bool
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a connection: a new external ID and the CloudFormation templates to deploy",
		Long: `Create a connection for a tenant: crossbill generates a new external ID and writes the
CloudFormation templates the customer deploys (account role, CUR 2.0 export when the cur
module is on, member-account StackSet), and prints console quick-create links when
--template-url-base says where the files will be hosted.

Modules: ` + manifest.JoinModules(manifest.ValidModules()) + ` (default: ` + manifest.JoinModules(manifest.DefaultModules()) + `).
--evaluation writes only the read-only evaluation stack (` + manifest.JoinModules(onboarding.EvaluationModules()) + `);
it cannot be combined with --modules.
--events-endpoint URL adds the opt-in real-time events stack (crossbill-events, us-east-1):
EventBridge rules on CloudTrail management events (IAM, Organizations, EC2, RDS, S3 bucket
policies) sent to crossbill's POST /api/v1/events with a new per-connection key, printed
once: the stack's EventsApiKey parameter (EventBridge keeps it in Secrets Manager).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "connect init"
			ctx := cmd.Context()
			if tenant == "" || principal == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--tenant and --principal are required (the hub principal is the ARN of crossbill's own IAM role or user)")
			}
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			t, err := s.TenantByName(ctx, tenant)
			if err != nil {
				return err
			}
			req := onboarding.InitRequest{Tenant: t.ID, HubPrincipal: principal, Evaluation: evaluation, Format: format,
				Region: region, TemplateURLBase: urlBase, OrganizationalUnits: ous, EventsEndpoint: events}
			if cmd.Flags().Changed("modules") {
				req.Modules = strings.Split(modules, ",")
			}
			plan, err := onboarding.Prepare(req)
			if err != nil {
				return err
			}
			paths, err := writeTemplates(out, plan.Files, force)
			if err != nil {
				return err
			}
			done, err := plan.Save(ctx, s)
			if err != nil {
				// No connection means the files would carry an external ID
				// crossbill does not know: take them back.
				removeAll(paths)
				return err
			}
			res := initResult{ConnectionID: done.Connection.ID, Tenant: t.Name, ExternalID: done.Connection.ExternalID, Modules: done.Connection.Modules,
				Templates: paths, Links: done.Links, Stacks: done.Files, EventsKey: done.EventsKey}
			return app.Print(res, func(w io.Writer) error { return printInit(w, res) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant the connection belongs to (required)")
	fl.StringVar(&principal, "principal", "", "ARN of crossbill's hub identity the role will trust (required)")
	fl.StringVar(&modules, "modules", "", "comma-separated modules: "+manifest.JoinModules(manifest.ValidModules()))
	fl.BoolVar(&evaluation, "evaluation", false, "write only the read-only evaluation stack (role CrossbillEvaluation)")
	fl.StringVar(&out, "out", "crossbill-templates", "directory to write the templates to")
	fl.StringVar(&format, "format", "yaml", "template format: yaml or json")
	fl.StringVar(&urlBase, "template-url-base", "", "https URL of the folder where the templates will be hosted, for quick-create links")
	fl.StringVar(&region, "region", "us-east-1", "region for the role stacks (the CUR stack is always us-east-1)")
	fl.StringSliceVar(&ous, "ous", nil, "members stack targets: the organization root ID (r-...) or OU IDs (ou-...), comma-separated")
	fl.BoolVar(&force, "force", false, "overwrite template files already in --out")
	fl.StringVar(&events, "events-endpoint", "", "opt in to real-time events: crossbill's https URL of POST /api/v1/events (e.g. https://crossbill.example.com/api/v1/events)")
	return cmd
}

// writeTemplates writes every file or none: it checks the directory and
// every target first, writes each through a temporary file, and removes
// what it wrote if a later file fails.
func writeTemplates(dir string, files []onboarding.File, force bool) ([]string, error) {
	const op = "connect init"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "cannot create --out directory %s (pass a directory you can write to): %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".crossbill-probe-*")
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "cannot write to --out directory %s (pass a directory you can write to): %w", dir, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "removing %s: %w", probe.Name(), err)
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if _, err := os.Stat(p); err == nil && !force {
			return nil, crossbill.Errorf(crossbill.CodeConflict, op, "%s already exists (templates of another connection?): choose another --out or pass --force", p)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "checking %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	var written []string
	for i, f := range files {
		if err := writeFileAtomic(paths[i], f.Body); err != nil {
			removeAll(written)
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "writing %s: %w", paths[i], err)
		}
		written = append(written, paths[i])
	}
	return paths, nil
}

func writeFileAtomic(path string, body []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".crossbill-*.tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p) //nolint:errcheck // best effort clean-up after a failure already reported
	}
}

func printInit(w io.Writer, r initResult) error {
	fmt.Fprintf(w, "connection %s for tenant %s\n", r.ConnectionID, r.Tenant)
	fmt.Fprintf(w, "external ID: %s\n", r.ExternalID)
	fmt.Fprintf(w, "modules:     %s\n\n", manifest.JoinModules(r.Modules))
	fmt.Fprintln(w, "templates:")
	for i, f := range r.Stacks {
		fmt.Fprintf(w, "  %-13s %s  (stack %s, region %s)\n", f.Kind, r.Templates[i], f.StackName, f.Region)
	}
	if len(r.Links) > 0 {
		fmt.Fprintln(w, "\nquick-create links:")
		for _, f := range r.Stacks {
			if f.Link != "" {
				fmt.Fprintf(w, "  %s:\n    %s\n", f.Kind, f.Link)
			}
		}
	} else {
		fmt.Fprintln(w, "\nupload the templates (e.g. to S3) and pass --template-url-base for console links, or deploy them with the AWS CLI:")
		fmt.Fprintln(w, "  aws cloudformation deploy --capabilities CAPABILITY_NAMED_IAM --stack-name crossbill-access --template-file FILE")
	}
	if r.EventsKey != "" {
		fmt.Fprintf(w, "\nevents key (shown once; the crossbill-events stack's EventsApiKey parameter): %s\n", r.EventsKey)
	}
	_, err := fmt.Fprintf(w, "\nthen: crossbill connect verify --tenant %s --role-arn <RoleArn output of the stack>\n", r.Tenant)
	return err
}

func newConnectListCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List connections (all tenants, or one with --tenant)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := app.Store(ctx)
			if err != nil {
				return err
			}
			var cs []store.Connection
			if tenant != "" {
				t, err := s.TenantByName(ctx, tenant)
				if err != nil {
					return err
				}
				cs, err = s.ConnectionsByTenant(ctx, t.ID)
				if err != nil {
					return err
				}
			} else if cs, err = s.Connections(ctx); err != nil {
				return err
			}
			ts, err := s.Tenants(ctx)
			if err != nil {
				return err
			}
			names := map[crossbill.TenantID]string{}
			for _, t := range ts {
				names[t.ID] = t.Name
			}
			return app.Print(cs, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ID\tTENANT\tSTATUS\tROLE\tMODULES\tCREATED")
				for _, c := range cs {
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, names[c.TenantID], c.Status, orDash(string(c.RoleARN)), manifest.JoinModules(c.Modules), c.CreatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's connections")
	return cmd
}

func newConnectShowCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one connection",
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
			t, err := s.TenantByID(ctx, c.TenantID)
			if err != nil {
				return err
			}
			members, err := s.Members(ctx, c.ID)
			if err != nil {
				return err
			}
			return app.Print(c, func(w io.Writer) error {
				tw := newTable(w, 0)
				rowf(tw, "id:\t%s\n", c.ID)
				rowf(tw, "tenant:\t%s\n", t.Name)
				rowf(tw, "status:\t%s\n", c.Status)
				rowf(tw, "external id:\t%s\n", c.ExternalID)
				rowf(tw, "hub principal:\t%s\n", c.HubPrincipal)
				rowf(tw, "modules:\t%s\n", manifest.JoinModules(c.Modules))
				rowf(tw, "role:\t%s\n", orDash(string(c.RoleARN)))
				rowf(tw, "account:\t%s\n", orDash(string(c.AccountID)))
				if len(members) > 0 {
					rowf(tw, "members:\t%s (`crossbill connect members --tenant %s --connection %s`)\n", verify.Summarize(members, c.AccountID), t.Name, c.ID)
				}
				rowf(tw, "created:\t%s\n", c.CreatedAt.Format(time.RFC3339))
				rowf(tw, "updated:\t%s\n", c.UpdatedAt.Format(time.RFC3339))
				return tw.Flush()
			})
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
