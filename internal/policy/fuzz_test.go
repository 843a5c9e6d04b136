package policy_test

import (
	"testing"

	"github.com/crossbill/crossbill/internal/policy"
)

func permissiveness(d policy.Decision) int {
	switch d {
	case policy.Allowed:
		return 2
	case policy.AllowedUnderConditions:
		return 1
	case policy.ImplicitDeny, policy.ExplicitDeny:
		return 0
	}
	return -1
}

// FuzzEvaluate evaluates arbitrary policies and requests and checks
// invariants of AWS's logic: a valid decision always; adding a boundary or
// an SCP never makes a request more allowed; an explicit deny names the
// statements that denied.
func FuzzEvaluate(f *testing.F) {
	seeds := []struct{ doc, action, resource, key, value string }{
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`, "s3:GetObject", "arn:aws:s3:::b/ana/x", "aws:username", "ana"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"*","NotResource":"arn:aws:s3:::b*","Condition":{"StringNotEqualsIfExists":{"aws:RequestedRegion":"eu-west-1"}}}]}`, "ec2:RunInstances", "*", "aws:RequestedRegion", "us-east-1"},
		{`{"Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateLessThan":{"aws:CurrentTime":"2030-01-01"}}}}`, "ec2:CreateTags", "arn:aws:ec2:eu-west-1:111122223333:instance/i-1", "aws:TagKeys", "abc"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"},"Null":{"sts:ExternalId":"false"}}}}`, "sts:AssumeRole", "", "aws:MultiFactorAuthAge", "10"},
	}
	for _, s := range seeds {
		f.Add(s.doc, s.action, s.resource, s.key, s.value)
	}
	boundary := mustParse(f, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:*","ec2:Describe*"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}`)
	f.Fuzz(func(t *testing.T, src, action, resource, key, value string) {
		doc, err := policy.Parse([]byte(src))
		if err != nil {
			return
		}
		req := policy.Request{Action: action, Resource: resource, Principal: "arn:aws:iam::111122223333:role/r", Context: map[string][]string{key: {value}}}
		alone := policy.Evaluate(req, policy.Policies{Identity: []*policy.Document{doc}})
		if permissiveness(alone.Decision) < 0 || alone.Reason == "" {
			t.Fatalf("bad result %+v", alone)
		}
		if alone.Decision == policy.ExplicitDeny && len(alone.Deciding) == 0 {
			t.Fatalf("explicit deny without a deciding statement: %+v", alone)
		}
		if alone.Decision == policy.Allowed && len(alone.MissingKeys) != 0 {
			t.Fatalf("allowed while missing context %v", alone.MissingKeys)
		}
		bounded := policy.Evaluate(req, policy.Policies{Identity: []*policy.Document{doc}, Boundary: boundary})
		scp := policy.Evaluate(req, policy.Policies{Identity: []*policy.Document{doc}, SCPs: []*policy.Document{boundary}})
		for _, r := range []policy.Result{bounded, scp} {
			if permissiveness(r.Decision) > permissiveness(alone.Decision) {
				t.Fatalf("a boundary/SCP made the request more allowed: %s -> %s", alone.Decision, r.Decision)
			}
		}
	})
}
