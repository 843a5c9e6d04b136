package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

func newIAMCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "iam",
		Short: "Look up IAM actions, evaluate policies and analyse trust policies offline",
	}
	cmd.AddCommand(newIAMActionsCmd(app), newIAMEvalCmd(app), newIAMTrustCmd(app), newIAMLintCmd(app))
	return cmd
}

type actionOut struct {
	Action        string            `json:"action"`
	Level         string            `json:"level"`
	Description   string            `json:"description"`
	ResourceTypes []resourceTypeOut `json:"resourceTypes"`
	ConditionKeys []string          `json:"conditionKeys"`
}

type resourceTypeOut struct {
	Type     string `json:"type"`
	Required bool   `json:"required"`
	ARN      string `json:"arn,omitempty"`
}

func newIAMActionsCmd(app *App) *cobra.Command {
	var level string
	cmd := &cobra.Command{
		Use:   "actions PATTERN...",
		Short: "Expand action patterns (ec2:Describe*, s3:Get*Acl, iam:?etRole) as IAM does",
		Long: `Expand lists the actions of the embedded IAM catalog that each pattern
matches: * and ? wildcards, case-insensitive, service:action. An unknown
service prefix or a pattern that matches nothing is an error (exit 3).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &crossbill.Error{Code: crossbill.CodeInvalid, Op: cmd.CommandPath(), Message: "give at least one action pattern, e.g. ec2:Describe*"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := iamdata.Load()
			if err != nil {
				return err
			}
			seen := map[int]bool{}
			out := []actionOut{}
			for _, p := range args {
				acts, err := cat.Expand(p)
				if err != nil {
					return err
				}
				for _, a := range acts {
					if seen[a.ID] || (level != "" && !strings.EqualFold(string(a.Level), level)) {
						continue
					}
					seen[a.ID] = true
					o := actionOut{Action: a.String(), Level: string(a.Level), Description: a.Description, ResourceTypes: []resourceTypeOut{}, ConditionKeys: a.ConditionKeys}
					for _, r := range a.Resources {
						rt, _ := cat.ResourceType(a.Service, r.Type)
						o.ResourceTypes = append(o.ResourceTypes, resourceTypeOut{Type: r.Type, Required: r.Required, ARN: rt.ARN})
					}
					if o.ConditionKeys == nil {
						o.ConditionKeys = []string{}
					}
					out = append(out, o)
				}
			}
			return app.Print(map[string]any{"catalog": cat.Version(), "actions": out}, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ACTION\tLEVEL\tRESOURCE TYPES (* required)")
				for _, o := range out {
					var types []string
					for _, r := range o.ResourceTypes {
						if r.Required {
							r.Type += "*"
						}
						types = append(types, r.Type)
					}
					rowf(tw, "%s\t%s\t%s\n", o.Action, o.Level, strings.Join(types, " "))
				}
				rowf(tw, "%d actions (iam-data %s)\n", len(out), cat.Version())
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&level, "level", "", "only actions of this access level (List, Read, Write, Tagging, \"Permissions management\")")
	return cmd
}

// readPolicyFile reads and parses one policy document, naming the file in
// errors.
func readPolicyFile(op, path string) (*policy.Document, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, op, "%s: no such file", path)
	}
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "reading %s: %w", path, err)
	}
	doc, err := policy.Parse(data)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w", path, err)
	}
	return doc, nil
}

func newIAMEvalCmd(app *App) *cobra.Command {
	var (
		identity, scps, rcps, contextKV, absent []string
		boundary, trust, resourcePolicy         string
		req                                     policy.Request
	)
	cmd := &cobra.Command{
		Use:   "eval (--policy FILE --action ACTION | --trust FILE --principal ARN)",
		Short: "Decide whether policies allow a request (identity, boundary, SCPs), as AWS would",
		Long: `Eval applies AWS's evaluation logic to one request: an explicit deny in
any policy wins; otherwise the identity policies, the permissions boundary
and every SCP/RCP level must each allow.

Condition keys come from --context key=value (repeat the key for several
values) and --absent key (known to be missing from the request). A
condition on a key given neither way is unknown: the decision is then
"allowed-under-conditions" and the keys are listed, never a plain allow.

With --trust FILE, eval decides whether --principal may assume the role
whose trust policy FILE is (action sts:AssumeRole unless --action says
otherwise), e.g. with --context sts:ExternalId=... or --absent sts:ExternalId.
With --resource-policy FILE, eval decides the request against that
resource-based policy alone (bucket, key or queue policy) for --principal.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "iam eval"
			switch {
			case trust != "" && resourcePolicy != "":
				return crossbill.Errorf(crossbill.CodeInvalid, op, "give --trust or --resource-policy, not both")
			case resourcePolicy != "" && (len(identity) > 0 || boundary != "" || len(scps) > 0 || len(rcps) > 0):
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--resource-policy evaluates a resource policy alone; leave out --policy, --boundary, --scp and --rcp")
			case resourcePolicy != "" && req.Action == "":
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--resource-policy needs an --action")
			case trust != "" && (len(identity) > 0 || boundary != "" || len(scps) > 0 || len(rcps) > 0):
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--trust evaluates a trust policy alone; leave out --policy, --boundary, --scp and --rcp")
			case trust != "" && req.Principal == "":
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--trust needs the --principal that assumes the role")
			case trust == "" && resourcePolicy == "" && (len(identity) == 0 || req.Action == ""):
				return crossbill.Errorf(crossbill.CodeInvalid, op, "give at least one --policy FILE and an --action (or --trust FILE and a --principal)")
			}
			cat, err := iamdata.Load()
			if err != nil {
				return err
			}
			p := policy.Policies{Catalog: cat}
			for _, f := range identity {
				d, err := readPolicyFile(op, f)
				if err != nil {
					return err
				}
				p.Identity = append(p.Identity, d)
			}
			if boundary != "" {
				d, err := readPolicyFile(op, boundary)
				if err != nil {
					return err
				}
				p.Boundary = d
			}
			for _, f := range scps {
				d, err := readPolicyFile(op, f)
				if err != nil {
					return err
				}
				p.SCPs = append(p.SCPs, d)
			}
			for _, f := range rcps {
				d, err := readPolicyFile(op, f)
				if err != nil {
					return err
				}
				p.RCPs = append(p.RCPs, d)
			}
			ctx, err := parseContext(op, contextKV, absent)
			if err != nil {
				return err
			}
			req.Context = ctx
			var res policy.Result
			switch {
			case trust != "":
				d, err := readPolicyFile(op, trust)
				if err != nil {
					return err
				}
				res = policy.EvaluateTrust(d, req)
			case resourcePolicy != "":
				d, err := readPolicyFile(op, resourcePolicy)
				if err != nil {
					return err
				}
				res = policy.EvaluateResource(d, req)
			default:
				res = policy.Evaluate(req, p)
			}
			return app.Print(res, func(w io.Writer) error {
				fmt.Fprintf(w, "%s: %s\n", res.Decision, res.Reason)
				for _, r := range res.Deciding {
					cond := ""
					if r.Conditional {
						cond = " (under conditions)"
					}
					rowf(w, "  %s %s%s\n", r.Effect, r, cond)
				}
				if len(res.MissingKeys) > 0 {
					fmt.Fprintf(w, "context not given: %s (use --context or --absent)\n", strings.Join(res.MissingKeys, ", "))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&identity, "policy", nil, "identity policy file (repeatable)")
	f.StringVar(&boundary, "boundary", "", "permissions boundary policy file")
	f.StringVar(&trust, "trust", "", "role trust policy file: may --principal assume the role?")
	f.StringVar(&resourcePolicy, "resource-policy", "", "resource-based policy file (bucket, key, queue policy), evaluated alone for --principal")
	f.StringArrayVar(&scps, "scp", nil, "SCP file, one per organization level (repeatable)")
	f.StringArrayVar(&rcps, "rcp", nil, "RCP file, one per organization level (repeatable)")
	f.StringVar(&req.Action, "action", "", "action, e.g. s3:GetObject")
	f.StringVar(&req.Resource, "resource", "", "resource ARN (default \"*\")")
	f.StringVar(&req.Principal, "principal", "", "caller ARN, for statements with a Principal")
	f.StringArrayVar(&contextKV, "context", nil, "condition key=value (repeatable)")
	f.StringArrayVar(&absent, "absent", nil, "condition key known to be absent (repeatable)")
	return cmd
}

// parseContext builds a request context from --context key=value and
// --absent key flags.
func parseContext(op string, contextKV, absent []string) (map[string][]string, error) {
	ctx := map[string][]string{}
	for _, kv := range contextKV {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--context %q: write key=value, e.g. aws:SourceIp=203.0.113.7", kv)
		}
		ctx[k] = append(ctx[k], v)
	}
	for _, k := range absent {
		if _, dup := ctx[k]; dup {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s is both in --context and --absent", k)
		}
		ctx[k] = nil
	}
	return ctx, nil
}

func newIAMTrustCmd(app *App) *cobra.Command {
	var knownFile, account string
	cmd := &cobra.Command{
		Use:   "trust FILE",
		Short: "Analyse a role trust policy: who may assume the role, and what protects it",
		Long: `Trust lists the principals a trust policy lets in (account root, role,
user, service, federated, "*") and reports what a security reviewer checks:
an exact sts:ExternalId for third parties, MFA conditions, service
principals without aws:SourceArn/aws:SourceAccount, wildcard principals,
and accounts found (or not) in a known_aws_accounts list (fwdcloudsec
YAML format) given with --known-accounts.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "iam trust"
			doc, err := readPolicyFile(op, args[0])
			if err != nil {
				return err
			}
			var known *policy.KnownAccounts
			if knownFile != "" {
				if known, err = policy.LoadKnownAccountsFile(knownFile); err != nil {
					return err
				}
			}
			if account != "" && !crossbill.AccountID(account).Valid() {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--account %q is not a 12-digit account ID", account)
			}
			rep := policy.AnalyzeTrust(doc, known, account)
			return app.Print(rep, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "PRINCIPAL\tKIND\tACCOUNT\tVENDOR")
				for _, p := range rep.Principals {
					rowf(tw, "%s\t%s\t%s\t%s\n", p.Value, p.Kind, dash(p.Account), dash(p.Vendor))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, f := range rep.Findings {
					rowf(w, "%-8s %s (Statement[%d]): %s\n", f.Severity, f.ID, f.Statement, f.Message)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&knownFile, "known-accounts", "", "known_aws_accounts YAML file (fwdcloudsec format)")
	cmd.Flags().StringVar(&account, "account", "", "the account the role lives in (same-account principals)")
	return cmd
}

func newIAMLintCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "lint FILE",
		Short: "Find statements that do less than they say (wrong resources, unknown actions, unsupported condition keys)",
		Long: `Lint checks a policy document against the IAM catalog for mistakes AWS
accepts silently: unknown actions; an action named with resources it cannot
act on (s3:GetObject on a bucket ARN, s3:ListBucket on bucket/*); actions
that support only Resource "*" given specific ARNs; resources no action of
the statement applies to; service condition keys no action of the statement
supports. In a Deny statement these mean the deny protects nothing, and are
reported as medium.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readPolicyFile("iam lint", args[0])
			if err != nil {
				return err
			}
			cat, err := iamdata.Load()
			if err != nil {
				return err
			}
			issues := policy.Lint(doc, cat)
			if issues == nil {
				issues = []policy.Issue{}
			}
			return app.Print(map[string]any{"issues": issues}, func(w io.Writer) error {
				for _, is := range issues {
					rowf(w, "%-8s %s (Statement[%d]): %s\n", is.Severity, is.ID, is.Statement, is.Message)
				}
				fmt.Fprintf(w, "%d issues\n", len(issues))
				return nil
			})
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
