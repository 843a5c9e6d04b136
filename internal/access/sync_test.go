package access_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

const mgmtAccount = "210987654321"

// orgWorld is an emulated organization (IAM not enforced: the test walks
// into each account by assuming any role there, as moto allows).
type orgWorld struct {
	hub     aws.Config
	mgmt    aws.Config
	members []crossbill.AccountID
	st      *store.Store
	conn    store.Connection
	rec     *awsclient.Recorder
}

// must returns v or fails the test by panicking (setup code, where the
// stack trace says which call failed).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func assume(tb testing.TB, srv *emulator.Server, root aws.Config, account string) aws.Config {
	tb.Helper()
	ctx := context.Background()
	out := must(sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/admin"), RoleSessionName: aws.String("setup")}))
	c := out.Credentials
	return must(srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
}

const adminDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func trust(principal, cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"` + cond + `}]}`
}

// newOrgWorld: a management account and two members. In the management
// account: group admins (a customer managed admin policy) with alice
// (console password, no MFA); bob with an access key never used; carol
// with a used key and iam:PassRole + ec2:RunInstances (an escalation
// path); role vendor trusting an outside account without an external ID;
// role partner with one. Identity Center: group platform (dave) assigned
// AdminAccess in member 1 and ReadOnly in member 2, erin assigned ReadOnly
// in member 1 directly, Orphan assigned to nobody. An SCP on member 1
// denies iam:CreateUser.
func newOrgWorld(t *testing.T) *orgWorld {
	t.Helper()
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	root := must(srv.RootConfig(ctx))
	w := &orgWorld{hub: root.Copy(), rec: awsclient.NewRecorder()}
	w.rec.Attach(&w.hub)
	w.mgmt = assume(t, srv, root, mgmtAccount)
	org := organizations.NewFromConfig(w.mgmt)
	must(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	for _, name := range []string{"prod", "dev"} {
		out := must(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")}))
		w.members = append(w.members, crossbill.AccountID(aws.ToString(out.CreateAccountStatus.AccountId)))
	}
	roots := must(org.ListRoots(ctx, &organizations.ListRootsInput{}))
	_ = roots
	scp := must(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-iam-users"), Type: orgtypes.PolicyTypeServiceControlPolicy, Description: aws.String("x"),
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`)}))
	must(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scp.Policy.PolicySummary.Id, TargetId: aws.String(string(w.members[0]))}))

	c := iam.NewFromConfig(w.mgmt)
	pol := must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Admin"), PolicyDocument: aws.String(adminDoc)}))
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: pol.Policy.Arn}))
	for _, u := range []string{"alice", "bob", "carol"} {
		must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("alice")}))
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Correct-Horse-1")}))
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("launch"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}]}`)}))
	key := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")}))
	carol := must(srv.Config(ctx, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))
	must(sts.NewFromConfig(carol).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})) // the key's last use
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("vendor"), AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::999999999999:root", ""))}))
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("partner"),
		AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::777777777777:root", `,"Condition":{"StringEquals":{"sts:ExternalId":"a-long-external-id-1234"}}`))}))

	sso := ssoadmin.NewFromConfig(w.mgmt)
	inst := must(sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{}))
	if len(inst.Instances) == 0 {
		t.Fatal("moto has no Identity Center instance")
	}
	instance, storeID := inst.Instances[0].InstanceArn, inst.Instances[0].IdentityStoreId
	ids := identitystore.NewFromConfig(w.mgmt)
	user := func(name string) string {
		out := must(ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: storeID, UserName: aws.String(name), DisplayName: aws.String(name),
			Name: &idstypes.Name{GivenName: aws.String(name), FamilyName: aws.String("x")}}))
		return aws.ToString(out.UserId)
	}
	dave, erin := user("dave"), user("erin")
	grp := must(ids.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: storeID, DisplayName: aws.String("platform")}))
	must(ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: storeID, GroupId: grp.GroupId, MemberId: &idstypes.MemberIdMemberUserId{Value: dave}}))
	ps := func(name string) *string {
		out := must(sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: instance, Name: aws.String(name), SessionDuration: aws.String("PT1H")}))
		return out.PermissionSet.PermissionSetArn
	}
	adminPS, readPS, _ := ps("AdminAccess"), ps("ReadOnly"), ps("Orphan")
	must(sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: adminPS,
		ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: instance, PermissionSetArn: readPS,
		InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`)}))
	assign := func(ps *string, account crossbill.AccountID, typ ssotypes.PrincipalType, id string) {
		must(sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: instance, PermissionSetArn: ps, PrincipalType: typ,
			PrincipalId: aws.String(id), TargetId: aws.String(string(account)), TargetType: ssotypes.TargetTypeAwsAccount}))
	}
	assign(adminPS, w.members[0], ssotypes.PrincipalTypeGroup, aws.ToString(grp.GroupId))
	assign(readPS, w.members[1], ssotypes.PrincipalTypeGroup, aws.ToString(grp.GroupId))
	assign(readPS, w.members[0], ssotypes.PrincipalTypeUser, erin)

	// Member 1 has a role of its own.
	m1 := iam.NewFromConfig(assume(t, srv, root, string(w.members[0])))
	must(m1.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::"+mgmtAccount+":root", ""))}))
	must(m1.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("iam"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:PutRolePolicy"],"Resource":"*"}]}`)}))

	w.st = must(store.Open(ctx, t.TempDir()))
	t.Cleanup(func() { w.st.Close() })
	tenant := must(w.st.CreateTenant(ctx, "acme"))
	conn := must(w.st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test-external-id-0123456789", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleOrg, manifest.ModuleAccessRead}}))
	w.conn = must(storetest.Bind(ctx, w.st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+mgmtAccount+":role/CrossbillAccess")))
	accounts := []store.OrgAccount{{AccountID: mgmtAccount, Name: "management", State: "ACTIVE"}}
	for i, id := range w.members {
		accounts = append(accounts, store.OrgAccount{AccountID: id, Name: []string{"prod", "dev"}[i], State: "ACTIVE"})
	}
	must(w.st.SyncMembers(ctx, w.conn, "CrossbillAccess", accounts))
	for _, id := range w.members {
		must(w.st.SetMemberCheck(ctx, w.conn.ID, id, store.MemberCheck{Status: store.MemberVerified, CheckedAt: time.Now()}))
	}
	return w
}

