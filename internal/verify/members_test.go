package verify_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
	"github.com/crossbill/crossbill/internal/verify"
)

// orgWorld is an emulated AWS Organization: the customer's management
// account (with an admin role for the test's own calls), three member
// accounts created through Organizations, and crossbill's hub identity.
type orgWorld struct {
	*world
	members []crossbill.AccountID // created in this order
	admins  []aws.Config          // admin of members[0] and members[1]
	ext     crossbill.ExternalID
	conn    store.Connection // the management account's connection
	// standalone is a role with every module in an account that is in no
	// organization (the hub's own account, for want of another).
	standalone    crossbill.RoleARN
	standaloneExt crossbill.ExternalID
}

// enforceIAM makes moto enforce IAM from the next call on.
func enforceIAM(tb testing.TB, srv *emulator.Server) {
	tb.Helper()
	if err := srv.EnforceIAM(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// newOrgWorld builds the organization: a member account per name, the
// first withRole of them with the members stack's role deployed.
func newOrgWorld(t testing.TB, names []string, withRole int) *orgWorld {
	t.Helper()
	ctx := context.Background()
	// IAM is enforced once the setup is done (enforceIAM below).
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Before IAM is enforced any role ARN may be assumed, existing or not
	// (see newWorld): that is how the test gets into each account.
	assume := func(arn string) aws.Config {
		t.Helper()
		out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("setup")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		cfg, err := srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	customer := assume("arn:aws:iam::" + customerAccount + ":role/admin")
	ciam := iam.NewFromConfig(customer)
	must(t, call(ciam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + hubAccount + `:root"},"Action":"sts:AssumeRole"}]}`)})))
	must(t, call(ciam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("admin"), PolicyName: aws.String("admin"), PolicyDocument: aws.String(admin)})))
	hiam := iam.NewFromConfig(root)
	user, err := hiam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(hubUserName)})
	if err != nil {
		t.Fatal(err)
	}
	must(t, call(hiam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(hubUserName), PolicyName: aws.String("crossbill-hub"),
		PolicyDocument: aws.String(hubPolicy())})))
	key, err := hiam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(hubUserName)})
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(customer)
	must(t, call(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})))
	w := &orgWorld{world: &world{srv: srv, hubKey: awsclient.AccessKey{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)},
		hubARN: aws.ToString(user.User.Arn), customer: customer, rec: awsclient.NewRecorder()}}
	for _, name := range names {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		w.members = append(w.members, crossbill.AccountID(aws.ToString(out.CreateAccountStatus.AccountId)))
	}
	for _, id := range w.members[:withRole] {
		// Organizations made OrganizationAccountAccessRole in the new
		// account, trusting the management account, with no policy yet.
		a := assume("arn:aws:iam::" + string(id) + ":role/OrganizationAccountAccessRole")
		must(t, call(iam.NewFromConfig(a).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
			PolicyName: aws.String("admin"), PolicyDocument: aws.String(admin)})))
		w.admins = append(w.admins, a)
	}
	w.ext = newExternalID(t)
	w.standaloneExt = newExternalID(t)
	w.standalone = deployWith(t, root, "crossbill-standalone", "CrossbillStandalone", w.hubARN, w.standaloneExt, modules)

	enforceIAM(t, srv)
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	if w.tenant, err = st.CreateTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	// The customer deploys the account role in the management account and
	// the members stack, which puts the same role (member modules only)
	// into the first withRole members; the others' OU is not targeted.
	role := deployWith(t, customer, "crossbill-acme", onboarding.DefaultRoleName, w.hubARN, w.ext, modules)
	for _, a := range w.admins {
		deployWith(t, a, "StackSet-crossbill-members", onboarding.DefaultRoleName, w.hubARN, w.ext, onboarding.MemberModules(modules))
	}
	w.conn = w.newConnection(t, w.ext, modules)
	if w.conn, err = storetest.Bind(ctx, st, w.conn.ID, role); err != nil {
		t.Fatal(err)
	}
	return w
}

// deployWith deploys crossbill's account role template with the admin
// configuration cfg of an account and returns the RoleArn output.
func deployWith(t testing.TB, cfg aws.Config, stack, roleName, hub string, ext crossbill.ExternalID, mods []manifest.Module) crossbill.RoleARN {
	t.Helper()
	body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: ext, HubPrincipal: hub, Modules: mods, RoleName: roleName})
	if err != nil {
		t.Fatal(err)
	}
	out, err := emulator.CreateStack(context.Background(), cfg, stack, body,
		map[string]string{"ExternalId": string(ext), "HubPrincipalArn": hub, "RoleName": roleName})
	if err != nil || out["RoleArn"] == "" {
		t.Fatalf("deploying %s: %v (outputs %v)", stack, err, out)
	}
	return crossbill.RoleARN(out["RoleArn"])
}

