package orgshare_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/store"
)

// hubOrg is a fresh account of the shared moto with an organization of
// its own (moto keeps one organization per account) and one member
// account, created with CreateAccount (moto has no handshakes).
func hubOrg(t *testing.T) (aws.Config, *awsclient.Recorder, crossbill.AccountID) {
	t.Helper()
	ctx := context.Background()
	srv := emulator.Shared(t)
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acct := fmt.Sprintf("5%011d", rand.Int64N(1e11))
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/hub"), RoleSessionName: aws.String("hub")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	hub, err := srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(hub)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	m, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("customer"), Email: aws.String("c@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	rec := awsclient.NewRecorder()
	rec.Attach(&hub)
	return hub, rec, crossbill.AccountID(aws.ToString(m.CreateAccountStatus.AccountId))
}

// accepted records account's invitation as accepted (moto serves no
// handshakes: the invite is tested with stubs in orgshare_test.go).
func accepted(t *testing.T, st *store.Store, tenant crossbill.TenantID, account crossbill.AccountID, id, state string) {
	t.Helper()
	now := time.Now().UTC()
	if _, err := st.SaveHandshake(context.Background(), store.OrgHandshake{ID: id, TenantID: tenant, AccountID: account, State: state,
		RequestedAt: now, ExpiresAt: now.AddDate(0, 0, 15)}, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

// TestAttachSharingSCP runs against moto's Organizations for real: the
// dry run plans and changes nothing; applied, the SCP is created and
// attached to the enrolled account (SCPs enabled on the root first when
// they are not); a second run finds it by name and plans nothing (one
// policy, one attachment); a policy edited out of band is updated back.
// An account that did not accept, or that another tenant invited, gets
// nothing.
func TestAttachSharingSCP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	other, _ := st.CreateTenant(ctx, "beta")
	hub, rec, member := hubOrg(t)
	accepted(t, st, ten.ID, member, "h-11111111111111111111111111111111", orgshare.Accepted)
	by := store.AuditEntry{Actor: "cli:ops"}
	org := organizations.NewFromConfig(hub)
	count := func() (policies, attached int) {
		ps, err := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps.Policies {
			if aws.ToString(p.Name) == orgshare.SCPName {
				policies++
			}
		}
		ts, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(string(member)), Filter: orgtypes.PolicyTypeServiceControlPolicy})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ts.Policies {
			if aws.ToString(p.Name) == orgshare.SCPName {
				attached++
			}
		}
		return
	}
	actions := func(a orgshare.SCPAttachment) string {
		var s []string
		for _, st := range a.Steps {
			s = append(s, st.Action)
		}
		return strings.Join(s, ",")
	}

	plan, err := orgshare.AttachSCP(ctx, st, hub, ten.ID, member, false, by)
	if err != nil {
		t.Fatal(err)
	}
	// moto's new organization has SCPs disabled on its root, as AWS's.
	if got := actions(plan); !plan.DryRun || got != orgshare.StepEnableSCPs+","+orgshare.StepCreate+","+orgshare.StepAttach || plan.Root == "" {
		t.Fatalf("dry run: %s %+v", got, plan)
	}
	if p, a := count(); p != 0 || a != 0 {
		t.Fatalf("the dry run changed the organization: %d policies, %d attachments", p, a)
	}
	done, err := orgshare.AttachSCP(ctx, st, hub, ten.ID, member, true, by)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range done.Steps {
		if !s.Done {
			t.Errorf("step %s not done", s.Action)
		}
	}
	if done.PolicyID == "" || actions(done) != actions(plan) {
		t.Fatalf("applied: %+v", done)
	}
	again, err := orgshare.AttachSCP(ctx, st, hub, ten.ID, member, true, by)
	if err != nil || len(again.Steps) != 0 || again.PolicyID != done.PolicyID {
		t.Fatalf("second run: %+v, %v", again, err)
	}
	if p, a := count(); p != 1 || a != 1 {
		t.Fatalf("after two runs: %d policies, %d attachments; want one of each", p, a)
	}
	d, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(done.PolicyID)})
	if err != nil || !strings.Contains(aws.ToString(d.Policy.Content), manifest.OffboardingRoleName) {
		t.Fatalf("the policy's content: %v %v", d, err)
	}

	// Edited out of band: updated back, not attached twice.
	if _, err := org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(done.PolicyID),
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	fixed, err := orgshare.AttachSCP(ctx, st, hub, ten.ID, member, true, by)
	if err != nil || actions(fixed) != orgshare.StepUpdate {
		t.Fatalf("edited policy: %s %+v, %v", actions(fixed), fixed, err)
	}
	d, _ = org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(done.PolicyID)})
	if !strings.Contains(aws.ToString(d.Policy.Content), "LeaveOnlyAfterNotice") {
		t.Errorf("not updated back: %s", aws.ToString(d.Policy.Content))
	}

	// Refusals, before any change.
	if _, err := orgshare.AttachSCP(ctx, st, hub, other.ID, member, true, by); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("another tenant's account: %v", err)
	}
	accepted(t, st, ten.ID, "210987654321", "h-22222222222222222222222222222222", orgshare.Declined)
	if _, err := orgshare.AttachSCP(ctx, st, hub, ten.ID, "210987654321", true, by); crossbill.ErrorCode(err) != crossbill.CodeConflict || !strings.Contains(err.Error(), "declined") {
		t.Errorf("a declined invitation: %v", err)
	}
	if _, err := orgshare.AttachSCP(ctx, st, hub, ten.ID, "12", true, by); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("a bad account ID: %v", err)
	}
	lines, _ := st.AuditLog(ctx, "org.scp.attach", ten.ID)
	if len(lines) != 2 || !strings.Contains(string(lines[0].Detail)+string(lines[1].Detail), orgshare.StepAttach) {
		t.Errorf("audit: %d lines (want the first apply and the update)", len(lines))
	}
	if u := rec.Undeclared(); len(u) > 0 {
		t.Errorf("undeclared calls %v", u)
	}
}
