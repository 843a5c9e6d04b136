package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/crossbill/crossbill"
)

// Class says why an AWS call failed, in terms of what the customer (or the
// operator) has to change.
type Class string

// Classes of AWS failures. The string values are stored with verification
// results and printed in JSON: do not rename them.
const (
	ClassSCPDeny             Class = "scp-deny"              // a service control policy denies the action
	ClassRCPDeny             Class = "rcp-deny"              // a resource control policy denies the action
	ClassNoIdentityPolicy    Class = "no-identity-policy"    // no policy attached to the principal allows the action
	ClassIdentityDeny        Class = "identity-policy-deny"  // a Deny statement in the principal's own policies
	ClassPermissionsBoundary Class = "permissions-boundary"  // the principal's permissions boundary denies or omits it
	ClassSessionPolicy       Class = "session-policy"        // a session policy denies or omits it
	ClassResourcePolicy      Class = "resource-policy"       // a resource-based policy (bucket policy...) denies or omits it
	ClassThrottled           Class = "throttled"             // AWS rate-limited the call
	ClassRegionNotEnabled    Class = "region-not-enabled"    // opt-in region not enabled in the account
	ClassRoleTrust           Class = "role-missing-or-trust" // role missing, or its trust policy refuses the hub or external ID
	ClassExpiredCredentials  Class = "expired-credentials"   // temporary credentials expired
	ClassInvalidCredentials  Class = "invalid-credentials"   // AWS does not know the hub's credentials
	ClassNotFound            Class = "not-found"             // the resource does not exist
	ClassUnavailable         Class = "service-unavailable"   // AWS answered 5xx
	ClassCanceled            Class = "canceled"              // the caller gave up (context canceled or timed out)
	ClassTimeout             Class = "timeout"               // AWS sent nothing within the attempt timeout, on every attempt
	ClassNoCredentials       Class = "no-hub-credentials"    // the hub found no credentials to sign with
	ClassUnreachable         Class = "endpoint-unreachable"  // no network path to the AWS endpoint
	ClassUnknown             Class = "unknown"
)

// Classes are all the classes, in declaration order: the API document's
// enum of failure classes is made from them.
func Classes() []Class {
	return []Class{ClassSCPDeny, ClassRCPDeny, ClassNoIdentityPolicy, ClassIdentityDeny, ClassPermissionsBoundary, ClassSessionPolicy,
		ClassResourcePolicy, ClassThrottled, ClassRegionNotEnabled, ClassRoleTrust, ClassExpiredCredentials, ClassInvalidCredentials,
		ClassNotFound, ClassUnavailable, ClassCanceled, ClassTimeout, ClassNoCredentials, ClassUnreachable, ClassUnknown}
}

// Diagnosis is what crossbill understood of one AWS error.
type Diagnosis struct {
	Class Class
	Code  crossbill.Code
	// Inferred is true when AWS's message did not name the policy type that
	// denied the call and the class is the most likely cause, not a certainty
	// (moto, cross-account calls and some older services omit the reason).
	Inferred  bool
	Service   string // SDK service ID, e.g. "Cost Explorer"
	Operation string // e.g. "GetCostAndUsage"
	Region    string
	Action    string // IAM action named in AWS's message, e.g. "ce:GetCostAndUsage"
	ErrorCode string // AWS error code, e.g. "AccessDenied"
	Message   string // AWS error message
	Fix       string // one line: what to change so the call succeeds
}

// Denied reports whether the class is a policy denial of some kind.
func (c Class) Denied() bool {
	switch c {
	case ClassSCPDeny, ClassRCPDeny, ClassNoIdentityPolicy, ClassIdentityDeny,
		ClassPermissionsBoundary, ClassSessionPolicy, ClassResourcePolicy, ClassRoleTrust:
		return true
	}
	return false
}

// Transient reports whether the class is a passing state of AWS or of the
// path to it (throttling, outage, network, timeout, cancellation), which
// says nothing about the customer's role: a check that failed this way
// could not be made, it did not fail.
func (c Class) Transient() bool {
	switch c {
	case ClassThrottled, ClassUnavailable, ClassUnreachable, ClassTimeout, ClassCanceled:
		return true
	}
	return false
}

// authFailure reports whether a cached client or credential for the failing
// principal must be dropped: its credentials are wrong, expired or can no
// longer be obtained.
func (c Class) authFailure() bool {
	return c == ClassRoleTrust || c == ClassExpiredCredentials || c == ClassInvalidCredentials || c == ClassNoCredentials
}

