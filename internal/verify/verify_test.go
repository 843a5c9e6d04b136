package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

const (
	hubAccount      = emulator.DefaultAccount
	customerAccount = "210987654321"
	hubUserName     = "crossbill-hub"
)

// world is one emulated AWS with IAM enforced: a hub account whose IAM user
// is crossbill's hub identity, and a customer account administered through
// an admin role.
type world struct {
	srv      *emulator.Server
	hubKey   awsclient.AccessKey
	hubARN   string
	customer aws.Config // customer admin: the test's own calls, not crossbill's
	rec      *awsclient.Recorder
	st       *store.Store
	tenant   store.Tenant
}

// setupCalls is how many calls newWorld makes before IAM is enforced.
const setupCalls = 6

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	// The emulator's launcher makes moto check trust policies on
	// cross-account AssumeRole, as AWS does.
	srv := emulator.Own(t, emulator.Options{NoAuthActions: setupCalls})
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// moto serves every account from one endpoint and picks the account
	// from the access key; keys from AssumeRole belong to the role's
	// account. While IAM is not yet enforced, root may assume a role that
	// does not exist yet: that gives credentials in the customer account,
	// with which the role is then created and given admin rights.
	adminARN := "arn:aws:iam::" + customerAccount + ":role/admin"
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(adminARN), RoleSessionName: aws.String("setup")}) // call 1
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	customer, err := srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	ciam := iam.NewFromConfig(customer)
	must(t, call(ciam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"), // call 2
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + hubAccount + `:root"},"Action":"sts:AssumeRole"}]}`)})))
	must(t, call(ciam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("admin"), PolicyName: aws.String("admin"), // call 3
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})))
	// The hub identity: an IAM user allowed exactly what the manifest's
	// hub side declares.
	hiam := iam.NewFromConfig(root)
	user, err := hiam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(hubUserName)}) // call 4
	if err != nil {
		t.Fatal(err)
	}
	must(t, call(hiam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(hubUserName), PolicyName: aws.String("crossbill-hub"), // call 5
		PolicyDocument: aws.String(hubPolicy())})))
	key, err := hiam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(hubUserName)}) // call 6
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return &world{
		srv:      srv,
		hubKey:   awsclient.AccessKey{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)},
		hubARN:   aws.ToString(user.User.Arn),
		customer: customer,
		rec:      awsclient.NewRecorder(),
		st:       st,
		tenant:   tenant,
	}
}

