package orgshare_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/review"
	"github.com/crossbill/crossbill/internal/store"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// STUBBED: moto_server 5.2.1 serves neither InviteAccountToOrganization
// nor DescribeHandshake; both are answered in SDK middleware with AWS's
// shapes. The hub invites an account, the invitation says what accepting
// means and how to accept and leave, and a later read moves it to
// accepted, with audit lines.
func TestInviteAndTrackHandshake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	now := time.Now().UTC().Truncate(time.Second)
	state := orgtypes.HandshakeStateOpen
	var invited []string
	hub, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := awsclient.NewRecorder()
	rec.Attach(&hub)
	hub.APIOptions = append(hub.APIOptions, stubFor(func(op string, in any) any {
		switch op {
		case "InviteAccountToOrganization":
			q := in.(*organizations.InviteAccountToOrganizationInput)
			invited = append(invited, aws.ToString(q.Target.Id))
			return &organizations.InviteAccountToOrganizationOutput{Handshake: &orgtypes.Handshake{Id: aws.String("h-0123456789abcdef0123456789abcdef"),
				State: orgtypes.HandshakeStateOpen, RequestedTimestamp: aws.Time(now), ExpirationTimestamp: aws.Time(now.AddDate(0, 0, 15))}}
		case "DescribeHandshake":
			return &organizations.DescribeHandshakeOutput{Handshake: &orgtypes.Handshake{Id: in.(*organizations.DescribeHandshakeInput).HandshakeId, State: state}}
		}
		return nil
	}))
	by := store.AuditEntry{Actor: "cli:ops"}
	if _, err := orgshare.Invite(ctx, st, hub, ten.ID, "12345", by); crossbill.ErrorCode(err) != crossbill.CodeInvalid || len(invited) != 0 {
		t.Fatalf("a bad account ID: %v", err)
	}
	inv, err := orgshare.Invite(ctx, st, hub, ten.ID, "210987654321", by)
	if err != nil {
		t.Fatal(err)
	}
	if inv.State != orgshare.Open || inv.AccountID != "210987654321" || !strings.Contains(inv.Accept, "accept-handshake --handshake-id h-0123") ||
		!strings.Contains(strings.Join(inv.Meaning, " "), "leave-organization") || inv.SCP != manifest.CommitmentSharingSCP() || len(invited) != 1 {
		t.Fatalf("invitation: %+v", inv)
	}
	if d := orgshare.Describe(inv); !strings.Contains(d, "--handshake-id h-0123456789abcdef0123456789abcdef") {
		t.Errorf("the description does not name the handshake in the command: %s", d)
	}
	hs, err := orgshare.Handshakes(ctx, st, hub, ten.ID, by)
	if err != nil || len(hs) != 1 || hs[0].State != orgshare.Open {
		t.Fatalf("still open: %+v, %v", hs, err)
	}
	state = orgtypes.HandshakeStateAccepted
	if hs, err = orgshare.Handshakes(ctx, st, hub, ten.ID, by); err != nil || hs[0].State != orgshare.Accepted {
		t.Fatalf("accepted: %+v, %v", hs, err)
	}
	calls := rec.Count("organizations:DescribeHandshake")
	if hs, _ = orgshare.Handshakes(ctx, st, hub, ten.ID, by); rec.Count("organizations:DescribeHandshake") != calls || hs[0].State != orgshare.Accepted {
		t.Errorf("an accepted handshake is read again from AWS")
	}
	lines, _ := st.AuditLog(ctx, "", ten.ID)
	var acts []string
	for _, l := range lines {
		acts = append(acts, l.Action)
	}
	if j := strings.Join(acts, " "); !strings.Contains(j, "org.invite") || !strings.Contains(j, "org.handshake.accepted") {
		t.Errorf("audit lines %v", acts)
	}
	if u := rec.Undeclared(); len(u) > 0 {
		t.Errorf("undeclared calls %v", u)
	}
}

// TestSharingSCP: the SCP the hub attaches keeps an enrolled account from
// leaving except through the offboarding role, denies nothing else, and
// passes crossbill's own review without a high finding.
func TestSharingSCP(t *testing.T) {
	t.Parallel()
	doc, err := policy.Parse([]byte(manifest.CommitmentSharingSCP()))
	if err != nil {
		t.Fatal(err)
	}
	full, _ := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	pols := policy.Policies{Identity: []*policy.Document{full}, SCPs: []*policy.Document{policy.Merge(full, doc)}}
	leave := func(principal string) policy.Decision {
		return policy.Evaluate(policy.Request{Action: "organizations:LeaveOrganization", Principal: principal,
			Context: map[string][]string{"aws:PrincipalArn": {principal}}}, pols).Decision
	}
	if d := leave("arn:aws:iam::210987654321:role/Admin"); d != policy.ExplicitDeny {
		t.Errorf("an admin leaves: %s", d)
	}
	if d := leave("arn:aws:iam::210987654321:role/" + manifest.OffboardingRoleName); d != policy.Allowed {
		t.Errorf("the offboarding role cannot leave: %s", d)
	}
	if d := policy.Evaluate(policy.Request{Action: "ec2:RunInstances", Context: map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::210987654321:role/Admin"}}}, pols).Decision; d != policy.Allowed {
		t.Errorf("the SCP restricts more than leaving: %s", d)
	}
	rep, err := review.Template(context.Background(), "commitment-sharing-scp.json", []byte(manifest.CommitmentSharingSCP()), review.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Severity.Rank() >= review.SeverityHigh.Rank() {
			t.Errorf("review finding %s: %s", f.Severity, f.Title)
		}
	}
}
