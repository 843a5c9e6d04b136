package jit_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

const mgmtAccount = "210987654321"

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// world is an emulated organization with Identity Center (IAM not
// enforced: moto lets the test and the hub assume any role):
//   - permission sets Ops (tagged crossbill-jit=allowed) and Admin (not);
//   - Identity Center users ann@example.com, bob@example.com, carl and
//     dana (approvers), zed (eligible to nobody); ann is in group oncall;
//   - in member 1, IAM groups /crossbill-jit/db-oncall and /ops/plain, IAM
//     user ann.
type world struct {
	srv      *emulator.Server
	root     aws.Config
	hub      aws.Config
	rec      *awsclient.Recorder
	dir      string
	st       *store.Store
	tenant   crossbill.TenantID
	conn     store.Connection
	members  []crossbill.AccountID
	instance string
	idStore  string
	ops      string // permission set ARNs
	admin    string
	users    map[string]string // user name -> Identity Center user ID
	mgmt     aws.Config
	member1  aws.Config
	clock    *clock
	tags     *tagStub
	notesMu  sync.Mutex
	notes    []jit.Message
}

func (w *world) notified(topic string) []jit.Message {
	w.notesMu.Lock()
	defer w.notesMu.Unlock()
	var out []jit.Message
	for _, m := range w.notes {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// clock is the engine's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tagStub answers sso:ListTagsForResource, which moto does not serve,
// from the tags the test gave each permission set.
type tagStub struct {
	mu   sync.Mutex
	tags map[string]map[string]string
}

func (s *tagStub) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("jit-test-sso-tags",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			p, ok := in.Parameters.(*ssoadmin.ListTagsForResourceInput)
			if !ok {
				return next.HandleInitialize(ctx, in)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			tags, found := s.tags[aws.ToString(p.ResourceArn)]
			if !found {
				return middleware.InitializeOutput{}, middleware.Metadata{}, &ssotypes.ResourceNotFoundException{Message: aws.String("no such permission set")}
			}
			out := &ssoadmin.ListTagsForResourceOutput{}
			for k, v := range tags {
				out.Tags = append(out.Tags, ssotypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
		}), middleware.After)
}

func assume(tb testing.TB, srv *emulator.Server, root aws.Config, account string) aws.Config {
	tb.Helper()
	ctx := context.Background()
	out := must(sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/admin"), RoleSessionName: aws.String("setup")}))
	c := out.Credentials
	return must(srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
}

func newWorld(tb testing.TB, extraUsers int) *world {
	tb.Helper()
	ctx := context.Background()
	srv := emulator.Own(tb, emulator.Options{})
	w := &world{srv: srv, root: must(srv.RootConfig(ctx)), rec: awsclient.NewRecorder(), users: map[string]string{}, dir: tb.TempDir(),
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, tags: &tagStub{tags: map[string]map[string]string{}}}
	w.hub = w.root.Copy()
	w.rec.Attach(&w.hub)
	w.mgmt = assume(tb, srv, w.root, mgmtAccount)
	org := organizations.NewFromConfig(w.mgmt)
	must(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	for _, name := range []string{"prod", "dev"} {
		out := must(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")}))
		w.members = append(w.members, crossbill.AccountID(aws.ToString(out.CreateAccountStatus.AccountId)))
	}
	sso := ssoadmin.NewFromConfig(w.mgmt)
	inst := must(sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{}))
	w.instance, w.idStore = aws.ToString(inst.Instances[0].InstanceArn), aws.ToString(inst.Instances[0].IdentityStoreId)
	ps := func(name string, tags map[string]string) string {
		out := must(sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: aws.String(w.instance), Name: aws.String(name), SessionDuration: aws.String("PT1H")}))
		arn := aws.ToString(out.PermissionSet.PermissionSetArn)
		w.tags.tags[arn] = tags
		return arn
	}
	w.ops = ps("Ops", map[string]string{manifest.JITTagKey: "allowed"})
	w.admin = ps("Admin", map[string]string{"team": "platform"})
	ids := identitystore.NewFromConfig(w.mgmt)
	names := []string{"ann@example.com", "bob@example.com", "carl@example.com", "dana@example.com", "zed@example.com"}
	for i := 0; i < extraUsers; i++ {
		names = append(names, "user"+strconv.Itoa(i)+"@example.com")
	}
	for _, n := range names {
		out := must(ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: aws.String(w.idStore), UserName: aws.String(n), DisplayName: aws.String(n),
			Name: &idstypes.Name{GivenName: aws.String(n), FamilyName: aws.String("x")}}))
		w.users[n] = aws.ToString(out.UserId)
	}
	w.member1 = assume(tb, srv, w.root, string(w.members[0]))
	m1 := iam.NewFromConfig(w.member1)
	must(m1.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("db-oncall"), Path: aws.String("/crossbill-jit/")}))
	must(m1.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("plain"), Path: aws.String("/ops/")}))
	must(m1.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")}))
	must(m1.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob@example.com")}))

	w.open(tb)
	tenant := must(w.st.CreateTenant(ctx, "acme"))
	w.tenant = tenant.ID
	conn := must(w.st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test-external-id-0123456789", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleOrg, manifest.ModuleAccessRead, manifest.ModuleAccessJIT}}))
	w.conn = must(storetest.Bind(ctx, w.st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+mgmtAccount+":role/CrossbillAccess")))
	accounts := []store.OrgAccount{{AccountID: mgmtAccount, Name: "management", State: "ACTIVE"}}
	for i, id := range w.members {
		accounts = append(accounts, store.OrgAccount{AccountID: id, Name: []string{"prod", "dev"}[i], State: "ACTIVE"})
	}
	must(w.st.SyncMembers(ctx, w.conn, "CrossbillAccess", accounts))
	return w
}

// open (re)opens the store on the world's directory: a new process's view.
func (w *world) open(tb testing.TB) {
	tb.Helper()
	st, err := store.Open(context.Background(), w.dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	w.st = st
}

func (w *world) opts() jit.Options {
	return jit.Options{AWS: awsclient.MustFactory(w.hub), APIOptions: []func(*middleware.Stack) error{w.tags.middleware}, Now: w.clock.Now,
		Notify: func(_ context.Context, _ *store.Store, m jit.Message) {
			w.notesMu.Lock()
			defer w.notesMu.Unlock()
			w.notes = append(w.notes, m)
		}}
}

func person(email string) store.AuditEntry {
	return store.AuditEntry{Actor: "token:" + email, PersonEmail: email}
}

// policy sets the standard policy: ann and group-less bob may request Ops
// in both members and the two groups, for up to 4h, approved by carl or
// dana.
func (w *world) policy(tb testing.TB, edit func(*jit.Policy)) jit.Policy {
	tb.Helper()
	p := jit.Policy{Name: "oncall", People: []string{"ann@example.com", "bob@example.com"},
		Targets: []jit.TargetRule{{PermissionSet: w.ops, Accounts: w.members}, {PermissionSet: w.admin, Accounts: w.members},
			{Group: "db-oncall", Account: w.members[0]}, {Group: "plain", Account: w.members[0]}},
		MaxDuration: jit.Duration(4 * time.Hour), Approvers: []string{"carl@example.com", "dana@example.com"}}
	if edit != nil {
		edit(&p)
	}
	out, err := jit.SetPolicy(context.Background(), w.st, w.tenant, p, person("admin@example.com"))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func (w *world) request(tb testing.TB, who string, target jit.TargetSpec, d time.Duration) jit.Lease {
	tb.Helper()
	l, err := jit.Request(context.Background(), w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall", Target: target, Duration: jit.Duration(d), Reason: "incident 42"},
		person(who), w.opts())
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func (w *world) ops1() jit.TargetSpec {
	return jit.TargetSpec{PermissionSet: w.ops, Account: w.members[0]}
}

func (w *world) group() jit.TargetSpec {
	return jit.TargetSpec{Group: "db-oncall", Account: w.members[0]}
}

// holders lists who holds a target in moto, through the test's own admin
// configuration.
func (w *world) assigned(tb testing.TB, account crossbill.AccountID, ps, user string) bool {
	tb.Helper()
	out := must(ssoadmin.NewFromConfig(w.mgmt).ListAccountAssignments(context.Background(), &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(w.instance),
		AccountId: aws.String(string(account)), PermissionSetArn: aws.String(ps)}))
	for _, a := range out.AccountAssignments {
		if aws.ToString(a.PrincipalId) == w.users[user] {
			return true
		}
	}
	return false
}

func (w *world) inGroup(tb testing.TB, group, user string) bool {
	tb.Helper()
	out := must(iam.NewFromConfig(w.member1).GetGroup(context.Background(), &iam.GetGroupInput{GroupName: aws.String(group)}))
	for _, u := range out.Users {
		if aws.ToString(u.UserName) == user {
			return true
		}
	}
	return false
}

func (w *world) advance(tb testing.TB) jit.AdvanceResult {
	tb.Helper()
	res, err := jit.Advance(context.Background(), w.st, w.opts(), 8)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func (w *world) lease(tb testing.TB, id string) jit.Lease {
	tb.Helper()
	l, err := jit.Get(context.Background(), w.st, w.tenant, id, w.opts())
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func (w *world) decide(tb testing.TB, id, who string, approve bool) (jit.Lease, error) {
	tb.Helper()
	return jit.Decide(context.Background(), w.st, w.tenant, id, approve, "ok for incident 42", person(who), w.opts())
}
