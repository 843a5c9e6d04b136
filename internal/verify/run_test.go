package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	smithy "github.com/aws/smithy-go"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// deniedHub is a hub configuration whose every AssumeRole is refused the
// way AWS refuses a role whose trust policy does not match. No request
// leaves the process: the answer is stubbed, and the endpoint is closed.
func deniedHub(rec *awsclient.Recorder) aws.Config {
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", "")}
	rec.Attach(&cfg)
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/hub is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/CrossbillAccess"}
	cfg.APIOptions = append(cfg.APIOptions, emulator.Stub("STS", "AssumeRole", nil, denied))
	return cfg
}

func pendingConn() store.Connection {
	return store.Connection{ID: "c1", ExternalID: "cb-test", RoleARN: "arn:aws:iam::210987654321:role/CrossbillAccess",
		Modules: []manifest.Module{manifest.ModuleInventory}}
}

func TestRunRetriesWithBackoffWithinTheWait(t *testing.T) {
	t.Parallel()
	rec := awsclient.NewRecorder()
	start := time.Now()
	res, err := verify.Run(context.Background(), pendingConn(), verify.Options{AWS: awsclient.MustFactory(deniedHub(rec)), PropagationWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	a := check(t, res, verify.CheckAssumeRole)
	if a.Class != string(awsclient.ClassRoleTrust) || res.Status != store.VerificationFailed {
		t.Fatalf("assume-role %+v", a)
	}
	// Delays 0.25-0.5 s, 0.5-1 s, 1-2 s...: within 2 s that is 2-4
	// attempts, then 2 negative checks. A tight loop would make hundreds.
	if n := rec.Count("sts:AssumeRole") - 2; n < 2 || n > 5 {
		t.Errorf("%d AssumeRole attempts within a 2 s wait", n)
	}
	if elapsed > 5*time.Second {
		t.Errorf("verify overran its propagation wait: %s", elapsed)
	}
}

func TestRunStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := verify.Run(ctx, pendingConn(), verify.Options{AWS: awsclient.MustFactory(deniedHub(awsclient.NewRecorder())), PropagationWait: time.Minute})
	if crossbill.ErrorCode(err) != crossbill.CodeUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want an interrupted (unavailable) error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("cancellation took %s", time.Since(start))
	}
}

func TestRunRefusesUnboundConnection(t *testing.T) {
	t.Parallel()
	c := pendingConn()
	c.RoleARN = ""
	if _, err := verify.Run(context.Background(), c, verify.Options{AWS: awsclient.MustFactory(deniedHub(awsclient.NewRecorder()))}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("err = %v, want invalid", err)
	}
}

func TestResultErr(t *testing.T) {
	t.Parallel()
	ok := verify.Result{Status: store.VerificationVerified, Checks: []store.VerificationCheck{{Name: "a", Status: store.CheckPass}, {Name: "b", Status: store.CheckSkip}}}
	if err := ok.Err(); err != nil {
		t.Fatalf("verified result: %v", err)
	}
	tests := []struct {
		class string
		code  crossbill.Code
		exit  int
	}{
		{string(awsclient.ClassSCPDeny), crossbill.CodeAccessDenied, 5},
		{string(verify.ClassExternalIDNotEnforced), crossbill.CodeAccessDenied, 5},
		{string(awsclient.ClassInvalidCredentials), crossbill.CodeUnauthorized, 5},
		// A passing fault beside a real failure: the real one decides.
		{string(awsclient.ClassThrottled), crossbill.CodeInternal, 1},
	}
	for _, tt := range tests {
		r := verify.Result{Status: store.VerificationFailed, Checks: []store.VerificationCheck{
			{Name: "a", Status: store.CheckPass},
			{Name: "b", Status: store.CheckFail, Class: tt.class, Advice: "do this"},
			{Name: "c", Status: store.CheckFail, Class: string(awsclient.ClassUnknown)},
		}}
		err := r.Err()
		if crossbill.ErrorCode(err) != tt.code || crossbill.ExitCode(err) != tt.exit {
			t.Errorf("%s: err %v code %s exit %d", tt.class, err, crossbill.ErrorCode(err), crossbill.ExitCode(err))
		}
	}
}

// TestInconclusiveResult: checks that failed only for passing faults make
// an inconclusive result, exit 6 (never a denial), and a real failure among
// them makes a failed one.
func TestInconclusiveResult(t *testing.T) {
	t.Parallel()
	checks := []store.VerificationCheck{
		{Name: "assume-role", Status: store.CheckPass},
		{Name: "external-id-required", Status: store.CheckFail, Class: string(awsclient.ClassThrottled)},
		{Name: "probe:org", Status: store.CheckFail, Class: string(awsclient.ClassUnavailable)},
		{Name: "probe:cost", Status: store.CheckSkip},
	}
	if !verify.Inconclusive(checks) {
		t.Fatal("throttled and unavailable checks are not inconclusive")
	}
	r := verify.Result{Status: store.VerificationInconclusive, Checks: checks}
	if err := r.Err(); crossbill.ExitCode(err) != 6 || !strings.Contains(err.Error(), "keeps its status") {
		t.Fatalf("inconclusive: exit %d: %v", crossbill.ExitCode(err), err)
	}
	checks = append(checks, store.VerificationCheck{Name: "probe:inventory", Status: store.CheckFail, Class: string(awsclient.ClassNoIdentityPolicy)})
	if verify.Inconclusive(checks) {
		t.Fatal("a missing permission beside the faults is inconclusive")
	}
	r = verify.Result{Status: store.VerificationFailed, Checks: checks}
	if err := r.Err(); crossbill.ExitCode(err) != 5 {
		t.Fatalf("failed with a throttled first check: exit %d, want 5 from the real failure: %v", crossbill.ExitCode(err), err)
	}
	if verify.Inconclusive(checks[:1]) {
		t.Fatal("no failure at all is inconclusive")
	}
}
