package access

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/crossbill/crossbill"
)

// ParseAuthorizationDetails reads the JSON that `aws iam
// get-account-authorization-details` prints (the API's output, every page
// merged) into an Account: the offline form of what a sync reads.
func ParseAuthorizationDetails(data []byte) (Account, error) {
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return Account{}, crossbill.Errorf(crossbill.CodeInvalid, "access", "authorization details are not JSON: %v", err)
	}
	// The CLI prints documents as JSON objects where the API sends
	// URL-encoded strings: turn them back into strings.
	data, err := json.Marshal(documentsAsText(raw))
	if err != nil {
		return Account{}, crossbill.Errorf(crossbill.CodeInvalid, "access", "authorization details: %v", err)
	}
	var out iam.GetAccountAuthorizationDetailsOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return Account{}, crossbill.Errorf(crossbill.CodeInvalid, "access", "authorization details are not the JSON of `aws iam get-account-authorization-details`: %v", err)
	}
	var a Account
	addAuthorizationDetails(&a, &out)
	return a, nil
}

// documentsAsText replaces every policy document given as a JSON object by
// its JSON text.
func documentsAsText(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if _, obj := e.(map[string]any); obj && (k == "PolicyDocument" || k == "Document" || k == "AssumeRolePolicyDocument") {
				b, _ := json.Marshal(e) // re-marshalling decoded JSON cannot fail
				t[k] = string(b)
				continue
			}
			t[k] = documentsAsText(e)
		}
	case []any:
		for i, e := range t {
			t[i] = documentsAsText(e)
		}
	}
	return v
}

// addAuthorizationDetails adds one page of GetAccountAuthorizationDetails
// to a. Policy documents arrive URL-encoded (RFC 3986).
func addAuthorizationDetails(a *Account, out *iam.GetAccountAuthorizationDetailsOutput) {
	for _, u := range out.UserDetailList {
		a.Users = append(a.Users, User{ARN: aws.ToString(u.Arn), Name: aws.ToString(u.UserName), CreateDate: aws.ToTime(u.CreateDate),
			Groups: u.GroupList, Attached: attachedARNs(u.AttachedManagedPolicies), Inline: inline(u.UserPolicyList), Boundary: boundary(u.PermissionsBoundary)})
	}
	for _, g := range out.GroupDetailList {
		a.Groups = append(a.Groups, Group{ARN: aws.ToString(g.Arn), Name: aws.ToString(g.GroupName),
			Attached: attachedARNs(g.AttachedManagedPolicies), Inline: inline(g.GroupPolicyList)})
	}
	for _, r := range out.RoleDetailList {
		role := Role{ARN: aws.ToString(r.Arn), Name: aws.ToString(r.RoleName), Path: aws.ToString(r.Path), CreateDate: aws.ToTime(r.CreateDate),
			Trust: decodeDocument(aws.ToString(r.AssumeRolePolicyDocument)), Attached: attachedARNs(r.AttachedManagedPolicies),
			Inline: inline(r.RolePolicyList), Boundary: boundary(r.PermissionsBoundary)}
		if r.RoleLastUsed != nil {
			role.LastUsed = r.RoleLastUsed.LastUsedDate
		}
		a.Roles = append(a.Roles, role)
	}
	for _, p := range out.Policies {
		arn := aws.ToString(p.Arn)
		mp := ManagedPolicy{ARN: arn, Name: aws.ToString(p.PolicyName), Path: aws.ToString(p.Path),
			AWSManaged: strings.Contains(arn, ":iam::aws:policy/"), Attached: int(aws.ToInt32(p.AttachmentCount))}
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion || aws.ToString(v.VersionId) == aws.ToString(p.DefaultVersionId) {
				mp.Document = decodeDocument(aws.ToString(v.Document))
				break
			}
		}
		a.Policies = append(a.Policies, mp)
	}
}

func attachedARNs(ps []iamtypes.AttachedPolicy) []string {
	var out []string
	for _, p := range ps {
		if arn := aws.ToString(p.PolicyArn); arn != "" {
			out = append(out, arn)
		}
	}
	return out
}

func inline(ps []iamtypes.PolicyDetail) []InlinePolicy {
	var out []InlinePolicy
	for _, p := range ps {
		out = append(out, InlinePolicy{Name: aws.ToString(p.PolicyName), Document: decodeDocument(aws.ToString(p.PolicyDocument))})
	}
	return out
}

func boundary(b *iamtypes.AttachedPermissionsBoundary) string {
	if b == nil {
		return ""
	}
	return aws.ToString(b.PermissionsBoundaryArn)
}

// decodeDocument undoes IAM's URL encoding of policy documents. A document
// that is already JSON (the CLI decodes them) or not valid encoding is kept
// as it is: the analysis reports what it cannot parse.
func decodeDocument(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}