// Real AWS denial messages name the policy type, e.g.
//
//	User: arn:aws:sts::111122223333:assumed-role/R/s is not authorized to perform:
//	ec2:DescribeRegions with an explicit deny in a service control policy
//
// (IAM User Guide, "Troubleshoot access denied error messages"). Order
// matters: the first match wins.
var denialPatterns = []struct {
	phrase string
	class  Class
}{
	{"explicit deny in a service control policy", ClassSCPDeny},
	{"no service control policy allows", ClassSCPDeny},
	{"explicit deny in a resource control policy", ClassRCPDeny},
	{"explicit deny in a permissions boundary", ClassPermissionsBoundary},
	{"no permissions boundary allows", ClassPermissionsBoundary},
	{"explicit deny in a session policy", ClassSessionPolicy},
	{"no session policy allows", ClassSessionPolicy},
	{"explicit deny in an identity-based policy", ClassIdentityDeny},
	{"explicit deny in a resource-based policy", ClassResourcePolicy},
	{"no resource-based policy allows", ClassResourcePolicy},
	{"no identity-based policy allows", ClassNoIdentityPolicy},
}

var (
	actionPattern   = regexp.MustCompile(`not authorized to perform:? ([a-zA-Z0-9-]+:[a-zA-Z0-9*]+)`)
	resourcePattern = regexp.MustCompile(`on resource:? "?([^\s"]+?)"?(?:\s|$)`)
)

// accessDeniedCodes are the spellings of "denied" across AWS protocols.
var accessDeniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"AuthorizationError": true, "Forbidden": true, "UnauthorizedException": true,
}

var expiredCodes = map[string]bool{
	"ExpiredToken": true, "ExpiredTokenException": true, "RequestExpired": true, "TokenRefreshRequired": true,
}

// badTokenCodes mean AWS did not recognise the credentials. In an opt-in
// region that the account has not enabled, STS-issued and IAM credentials
// are rejected with these same codes.
var badTokenCodes = map[string]bool{
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "AuthFailure": true,
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "IncompleteSignature": true,
}

// Codes AWS uses for throttling beyond the SDK's retry list: Cost Explorer
// answers LimitExceededException when its request rate is exceeded.
var extraThrottleCodes = map[string]bool{"LimitExceededException": true, "SlowDown": true}

var notFoundCodes = map[string]bool{
	"NoSuchEntity": true, "NoSuchEntityException": true, "NoSuchBucket": true, "NoSuchKey": true,
	"ResourceNotFoundException": true, "NotFoundException": true, "NotFound": true,
	"EntityNotFoundException": true, // Glue: a database or table that does not exist
}

// defaultRegions are enabled in every account of the aws partition; every
// other commercial region is opt-in.
var defaultRegions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"ap-south-1": true, "ap-northeast-1": true, "ap-northeast-2": true, "ap-northeast-3": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ca-central-1": true,
	"eu-central-1": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true,
	"eu-north-1": true, "sa-east-1": true,
}

// optIn reports whether region must be enabled by the account before use.
func optIn(region string) bool {
	if region == "" || strings.HasPrefix(region, "us-gov-") || strings.HasPrefix(region, "cn-") || strings.HasPrefix(region, "us-iso") {
		return false
	}
	return !defaultRegions[region]
}

// Diagnose classifies an error returned by an AWS SDK call. It looks at the
// innermost operation (a credentials failure inside an EC2 call is an STS
// AssumeRole failure), the error code and AWS's message.
func Diagnose(err error) Diagnosis {
	if err == nil {
		return Diagnosis{}
	}
	var d Diagnosis
	if op := innermostOperation(err); op != nil {
		d.Service, d.Operation = op.ServiceID, op.OperationName
	}
	var re *regionError
	if errors.As(err, &re) {
		d.Region = re.region
	}
	status := 0
	var he *smithyhttp.ResponseError
	if errors.As(err, &he) && he.Response != nil {
		status = he.Response.StatusCode
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		d.ErrorCode, d.Message = ae.ErrorCode(), ae.ErrorMessage()
	} else {
		d.Message = causeMessage(err)
	}
	if m := actionPattern.FindStringSubmatch(d.Message); m != nil {
		d.Action = m[1]
	}
	if d.Action == "" && d.Service != "" {
		d.Action = IAMPrefix(d.Service) + ":" + d.Operation
	}
	d.Class, d.Inferred = classify(err, d, status)
	d.Code = codeFor(d.Class)
	d.Fix = fixFor(d)
	return d
}

