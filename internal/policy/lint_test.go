package policy_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/crossbill/crossbill/internal/policy"
)

func TestLint(t *testing.T) {
	t.Parallel()
	cat := catalog(t)
	tests := []struct {
		name string
		doc  string
		want []string // "id/severity/action-or-resource-or-key"
	}{
		{
			name: "clean",
			doc: `{"Version":"2012-10-17","Statement":[
			  {"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::cur/*"},
			  {"Effect":"Allow","Action":["s3:ListBucket"],"Resource":"arn:aws:s3:::cur","Condition":{"StringLike":{"s3:prefix":"reports/*"}}},
			  {"Effect":"Allow","Action":["ec2:Describe*","ce:GetCostAndUsage"],"Resource":"*"},
			  {"Effect":"Allow","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"ec2:InstanceType":"t3.micro"}}},
			  {"Effect":"Allow","Action":"s3:GetObject","Resource":"${CurBucket.Arn}/*"},
			  {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/app-*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}
			]}`,
		},
		{
			name: "object action on a bucket ARN",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::cur"}}`,
			want: []string{"resource-mismatch/low/s3:GetObject"},
		},
		{
			name: "bucket action on object ARNs only",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::cur/*"}}`,
			want: []string{"resource-mismatch/low/s3:ListBucket", "resource-unused/info/arn:aws:s3:::cur/*"},
		},
		{
			name: "star-only action with a specific resource",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ec2:DescribeInstances","ec2:StopInstances"],"Resource":"arn:aws:ec2:eu-west-1:111122223333:instance/*"}}`,
			want: []string{"star-resource-only/low/ec2:DescribeInstances"},
		},
		{
			name: "wildcard actions are not blamed one by one",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::cur","arn:aws:s3:::cur/*"]}}`,
		},
		{
			name: "deny that protects nothing",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::backups"}}`,
			want: []string{"resource-mismatch/medium/s3:DeleteObject", "resource-unused/medium/arn:aws:s3:::backups"},
		},
		{
			name: "unknown actions",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObjekt","nosuch:*"],"Resource":"*"},{"Effect":"Deny","NotAction":"iam:Nope","Resource":"*"}]}`,
			want: []string{"unknown-action/low/s3:GetObjekt", "unknown-action/low/nosuch:*", "unknown-action/medium/iam:Nope"},
		},
		{
			name: "condition key no action supports",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ec2:StopInstances"],"Resource":"*","Condition":{"StringEquals":{"s3:prefix":"x"},"StringNotEquals":{"s3:x-amz-acl":"public-read"}}}}`,
			want: []string{"condition-key-unsupported/low/s3:prefix"},
		},
		{
			name: "tag keys with a variable part are supported",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*","Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"a","ec2:ResourceTag/x":"y"}}}}`,
			want: []string{"condition-key-unsupported/low/ec2:ResourceTag/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, is := range policy.Lint(mustParse(t, tt.doc), cat) {
				subject := is.Action + is.Resource + is.Key
				got = append(got, fmt.Sprintf("%s/%s/%s", is.ID, is.Severity, subject))
				if is.Message == "" {
					t.Errorf("issue %+v has no message", is)
				}
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			slices.Sort(got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Lint =\n%v\nwant\n%v", got, want)
				for _, is := range policy.Lint(mustParse(t, tt.doc), cat) {
					t.Log(is.Message)
				}
			}
		})
	}
}