// stubs answer what moto does not serve: Access Advisor (both calls) and
// GetPermissionsBoundaryForPermissionSet.
func stubs(now time.Time) []func(*middleware.Stack) error {
	used := now
	return []func(*middleware.Stack) error{
		emulator.Stub("IAM", "GenerateServiceLastAccessedDetails", &iam.GenerateServiceLastAccessedDetailsOutput{JobId: aws.String("job-1")}, nil),
		emulator.Stub("IAM", "GetServiceLastAccessedDetails", &iam.GetServiceLastAccessedDetailsOutput{JobStatus: iamtypes.JobStatusTypeCompleted,
			ServicesLastAccessed: []iamtypes.ServiceLastAccessed{{ServiceNamespace: aws.String("ec2"), LastAuthenticated: &used}, {ServiceNamespace: aws.String("s3")}}}, nil),
		emulator.Stub("SSO Admin", "GetPermissionsBoundaryForPermissionSet", &ssoadmin.GetPermissionsBoundaryForPermissionSetOutput{}, nil),
	}
}

func (w *orgWorld) sync(t *testing.T) access.SyncResult {
	t.Helper()
	res, err := access.Sync(context.Background(), w.st, w.conn, access.SyncOptions{Tenant: "acme",
		CollectOptions: access.CollectOptions{AWS: awsclient.MustFactory(w.hub), APIOptions: stubs(time.Now())}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func findings(t *testing.T, m *access.Model, now time.Time) map[string][]access.Finding {
	t.Helper()
	fs, err := m.Findings(access.Thresholds{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]access.Finding{}
	for _, f := range fs {
		out[f.ID] = append(out[f.ID], f)
	}
	return out
}

func names(fs []access.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name+"@"+string(f.Account))
	}
	slices.Sort(out)
	return out
}

func TestSyncOrganization(t *testing.T) {
	w := newOrgWorld(t)
	ctx := context.Background()
	res := w.sync(t)
	if !res.First || res.Accounts != 3 || len(res.Errors) != 0 {
		t.Fatalf("first sync: %+v", res)
	}
	if u := w.rec.Undeclared(); len(u) != 0 {
		t.Fatalf("calls not in the permission manifest: %v", u)
	}
	m, _, err := access.Load(ctx, w.st, w.conn.TenantID, w.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	m1 := string(w.members[0])

	// Who can: alice through her group, dave through his group's
	// permission set in member 1, the deployer role; the SCP on member 1
	// takes iam:CreateUser from dave and deployer there.
	who := func(action string) []string {
		as, err := m.WhoCan(action, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.Name+"@"+string(a.Account)+":"+strings.Join(a.Path, ">"))
		}
		slices.Sort(out)
		return out
	}
	if got, want := who("iam:PutRolePolicy"), []string{
		"alice@" + mgmtAccount + ":alice>admins → Admin",
		"dave@" + m1 + ":dave>platform>AdminAccess>" + m1 + ">AdminAccess → AdministratorAccess",
		"deployer@" + m1 + ":deployer>iam",
	}; !slices.Equal(got, want) {
		t.Errorf("who-can iam:PutRolePolicy =\n%q\nwant\n%q", got, want)
	}
	if got, want := who("iam:CreateUser"), []string{"alice@" + mgmtAccount + ":alice>admins → Admin"}; !slices.Equal(got, want) {
		t.Errorf("who-can iam:CreateUser (SCP on %s) = %q, want %q", m1, got, want)
	}
	if got := who("s3:GetObject"); len(got) != 4 { // alice, dave@m1 (admin), dave@m2 and erin@m1 (read only)
		t.Errorf("who-can s3:GetObject = %q", got)
	}
	// A resource ARN naming an account narrows the answer to it.
	if as, err := m.WhoCan("iam:PutRolePolicy", "arn:aws:iam::"+m1+":role/x"); err != nil || len(as) != 2 {
		t.Errorf("who-can in %s = %+v %v, want deployer and dave", m1, as, err)
	}

	now := time.Now()
	fs := findings(t, m, now)
	check := func(id string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if got := names(fs[id]); !slices.Equal(got, want) {
			t.Errorf("%s findings = %q, want %q", id, got, want)
		}
	}
	check(access.FindAdmin, "alice@"+mgmtAccount, "dave@"+m1)
	check(access.FindNoMFA, "alice@"+mgmtAccount)
	check(access.FindOutsideTrust, "vendor@"+mgmtAccount, "partner@"+mgmtAccount)
	for _, f := range fs[access.FindOutsideTrust] {
		want := map[string]string{"vendor": "high", "partner": "medium"}[f.Name]
		if string(f.Severity) != want || !strings.Contains(f.Title, "unknown outside account") {
			t.Errorf("outside trust %s: severity %s, title %q", f.Name, f.Severity, f.Title)
		}
	}
	check(access.FindEscalation+"passrole-ec2-runinstances", "carol@"+mgmtAccount)
	check(access.FindEscalation+"iam-put-role-policy", "deployer@"+m1)
	check(access.FindAdminSet, "AdminAccess@")
	check(access.FindOrphanSet, "Orphan@")
	check(access.FindDirectAssignment, "erin@"+m1)
	// Access Advisor (stubbed): s3 never used by anyone.
	if len(fs[access.FindUnusedService]) == 0 || !strings.Contains(fs[access.FindUnusedService][0].Evidence, "s3") {
		t.Errorf("services not accessed: %+v", fs[access.FindUnusedService])
	}
	// Nothing is 90 days old yet.
	check(access.FindDormantUser)
	check(access.FindUnusedKey)
	check(access.FindOldKey)
	check(access.FindUnusedRole)

	// 100 days later: bob's key was never used, carol's was (100 days ago).
	later := findings(t, m, now.Add(100*24*time.Hour))
	fs = later
	check(access.FindUnusedKey, "bob@"+mgmtAccount, "carol@"+mgmtAccount)
	check(access.FindOldKey, "bob@"+mgmtAccount, "carol@"+mgmtAccount)
	check(access.FindDormantUser, "alice@"+mgmtAccount, "bob@"+mgmtAccount, "carol@"+mgmtAccount)
	if got := names(later[access.FindUnusedRole]); !slices.Contains(got, "vendor@"+mgmtAccount) || !slices.Contains(got, "deployer@"+m1) {
		t.Errorf("unused roles = %q", got)
	}
	if len(later[access.FindEscalation+"passrole-ec2-runinstances"]) != 0 {
		t.Error("a dormant principal's escalation path is reported")
	}

	// Show: alice's admin comes through the group, every IAM action allowed.
	cat := must(iamdata.Load())
	v, err := m.Show("alice", cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	var iamPerm *access.ServicePermissions
	for i, p := range v.Permissions {
		if p.Service == "iam" {
			iamPerm = &v.Permissions[i]
		}
	}
	if iamPerm == nil || iamPerm.Allowed != iamPerm.Of || !slices.Equal(iamPerm.Actions, []string{"*"}) {
		t.Errorf("alice's IAM permissions = %+v", iamPerm)
	}
	// dave in member 1: every IAM action but CreateUser (the SCP).
	v, err = m.Show("dave", cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range v.Permissions {
		if p.Service == "iam" && p.Account == w.members[0] && (p.Denied != 1 || slices.Contains(p.Actions, "CreateUser")) {
			t.Errorf("dave's IAM permissions in member 1 = allowed %d denied %d by %v", p.Allowed, p.Denied, p.DenyBy)
		}
	}

	// A change between two syncs: frank joins admins, a role trusts a new
	// outside account.
	c := iam.NewFromConfig(w.mgmt)
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("frank")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("frank")}))
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("auditor"), AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::888888888888:root", ""))}))
	before := time.Now()
	res = w.sync(t)
	if res.First {
		t.Fatal("second sync marked first")
	}
	changes, err := w.st.AccessChanges(ctx, w.conn.TenantID, "", before.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range changes {
		got = append(got, ch.Kind+" "+ch.Entitlement+" "+ch.Detail)
	}
	slices.Sort(got)
	want := []string{
		"gained group:admins frank → admins",
		"gained policy:Admin frank → admins → Admin",
		"new-outside-trust trust:888888888888 trust policy statement 0 lets arn:aws:iam::888888888888:root assume the role without an sts:ExternalId condition (confused-deputy risk: any customer of that account's service can make it act here)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes =\n%q\nwant\n%q", got, want)
	}
}
