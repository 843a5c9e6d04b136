package awsclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
)

// faultyHub is the hub's configuration (built by HubConfig, as crossbill
// builds it) pointed at a fault proxy in front of the shared emulator.
func faultyHub(t *testing.T, timeout time.Duration, rules ...emulator.Rule) (aws.Config, *emulator.FaultProxy) {
	t.Helper()
	p, err := emulator.StartFaultProxy(emulator.Shared(t).URL, 1, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cfg, err := awsclient.HubConfig(context.Background(), awsclient.HubOptions{EndpointURL: p.URL, Region: "us-east-1", AttemptTimeout: timeout,
		AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, p
}

// TestFaultsClassifiedByRootCause sends the calls of a verification through
// the fault proxy, so that every error chain is the one the SDK really
// builds: a passing fault is never "no hub credentials" nor a denial, is
// retried as many times as the SDK allows, and maps to exit code 6.
func TestFaultsClassifiedByRootCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rule     emulator.Rule
		class    awsclient.Class
		attempts int // requests the proxy saw for the operation
	}{
		{"AssumeRole throttled", emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.FaultThrottle}, awsclient.ClassThrottled, 3},
		{"AssumeRole HTTP 500", emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.Fault500}, awsclient.ClassUnavailable, 3},
		{"AssumeRole HTTP 503", emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.Fault503}, awsclient.ClassUnavailable, 3},
		// The SDK does not retry a deserialization error by itself; the
		// hub's retryer does, for idempotent calls.
		{"AssumeRole response cut", emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.FaultCut}, awsclient.ClassUnavailable, 3},
		{"AssumeRole connection dropped", emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.FaultReset}, awsclient.ClassUnavailable, 3},
		{"AssumeRole never answers", emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.FaultHang}, awsclient.ClassTimeout, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hub, p := faultyHub(t, 300*time.Millisecond, tt.rule)
			f := newFactory(t, hub, awsclient.FactoryOptions{})
			start := time.Now()
			_, err := f.Retrieve(context.Background(), target("conn-faults", "CrossbillAccess"))
			if err == nil {
				t.Fatal("AssumeRole succeeded through an always-failing proxy")
			}
			d := awsclient.Diagnose(err)
			if d.Class != tt.class || crossbill.ErrorCode(err) != crossbill.CodeThrottled && crossbill.ErrorCode(err) != crossbill.CodeUnavailable {
				t.Fatalf("class %s code %s, want %s and exit 6: %v", d.Class, crossbill.ErrorCode(err), tt.class, err)
			}
			if !d.Class.Transient() || d.Class.Denied() {
				t.Fatalf("class %s must be transient and not a denial", d.Class)
			}
			if n := p.Requests()["sts:AssumeRole"]; n != tt.attempts {
				t.Fatalf("the proxy saw %d AssumeRole requests, want %d (the SDK's attempts)", n, tt.attempts)
			}
			if tt.rule.Fault == emulator.FaultHang && time.Since(start) > 10*time.Second {
				t.Fatalf("a call that never answers took %s: the attempt timeout does not apply", time.Since(start))
			}
		})
	}
}

// TestUnreachableEndpointInsideAssumeRole: issue 11's defect. The SDK wraps
// a dial failure of AssumeRole in "failed to refresh cached credentials";
// the class is the network's, not "no hub credentials".
func TestUnreachableEndpointInsideAssumeRole(t *testing.T) {
	t.Parallel()
	hub, p := faultyHub(t, time.Second)
	p.Close() // nothing listens on the port any more
	f := newFactory(t, hub, awsclient.FactoryOptions{})
	// The failure surfaces inside a service call, as in a probe.
	_, err := organizations.NewFromConfig(f.Config(target("conn-unreachable", "CrossbillAccess"), "")).DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
	d := awsclient.Diagnose(err)
	if d.Class != awsclient.ClassUnreachable || d.Code != crossbill.CodeUnavailable || d.Operation != "AssumeRole" {
		t.Fatalf("Diagnose = %s on %s %s (code %s), want endpoint-unreachable on AssumeRole: %v", d.Class, d.Service, d.Operation, d.Code, err)
	}
}

// TestPassingFaultsAreRetried: one fault of each kind on the way, then the
// call succeeds within the SDK's attempts.
func TestPassingFaultsAreRetried(t *testing.T) {
	t.Parallel()
	for _, fault := range []emulator.Fault{emulator.FaultThrottle, emulator.Fault500, emulator.FaultCut, emulator.FaultReset, emulator.FaultHang} {
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			hub, p := faultyHub(t, 300*time.Millisecond,
				emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: fault, Times: 1},
				emulator.Rule{Service: "sts", Operation: "GetCallerIdentity", Fault: fault, Times: 1})
			f := newFactory(t, hub, awsclient.FactoryOptions{})
			tg := target("conn-retried-"+string(fault), "CrossbillAccess")
			out, err := sts.NewFromConfig(f.Config(tg, "")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("one %s fault per call was not retried: %v", fault, err)
			}
			if aws.ToString(out.Account) != customerAccount {
				t.Fatalf("account %s", aws.ToString(out.Account))
			}
			if n := p.InjectedTotal(); n != 2 {
				t.Fatalf("injected %d faults, want 2 (%v)", n, p.Injected())
			}
		})
	}
}

// TestCutResponseOfWriteNotRetried: a write whose answer was cut may have
// taken effect; it is not sent again.
func TestCutResponseOfWriteNotRetried(t *testing.T) {
	t.Parallel()
	hub, p := faultyHub(t, time.Second, emulator.Rule{Service: "organizations", Operation: "CreateOrganization", Fault: emulator.FaultCut})
	_, err := organizations.NewFromConfig(hub).CreateOrganization(context.Background(), &organizations.CreateOrganizationInput{})
	if err == nil {
		t.Fatal("a cut response succeeded")
	}
	if n := p.Requests()["organizations:CreateOrganization"]; n != 1 {
		t.Fatalf("CreateOrganization sent %d times, want 1", n)
	}
	if c := awsclient.Diagnose(err).Class; c != awsclient.ClassUnavailable {
		t.Fatalf("class %s, want service-unavailable", c)
	}
}

// TestCostExplorerLimitExceededRetried: Cost Explorer answers a request
// rate above its limit with LimitExceededException; the hub's retryer
// (the SDK's throttle codes, Cost Explorer's shared adaptive rate) retries
// it.
func TestCostExplorerLimitExceededRetried(t *testing.T) {
	t.Parallel()
	hub, p := faultyHub(t, time.Second, emulator.Rule{Service: "ce", Fault: emulator.FaultThrottle, Times: 1})
	_, err := costexplorer.NewFromConfig(hub).GetCostAndUsage(context.Background(), &costexplorer.GetCostAndUsageInput{
		Granularity: cetypes.GranularityMonthly, Metrics: []string{"UnblendedCost"},
		TimePeriod: &cetypes.DateInterval{Start: aws.String("2026-01-01"), End: aws.String("2026-02-01")}})
	if err != nil {
		t.Fatalf("one LimitExceededException was not retried: %v (%v)", err, p.Injected())
	}
	if n := p.Requests()["ce:GetCostAndUsage"]; n != 2 {
		t.Fatalf("GetCostAndUsage sent %d times, want 2", n)
	}
}