func classify(err error, d Diagnosis, status int) (Class, bool) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassCanceled, false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		// No answer from AWS that could be read. The root cause decides:
		// a network failure inside a credentials refresh (the AssumeRole
		// of a role's credentials) is a network failure, not missing
		// credentials; only a hub whose own credentials cannot be found
		// has none.
		// The one network failure that is the hub's own: no instance
		// metadata service (the machine has no instance role), the end of
		// the default credential chain.
		full := err.Error()
		if d.Service == "ec2imds" || strings.Contains(full, "no EC2 IMDS role found") {
			return ClassNoCredentials, false
		}
		if c, ok := transportClass(err); ok {
			return c, false
		}
		if strings.Contains(full, "failed to refresh cached credentials") || strings.Contains(full, "failed to retrieve credentials") {
			return ClassNoCredentials, false
		}
	}
	lower := strings.ToLower(d.Message)
	for _, p := range denialPatterns {
		if strings.Contains(lower, p.phrase) {
			return p.class, false
		}
	}
	code := d.ErrorCode
	assumeRole := d.Service == "STS" && strings.HasPrefix(d.Operation, "AssumeRole")
	switch {
	case isThrottle(code) || status == http.StatusTooManyRequests:
		return ClassThrottled, false
	case code == "RegionDisabledException" || code == "OptInRequired":
		return ClassRegionNotEnabled, false
	case expiredCodes[code]:
		return ClassExpiredCredentials, false
	case badTokenCodes[code] && optIn(d.Region):
		return ClassRegionNotEnabled, true
	case badTokenCodes[code]:
		return ClassInvalidCredentials, false
	case assumeRole && (accessDeniedCodes[code] || notFoundCodes[code] || status == http.StatusForbidden):
		// AWS answers the same AccessDenied for a missing role, a trust policy
		// that does not name the hub, and a wrong or missing external ID.
		return ClassRoleTrust, false
	case accessDeniedCodes[code] || strings.Contains(lower, "not authorized to perform") || status == http.StatusForbidden:
		// The message named no policy type: the usual cause is a missing
		// permission in the principal's own policies.
		return ClassNoIdentityPolicy, true
	case notFoundCodes[code] || status == http.StatusNotFound:
		if d.Service == "IAM" && d.Operation == "GetRole" {
			return ClassRoleTrust, false
		}
		return ClassNotFound, false
	case status >= 500 || code == "ServiceUnavailable" || code == "InternalError" || code == "InternalFailure":
		return ClassUnavailable, false
	}
	return ClassUnknown, false
}

// transportClass classifies an error that carries no AWS answer by the
// state of the connection: it timed out, the endpoint could not be reached
// (dial, DNS), or the answer arrived broken (cut, reset, unreadable).
func transportClass(err error) (Class, bool) {
	var (
		de  *smithy.DeserializationError
		op  *net.OpError
		dns *net.DNSError
		ne  net.Error
	)
	switch {
	case timedOut(err):
		return ClassTimeout, true
	case errors.As(err, &dns), errors.As(err, &op) && op.Op == "dial":
		return ClassUnreachable, true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.As(err, &de), strings.Contains(err.Error(), "connection reset"):
		return ClassUnavailable, true
	case errors.As(err, &ne):
		return ClassUnreachable, true
	}
	return "", false
}

// timedOut reports whether any error in err's chain says it is a timeout
// (errors.As would stop at the first Timeout method, *url.Error's, which
// answers false when the cause's type is not a net.Error).
func timedOut(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if t, ok := e.(interface{ Timeout() bool }); ok && t.Timeout() {
			return true
		}
	}
	return false
}

