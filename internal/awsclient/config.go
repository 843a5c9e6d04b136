// Package awsclient is crossbill's one way into AWS: the hub's own
// credentials, per-connection AssumeRole credentials, cached clients, the
// classification of AWS errors into fixes, and a recorder of the operations
// sent (checked against the permission manifest in tests).
package awsclient

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// DefaultRegion is used for global services (STS, IAM, Organizations) and
// when the environment names no region.
const DefaultRegion = "us-east-1"

// HubOptions configures the hub's own AWS access.
type HubOptions struct {
	// EndpointURL points every client at an emulator (moto_server) or a
	// private endpoint; empty uses AWS.
	EndpointURL string
	// Region overrides the environment's region.
	Region string
	// Profile selects a shared-config profile; empty uses the default chain.
	Profile string
	// AccessKey, when set, replaces the default chain with the hub's own
	// access key (Trustle/Flexera-style service user). Never a customer's.
	AccessKey *AccessKey
	// AttemptTimeout bounds one attempt's wait for AWS to send anything;
	// 0 means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Logger receives the SDK's own log lines at debug level (so -v shows
	// them); nil discards them.
	Logger *slog.Logger
}

// AccessKey is a long-term IAM access key of the hub. Its secret never
// reaches logs or formatted output.
type AccessKey struct {
	ID           string
	Secret       string
	SessionToken string
}

// LogValue shows the key ID's prefix only.
func (k AccessKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", redact(k.ID)), slog.String("secret", "[redacted]"))
}

// String keeps the secret out of %v and %s.
func (k AccessKey) String() string { return "access key " + redact(k.ID) }

// GoString keeps the secret out of %#v.
func (k AccessKey) GoString() string { return k.String() }

func redact(id string) string {
	if len(id) <= 8 {
		return "[redacted]"
	}
	return id[:8] + "…"
}

// HubConfig loads the hub's credentials from the default AWS chain
// (environment, shared config, SSO, web identity, container or instance
// role) and sets BaseEndpoint so that every client built from it uses
// EndpointURL.
func HubConfig(ctx context.Context, opts HubOptions) (aws.Config, error) {
	const op = "aws hub config"
	var loaders []func(*awsconfig.LoadOptions) error
	if opts.Region != "" {
		loaders = append(loaders, awsconfig.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		loaders = append(loaders, awsconfig.WithSharedConfigProfile(opts.Profile))
	}
	if k := opts.AccessKey; k != nil {
		if k.ID == "" || k.Secret == "" {
			return aws.Config{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the hub access key needs both an ID and a secret")
		}
		loaders = append(loaders, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(k.ID, k.Secret, k.SessionToken)))
	}
	if opts.EndpointURL != "" {
		if !strings.HasPrefix(opts.EndpointURL, "http://") && !strings.HasPrefix(opts.EndpointURL, "https://") {
			return aws.Config{}, crossbill.Errorf(crossbill.CodeInvalid, op, "endpoint URL %q must start with http:// or https://", opts.EndpointURL)
		}
		loaders = append(loaders, awsconfig.WithBaseEndpoint(opts.EndpointURL))
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	loaders = append(loaders, awsconfig.WithLogger(sdkLogger{log: opts.Logger}), awsconfig.WithRetryer(Retryers()),
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithReadTimeout(opts.AttemptTimeout).WithTransportOptions(func(t *http.Transport) {
			// The read window starts when a pooled connection goes idle, not
			// when the next request is written on it: closing idle
			// connections early leaves every attempt most of its window.
			t.IdleConnTimeout = opts.AttemptTimeout / 3
		})))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "loading AWS configuration (check AWS_PROFILE and ~/.aws/config): %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	AnnotateRegion(&cfg)
	cfg.APIOptions = append(cfg.APIOptions, markBroken)
	return cfg, nil
}

// CheckHub retrieves the hub's credentials once, so that a machine with none
// gets one clear error up front instead of every AWS call failing (and a
// customer's connection being marked failed for the hub's own problem).
func CheckHub(ctx context.Context, cfg aws.Config) error {
	const op = "aws hub credentials"
	if cfg.Credentials == nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%s", NoHubCredentials)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%s: %w", NoHubCredentials, err)
	}
	return nil
}

// NoHubCredentials says what to do when the hub has no AWS credentials.
const NoHubCredentials = "crossbill has no AWS credentials of its own (the hub identity): set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run where an instance or container role is available, or pass --endpoint-url for an emulator"

// AnnotateRegion makes every error of clients built from cfg carry the
// region of the call, so that Diagnose can tell "opt-in region not enabled"
// from "bad credentials" (AWS answers both with InvalidClientTokenId).
func AnnotateRegion(cfg *aws.Config) {
	// The three-index slice makes append copy: aws.Config.Copy shares the
	// APIOptions array, and another copy must not see this middleware.
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("crossbillRegion",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil {
					err = &regionError{region: awsmiddleware.GetRegion(ctx), err: err}
				}
				return out, md, err
				// After: older clients set the region in an Initialize
				// middleware of their own, which must run first.
			}), middleware.After)
	})
}

// regionError carries the region of a failed call; its text is the cause's.
type regionError struct {
	region string
	err    error
}

func (e *regionError) Error() string { return e.err.Error() }
func (e *regionError) Unwrap() error { return e.err }

// IAMPrefix returns the IAM action prefix of an SDK service ID
// ("Cost Explorer" -> "ce"); the manifest holds the mapping.
func IAMPrefix(serviceID string) string {
	return strings.TrimSuffix(manifest.CallName(serviceID, ""), ":")
}

// Call names an SDK operation the way the manifest does: "<iam prefix>:<Operation>".
func Call(serviceID, operation string) string { return manifest.CallName(serviceID, operation) }

// sdkLogger sends the SDK's own log lines to the configured logger at debug
// level. Left to itself the SDK prints unstructured warnings to stderr (e.g.
// "falling back to IMDSv1" on every machine without an instance role),
// which crossbill already reports in its own words.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if l.log == nil {
		return
	}
	l.log.Debug(fmt.Sprintf(format, v...), "component", "aws-sdk", "sdk_level", string(c))
}
