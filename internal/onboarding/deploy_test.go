package onboarding_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// TestRoleStacksDeploy creates the production and the evaluation role
// stacks side by side in moto's CloudFormation (which really creates the IAM
// roles and policies) and checks what IAM ended up with. The CUR stack
// (AWS::BCMDataExports::Export) and the StackSet are not served by moto;
// cfn-lint covers them.
func TestRoleStacksDeploy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfn, iamc := cloudformation.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	const ext = "cb-abcdefghijklmnopqrstuvwxyz234567"
	stacks := []struct {
		stack, role string
		opts        onboarding.RoleOptions
	}{
		{"crossbill-access", "CrossbillAccess", onboarding.RoleOptions{Modules: manifest.ValidModules()}},
		{"crossbill-evaluation", "CrossbillEvaluation", onboarding.RoleOptions{Modules: onboarding.EvaluationModules(), RoleName: onboarding.EvaluationRoleName, Evaluation: true}},
	}
	for _, s := range stacks {
		s.opts.ExternalID, s.opts.HubPrincipal = ext, testPrincipal
		body, err := onboarding.AccountRoleTemplate(s.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
			StackName: aws.String(s.stack), TemplateBody: aws.String(string(body)),
			Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		}); err != nil {
			t.Fatalf("create %s: %v", s.stack, err)
		}
		out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.stack)})
		if err != nil || len(out.Stacks) != 1 {
			t.Fatalf("describe %s: %v", s.stack, err)
		}
		st := out.Stacks[0]
		if st.StackStatus != cfntypes.StackStatusCreateComplete {
			t.Fatalf("%s: status %s (%s)", s.stack, st.StackStatus, aws.ToString(st.StackStatusReason))
		}
		var roleARN string
		for _, o := range st.Outputs {
			if aws.ToString(o.OutputKey) == "RoleArn" {
				roleARN = aws.ToString(o.OutputValue)
			}
		}
		if !strings.HasSuffix(roleARN, ":role/"+s.role) {
			t.Errorf("%s RoleArn output %q", s.stack, roleARN)
		}
		role, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(s.role)})
		if err != nil {
			t.Fatalf("role %s: %v", s.role, err)
		}
		trust, err := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Statement []struct {
				Principal struct{ AWS string }
				Condition map[string]map[string]string
			}
		}
		if err := json.Unmarshal([]byte(trust), &doc); err != nil {
			t.Fatalf("trust policy %s: %v", trust, err)
		}
		if len(doc.Statement) != 1 || doc.Statement[0].Principal.AWS != testPrincipal || doc.Statement[0].Condition["StringEquals"]["sts:ExternalId"] != ext {
			t.Errorf("%s trust policy %s", s.role, trust)
		}
		att, err := iamc.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(s.role)})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, p := range att.AttachedPolicies {
			got = append(got, aws.ToString(p.PolicyName))
		}
		// One per module that grants something: every action of
		// remediation is pending, so it gets none.
		for _, m := range s.opts.Modules {
			if m != manifest.ModuleCUR && len(manifest.Granted(m)) > 0 {
				want = append(want, s.role+"-"+string(m))
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s policies %v, want one per module %v", s.role, got, want)
		}
	}
}