func isThrottle(code string) bool {
	if code == "" {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok || extraThrottleCodes[code]
}

// Code is the crossbill error code of a failure of class c; classes other
// packages define (verification findings) count as AccessDenied.
func (c Class) Code() crossbill.Code { return codeFor(c) }

// Fix is the class's fix when nothing more is known of the failure.
func (c Class) Fix() string { return fixFor(Diagnosis{Class: c}) }

func codeFor(c Class) crossbill.Code {
	switch c {
	case ClassThrottled:
		return crossbill.CodeThrottled
	case ClassExpiredCredentials, ClassInvalidCredentials, ClassNoCredentials:
		return crossbill.CodeUnauthorized
	case ClassUnreachable:
		return crossbill.CodeUnavailable
	case ClassNotFound:
		return crossbill.CodeNotFound
	case ClassUnavailable, ClassCanceled, ClassTimeout:
		return crossbill.CodeUnavailable
	case ClassUnknown:
		return crossbill.CodeInternal
	}
	return crossbill.CodeAccessDenied
}

func fixFor(d Diagnosis) string {
	action := d.Action
	if action == "" || action == ":" {
		action = "the action"
	}
	switch d.Class {
	case ClassSCPDeny:
		return fmt.Sprintf("A service control policy of your AWS Organization denies %s: in the management account, exempt the crossbill role from that SCP (for example a condition on aws:PrincipalArn) or allow the action; the role's own policy is not the problem.", action)
	case ClassRCPDeny:
		return fmt.Sprintf("A resource control policy of your AWS Organization denies %s on this resource: add an exception for the crossbill role's ARN to that RCP.", action)
	case ClassNoIdentityPolicy:
		if strings.HasPrefix(action, "sts:AssumeRole") {
			return "The hub identity may not call sts:AssumeRole: allow sts:AssumeRole on the customer role's ARN in the hub principal's IAM policy."
		}
		return fmt.Sprintf("The crossbill role has no policy that allows %s: update the crossbill CloudFormation stack with this module enabled (it restores the module's policy) and verify again.", action)
	case ClassIdentityDeny:
		return fmt.Sprintf("A Deny statement in a policy attached to the crossbill role blocks %s: remove that statement or exclude the action from it.", action)
	case ClassPermissionsBoundary:
		return fmt.Sprintf("A permissions boundary on the crossbill role blocks %s: remove the boundary from the role or add the action to it.", action)
	case ClassSessionPolicy:
		return fmt.Sprintf("A session policy blocks %s: crossbill passes none, so remove the session policy added by whatever assumes the role on crossbill's behalf.", action)
	case ClassResourcePolicy:
		return fmt.Sprintf("A resource-based policy (for example the bucket policy) does not let the crossbill role call %s: add the role's ARN to that policy.", action)
	case ClassThrottled:
		return "AWS throttled the call: crossbill retries with backoff; if it persists, lower the collection frequency or ask AWS for a higher quota."
	case ClassRegionNotEnabled:
		region := d.Region
		if region == "" {
			region = "the region"
		}
		return fmt.Sprintf("%s is not enabled in this account: enable it under Account > AWS Regions, or remove it from the connection's regions.", region)
	case ClassRoleTrust:
		return "crossbill could not assume the role: check that the stack finished (the role exists), that its trust policy names crossbill's hub principal and requires this connection's external ID (`crossbill connect show`), then verify again. If all of that is right and it still fails, ask your crossbill operator."
	case ClassExpiredCredentials:
		return "Temporary credentials expired: crossbill refreshes them itself; if this repeats, check the hub's clock (NTP) and the role's MaxSessionDuration."
	case ClassInvalidCredentials:
		return "AWS did not accept the hub's credentials: check the hub's AWS credentials (profile, environment or instance role) and that its access key is active."
	case ClassNotFound:
		return "The resource does not exist: check its name or ARN and the region."
	case ClassUnavailable:
		return "AWS answered with an internal error or a broken response (after crossbill's retries): nothing to change on your side; crossbill tries again later, or run it again."
	case ClassTimeout:
		return "AWS did not answer within the attempt timeout on any attempt: check the network path to the AWS endpoint (proxy, firewall); crossbill tries again later."
	case ClassCanceled:
		return "The operation was canceled or timed out: run it again."
	case ClassNoCredentials:
		return "crossbill found no AWS credentials for its hub identity: set AWS_PROFILE (or --profile), environment keys, or run it where an instance or container role is available."
	case ClassUnreachable:
		return "crossbill could not reach the AWS endpoint: check the network, proxy settings and --endpoint-url."
	}
	return "Unexpected AWS error: run again with --verbose, and report it if it persists."
}

// Resource returns the resource ARN named in an AWS denial message, if any.
func (d Diagnosis) Resource() string {
	if m := resourcePattern.FindStringSubmatch(d.Message); m != nil {
		return m[1]
	}
	return ""
}

// causeMessage is the words of err's cause without the wrappers that
// name the operation (a crossbill.Error from Classify, the SDK's
// OperationError): Diagnosis.String and the verification's checks name
// the call themselves, and a classified error's message already holds the
// class and the fix, which would otherwise be said twice.
func causeMessage(err error) string {
	for {
		var ce *crossbill.Error
		if !errors.As(err, &ce) || ce.Err == nil {
			break
		}
		err = ce.Err
	}
	if op := innermostOperation(err); op != nil && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// innermostOperation returns the deepest *smithy.OperationError in err's
// chain: when credentials cannot be retrieved, the STS call that failed sits
// inside the operation that needed them.
func innermostOperation(err error) *smithy.OperationError {
	var found *smithy.OperationError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if op, ok := e.(*smithy.OperationError); ok {
			found = op
		}
	}
	return found
}

// Classify wraps an AWS SDK error into a *crossbill.Error whose code comes
// from its class and whose message ends with the fix. The original error
// stays in the chain, so Diagnose still works on the result.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *crossbill.Error
	if errors.As(err, &ce) {
		return err
	}
	d := Diagnose(err)
	return &crossbill.Error{Code: d.Code, Op: op, Message: d.String(), Err: err}
}

// String is a one-line summary: call, AWS's words, class and fix.
func (d Diagnosis) String() string {
	var b strings.Builder
	if d.Service != "" {
		fmt.Fprintf(&b, "%s %s: ", d.Service, d.Operation)
	}
	if d.ErrorCode != "" {
		fmt.Fprintf(&b, "%s: ", d.ErrorCode)
	}
	b.WriteString(d.Message)
	fmt.Fprintf(&b, " [%s] %s", d.Class, d.Fix)
	return b.String()
}
