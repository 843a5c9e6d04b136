package awsclient

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/crossbill/crossbill"
)

// sdkError builds the error chain the SDK returns for an AWS error answer:
// OperationError -> region annotation -> ResponseError -> APIError.
func sdkError(service, operation, region string, status int, code, message string) error {
	var inner error = &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: message},
	}}
	if region != "" {
		inner = &regionError{region: region, err: inner}
	}
	return &smithy.OperationError{ServiceID: service, OperationName: operation, Err: inner}
}

const (
	roleSession = "arn:aws:sts::210987654321:assumed-role/CrossbillAccess/crossbill-acme-c1"
	hubUser     = "arn:aws:iam::123456789012:user/crossbill-hub"
)

func TestDiagnose(t *testing.T) {
	t.Parallel()
	// Messages follow AWS's documented formats (IAM User Guide,
	// "Troubleshoot access denied error messages"; STS and EC2 error docs).
	tests := []struct {
		name      string
		err       error
		class     Class
		code      crossbill.Code
		action    string
		inferred  bool
		fixSubstr string
	}{
		{
			name: "scp explicit deny",
			err: sdkError("EC2", "DescribeVolumes", "eu-west-1", 403, "UnauthorizedOperation",
				"You are not authorized to perform this operation. User: "+roleSession+" is not authorized to perform: ec2:DescribeVolumes with an explicit deny in a service control policy. Encoded authorization failure message: AbCd"),
			class: ClassSCPDeny, code: crossbill.CodeAccessDenied, action: "ec2:DescribeVolumes", fixSubstr: "SCP",
		},
		{
			name: "scp implicit deny",
			err: sdkError("Organizations", "DescribeOrganization", "us-east-1", 400, "AccessDeniedException",
				"User: "+roleSession+" is not authorized to perform: organizations:DescribeOrganization because no service control policy allows the organizations:DescribeOrganization action"),
			class: ClassSCPDeny, code: crossbill.CodeAccessDenied, action: "organizations:DescribeOrganization", fixSubstr: "service control policy",
		},
		{
			name: "resource control policy",
			err: sdkError("S3", "ListObjectsV2", "us-east-1", 403, "AccessDenied",
				`User: `+roleSession+` is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::cur-bucket" with an explicit deny in a resource control policy`),
			class: ClassRCPDeny, code: crossbill.CodeAccessDenied, action: "s3:ListBucket", fixSubstr: "RCP",
		},
		{
			name: "no identity-based policy",
			err: sdkError("Cost Explorer", "GetCostAndUsage", "us-east-1", 400, "AccessDeniedException",
				"User: "+roleSession+" is not authorized to perform: ce:GetCostAndUsage on resource: arn:aws:ce:us-east-1:210987654321:/GetCostAndUsage because no identity-based policy allows the ce:GetCostAndUsage action"),
			class: ClassNoIdentityPolicy, code: crossbill.CodeAccessDenied, action: "ce:GetCostAndUsage", fixSubstr: "CloudFormation stack",
		},
		{
			name: "moto-style deny without reason is inferred",
			err: sdkError("IAM", "ListRoles", "us-east-1", 403, "AccessDenied",
				"User: "+roleSession+" is not authorized to perform: iam:ListRoles"),
			class: ClassNoIdentityPolicy, code: crossbill.CodeAccessDenied, action: "iam:ListRoles", inferred: true, fixSubstr: "module enabled",
		},
		{
			name: "hub lacks sts:AssumeRole",
			err: sdkError("STS", "AssumeRole", "us-east-1", 403, "AccessDenied",
				"User: "+hubUser+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/CrossbillAccess because no identity-based policy allows the sts:AssumeRole action"),
			class: ClassNoIdentityPolicy, code: crossbill.CodeAccessDenied, action: "sts:AssumeRole", fixSubstr: "hub principal",
		},
		{
			name: "permissions boundary explicit deny",
			err: sdkError("EC2", "DescribeReservedInstances", "us-east-1", 403, "UnauthorizedOperation",
				"User: "+roleSession+" is not authorized to perform: ec2:DescribeReservedInstances with an explicit deny in a permissions boundary"),
			class: ClassPermissionsBoundary, code: crossbill.CodeAccessDenied, action: "ec2:DescribeReservedInstances", fixSubstr: "boundary",
		},
		{
			name: "permissions boundary implicit deny",
			err: sdkError("IAM", "ListRoles", "us-east-1", 403, "AccessDenied",
				"User: "+roleSession+" is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::210987654321:role/ because no permissions boundary allows the iam:ListRoles action"),
			class: ClassPermissionsBoundary, code: crossbill.CodeAccessDenied, action: "iam:ListRoles", fixSubstr: "boundary",
		},
		{
			name: "identity-based explicit deny",
			err: sdkError("IAM", "GetGroup", "us-east-1", 403, "AccessDenied",
				"User: "+roleSession+" is not authorized to perform: iam:GetGroup on resource: group x with an explicit deny in an identity-based policy"),
			class: ClassIdentityDeny, code: crossbill.CodeAccessDenied, action: "iam:GetGroup", fixSubstr: "Deny statement",
		},
		{
			name: "session policy",
			err: sdkError("IAM", "ListRoles", "us-east-1", 403, "AccessDenied",
				"User: "+roleSession+" is not authorized to perform: iam:ListRoles because no session policy allows the iam:ListRoles action"),
			class: ClassSessionPolicy, code: crossbill.CodeAccessDenied, action: "iam:ListRoles", fixSubstr: "session policy",
		},
		{
			name: "bucket policy",
			err: sdkError("S3", "GetObject", "us-east-1", 403, "AccessDenied",
				"User: "+roleSession+" is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" because no resource-based policy allows the s3:GetObject action"),
			class: ClassResourcePolicy, code: crossbill.CodeAccessDenied, action: "s3:GetObject", fixSubstr: "bucket policy",
		},
		{
			name:  "throttling",
			err:   sdkError("IAM", "ListRoles", "us-east-1", 400, "Throttling", "Rate exceeded"),
			class: ClassThrottled, code: crossbill.CodeThrottled, fixSubstr: "backoff",
		},
		{
			name:  "cost explorer rate limit",
			err:   sdkError("Cost Explorer", "GetCostAndUsage", "us-east-1", 400, "LimitExceededException", "You have exceeded the rate limit for this operation."),
			class: ClassThrottled, code: crossbill.CodeThrottled, fixSubstr: "backoff",
		},
		{
			name:  "http 429 without code",
			err:   sdkError("Pricing", "DescribeServices", "us-east-1", 429, "", "Too Many Requests"),
			class: ClassThrottled, code: crossbill.CodeThrottled,
		},
		{
			name: "sts region disabled",
			err: sdkError("STS", "AssumeRole", "ap-east-1", 403, "RegionDisabledException",
				"STS is not activated in this region for account:210987654321. Your account administrator can activate STS in this region using the IAM Console."),
			class: ClassRegionNotEnabled, code: crossbill.CodeAccessDenied, fixSubstr: "ap-east-1",
		},
		{
			name: "invalid token in opt-in region",
			err: sdkError("EC2", "DescribeVolumes", "me-south-1", 401, "AuthFailure",
				"AWS was not able to validate the provided access credentials"),
			class: ClassRegionNotEnabled, code: crossbill.CodeAccessDenied, inferred: true, fixSubstr: "Account > AWS Regions",
		},
		{
			name: "invalid token in default region",
			err: sdkError("STS", "GetCallerIdentity", "us-east-1", 403, "InvalidClientTokenId",
				"The security token included in the request is invalid."),
			class: ClassInvalidCredentials, code: crossbill.CodeUnauthorized, fixSubstr: "access key",
		},
		{
			name: "role missing or trust mismatch",
			err: sdkError("STS", "AssumeRole", "us-east-1", 403, "AccessDenied",
				"User: "+hubUser+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/CrossbillAccess"),
			class: ClassRoleTrust, code: crossbill.CodeAccessDenied, action: "sts:AssumeRole", fixSubstr: "external ID",
		},
		{
			name:  "iam role not found",
			err:   sdkError("IAM", "GetRole", "us-east-1", 404, "NoSuchEntity", "The role with name CrossbillAccess cannot be found."),
			class: ClassRoleTrust, code: crossbill.CodeAccessDenied, fixSubstr: "trust policy",
		},
		{
			name:  "expired token",
			err:   sdkError("EC2", "DescribeVolumes", "us-east-1", 400, "RequestExpired", "Request has expired."),
			class: ClassExpiredCredentials, code: crossbill.CodeUnauthorized, fixSubstr: "clock",
		},
		{
			name:  "sts expired token",
			err:   sdkError("STS", "GetCallerIdentity", "us-east-1", 400, "ExpiredToken", "The security token included in the request is expired"),
			class: ClassExpiredCredentials, code: crossbill.CodeUnauthorized,
		},
		{
			name:  "bucket not found",
			err:   sdkError("S3", "ListObjectsV2", "us-east-1", 404, "NoSuchBucket", "The specified bucket does not exist"),
			class: ClassNotFound, code: crossbill.CodeNotFound,
		},
		{
			name:  "server error",
			err:   sdkError("Organizations", "ListAccounts", "us-east-1", 500, "ServiceException", "internal"),
			class: ClassUnavailable, code: crossbill.CodeUnavailable,
		},
		{
			name:  "canceled",
			err:   &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVolumes", Err: fmt.Errorf("send: %w", context.Canceled)},
			class: ClassCanceled, code: crossbill.CodeUnavailable,
		},
		{
			name:  "validation error is unknown",
			err:   sdkError("EC2", "DescribeVolumes", "us-east-1", 400, "InvalidParameterValue", "bad filter"),
			class: ClassUnknown, code: crossbill.CodeInternal, fixSubstr: "--verbose",
		},
		{
			name: "no hub credentials",
			err: &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
				Err: fmt.Errorf("failed to sign request: %w", errors.New("failed to retrieve credentials: failed to refresh cached credentials, no EC2 IMDS role found"))},
			class: ClassNoCredentials, code: crossbill.CodeUnauthorized, fixSubstr: "AWS_PROFILE",
		},
		{
			name: "endpoint unreachable",
			err: &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
				Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}},
			class: ClassUnreachable, code: crossbill.CodeUnavailable, fixSubstr: "--endpoint-url",
		},
		{
			// The default chain's last resort, the instance metadata
			// service, is not there: a dial error, but the hub's own.
			name: "no instance role, network error inside",
			err: &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
				Err: fmt.Errorf("failed to sign request: failed to retrieve credentials: failed to refresh cached credentials, no EC2 IMDS role found, %w",
					&smithy.OperationError{ServiceID: "ec2imds", OperationName: "GetMetadata", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: host is down")}})},
			class: ClassNoCredentials, code: crossbill.CodeUnauthorized, fixSubstr: "AWS_PROFILE",
		},
		{
			// The role's AssumeRole cut off: AWS answered, brokenly.
			name: "response cut inside a credentials refresh",
			err: &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVolumes",
				Err: fmt.Errorf("failed to sign request: failed to retrieve credentials: failed to refresh cached credentials, %w",
					&smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", io.ErrUnexpectedEOF)}})},
			class: ClassUnavailable, code: crossbill.CodeUnavailable,
		},
		{
			name:  "plain error",
			err:   errors.New("dial tcp: connection refused"),
			class: ClassUnknown, code: crossbill.CodeInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Diagnose(tt.err)
			if d.Class != tt.class || d.Code != tt.code || d.Inferred != tt.inferred {
				t.Fatalf("Diagnose = class %q code %q inferred %v; want %q %q %v (%+v)", d.Class, d.Code, d.Inferred, tt.class, tt.code, tt.inferred, d)
			}
			if tt.action != "" && d.Action != tt.action {
				t.Errorf("action = %q, want %q", d.Action, tt.action)
			}
			if d.Fix == "" || strings.Contains(d.Fix, "\n") {
				t.Errorf("fix must be one non-empty line, got %q", d.Fix)
			}
			if tt.fixSubstr != "" && !strings.Contains(d.Fix, tt.fixSubstr) {
				t.Errorf("fix %q does not mention %q", d.Fix, tt.fixSubstr)
			}
			wrapped := Classify("probe", tt.err)
			if crossbill.ErrorCode(wrapped) != tt.code {
				t.Errorf("Classify code = %q, want %q", crossbill.ErrorCode(wrapped), tt.code)
			}
			if !errors.Is(wrapped, tt.err) {
				t.Errorf("Classify lost the cause")
			}
		})
	}
}

// TestDiagnoseCredentialFailureInsideCall checks that a failed AssumeRole
// hidden inside another service call (the SDK retrieves credentials while
// signing) is reported as the AssumeRole failure it is.
func TestDiagnoseCredentialFailureInsideCall(t *testing.T) {
	t.Parallel()
	assume := sdkError("STS", "AssumeRole", "us-east-1", 403, "AccessDenied",
		"User: "+hubUser+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/CrossbillAccess")
	outer := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVolumes",
		Err: fmt.Errorf("failed to sign request: %w", fmt.Errorf("failed to retrieve credentials: %w", assume))}
	d := Diagnose(outer)
	if d.Class != ClassRoleTrust || d.Service != "STS" || d.Operation != "AssumeRole" {
		t.Fatalf("Diagnose = %+v; want role trust on STS AssumeRole", d)
	}
}

func TestDiagnoseResource(t *testing.T) {
	t.Parallel()
	d := Diagnose(sdkError("STS", "AssumeRole", "us-east-1", 403, "AccessDenied",
		"User: "+hubUser+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/CrossbillAccess"))
	if got := d.Resource(); got != "arn:aws:iam::210987654321:role/CrossbillAccess" {
		t.Fatalf("Resource() = %q", got)
	}
}

func TestClassifyKeepsCrossbillErrors(t *testing.T) {
	t.Parallel()
	in := crossbill.Errorf(crossbill.CodeInvalid, "x", "bad")
	if got := Classify("y", in); got != in {
		t.Fatalf("Classify rewrapped a crossbill error: %v", got)
	}
	if Classify("y", nil) != nil {
		t.Fatal("Classify(nil) != nil")
	}
}

func FuzzDiagnose(f *testing.F) {
	for _, s := range []string{
		"User: " + roleSession + " is not authorized to perform: ec2:DescribeVolumes with an explicit deny in a service control policy",
		"is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" because no identity-based policy allows the s3:GetObject action",
		"Rate exceeded", "", "not authorized to perform:",
	} {
		f.Add("AccessDenied", s, "STS", "AssumeRole", 403)
	}
	f.Fuzz(func(t *testing.T, code, message, service, operation string, status int) {
		d := Diagnose(sdkError(service, operation, "us-east-1", status, code, message))
		if d.Class == "" || d.Code == "" || d.Fix == "" {
			t.Fatalf("incomplete diagnosis %+v", d)
		}
	})
}

// TestClassesListsEveryConstant: Classes (the API document's enum) names
// every Class constant declared in classify.go, so a new class cannot be
// missing from the document.
func TestClassesListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "classify.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); ok && id.Name == "Class" {
				for _, val := range v.Values {
					declared = append(declared, strings.Trim(val.(*ast.BasicLit).Value, `"`))
				}
			}
		}
	}
	var listed []string
	for _, c := range Classes() {
		listed = append(listed, string(c))
	}
	if len(declared) < 10 || strings.Join(declared, ",") != strings.Join(listed, ",") {
		t.Fatalf("Classes() = %v\ndeclared   %v", listed, declared)
	}
}
