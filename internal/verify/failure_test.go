package verify

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
)

// TestFailureSaysItOnce: issue 11's stutter. A probe's error, classified
// as verify classifies it (Factory.Check wraps it in "probe CALL: ..."),
// makes a check whose message names the call once and holds no fix, and
// whose fix is not a repeat of the message: one cause, one fix. The error
// chain is the SDK's own (the stub fails the call inside the SDK's stack).
func TestFailureSaysItOnce(t *testing.T) {
	t.Parallel()
	for _, cause := range []error{
		&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")},
		errors.New("unexpected answer"),
	} {
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
			Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", "")}
		cfg.APIOptions = append(cfg.APIOptions, emulator.Stub("Pricing", "DescribeServices", nil, cause))
		_, err := pricing.NewFromConfig(cfg).DescribeServices(context.Background(), &pricing.DescribeServicesInput{})
		c := failure("probe:cost:pricing:DescribeServices", manifest.ModuleCost, awsclient.Classify("probe pricing:DescribeServices", err))
		if n := strings.Count(c.Message, "DescribeServices"); n != 1 {
			t.Errorf("message names the call %d times: %q", n, c.Message)
		}
		if !strings.Contains(c.Message, cause.Error()) {
			t.Errorf("message %q lost the cause %q", c.Message, cause)
		}
		if c.Advice == "" || strings.Contains(c.Message, c.Advice) || strings.Contains(c.Message, "["+c.Class+"]") {
			t.Errorf("message %q repeats the fix %q or the class", c.Message, c.Advice)
		}
	}
}
