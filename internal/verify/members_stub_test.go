package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
	"github.com/crossbill/crossbill/internal/verify"
)

// The answers below are what AWS gives and moto does not: an AccessDenied
// on ListAccounts from a member account (moto lists nothing instead),
// and a ListAccounts that needs several pages (moto's pages hold 100
// accounts). No request leaves the process: every call is stubbed and the
// endpoint is closed.

func stubbedHub(rec *awsclient.Recorder, stubs ...func(*middleware.Stack) error) aws.Config {
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", "")}
	rec.Attach(&cfg)
	cfg.APIOptions = append(cfg.APIOptions, stubs...)
	return cfg
}

// assumed answers AssumeRole with an hour of credentials.
func assumed() func(*middleware.Stack) error {
	return emulator.Stub("STS", "AssumeRole", &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIAEXAMPLEEXAMPLE00"), SecretAccessKey: aws.String("secret"), SessionToken: aws.String("token"),
		Expiration: aws.Time(time.Now().Add(time.Hour))}}, nil)
}

func orgOf(management string) *organizations.DescribeOrganizationOutput {
	return &organizations.DescribeOrganizationOutput{Organization: &orgtypes.Organization{Id: aws.String("o-abcdefghij"), MasterAccountId: aws.String(management)}}
}

// pagedAccounts answers ListAccounts in pages of one account each.
func pagedAccounts(ids ...string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test-pages",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if middleware.GetOperationName(ctx) != "ListAccounts" {
					return next.HandleInitialize(ctx, in)
				}
				i := 0
				if tok := aws.ToString(in.Parameters.(*organizations.ListAccountsInput).NextToken); tok != "" {
					i = int(tok[0] - '0')
				}
				out := &organizations.ListAccountsOutput{Accounts: []orgtypes.Account{{Id: aws.String(ids[i]), Name: aws.String("a" + ids[i][:1]),
					State: orgtypes.AccountStateActive}}}
				if i+1 < len(ids) {
					out.NextToken = aws.String(string(rune('0' + i + 1)))
				}
				return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
			}), middleware.After)
	}
}

func stubStore(t *testing.T) (*store.Store, store.Connection) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleInventory, manifest.ModuleOrg}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = storetest.Bind(ctx, st, c.ID, "arn:aws:iam::111111111111:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	return st, c
}

func TestMembersOrganizationErrors(t *testing.T) {
	t.Parallel()
	denied := func(action string) error {
		return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::111111111111:assumed-role/CrossbillAccess/s is not authorized to perform: " + action}
	}
	tests := []struct {
		name  string
		stubs []func(*middleware.Stack) error
		code  crossbill.Code
		says  string
	}{
		{"not in an organization", []func(*middleware.Stack) error{assumed(),
			emulator.Stub("Organizations", "DescribeOrganization", nil, &orgtypes.AWSOrganizationsNotInUseException{Message: aws.String("Your account is not a member of an organization.")})},
			crossbill.CodeInvalid, "not in an AWS Organization"},
		{"member account", []func(*middleware.Stack) error{assumed(),
			emulator.Stub("Organizations", "DescribeOrganization", orgOf("999999999999"), nil),
			emulator.Stub("Organizations", "ListAccounts", nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "You don't have permissions to access this resource."})},
			crossbill.CodeAccessDenied, "delegated administrator"},
		{"role without the org policy", []func(*middleware.Stack) error{assumed(),
			emulator.Stub("Organizations", "DescribeOrganization", nil, denied("organizations:DescribeOrganization"))},
			crossbill.CodeAccessDenied, "org module"},
		{"role not assumable", []func(*middleware.Stack) error{
			emulator.Stub("STS", "AssumeRole", nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/hub is not authorized to perform: sts:AssumeRole"})},
			crossbill.CodeAccessDenied, "connect verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, conn := stubStore(t)
			rec := awsclient.NewRecorder()
			_, err := verify.Members(context.Background(), st, conn, verify.MembersOptions{Options: verify.Options{AWS: awsclient.MustFactory(stubbedHub(rec, tt.stubs...))}, Verify: true})
			if crossbill.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v; want %s saying %q", err, tt.code, tt.says)
			}
			if ms, _ := st.Members(context.Background(), conn.ID); len(ms) != 0 {
				t.Errorf("members stored after a failure: %+v", ms)
			}
			if u := rec.Undeclared(); len(u) > 0 {
				t.Errorf("undeclared calls: %v", u)
			}
		})
	}
}

func TestMembersReadsEveryPage(t *testing.T) {
	t.Parallel()
	st, conn := stubStore(t)
	rec := awsclient.NewRecorder()
	hub := stubbedHub(rec, assumed(), emulator.Stub("Organizations", "DescribeOrganization", orgOf("111111111111"), nil),
		pagedAccounts("111111111111", "222222222222", "333333333333"))
	res, err := verify.Members(context.Background(), st, conn, verify.MembersOptions{Options: verify.Options{AWS: awsclient.MustFactory(hub)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Members) != 3 || res.Summary.Members != 2 || rec.Count("organizations:ListAccounts") != 3 {
		t.Fatalf("%d members, summary %+v, %d ListAccounts calls", len(res.Members), res.Summary, rec.Count("organizations:ListAccounts"))
	}
}

func TestMembersOptionsRefused(t *testing.T) {
	t.Parallel()
	st, conn := stubStore(t)
	for _, n := range []int{-1, 65} {
		_, err := verify.Members(context.Background(), st, conn, verify.MembersOptions{Options: verify.Options{AWS: awsclient.MustFactory(stubbedHub(awsclient.NewRecorder()))}, Concurrency: n})
		if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("concurrency %d: %v", n, err)
		}
	}
}

func TestMemberFixes(t *testing.T) {
	t.Parallel()
	// The advice for the connection's own role names its own stack; for a
	// member, the members stack.
	for _, tt := range []struct {
		check store.VerificationCheck
		says  string
	}{
		{store.VerificationCheck{Name: verify.CheckAssumeRole, Class: string(awsclient.ClassRoleTrust), Advice: "check the stack"}, "StackSet has not reached it"},
		{store.VerificationCheck{Name: verify.CheckExternalIDRequired, Class: string(verify.ClassExternalIDNotEnforced), Advice: "redeploy the account role"}, "members stack"},
		{store.VerificationCheck{Name: "probe:inventory:ec2:DescribeVolumes", Class: string(awsclient.ClassNoIdentityPolicy), Advice: "update the stack"}, "members stack"},
		{store.VerificationCheck{Name: "probe:inventory:ec2:DescribeVolumes", Class: string(awsclient.ClassSCPDeny), Advice: "exempt the role from the SCP"}, "exempt the role from the SCP"},
	} {
		if got := verify.MemberFix(tt.check, "CrossbillAccess"); !strings.Contains(got, tt.says) {
			t.Errorf("%s/%s: %q does not say %q", tt.check.Name, tt.check.Class, got, tt.says)
		}
	}
}
