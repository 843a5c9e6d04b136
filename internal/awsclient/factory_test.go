package awsclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

const customerAccount = "210987654321"

// hubConfig is the shared emulator's root identity with a fresh recorder.
func hubConfig(tb testing.TB) (aws.Config, *awsclient.Recorder) {
	tb.Helper()
	srv := emulator.Shared(tb)
	cfg, err := srv.RootConfig(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	rec := awsclient.NewRecorder()
	rec.Attach(&cfg)
	return cfg, rec
}

func newFactory(tb testing.TB, hub aws.Config, opts awsclient.FactoryOptions) *awsclient.Factory {
	tb.Helper()
	f, err := awsclient.NewFactory(hub, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func target(conn, role string) awsclient.Target {
	return awsclient.Target{
		Tenant:     "acme",
		Connection: crossbill.ConnectionID(conn),
		RoleARN:    crossbill.RoleARN("arn:aws:iam::" + customerAccount + ":role/" + role),
		ExternalID: "cb-0123456789abcdef0123456789abcdef",
	}
}

// With IAM unenforced moto lets any AssumeRole through: these tests are
// about caching and refresh, not about trust (see verify's tests).
func TestConcurrentCallersTriggerOneAssumeRole(t *testing.T) {
	t.Parallel()
	hub, rec := hubConfig(t)
	f := newFactory(t, hub, awsclient.FactoryOptions{})
	tg := target("conn-concurrent", "CrossbillAccess")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Credentials(tg).Retrieve(context.Background())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := rec.Count("sts:AssumeRole"); n != 1 {
		t.Fatalf("32 concurrent callers sent %d AssumeRole calls, want 1", n)
	}
	// The credentials really are the role's, in the customer's account.
	id, err := sts.NewFromConfig(f.Config(tg, "")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != customerAccount || !strings.Contains(aws.ToString(id.Arn), "crossbill-acme-conn-concurrent") {
		t.Fatalf("caller identity %s / %s", aws.ToString(id.Account), aws.ToString(id.Arn))
	}
}

func TestCredentialsRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	hub, rec := hubConfig(t)
	// A 15-minute session refreshed 4 s after issue: the window makes the
	// cache treat the credentials as expiring long before AWS would. (4 s
	// leaves room for a loaded machine between the first two calls.)
	f := newFactory(t, hub, awsclient.FactoryOptions{Duration: 15 * time.Minute, ExpiryWindow: 15*time.Minute - 4*time.Second})
	tg := target("conn-refresh", "CrossbillAccess")
	ctx := context.Background()
	first, err := f.Credentials(tg).Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Credentials(tg).Retrieve(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rec.Count("sts:AssumeRole"); n != 1 {
		t.Fatalf("fresh credentials were refreshed: %d AssumeRole calls", n)
	}
	time.Sleep(4500 * time.Millisecond)
	second, err := f.Credentials(tg).Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.Count("sts:AssumeRole"); n != 2 {
		t.Fatalf("credentials inside the expiry window were not refreshed: %d AssumeRole calls", n)
	}
	if first.AccessKeyID == second.AccessKeyID {
		t.Fatal("refresh returned the same access key")
	}
}

func TestChainedSessionsLastAtMostOneHour(t *testing.T) {
	t.Parallel()
	hub, _ := hubConfig(t)
	f := newFactory(t, hub, awsclient.FactoryOptions{Duration: 4 * time.Hour})
	mgmt := target("conn-chain", "CrossbillAccess")
	member := awsclient.Target{Tenant: "acme", Connection: "conn-chain",
		RoleARN: "arn:aws:iam::333344445555:role/CrossbillAccess", ExternalID: mgmt.ExternalID, Via: &mgmt}
	ctx := context.Background()
	start := time.Now()
	parent, err := f.Retrieve(ctx, mgmt)
	if err != nil {
		t.Fatal(err)
	}
	child, err := f.Retrieve(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if got := parent.Expires.Sub(start); got < 3*time.Hour {
		t.Errorf("direct session lasts %s, want the configured 4h", got)
	}
	if got := child.Expires.Sub(start); got > time.Hour+time.Minute {
		t.Errorf("chained session lasts %s, want at most 1h", got)
	}
	id, err := sts.NewFromConfig(f.Config(member, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != "333344445555" {
		t.Fatalf("chained session in account %s", aws.ToString(id.Account))
	}
}

// TestCredentialsDroppedOnAuthFailure: a passing fault keeps a target's
// cached credentials; an auth failure drops them, so the next call assumes
// the role again.
func TestCredentialsDroppedOnAuthFailure(t *testing.T) {
	t.Parallel()
	hub, rec := hubConfig(t)
	f := newFactory(t, hub, awsclient.FactoryOptions{})
	tg := target("conn-drop", "CrossbillAccess")
	ctx := context.Background()
	call := func() {
		t.Helper()
		if _, err := sts.NewFromConfig(f.Config(tg, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	call()
	throttled := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVolumes", Err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
	if err := f.Check("probe", tg, throttled); crossbill.ErrorCode(err) != crossbill.CodeThrottled {
		t.Fatalf("Check(throttled) = %v", err)
	}
	call()
	if n := rec.Count("sts:AssumeRole"); n != 1 {
		t.Fatalf("AssumeRole sent %d times after throttling, want 1 (credentials kept)", n)
	}
	expired := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVolumes", Err: &smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}}
	if err := f.Check("probe", tg, expired); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("Check(expired) = %v", err)
	}
	call()
	if n := rec.Count("sts:AssumeRole"); n != 2 {
		t.Fatalf("AssumeRole sent %d times, want 2 (one before, one after the drop)", n)
	}
}

func TestFactoryOptionsValidated(t *testing.T) {
	t.Parallel()
	for _, opts := range []awsclient.FactoryOptions{
		{Duration: time.Minute},
		{Duration: 13 * time.Hour},
		{Duration: time.Hour, ExpiryWindow: time.Hour},
		{ExpiryJitter: 1.5},
	} {
		if _, err := awsclient.NewFactory(aws.Config{}, opts); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("NewFactory(%+v) = %v, want invalid", opts, err)
		}
	}
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func TestSessionName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("t", 80)
	tests := []struct {
		tenant string
		conn   crossbill.ConnectionID
		want   string
	}{
		{"acme", "c1", "crossbill-acme-c1"},
		{"acme corp/eu", "c 1", "crossbill-acme-corp-eu-c-1"},
		{"", "", "crossbill"},
		{long, "0b9c6a52-4f3e-4d0e-9f55-2a7f0f6f3a11", "crossbill-ttttttttttttttttt-0b9c6a52-4f3e-4d0e-9f55-2a7f0f6f3a11"},
	}
	for _, tt := range tests {
		got := awsclient.SessionName(tt.tenant, tt.conn)
		if got != tt.want {
			t.Errorf("SessionName(%q, %q) = %q, want %q", tt.tenant, tt.conn, got, tt.want)
		}
		if !sessionNamePattern.MatchString(got) {
			t.Errorf("SessionName(%q, %q) = %q is not a valid RoleSessionName", tt.tenant, tt.conn, got)
		}
	}
}

func FuzzSessionName(f *testing.F) {
	f.Add("acme", "c1")
	f.Add("ü ß/日本", "conn:with:colons")
	f.Add(strings.Repeat("x", 100), strings.Repeat("y", 100))
	f.Fuzz(func(t *testing.T, tenant, conn string) {
		if got := awsclient.SessionName(tenant, crossbill.ConnectionID(conn)); !sessionNamePattern.MatchString(got) {
			t.Fatalf("SessionName(%q, %q) = %q", tenant, conn, got)
		}
	})
}

func TestSecretsStayOutOfLogs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tg := target("c1", "CrossbillAccess")
	key := awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("assume", "target", tg, "key", key)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("assume", "target", tg, "key", key)
	fmt.Fprintf(&buf, "%v %s %#v %+v", key, key, key, key)
	out := buf.String()
	for _, secret := range []string{string(tg.ExternalID), key.Secret, key.ID} {
		if strings.Contains(out, secret) {
			t.Fatalf("log output contains %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "CrossbillAccess") {
		t.Fatalf("log lost the non-secret fields: %s", out)
	}
}

// TestSDKLogsGoToTheConfiguredLogger: the SDK's own lines reach the logger
// the CLI or server configured (so -v shows them), at debug level.
func TestSDKLogsGoToTheConfiguredLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := awsclient.HubConfig(context.Background(), awsclient.HubOptions{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1", Logger: log,
		AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Logf(logging.Warn, "falling back to %s", "IMDSv1")
	if out := buf.String(); !strings.Contains(out, "falling back to IMDSv1") || !strings.Contains(out, "component=aws-sdk") || !strings.Contains(out, "level=DEBUG") {
		t.Fatalf("SDK line not in the configured logger: %q", out)
	}
}

func TestHubConfigUsesEndpointAndDefaultChain(t *testing.T) {
	srv := emulator.Shared(t)
	dir := t.TempDir()
	// The default chain reads the environment; the developer's own files
	// must not leak in.
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	ctx := context.Background()
	cfg, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != awsclient.DefaultRegion {
		t.Errorf("region = %q", cfg.Region)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != emulator.DefaultAccount {
		t.Fatalf("account %s", aws.ToString(id.Account))
	}
	if _, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: "localhost:5000"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("bad endpoint: %v", err)
	}
	if _, err := awsclient.HubConfig(ctx, awsclient.HubOptions{AccessKey: &awsclient.AccessKey{ID: "AKIA"}}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("half access key: %v", err)
	}
	// Errors carry the region of the call, for Diagnose.
	bad, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: srv.URL, Region: "ap-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = iam.NewFromConfig(bad).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("no-such-role")})
	if err == nil {
		t.Fatal("GetRole of a missing role succeeded")
	}
	if d := awsclient.Diagnose(err); d.Region != "ap-east-1" || d.Service != "IAM" || d.ErrorCode != "NoSuchEntity" {
		t.Fatalf("diagnosis %+v lacks region or service", d)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("annotation hid the API error: %v", err)
	}
}

func TestRecorderReportsUndeclaredCalls(t *testing.T) {
	t.Parallel()
	hub, rec := hubConfig(t)
	ctx := context.Background()
	if _, err := sts.NewFromConfig(hub).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.Undeclared(); len(got) != 0 {
		t.Fatalf("hub GetCallerIdentity reported undeclared: %v", got)
	}
	// iam:CreateUser is nothing crossbill may ever call in a customer account.
	if _, err := iam.NewFromConfig(hub).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("recorder-probe")}); err != nil {
		t.Fatal(err)
	}
	if got := rec.Undeclared(); len(got) != 1 || got[0] != "iam:CreateUser" {
		t.Fatalf("Undeclared = %v, want [iam:CreateUser]", got)
	}
	ops := rec.Operations()
	if len(ops) != 2 || ops[0].Service != "IAM" || ops[1].Call != "sts:GetCallerIdentity" || ops[1].Count != 1 {
		t.Fatalf("Operations = %+v", ops)
	}
	rec.Reset()
	if len(rec.Operations()) != 0 {
		t.Fatal("Reset kept operations")
	}
}

// TestAttachDoesNotLeakIntoCopies: aws.Config.Copy shares the APIOptions
// array; attaching a recorder to one copy must not record the other's calls.
func TestAttachDoesNotLeakIntoCopies(t *testing.T) {
	t.Parallel()
	base, _ := hubConfig(t)
	base.APIOptions = append(make([]func(*middleware.Stack) error, 0, 8), base.APIOptions...)
	a, b := base.Copy(), base.Copy()
	recA, recB := awsclient.NewRecorder(), awsclient.NewRecorder()
	recA.Attach(&a)
	recB.Attach(&b)
	if _, err := sts.NewFromConfig(a).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if recA.Count("sts:GetCallerIdentity") != 1 || recB.Count("sts:GetCallerIdentity") != 0 {
		t.Fatalf("recorders: a=%d b=%d, want 1 and 0", recA.Count("sts:GetCallerIdentity"), recB.Count("sts:GetCallerIdentity"))
	}
}
