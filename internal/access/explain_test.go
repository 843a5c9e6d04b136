package access_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill/internal/access"
)

// TestExplainDenyNamesTheStatement: in an organization built in moto
// (create_policy, attach_policy), the policy engine names the SCP and
// the statement that denies an action in a member account, from the
// policies the access sync read through the org module; a member no SCP
// restricts gets no explanation, nor does an allowed action.
func TestExplainDenyNamesTheStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newOrgWorld(t)
	org := organizations.NewFromConfig(w.mgmt)
	scp := must(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-commit-spend"), Type: orgtypes.PolicyTypeServiceControlPolicy, Description: aws.String("finance buys"),
		Content: aws.String(`{"Version":"2012-10-17","Statement":[
			{"Sid":"ReadsAreFine","Effect":"Allow","Action":"*","Resource":"*"},
			{"Sid":"NoSavingsPlans","Effect":"Deny","Action":"savingsplans:Create*","Resource":"*"},
			{"Sid":"NoReservations","Effect":"Deny","Action":["ec2:PurchaseReservedInstancesOffering","rds:PurchaseReserved*"],"Resource":"*"}]}`)}))
	must(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scp.Policy.PolicySummary.Id, TargetId: aws.String(string(w.members[0]))}))
	w.sync(t)
	m, _, err := access.Load(ctx, w.st, w.conn.TenantID, w.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.ExplainDeny(w.members[0], "ec2:PurchaseReservedInstancesOffering", "")
	if !ok || d.PolicyName != "no-commit-spend" || d.Statement != 2 || d.Sid != "NoReservations" || d.Target != string(w.members[0]) ||
		!strings.Contains(d.Text, `Statement[2] (Sid "NoReservations")`) || d.PolicyID != aws.ToString(scp.Policy.PolicySummary.Id) {
		t.Errorf("purchase in member 1: %+v, %v", d, ok)
	}
	if d, ok := m.ExplainDeny(w.members[0], "savingsplans:CreateSavingsPlan", ""); !ok || d.Sid != "NoSavingsPlans" || d.Statement != 1 {
		t.Errorf("Savings Plan in member 1: %+v, %v", d, ok)
	}
	// The world's other SCP has no Sid: named by its index.
	if d, ok := m.ExplainDeny(w.members[0], "iam:CreateUser", ""); !ok || d.PolicyName != "no-iam-users" || d.Statement != 1 || d.Sid != "" {
		t.Errorf("iam:CreateUser in member 1: %+v, %v", d, ok)
	}
	if d, ok := m.ExplainDeny(w.members[1], "ec2:PurchaseReservedInstancesOffering", ""); ok {
		t.Errorf("member 2 has no restricting SCP, yet: %+v", d)
	}
	if d, ok := m.ExplainDeny(w.members[0], "ec2:DescribeReservedInstancesOfferings", ""); ok {
		t.Errorf("an allowed read explained as denied: %+v", d)
	}
}
