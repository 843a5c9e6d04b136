package awsclient

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// DefaultAttemptTimeout bounds how long one attempt of a call may wait for
// AWS to send anything (the connection's read inactivity window): a call
// that never answers fails after it and is retried, instead of holding a
// verification or a scheduler slot until the job's own timeout.
const DefaultAttemptTimeout = 30 * time.Second

// adaptiveServices throttle per account rather than per call: their
// clients share, per service, the SDK's adaptive client-side rate limit,
// which slows every caller once one is throttled instead of each spending
// its retries against the same limit.
var adaptiveServices = []string{"STS", "Organizations", "Cost Explorer"}

// Retryers returns the retryer constructor of every client built from one
// hub configuration: the SDK's standard retries (3 attempts, exponential
// backoff with jitter, a retry quota per client), plus broken responses of
// idempotent calls (see markBroken), with one adaptive rate limit per
// adaptiveServices member shared by all the clients.
func Retryers() func() aws.Retryer {
	opts := func(o *retry.StandardOptions) {
		o.Retryables = append(o.Retryables, retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			var b *retryableResponse
			if errors.As(err, &b) {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		}))
	}
	shared := map[string]*retry.AdaptiveMode{}
	for _, s := range adaptiveServices {
		shared[s] = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) { o.StandardOptions = append(o.StandardOptions, opts) })
	}
	return func() aws.Retryer { return &retryer{RetryerV2: retry.NewStandard(opts), adaptive: shared} }
}

// retryer is a standard retryer whose attempts, for adaptiveServices, first
// wait for the service's shared rate limiter (which learns from throttling
// answers through the release function it returns).
type retryer struct {
	aws.RetryerV2
	adaptive map[string]*retry.AdaptiveMode
}

func (r *retryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if a, ok := r.adaptive[middleware.GetServiceID(ctx)]; ok {
		return a.GetAttemptToken(ctx)
	}
	return r.RetryerV2.GetAttemptToken(ctx)
}

// retryableResponse marks an attempt's error the SDK would not retry by
// itself but crossbill does: a response cut mid-body or unreadable
// (deserialization error) on an idempotent call.
type retryableResponse struct{ err error }

func (e *retryableResponse) Error() string { return e.err.Error() }
func (e *retryableResponse) Unwrap() error { return e.err }

// markBroken is a deserialize-step middleware, inside the retry loop, that
// marks the errors of retryableResponse. It runs per attempt, where the
// operation's name is known (the retryer only sees the error).
func markBroken(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("crossbillRetryBroken",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if err == nil {
				return out, md, nil
			}
			if idempotent(middleware.GetOperationName(ctx)) && brokenResponse(err) {
				err = &retryableResponse{err: err}
			}
			return out, md, err
		}), middleware.Before)
}

// idempotent reports whether sending op twice does no harm: reads, and
// AssumeRole (a second session is as good as the first).
func idempotent(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Head", "Lookup", "Search", "AssumeRole"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// brokenResponse reports whether err is a response that arrived broken:
// cut mid-body, reset, or unreadable.
func brokenResponse(err error) bool {
	var de *smithy.DeserializationError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &de) ||
		strings.Contains(err.Error(), "connection reset")
}
