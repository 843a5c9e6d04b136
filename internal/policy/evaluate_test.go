package policy_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/policy"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	readS3 := `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}`
	adminAll := `{"Version":"2012-10-17","Statement":{"Sid":"Admin","Effect":"Allow","Action":"*","Resource":"*"}}`
	denySecrets := `{"Version":"2012-10-17","Statement":{"Sid":"NoSecrets","Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`
	fullAccess := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	const obj = "arn:aws:s3:::data/reports/2026.csv"

	tests := []struct {
		name     string
		req      policy.Request
		identity []string
		boundary string
		scps     []string
		want     policy.Decision
		deciding []string // "policy#index"
		missing  []string
	}{
		{
			name:     "identity allow",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{readS3},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "action is case-insensitive",
			req:      policy.Request{Action: "S3:getobject", Resource: obj},
			identity: []string{readS3},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "resource is case-sensitive",
			req:      policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DATA/x"},
			identity: []string{readS3},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "no identity policy",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: nil,
			want:     policy.ImplicitDeny,
		},
		{
			name:     "action not granted",
			req:      policy.Request{Action: "s3:PutObject", Resource: obj},
			identity: []string{readS3},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "explicit deny wins over allow",
			req:      policy.Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"},
			identity: []string{adminAll, denySecrets},
			want:     policy.ExplicitDeny, deciding: []string{"identity[1]#0"},
		},
		{
			name:     "boundary intersects: allowed by both",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{adminAll},
			boundary: readS3,
			want:     policy.Allowed, deciding: []string{"identity[0]#0", "boundary#0"},
		},
		{
			name:     "boundary intersects: identity allows, boundary does not",
			req:      policy.Request{Action: "iam:CreateUser", Resource: "arn:aws:iam::111122223333:user/x"},
			identity: []string{adminAll},
			boundary: readS3,
			want:     policy.ImplicitDeny,
		},
		{
			name:     "boundary alone grants nothing",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`},
			boundary: adminAll,
			want:     policy.ImplicitDeny,
		},
		{
			name:     "SCP deny",
			req:      policy.Request{Action: "organizations:LeaveOrganization", Resource: "*"},
			identity: []string{adminAll},
			scps:     []string{fullAccess, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`},
			want:     policy.ExplicitDeny, deciding: []string{"scp[1]#1"},
		},
		{
			name:     "SCP level without allow",
			req:      policy.Request{Action: "ec2:RunInstances", Resource: "*"},
			identity: []string{adminAll},
			scps:     []string{fullAccess, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "SCP allows at every level",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{readS3},
			scps:     []string{fullAccess, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0", "scp[0]#0", "scp[1]#0"},
		},
		{
			name:     "NotAction allow",
			req:      policy.Request{Action: "ec2:RunInstances", Resource: "*"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "NotAction excludes",
			req:      policy.Request{Action: "iam:CreateUser", Resource: "*"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "NotResource deny leaves the listed resource",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{adminAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}}`},
			want:     policy.Allowed,
			deciding: []string{"identity[0]#0"},
		},
		{
			name:     "NotResource deny hits other resources",
			req:      policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::other/x"},
			identity: []string{adminAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}}`},
			want:     policy.ExplicitDeny, deciding: []string{"identity[1]#0"},
		},
		{
			name:     "trailing resource wildcard spans colons",
			req:      policy.Request{Action: "iam:GetRole", Resource: "arn:aws:iam::111122223333:role/x"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*"}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "ArnLike compares component by component",
			req:      policy.Request{Action: "iam:PassRole", Resource: "*", Context: map[string][]string{"aws:SourceArn": {"arn:aws:iam::111122223333:role/x"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/*"}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "ArnLike wildcard stays in its component",
			req:      policy.Request{Action: "iam:PassRole", Resource: "*", Context: map[string][]string{"aws:SourceArn": {"arn:aws:iam::111122223333:role/x"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:*:role/*"}}}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "ARN wildcard per component",
			req:      policy.Request{Action: "iam:GetRole", Resource: "arn:aws:iam::111122223333:role/team/x"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*:role/*"}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "condition satisfied",
			req:      policy.Request{Action: "ec2:StopInstances", Resource: "*", Context: map[string][]string{"aws:ResourceTag/owner": {"ana"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"ana"}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "condition fails",
			req:      policy.Request{Action: "ec2:StopInstances", Resource: "*", Context: map[string][]string{"aws:resourcetag/owner": {"bob"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"ana"}}}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "unknown context: allowed under conditions",
			req:      policy.Request{Action: "ec2:StopInstances", Resource: "*"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"ana"}}}}`},
			want:     policy.AllowedUnderConditions, deciding: []string{"identity[0]#0"}, missing: []string{"aws:ResourceTag/owner"},
		},
		{
			name:     "unknown context on a deny: allowed under conditions",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{readS3, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`},
			want:     policy.AllowedUnderConditions, deciding: []string{"identity[0]#0", "identity[1]#0"}, missing: []string{"aws:SecureTransport"},
		},
		{
			name:     "known context on a deny",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj, Context: map[string][]string{"aws:SecureTransport": {"true"}}},
			identity: []string{readS3, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "unconditional allow beats a conditional one",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj},
			identity: []string{readS3, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "IfExists on an absent key passes",
			req:      policy.Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"ec2:InstanceType": nil}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":"t3.*"}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "IfExists on a present key is tested",
			req:      policy.Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"ec2:InstanceType": {"p5.48xlarge"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":"t3.*"}}}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "absent key fails a positive operator",
			req:      policy.Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"ec2:InstanceType": nil}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLike":{"ec2:InstanceType":"t3.*"}}}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "absent key passes a negated operator",
			req:      policy.Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"aws:RequestedRegion": nil}},
			identity: []string{adminAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}}`},
			want:     policy.ExplicitDeny, deciding: []string{"identity[1]#0"},
		},
		{
			name:     "ForAllValues on an empty set is true (allow)",
			req:      policy.Request{Action: "ec2:CreateTags", Resource: "*", Context: map[string][]string{"aws:TagKeys": {}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "ForAllValues with an extra tag fails",
			req:      policy.Request{Action: "ec2:CreateTags", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"team", "owner"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "ForAnyValue on an empty set is false",
			req:      policy.Request{Action: "ec2:CreateTags", Resource: "*", Context: map[string][]string{"aws:TagKeys": nil}},
			identity: []string{adminAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["cost-center"]}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "ForAnyValue match denies",
			req:      policy.Request{Action: "ec2:CreateTags", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"x", "cost-center"}}},
			identity: []string{adminAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["cost-center"]}}}}`},
			want:     policy.ExplicitDeny, deciding: []string{"identity[1]#0"},
		},
		{
			name:     "Null true: key must be absent",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj, Context: map[string][]string{"aws:SourceVpc": {"vpc-1"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:SourceVpc":"true"}}}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name: "numeric, date, ip and bool",
			req: policy.Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::data", Context: map[string][]string{
				"s3:max-keys": {"10"}, "aws:CurrentTime": {"2026-11-23T10:00:00Z"}, "aws:SourceIp": {"203.0.113.7"}, "aws:MultiFactorAuthPresent": {"true"},
			}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{
				"NumericLessThanEquals":{"s3:max-keys":"100"},
				"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
				"IpAddress":{"aws:SourceIp":["198.51.100.0/24","203.0.113.0/24"]},
				"Bool":{"aws:MultiFactorAuthPresent":true}}}}`},
			want: policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "NotIpAddress deny from outside",
			req:      policy.Request{Action: "s3:GetObject", Resource: obj, Context: map[string][]string{"aws:SourceIp": {"192.0.2.1"}}},
			identity: []string{readS3, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`},
			want:     policy.ExplicitDeny, deciding: []string{"identity[1]#0"},
		},
		{
			name:     "policy variable resolved",
			req:      policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/ana/notes", Context: map[string][]string{"aws:username": {"ana"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
		{
			name:     "policy variable resolved to someone else",
			req:      policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/ana/notes", Context: map[string][]string{"aws:username": {"bob"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "policy variable unknown: under conditions",
			req:      policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/ana/notes"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`},
			want:     policy.AllowedUnderConditions, deciding: []string{"identity[0]#0"}, missing: []string{"aws:username"},
		},
		{
			name:     "policy variable is literal in 2008-10-17",
			req:      policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/ana/notes", Context: map[string][]string{"aws:username": {"ana"}}},
			identity: []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`},
			want:     policy.ImplicitDeny,
		},
		{
			name:     "condition value variable",
			req:      policy.Request{Action: "ec2:StopInstances", Resource: "*", Context: map[string][]string{"aws:ResourceTag/owner": {"ana"}, "aws:PrincipalTag/name": {"ana"}}},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:PrincipalTag/name}"}}}}`},
			want:     policy.Allowed, deciding: []string{"identity[0]#0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p policy.Policies
			for _, src := range tt.identity {
				p.Identity = append(p.Identity, mustParse(t, src))
			}
			if tt.boundary != "" {
				p.Boundary = mustParse(t, tt.boundary)
			}
			for _, src := range tt.scps {
				p.SCPs = append(p.SCPs, mustParse(t, src))
			}
			got := policy.Evaluate(tt.req, p)
			if got.Decision != tt.want {
				t.Fatalf("Decision = %s, want %s (%s)", got.Decision, tt.want, got.Reason)
			}
			var deciding []string
			for _, r := range got.Deciding {
				deciding = append(deciding, r.Policy+"#"+string(rune('0'+r.Index)))
			}
			if !reflect.DeepEqual(deciding, tt.deciding) {
				t.Errorf("Deciding = %v, want %v (%s)", deciding, tt.deciding, got.Reason)
			}
			if !reflect.DeepEqual(got.MissingKeys, tt.missing) {
				t.Errorf("MissingKeys = %v, want %v", got.MissingKeys, tt.missing)
			}
			if got.Reason == "" {
				t.Error("no Reason")
			}
		})
	}
}

func TestEvaluateResourcePolicyPrincipal(t *testing.T) {
	t.Parallel()
	// Statements with Principal (as in a trust policy) match the caller.
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/hub"},"Action":"sts:AssumeRole","Resource":"*"},
	  {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Resource":"*"}
	]}`)
	tests := []struct {
		principal string
		want      policy.Decision
	}{
		{"arn:aws:iam::111122223333:role/hub", policy.Allowed},
		{"arn:aws:sts::111122223333:assumed-role/hub/session-1", policy.Allowed},
		{"arn:aws:iam::111122223333:role/other", policy.ImplicitDeny},
		{"arn:aws:iam::444455556666:user/anyone", policy.Allowed},
		{"", policy.AllowedUnderConditions},
	}
	for _, tt := range tests {
		got := policy.Evaluate(policy.Request{Action: "sts:AssumeRole", Principal: tt.principal}, policy.Policies{Identity: []*policy.Document{doc}})
		if got.Decision != tt.want {
			t.Errorf("principal %q: %s, want %s (%s)", tt.principal, got.Decision, tt.want, got.Reason)
		}
	}
}

func TestEvaluateRCP(t *testing.T) {
	t.Parallel()
	id := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	rcp := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
	  {"Effect":"Deny","Action":["s3:*","ec2:*"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}}]}`)
	ctx := map[string][]string{"aws:PrincipalOrgID": {"o-other"}}
	cat := catalog(t)
	tests := []struct {
		action  string
		catalog bool
		want    policy.Decision
	}{
		{"s3:GetObject", true, policy.ExplicitDeny},
		{"ec2:RunInstances", true, policy.Allowed}, // EC2 does not support RCPs
		{"ec2:RunInstances", false, policy.ExplicitDeny},
	}
	for _, tt := range tests {
		p := policy.Policies{Identity: []*policy.Document{id}, RCPs: []*policy.Document{rcp}}
		if tt.catalog {
			p.Catalog = cat
		}
		if got := policy.Evaluate(policy.Request{Action: tt.action, Context: ctx}, p); got.Decision != tt.want {
			t.Errorf("%s (catalog %v): %s, want %s (%s)", tt.action, tt.catalog, got.Decision, tt.want, got.Reason)
		}
	}
}

func TestEvaluateTrust(t *testing.T) {
	t.Parallel()
	trust := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/crossbill-hub"},
	  "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}}}`)
	const hub = "arn:aws:sts::111122223333:assumed-role/crossbill-hub/sync"
	tests := []struct {
		name      string
		principal string
		ctx       map[string][]string
		want      policy.Decision
	}{
		{"right external id", hub, map[string][]string{"sts:ExternalId": {"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}, policy.Allowed},
		{"wrong external id", hub, map[string][]string{"sts:ExternalId": {"guess"}}, policy.ImplicitDeny},
		{"no external id", hub, map[string][]string{"sts:ExternalId": nil}, policy.ImplicitDeny},
		{"external id not given", hub, nil, policy.AllowedUnderConditions},
		{"other principal", "arn:aws:iam::444455556666:role/crossbill-hub", map[string][]string{"sts:ExternalId": {"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}, policy.ImplicitDeny},
	}
	for _, tt := range tests {
		got := policy.EvaluateTrust(trust, policy.Request{Principal: tt.principal, Context: tt.ctx})
		if got.Decision != tt.want {
			t.Errorf("%s: %s, want %s (%s)", tt.name, got.Decision, tt.want, got.Reason)
		}
		if got.Decision == policy.Allowed && (len(got.Deciding) != 1 || got.Deciding[0].Policy != "trust") {
			t.Errorf("%s: deciding %+v", tt.name, got.Deciding)
		}
		if got.Decision == policy.ImplicitDeny && !strings.Contains(got.Reason, "trust policy") {
			t.Errorf("%s: reason %q", tt.name, got.Reason)
		}
	}
}

func TestEvaluateResource(t *testing.T) {
	t.Parallel()
	bucket := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"Exports","Effect":"Allow","Principal":{"Service":"bcm-data-exports.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::cur/*",
	   "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}},
	  {"Sid":"OnlyHub","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/hub"],"Service":"bcm-data-exports.amazonaws.com"},"Action":"s3:*","Resource":"arn:aws:s3:::cur/*"}
	]}`)
	tests := []struct {
		name, principal string
		ctx             map[string][]string
		want            policy.Decision
	}{
		{"service from the right account", "bcm-data-exports.amazonaws.com", map[string][]string{"aws:SourceAccount": {"111122223333"}}, policy.Allowed},
		{"service for another account", "bcm-data-exports.amazonaws.com", map[string][]string{"aws:SourceAccount": {"444455556666"}}, policy.ImplicitDeny},
		{"hub is not denied, nor allowed here", "arn:aws:iam::111122223333:role/hub", nil, policy.ImplicitDeny},
		{"anyone else is denied", "arn:aws:iam::444455556666:user/eve", nil, policy.ExplicitDeny},
	}
	for _, tt := range tests {
		got := policy.EvaluateResource(bucket, policy.Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::cur/data/x.parquet", Principal: tt.principal, Context: tt.ctx})
		if got.Decision != tt.want {
			t.Errorf("%s: %s, want %s (%s)", tt.name, got.Decision, tt.want, got.Reason)
		}
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	a := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	b := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)
	m := policy.Merge(a, b)
	if len(m.Statements) != 2 || m.Statements[1].Index != 1 || m.Statements[1].Action[0] != "ec2:*" {
		t.Fatalf("Merge = %+v", m)
	}
	got := policy.Evaluate(policy.Request{Action: "ec2:RunInstances"}, policy.Policies{Identity: []*policy.Document{a}, SCPs: []*policy.Document{m}})
	if got.Decision != policy.ImplicitDeny || !strings.Contains(got.Reason, "the identity policies") {
		t.Errorf("got %+v", got)
	}
}