func member(t *testing.T, res verify.MembersResult, id crossbill.AccountID) store.Member {
	t.Helper()
	for _, m := range res.Members {
		if m.AccountID == id {
			return m
		}
	}
	t.Fatalf("no member %s in %+v", id, res.Members)
	return store.Member{}
}

// TestMembersAgainstEmulator: an organization of a management account and
// three members, the members stack deployed in two of them. Listing stores
// four accounts; verifying finds two members verified and the third failed
// with the role-missing class and the StackSet fix; a second run upserts;
// an account owned by another tenant is a conflict; an account removed
// from the organization is marked gone; connections outside a management
// account get a clear error. Every operation sent is in the manifest.
func TestMembersAgainstEmulator(t *testing.T) {
	w := newOrgWorld(t, []string{"prod", "dev", "sandbox"}, 2)
	ctx := context.Background()
	t.Cleanup(func() {
		if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
			t.Errorf("crossbill sent operations the manifest does not declare: %v", undeclared)
		}
		t.Logf("operations sent: %+v", w.rec.Operations())
	})
	prod, dev, sandbox := w.members[0], w.members[1], w.members[2]
	var mu sync.Mutex
	var progress []string
	opts := verify.MembersOptions{Options: verify.Options{AWS: awsclient.MustFactory(w.hubConfig(t)), Tenant: "acme", Progress: func(f string, a ...any) {
		mu.Lock()
		progress = append(progress, fmt.Sprintf(f, a...))
		mu.Unlock()
	}}}

	t.Run("list", func(t *testing.T) {
		res, err := verify.Members(ctx, w.st, w.conn, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verified || res.Err() != nil || len(res.Members) != 4 || len(res.Added) != 4 || res.ManagementAccount != customerAccount || !strings.HasPrefix(res.OrganizationID, "o-") {
			t.Fatalf("list: %+v", res)
		}
		if s := res.Summary; s.Accounts != 4 || s.Members != 3 || s.Pending != 3 {
			t.Errorf("summary %+v", s)
		}
		if self := member(t, res, customerAccount); self.Status != store.MemberSkipped {
			t.Errorf("the connection's own account: %+v", self)
		}
		p := member(t, res, prod)
		if p.Name != "prod" || p.Email != "prod@example.com" || p.State != store.AccountActive || p.JoinedMethod != "CREATED" || p.JoinedAt == nil ||
			p.RoleARN != crossbill.RoleARN("arn:aws:iam::"+string(prod)+":role/"+onboarding.DefaultRoleName) || p.Status != store.MemberPending {
			t.Errorf("prod: %+v", p)
		}
		if w.rec.Count("sts:GetCallerIdentity") != 0 {
			t.Error("listing checked member roles")
		}
	})

	t.Run("verify", func(t *testing.T) {
		start := time.Now()
		o := opts
		o.Verify = true
		res, err := verify.Members(ctx, w.st, w.conn, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("timing: verified %d members in %s (%d ms by its own clock)", res.Summary.Members, time.Since(start).Round(time.Millisecond), res.DurationMS)
		if s := res.Summary; s.Members != 3 || s.Verified != 2 || s.Failed != 1 || !strings.HasPrefix(s.String(), "2 of 3 members verified") {
			t.Fatalf("summary %+v (%s)", s, s)
		}
		for _, id := range []crossbill.AccountID{prod, dev} {
			if m := member(t, res, id); m.Status != store.MemberVerified || m.CheckedAt == nil {
				t.Errorf("%s: %+v", id, m)
			}
		}
		s := member(t, res, sandbox)
		if s.Status != store.MemberFailed || s.Class != string(awsclient.ClassRoleTrust) || !strings.Contains(s.Fix, "StackSet") || !strings.Contains(s.Fix, "OU") {
			t.Errorf("sandbox: %+v", s)
		}
		err = res.Err()
		if crossbill.ErrorCode(err) != crossbill.CodeAccessDenied || crossbill.ExitCode(err) != 5 {
			t.Errorf("Err() = %v", err)
		}
		// Verified members now belong to the tenant, as a bound role's
		// account does.
		other, err := w.st.CreateTenant(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		oc, err := w.st.CreateConnection(ctx, store.NewConnection{TenantID: other.ID, ExternalID: newExternalID(t), HubPrincipal: w.hubARN, Modules: modules})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := storetest.Bind(ctx, w.st, oc.ID, crossbill.RoleARN("arn:aws:iam::"+string(prod)+":role/Theirs")); crossbill.ErrorCode(err) != crossbill.CodeConflict {
			t.Errorf("another tenant bound a verified member account: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		joined := strings.Join(progress, "\n")
		if !strings.Contains(joined, "[3/3]") || !strings.Contains(joined, "fix: ") {
			t.Errorf("progress lacks per-member lines:\n%s", joined)
		}
	})

	t.Run("second run upserts", func(t *testing.T) {
		o := opts
		o.Verify = true
		res, err := verify.Members(ctx, w.st, w.conn, o)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := w.st.Members(ctx, w.conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 4 || len(res.Added) != 0 || len(res.Gone) != 0 || res.Summary.Verified != 2 {
			t.Fatalf("second run: %d stored, %+v", len(stored), res)
		}
	})

	t.Run("conflict", func(t *testing.T) {
		// Another tenant connected sandbox first: it is reported, never
		// checked nor taken over.
		other, err := w.st.TenantByName(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		oc, err := w.st.CreateConnection(ctx, store.NewConnection{TenantID: other.ID, ExternalID: newExternalID(t), HubPrincipal: w.hubARN, Modules: modules})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := storetest.Bind(ctx, w.st, oc.ID, crossbill.RoleARN("arn:aws:iam::"+string(sandbox)+":role/Theirs")); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Verify = true
		res, err := verify.Members(ctx, w.st, w.conn, o)
		if err != nil {
			t.Fatal(err)
		}
		s := member(t, res, sandbox)
		if s.Status != store.MemberConflict || !strings.Contains(s.Message, "another tenant") {
			t.Fatalf("sandbox: %+v", s)
		}
		if res.Summary.Conflict != 1 || res.Summary.Verified != 2 || crossbill.ErrorCode(res.Err()) != crossbill.CodeConflict {
			t.Errorf("summary %+v, err %v", res.Summary, res.Err())
		}
	})

	t.Run("removed from the organization", func(t *testing.T) {
		must(t, call(organizations.NewFromConfig(w.customer).RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(string(sandbox))})))
		o := opts
		o.Verify = true
		res, err := verify.Members(ctx, w.st, w.conn, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Gone) != 1 || res.Gone[0] != sandbox || len(res.Members) != 4 {
			t.Fatalf("gone %v, %d members", res.Gone, len(res.Members))
		}
		if s := member(t, res, sandbox); !s.Gone() {
			t.Errorf("sandbox not marked gone: %+v", s)
		}
		if s := res.Summary; s.Members != 2 || s.Verified != 2 || s.Gone != 1 || res.Err() != nil {
			t.Errorf("summary %+v, err %v", s, res.Err())
		}
	})

	t.Run("not the management account", func(t *testing.T) {
		// A role with the org module in a member account sees the
		// organization but may not list it.
		ext := newExternalID(t)
		role := deployWith(t, w.admins[1], "crossbill-dev-org", "CrossbillDevOrg", w.hubARN, ext, modules)
		c := w.newConnection(t, ext, modules)
		c, err := storetest.Bind(ctx, w.st, c.ID, role)
		if err != nil {
			t.Fatal(err)
		}
		_, err = verify.Members(ctx, w.st, c, opts)
		if crossbill.ErrorCode(err) != crossbill.CodeAccessDenied || !strings.Contains(err.Error(), "not its management account") {
			t.Errorf("member account: %v", err)
		}
		// An account in no organization.
		c = w.newConnection(t, w.standaloneExt, modules)
		if c, err = storetest.Bind(ctx, w.st, c.ID, w.standalone); err != nil {
			t.Fatal(err)
		}
		_, err = verify.Members(ctx, w.st, c, opts)
		if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "not in an AWS Organization") {
			t.Errorf("standalone account: %v", err)
		}
		// A connection without the org module is refused before any call.
		c = w.newConnection(t, newExternalID(t), []manifest.Module{manifest.ModuleInventory})
		if c, err = storetest.Bind(ctx, w.st, c.ID, crossbill.RoleARN("arn:aws:iam::"+customerAccount+":role/Other")); err != nil {
			t.Fatal(err)
		}
		if _, err = verify.Members(ctx, w.st, c, opts); crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "org module") {
			t.Errorf("no org module: %v", err)
		}
	})
}

// BenchmarkMembersVerify measures verifying an organization of 24 members
// (each: three AssumeRole, GetCallerIdentity and four probes, two of them
// stubbed) against moto, one at a time and 8 at once. moto answers from
// one Python process, so the figures show crossbill's overhead and the
// concurrency's effect on a serial server, not AWS latency.
func BenchmarkMembersVerify(b *testing.B) {
	names := make([]string, 24)
	for i := range names {
		names[i] = fmt.Sprintf("member-%02d", i)
	}
	w := newOrgWorld(b, names, len(names))
	ctx := context.Background()
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("members=%d/concurrency=%d", len(names), n), func(b *testing.B) {
			opts := verify.MembersOptions{Options: verify.Options{AWS: awsclient.MustFactory(w.hubConfig(b)), Tenant: "acme"}, Verify: true, Concurrency: n}
			for b.Loop() {
				res, err := verify.Members(ctx, w.st, w.conn, opts)
				if err != nil {
					b.Fatal(err)
				}
				if res.Summary.Verified != len(names) {
					b.Fatalf("summary %+v", res.Summary)
				}
			}
		})
	}
}