// hubPolicy is the hub user's policy, built from the manifest's hub side.
func hubPolicy() string {
	var actions []string
	for _, p := range manifest.Hub() {
		if !p.NoPermission {
			actions = append(actions, p.Action)
		}
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": actions, "Resource": "arn:aws:iam::*:role/*"}}})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func call[T any](_ T, err error) error { return err }

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// hubConfig is crossbill's hub configuration: the hub user's key, the
// recorder, and stubs for what moto does not serve. extra adds stubs.
func (w *world) hubConfig(t testing.TB, extra ...func(*middleware.Stack) error) aws.Config {
	t.Helper()
	return w.hubConfigAt(t, w.srv.URL, extra...)
}

// hubConfigAt is hubConfig with every call sent to endpoint (a fault
// proxy in front of the emulator).
func (w *world) hubConfigAt(t testing.TB, endpoint string, extra ...func(*middleware.Stack) error) aws.Config {
	t.Helper()
	cfg, err := awsclient.HubConfig(context.Background(), awsclient.HubOptions{EndpointURL: endpoint, Region: "us-east-1", AccessKey: &w.hubKey})
	if err != nil {
		t.Fatal(err)
	}
	// A default-chain lookup would read the developer's files; the access
	// key above replaces it, and the cache wraps it as HubConfig would.
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(w.hubKey.ID, w.hubKey.Secret, ""))
	w.rec.Attach(&cfg)
	// moto 5.2.1 does not serve the Price List API or EC2
	// DescribeReservedInstances (it answers 500): these probes are stubbed
	// with an empty success, after the recorder has seen the call. BCM Data
	// Exports, which moto lacks too, is answered by the emulator launcher's
	// stand-in.
	cfg.APIOptions = append(cfg.APIOptions, emulator.Stub("Pricing", "DescribeServices", &pricing.DescribeServicesOutput{}, nil),
		emulator.Stub("EC2", "DescribeReservedInstances", &ec2.DescribeReservedInstancesOutput{}, nil))
	cfg.APIOptions = append(cfg.APIOptions, extra...)
	return cfg
}

// deployRole deploys crossbill's generated account role template into the
// customer account through CloudFormation and returns the RoleArn output.
func (w *world) deployRole(t *testing.T, stack, roleName string, ext crossbill.ExternalID, mods []manifest.Module) crossbill.RoleARN {
	t.Helper()
	return deployWith(t, w.customer, stack, roleName, w.hubARN, ext, mods)
}

func (w *world) newConnection(t testing.TB, ext crossbill.ExternalID, mods []manifest.Module) store.Connection {
	t.Helper()
	c, err := w.st.CreateConnection(context.Background(), store.NewConnection{TenantID: w.tenant.ID, ExternalID: ext, HubPrincipal: w.hubARN, Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newExternalID(t testing.TB) crossbill.ExternalID {
	t.Helper()
	ext, err := onboarding.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

// check returns the named check of a result.
func check(t *testing.T, res verify.Result, name string) store.VerificationCheck {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, res.Checks)
	return store.VerificationCheck{}
}

func logTimings(t *testing.T, label string, res verify.Result) {
	t.Helper()
	var parts []string
	for _, c := range res.Checks {
		parts = append(parts, fmt.Sprintf("%s=%s/%dms", c.Name, c.Status, c.DurationMS))
	}
	t.Logf("timing %s: %s total %d ms: %s", label, res.Status, res.DurationMS, strings.Join(parts, " "))
}

var modules = []manifest.Module{manifest.ModuleCost, manifest.ModuleCommitments, manifest.ModuleInventory, manifest.ModuleOrg, manifest.ModuleAccessRead}

// TestVerifyAgainstEmulator is the "done when": a generated role
// template deployed through CloudFormation verifies; a wrong external ID, a
// removed module policy, an SCP deny and a role that does not require the
// external ID each fail with the right class and advice. The recorder runs
// across the whole test and fails it on any operation the manifest does
// not declare.
func TestVerifyAgainstEmulator(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	t.Cleanup(func() {
		if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
			t.Errorf("crossbill sent operations the manifest does not declare: %v", undeclared)
		}
		t.Logf("operations sent: %+v", w.rec.Operations())
	})
	hub := w.hubConfig(t)
	ext := newExternalID(t)
	conn := w.newConnection(t, ext, modules)
	role := w.deployRole(t, "crossbill-acme", onboarding.DefaultRoleName, ext, modules)
	var progress []string
	opts := verify.Options{AWS: awsclient.MustFactory(hub), Progress: func(f string, a ...any) { progress = append(progress, fmt.Sprintf(f, a...)) }}

	t.Run("verified", func(t *testing.T) {
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "verified", res)
		if res.Status != store.VerificationVerified || res.Err() != nil || res.ConnectionID != conn.ID {
			t.Fatalf("status %s, err %v, checks %+v", res.Status, res.Err(), res.Checks)
		}
		for _, name := range []string{verify.CheckAssumeRole, verify.CheckCallerIdentity, verify.CheckExternalIDRequired, verify.CheckExternalIDWrong,
			"probe:cost:pricing:DescribeServices", "probe:commitments:ec2:DescribeReservedInstances", "probe:inventory:ec2:DescribeVolumes",
			"probe:org:organizations:DescribeOrganization", "probe:access-read:iam:ListRoles"} {
			if c := check(t, res, name); c.Status != store.CheckPass {
				t.Errorf("%s: %+v", name, c)
			}
		}
		// The customer account is in no organization: verify says so
		// (issue 11), rather than `connect members` later.
		if c := check(t, res, "probe:org:organizations:DescribeOrganization"); c.Message != verify.NotInOrganization {
			t.Errorf("org probe in an account outside any organization: %+v", c)
		}
		if c := check(t, res, "probe:cost:ce:GetCostAndUsage"); c.Status != store.CheckSkip || !strings.Contains(c.Message, "--include-paid") {
			t.Errorf("paid probe ran without --include-paid: %+v", c)
		}
		if w.rec.Count("ce:GetCostAndUsage") != 0 {
			t.Error("a paid Cost Explorer call was sent without --include-paid")
		}
		got, err := w.st.ConnectionByID(ctx, conn.ID)
		if err != nil || got.Status != store.StatusVerified || got.RoleARN != role {
			t.Fatalf("stored connection %+v, %v", got, err)
		}
		latest, err := w.st.LatestVerification(ctx, conn.ID)
		if err != nil || latest.ID != res.VerificationID || len(latest.Checks) != len(res.Checks) {
			t.Fatalf("stored verification %+v, %v", latest, err)
		}
		if len(progress) == 0 {
			t.Error("no progress reported")
		}
	})

	t.Run("verified again assumes afresh", func(t *testing.T) {
		// opts.AWS is one factory, as in a process: its cached session of
		// the first verification must not stand in for a new AssumeRole.
		before := w.rec.Count("sts:AssumeRole")
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role)}, opts)
		if err != nil || res.Status != store.VerificationVerified {
			t.Fatalf("second verification %s, %v", res.Status, err)
		}
		if n := w.rec.Count("sts:AssumeRole") - before; n != 3 {
			t.Fatalf("second verification sent %d AssumeRole, want 3 (the role itself, then without and with a wrong external ID)", n)
		}
	})

	t.Run("include paid", func(t *testing.T) {
		o := opts
		o.IncludePaid = true
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role)}, o)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "include-paid", res)
		if c := check(t, res, "probe:cost:ce:GetCostAndUsage"); c.Status != store.CheckPass {
			t.Fatalf("paid probe: %+v", c)
		}
		if w.rec.Count("ce:GetCostAndUsage") != 1 {
			t.Fatalf("Cost Explorer calls = %d, want 1", w.rec.Count("ce:GetCostAndUsage"))
		}
	})

	t.Run("wrong external ID", func(t *testing.T) {
		// The customer deployed the stack with another external ID than the
		// one crossbill stored for the connection.
		stored := newExternalID(t)
		c := w.newConnection(t, stored, modules)
		wrongRole := w.deployRole(t, "crossbill-wrong", "CrossbillWrongId", newExternalID(t), modules)
		o := opts
		o.PropagationWait = 3 * time.Second
		before := w.rec.Count("sts:AssumeRole")
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(wrongRole), Connection: c.ID}, o)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "wrong-external-id", res)
		a := check(t, res, verify.CheckAssumeRole)
		if res.Status != store.VerificationFailed || a.Status != store.CheckFail || a.Class != string(awsclient.ClassRoleTrust) || !strings.Contains(a.Advice, "external ID") {
			t.Fatalf("assume-role check %+v", a)
		}
		// Retried with backoff while a new role might be propagating, then
		// gave up: more than one attempt, fewer than a tight loop would make.
		if n := w.rec.Count("sts:AssumeRole") - before; n < 3+1 || n > 3+6 {
			t.Errorf("AssumeRole sent %d times (2 negative checks + retries)", n)
		}
		if c := check(t, res, "probe:inventory:ec2:DescribeVolumes"); c.Status != store.CheckSkip {
			t.Errorf("probe ran without credentials: %+v", c)
		}
		if crossbill.ErrorCode(res.Err()) != crossbill.CodeAccessDenied || crossbill.ExitCode(res.Err()) != 5 {
			t.Errorf("Err() = %v", res.Err())
		}
		if got, _ := w.st.ConnectionByID(ctx, c.ID); got.Status != store.StatusFailed {
			t.Errorf("connection status %s", got.Status)
		}
	})

	t.Run("scp deny", func(t *testing.T) {
		// moto has no service control policies: the SCP's answer is stubbed
		// with AWS's message format for an explicit SCP deny.
		msg := "User: arn:aws:sts::" + customerAccount + ":assumed-role/CrossbillAccess/s is not authorized to perform: organizations:DescribeOrganization with an explicit deny in a service control policy"
		o := opts
		o.AWS = awsclient.MustFactory(w.hubConfig(t, emulator.Stub("Organizations", "DescribeOrganization", nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: msg})))
		// The organization's SCPs as an access sync read them (the
		// org module; see internal/access's TestExplainDenyNamesTheStatement
		// for them read from moto): the check names the denying statement.
		conns, err := w.st.ConnectionsByTenant(ctx, w.tenant.ID)
		if err != nil || len(conns) == 0 {
			t.Fatal(conns, err)
		}
		snap, _ := json.Marshal(access.Snapshot{ManagementAccount: "111111111111",
			Accounts: []access.Account{{ID: customerAccount, Ancestors: []string{"r-abcd", "ou-abcd-workloads"}}},
			OrgPolicies: []access.OrgPolicy{
				{ID: "p-full", Name: "FullAWSAccess", Type: access.TypeSCP, Targets: []string{"r-abcd", "ou-abcd-workloads", customerAccount},
					Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
				{ID: "p-guard", Name: "workload-guardrails", Type: access.TypeSCP, Targets: []string{"ou-abcd-workloads"},
					Document: `{"Version":"2012-10-17","Statement":[{"Sid":"NoLeaving","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},{"Sid":"DenyOrgReads","Effect":"Deny","Action":"organizations:Describe*","Resource":"*"}]}`}}})
		now := time.Now()
		if _, err := w.st.SaveAccessSync(ctx, store.AccessSync{TenantID: w.tenant.ID, ConnectionID: conns[0].ID, StartedAt: now, FinishedAt: now, Accounts: 1, Snapshot: snap}, nil); err != nil {
			t.Fatal(err)
		}
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role)}, o)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "scp-deny", res)
		c := check(t, res, "probe:org:organizations:DescribeOrganization")
		if res.Status != store.VerificationFailed || c.Status != store.CheckFail || c.Class != string(awsclient.ClassSCPDeny) || !strings.Contains(c.Advice, "service control policy") {
			t.Fatalf("org probe %+v", c)
		}
		want := `service control policy "workload-guardrails" (p-guard), attached to ou-abcd-workloads, denies organizations:DescribeOrganization in Statement[1] (Sid "DenyOrgReads")`
		if !strings.Contains(c.Message, want) || !strings.Contains(c.Advice, want) {
			t.Errorf("the check does not name the denying statement:\nmessage %s\nadvice %s", c.Message, c.Advice)
		}
		if crossbill.ExitCode(res.Err()) != 5 {
			t.Errorf("exit code %d", crossbill.ExitCode(res.Err()))
		}
	})

	t.Run("module policy removed", func(t *testing.T) {
		policy := "arn:aws:iam::" + customerAccount + ":policy/" + onboarding.DefaultRoleName + "-access-read"
		ciam := iam.NewFromConfig(w.customer)
		must(t, call(ciam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(onboarding.DefaultRoleName), PolicyArn: aws.String(policy)})))
		t.Cleanup(func() {
			must(t, call(ciam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(onboarding.DefaultRoleName), PolicyArn: aws.String(policy)})))
		})
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "policy-removed", res)
		c := check(t, res, "probe:access-read:iam:ListRoles")
		// moto's denial names no policy type ("User: ... is not authorized
		// to perform: iam:ListRoles"); AWS would add "because no
		// identity-based policy allows". Both classify the same.
		if c.Status != store.CheckFail || c.Class != string(awsclient.ClassNoIdentityPolicy) || !strings.Contains(c.Advice, "iam:ListRoles") || !strings.Contains(c.Advice, "CloudFormation stack") {
			t.Fatalf("access-read probe %+v", c)
		}
		if other := check(t, res, "probe:inventory:ec2:DescribeVolumes"); other.Status != store.CheckPass {
			t.Errorf("other modules must still pass: %+v", other)
		}
		if got, _ := w.st.ConnectionByID(ctx, conn.ID); got.Status != store.StatusFailed {
			t.Errorf("connection status %s, want failed", got.Status)
		}
	})

	t.Run("role assumable without external ID", func(t *testing.T) {
		// A real role whose trust policy lacks the sts:ExternalId condition
		// (no stub): AWS (and the emulator) let the hub in with any or no
		// external ID.
		ciam := iam.NewFromConfig(w.customer)
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + w.hubARN + `"},"Action":"sts:AssumeRole"}]}`
		created, err := ciam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("CrossbillOpen"), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil {
			t.Fatal(err)
		}
		c := w.newConnection(t, newExternalID(t), []manifest.Module{manifest.ModuleInventory})
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: aws.ToString(created.Role.Arn), Connection: c.ID}, opts)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "no-external-id", res)
		for _, name := range []string{verify.CheckExternalIDRequired, verify.CheckExternalIDWrong} {
			ch := check(t, res, name)
			if ch.Status != store.CheckFail || ch.Class != string(verify.ClassExternalIDNotEnforced) || !strings.Contains(ch.Advice, "sts:ExternalId") {
				t.Errorf("%s: %+v", name, ch)
			}
		}
		if res.Status != store.VerificationFailed || crossbill.ExitCode(res.Err()) != 5 {
			t.Fatalf("status %s err %v", res.Status, res.Err())
		}
		if got, _ := w.st.ConnectionByID(ctx, c.ID); got.Status != store.StatusFailed {
			t.Errorf("connection status %s: a role without the external ID condition must not become active", got.Status)
		}
	})

	t.Run("role missing", func(t *testing.T) {
		c := w.newConnection(t, newExternalID(t), []manifest.Module{manifest.ModuleInventory})
		o := opts
		o.PropagationWait = -1 // no retries: the role will not appear
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: "arn:aws:iam::" + customerAccount + ":role/NeverDeployed", Connection: c.ID}, o)
		if err != nil {
			t.Fatal(err)
		}
		logTimings(t, "role-missing", res)
		a := check(t, res, verify.CheckAssumeRole)
		if a.Status != store.CheckFail || a.Class != string(awsclient.ClassRoleTrust) || !strings.Contains(a.Advice, "stack finished") {
			t.Fatalf("assume-role check %+v", a)
		}
	})

	t.Run("trust policy propagates while verify retries", func(t *testing.T) {
		// The role exists but its trust policy still names an old external
		// ID; the customer fixes it while verify is retrying, as happens
		// when verify runs right after a stack update.
		ext := newExternalID(t)
		c := w.newConnection(t, ext, []manifest.Module{manifest.ModuleInventory})
		late := w.deployRole(t, "crossbill-late", "CrossbillLate", newExternalID(t), []manifest.Module{manifest.ModuleInventory})
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + w.hubARN + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"` + string(ext) + `"}}}]}`
		fixed := make(chan error, 1)
		go func() {
			time.Sleep(1200 * time.Millisecond)
			_, err := iam.NewFromConfig(w.customer).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("CrossbillLate"), PolicyDocument: aws.String(trust)})
			fixed <- err
		}()
		o := opts
		o.PropagationWait = 20 * time.Second
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(late), Connection: c.ID}, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-fixed; err != nil {
			t.Fatal(err)
		}
		logTimings(t, "propagation", res)
		a := check(t, res, verify.CheckAssumeRole)
		if res.Status != store.VerificationVerified || a.Status != store.CheckPass || strings.Contains(a.Message, "after 1 attempt") {
			t.Fatalf("status %s, assume-role %+v: want verified after retries", res.Status, a)
		}
	})
}
