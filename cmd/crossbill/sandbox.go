package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
)

// sandboxModules are the modules the printed `connect init` enables: cost
// reads, the bill, commitments and the organization. Probes of calls
// the emulator lacks are skipped as "not available in the sandbox"; Data
// Exports is served by the emulator's stand-in, so verify finds the bill.
const sandboxModules = "cost,cur,commitments,org"

// newSandboxCmd is `crossbill sandbox`: a local AWS (the bundled moto
// launcher) holding a customer organization and a hub identity, and the
// commands that connect it, for trying crossbill with no AWS account.
func newSandboxCmd(app *App) *cobra.Command {
	var members int
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local AWS emulator with a customer organization and a hub identity; print the commands that connect it",
		Long: `Sandbox starts the AWS emulator bundled with crossbill (moto_server through
crossbill's launcher; needs python3 with moto installed: make setup) on a loopback
port, creates a customer organization (the management account and --members
member accounts), an administrator for the customer and crossbill's hub identity
(a user that may only assume roles), turns on IAM enforcement, and prints the
tenant create / connect init / deploy / connect verify / connect members commands
that then work against it. It runs until interrupted (Ctrl-C); everything lives in
memory. Probes of services the emulator does not serve are reported as "not
available in the sandbox"; BCM Data Exports is served by a stand-in in the
emulator, so that connect verify discovers the CUR stack's export as the bill.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			sb, err := startSandbox(ctx, members)
			if err != nil {
				return err
			}
			defer sb.srv.Close()
			if err := sb.printCommands(app.Stdout); err != nil {
				return err
			}
			app.Progress("sandbox running at %s: Ctrl-C to stop", sb.srv.URL)
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().IntVar(&members, "members", 2, "member accounts in the customer organization")
	cmd.AddCommand(newSandboxDeployCmd(app))
	return cmd
}

// sandbox is a running emulator set up for onboarding.
type sandbox struct {
	srv      *emulator.Server
	admin    emulator.User // the customer's administrator
	hub      emulator.User // crossbill's hub identity
	accounts []string      // member account IDs
	// memberAdmins are administrator sessions in the member accounts.
	memberAdmins []aws.Config
}

// memberAdmin gives the OrganizationAccountAccessRole of a member account
// administrator rights and returns a session of it.
func memberAdmin(ctx context.Context, srv *emulator.Server, root aws.Config, account string) (aws.Config, error) {
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("sandbox-setup")})
	if err != nil {
		return aws.Config{}, err
	}
	c := out.Credentials
	cfg, err := srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if err != nil {
		return aws.Config{}, err
	}
	_, err = iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
		PolicyName: aws.String("admin"), PolicyDocument: aws.String(emulator.AdminPolicy)})
	return cfg, err
}

func startSandbox(ctx context.Context, members int) (*sandbox, error) {
	const op = "sandbox"
	if members < 0 || members > 50 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--members must be 0-50")
	}
	// Setup calls are free; IAM is enforced once the identities exist.
	srv, err := emulator.Start(ctx, emulator.Options{NoAuthActions: 1 << 20})
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	sb := &sandbox{srv: srv}
	if err := sb.setup(ctx, members); err != nil {
		srv.Close()
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "setting up the emulator: %w", err)
	}
	return sb, nil
}

func (sb *sandbox) setup(ctx context.Context, members int) error {
	root, err := sb.srv.RootConfig(ctx)
	if err != nil {
		return err
	}
	if sb.admin, err = emulator.CreateUser(ctx, root, "customer-admin", emulator.AdminPolicy); err != nil {
		return err
	}
	if sb.hub, err = emulator.CreateUser(ctx, root, "crossbill-hub", emulator.HubPolicy); err != nil {
		return err
	}
	org := organizations.NewFromConfig(root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		return err
	}
	for i := range members {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i+1)), Email: aws.String(fmt.Sprintf("member-%d@example.com", i+1))})
		if err != nil {
			return err
		}
		account := aws.ToString(out.CreateAccountStatus.AccountId)
		sb.accounts = append(sb.accounts, account)
		// The customer administers the member through the role
		// Organizations made there (as a StackSet does), given rights.
		ma, err := memberAdmin(ctx, sb.srv, root, account)
		if err != nil {
			return err
		}
		sb.memberAdmins = append(sb.memberAdmins, ma)
	}
	return sb.srv.EnforceIAM(ctx)
}

// commands are the onboarding commands that work against the sandbox, in
// order; the deploy runs with the customer's administrator key.
func (sb *sandbox) commands() []string {
	u := sb.srv.URL
	role := "arn:aws:iam::" + emulator.DefaultAccount + ":role/CrossbillAccess"
	admin := "AWS_ACCESS_KEY_ID=" + sb.admin.KeyID + " AWS_SECRET_ACCESS_KEY=" + sb.admin.Secret + " "
	return []string{
		"crossbill tenant create sandbox",
		"crossbill connect init --tenant sandbox --principal " + sb.hub.ARN + " --modules " + sandboxModules + " --out sandbox-templates --force",
		admin + "crossbill sandbox deploy --endpoint-url " + u + " --template sandbox-templates/crossbill-account-role.yaml",
		admin + "crossbill sandbox deploy --endpoint-url " + u + " --template sandbox-templates/crossbill-cur.yaml --stack-name crossbill-cur",
		"crossbill connect verify --tenant sandbox --role-arn " + role + " --endpoint-url " + u,
		"crossbill connect members --tenant sandbox --endpoint-url " + u,
		"# verify found the bill (the CUR stack's export); to name another one:",
		"#   crossbill connect bill --connection CONNECTION_ID --source s3://BUCKET/PREFIX/EXPORT",
	}
}

func (sb *sandbox) printCommands(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# crossbill sandbox: an AWS emulator at %s (IAM enforced, in memory)\n", sb.srv.URL)
	fmt.Fprintf(&b, "# customer organization: management account %s, members %s\n", emulator.DefaultAccount, orNone(sb.accounts))
	fmt.Fprintf(&b, "# hub identity: %s (may only assume roles)\n", sb.hub.ARN)
	fmt.Fprintf(&b, "# In another shell (emulator keys, not secrets):\n")
	fmt.Fprintf(&b, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=us-east-1\n", sb.hub.KeyID, sb.hub.Secret)
	for _, c := range sb.commands() {
		b.WriteString(c + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// newSandboxDeployCmd is `crossbill sandbox deploy`: create a stack in the
// emulator from a template file, as the customer deploys it, and print its
// outputs (the RoleArn for `connect verify`).
func newSandboxDeployCmd(app *App) *cobra.Command {
	var endpoint, template, stack string
	cmd := &cobra.Command{
		Use:   "deploy --endpoint-url URL --template FILE",
		Short: "Create a CloudFormation stack in the sandbox from a template, as the customer would",
		Long: `Deploy creates a CloudFormation stack in the sandbox's emulator from a template
written by ` + "`crossbill connect init`" + `, with the AWS credentials of the environment
(the customer's administrator key that ` + "`crossbill sandbox`" + ` prints), and prints the
stack's outputs. The emulator's CloudFormation cannot create a Data Exports export
(AWS::BCMDataExports::Export): it is created after the stack through the
emulator's Data Exports stand-in. Exit code 2 for bad input.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "sandbox deploy"
			ctx := cmd.Context()
			body, err := os.ReadFile(template)
			if err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "reading the template: %w", err)
			}
			cfg, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: endpoint, Region: "us-east-1"})
			if err != nil {
				return err
			}
			// moto's CloudFormation cannot create a Data Exports export:
			// DeployStack creates the rest of the stack, then the export
			// through the emulator's Data Exports stand-in.
			outputs, made, err := emulator.DeployStack(ctx, cfg, stack, body, nil)
			if err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "%w", err)
			}
			for _, id := range made {
				app.Progress("sandbox deploy: %s created through the emulator's Data Exports stand-in (moto's CloudFormation cannot create it)", id)
			}
			return app.Print(outputs, func(w io.Writer) error {
				for k, v := range outputs {
					if _, err := fmt.Fprintf(w, "%s: %s\n", k, v); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint-url", "", "the sandbox's URL (required)")
	cmd.Flags().StringVar(&template, "template", "", "template file written by crossbill connect init (required)")
	cmd.Flags().StringVar(&stack, "stack-name", "crossbill", "stack name")
	for _, name := range []string{"endpoint-url", "template"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name typo: a bug caught by every test run
		}
	}
	return cmd
}
