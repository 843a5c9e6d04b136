package review

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/iamdata"
)

// reviewFiles reviews fixture files from testdata/seeds as one integration.
func reviewFiles(tb testing.TB, names ...string) Report {
	tb.Helper()
	var inputs []Input
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", "seeds", n))
		if err != nil {
			tb.Fatal(err)
		}
		inputs = append(inputs, Input{Name: n, Data: data})
	}
	rep, err := Review(context.Background(), inputs, Options{})
	if err != nil {
		tb.Fatalf("review %v: %v", names, err)
	}
	return rep
}

// want describes one expected finding. Empty fields match anything.
type want struct {
	id       string
	identity string // substring of Finding.Identity
	severity Severity
	action   string // must be among Finding.Actions
	scoped   *bool
	resource string // substring of one of Finding.Resources
}

func (w want) String() string {
	return strings.Join([]string{w.id, w.identity, string(w.severity), w.action, w.resource}, " ")
}

func (w want) matches(f Finding) bool {
	if w.id != "" && f.ID != w.id {
		return false
	}
	if w.identity != "" && !strings.Contains(f.Identity, w.identity) {
		return false
	}
	if w.severity != "" && f.Severity != w.severity {
		return false
	}
	if w.action != "" && !slices.Contains(f.Actions, w.action) {
		return false
	}
	if w.scoped != nil && f.Scoped != *w.scoped {
		return false
	}
	if w.resource != "" && !slices.ContainsFunc(f.Resources, func(r string) bool { return strings.Contains(r, w.resource) }) {
		return false
	}
	return true
}

func ptr(b bool) *bool { return &b }

func dump(tb testing.TB, rep Report) {
	tb.Helper()
	for _, f := range rep.Findings {
		tb.Logf("  %-8s %-45s %-35s %v %v", f.Severity, f.ID, f.Identity, f.Actions, f.Resources)
	}
}

func TestSeedReviews(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []string
		want    []want
		absent  []want
		highest Severity
	}{
		{
			name:  "000 Frust: read-only but for the Organizations invite flow",
			files: []string{"000-frust-evaluation.yaml", "000-frust-client.yaml", "000-frust-cur.yaml"},
			want: []want{
				{id: "template/malformed", identity: "FrustEvaluationRole"},
				{id: "template/malformed", identity: "CURS3BucketPolicy"},
				{id: "action/deprecated", identity: "FrustCloudformationRole", action: "aws-portal:ViewBilling"},
				{id: "action/deprecated", identity: "FrustCloudformationRole", action: "aws-portal:ViewUsage"},
				{id: "organization/membership", identity: "FrustCloudformationRole", severity: SeverityHigh, action: "organizations:InviteAccountToOrganization", scoped: ptr(false)},
				{id: "data-access/instance-secrets", identity: "FrustCloudformationRole", action: "ec2:DescribeInstanceAttribute"},
				{id: "access/write", identity: "CURS3BucketPolicy", action: "s3:PutObject", scoped: ptr(true)},
				{id: "data-access/object-read", identity: "CURS3BucketPolicy", severity: SeverityLow, scoped: ptr(true)},
				{id: "resource-policy/service-without-source", identity: "CURS3BucketPolicy"},
			},
			absent: []want{
				{severity: SeverityCritical},
				{id: "access/write", identity: "FrustEvaluationRole"},
				{id: "access/delete"},
				{id: "access/permissions-management"},
			},
		},
		{
			name:  "001 Trustle: IAM user with long-lived keys, AddUserToGroup and CreateUser escalation",
			files: []string{"001-trustle.yaml"},
			want: []want{
				{id: "identity/long-lived-keys", identity: "user TrustleServiceUser", severity: SeverityHigh},
				{id: "escalation/iam-add-user-to-group", identity: "user TrustleServiceUser", severity: SeverityHigh, action: "iam:AddUserToGroup"},
				{id: "escalation/iam-create-user-add-to-group", identity: "user TrustleServiceUser", severity: SeverityHigh, action: "iam:CreateUser"},
				{id: "escalation/iam-create-user-add-to-group", identity: "role TrustleCrossAccountRole"},
				{id: "escalation/iam-create-user-add-to-group", identity: "role MemberRole"},
				{id: "escalation/identitystore-create-user-membership", identity: "user TrustleServiceUser", action: "identitystore:CreateGroupMembership"},
				{id: "escalation/sts-assume-role", identity: "user TrustleServiceUser", severity: SeverityLow, scoped: ptr(true), resource: "role/Trustle-CrossAccount"},
				{id: "access/delete", identity: "user TrustleServiceUser", action: "iam:DeleteUser"},
				{id: "trust/same-account", identity: "role TrustleCrossAccountRole"},
				{id: "trust/no-external-id", identity: "role MemberRole"},
			},
			absent: []want{
				{id: "escalation/iam-create-access-key"},
				{id: "escalation/iam-create-user-with-credentials"},
				{severity: SeverityCritical},
			},
			highest: SeverityHigh,
		},
		{
			name:  "002 Alphaus Octo: PassRole + CreateRole + SendCommand, secretsmanager:*",
			files: []string{"002-alphaus-octo.yaml"},
			want: []want{
				{id: "escalation/self-modification", identity: "AlphausAcctAccessRole", severity: SeverityCritical, action: "iam:PutRolePolicy"},
				{id: "escalation/passrole-instance-profile-ssm", severity: SeverityCritical, action: "ssm:SendCommand"},
				{id: "escalation/passrole-instance-profile-ssm", action: "iam:CreateRole"},
				{id: "escalation/passrole-instance-profile-ssm", action: "iam:PassRole"},
				{id: "escalation/ssm-send-command", severity: SeverityCritical},
				{id: "escalation/iam-create-role-attach", severity: SeverityCritical},
				{id: "escalation/passrole-ecs-task", severity: SeverityCritical},
				{id: "policy/service-wide", severity: SeverityCritical, action: "secretsmanager:*"},
				{id: "data-access/secret-values", severity: SeverityCritical, action: "secretsmanager:GetSecretValue"},
				{id: "escalation/lambda-update-function-configuration", severity: SeverityHigh},
				{id: "escalation/cloudformation-update-stack", scoped: ptr(true)},
				{id: "access/delete", severity: SeverityHigh, action: "rds:DeleteDBInstance"},
				{id: "access/delete", action: "ec2:DeleteVolume"},
			},
			absent: []want{
				// PutRolePolicy is aimed only at the role itself: one
				// self-modification finding, not a generic one as well.
				{id: "escalation/iam-put-role-policy"},
			},
			highest: SeverityCritical,
		},
		{
			// The EventBridge rule grants carry an aws:ResourceTag
			// condition, but the role may put that tag on any rule
			// (events:TagResource on "*"), so the tag limits nothing.
			name:  "003 Wiv: self-taggable EventBridge, scoped Secrets Manager, self role management",
			files: []string{"003-wiv.yaml"},
			want: []want{
				{id: "escalation/self-modification", identity: "WivAccessRole", severity: SeverityCritical, action: "iam:PutRolePolicy"},
				{id: "data-access/secret-values", severity: SeverityMedium, scoped: ptr(true), resource: "events!connection/*"},
				{id: "access/write", scoped: ptr(false), action: "events:PutRule"},
				{id: "access/write", scoped: ptr(true), action: "secretsmanager:CreateSecret"},
				{id: "access/write", scoped: ptr(false), action: "events:CreateApiDestination"},
				{id: "policy/service-wide", action: "s3:*", severity: SeverityMedium, scoped: ptr(true)},
				{id: "policy/service-wide", action: "glue:*", scoped: ptr(true)},
				{id: "trust/service-without-source", identity: "WivAccessRole"},
			},
			absent: []want{
				{id: "data-access/secret-values", scoped: ptr(false)},
				{id: "access/write", scoped: ptr(true), action: "events:PutRule"},
				// Service-linked roles cannot be changed; those grants
				// are no escalation.
				{id: "escalation/iam-put-role-policy"},
				{id: "escalation/iam-attach-role-policy"},
			},
			highest: SeverityCritical,
		},
		{
			name:  "004 Flexera: bucket-scoped read, trust to a specific role with external ID",
			files: []string{"004-flexera-trust.json", "004-flexera-policy.json"},
			want: []want{
				{id: "data-access/object-read", severity: SeverityLow, scoped: ptr(true), resource: "arn:aws:s3:::acme-billing-reports/*"},
				{id: "trust/external-id-short", identity: "004-flexera-trust"},
			},
			absent: []want{
				{id: "trust/no-external-id"},
				{id: "data-access/object-read", scoped: ptr(false)},
				{severity: SeverityHigh},
				{severity: SeverityCritical},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := reviewFiles(t, tt.files...)
			failed := false
			for _, w := range tt.want {
				if !slices.ContainsFunc(rep.Findings, w.matches) {
					t.Errorf("missing finding %s", w)
					failed = true
				}
			}
			for _, w := range tt.absent {
				if i := slices.IndexFunc(rep.Findings, w.matches); i >= 0 {
					t.Errorf("unexpected finding %+v (matched %s)", rep.Findings[i], w)
					failed = true
				}
			}
			if tt.highest != "" && rep.Summary.Highest != tt.highest {
				t.Errorf("highest severity %s, want %s", rep.Summary.Highest, tt.highest)
				failed = true
			}
			for _, f := range rep.Findings {
				if f.Location.File == "" || f.Why == "" || !f.Severity.valid() {
					t.Errorf("finding without location, explanation or severity: %+v", f)
					failed = true
				}
			}
			if failed {
				dump(t, rep)
			}
		})
	}
}

func TestFindingLocationsHaveLines(t *testing.T) {
	t.Parallel()
	rep := reviewFiles(t, "002-alphaus-octo.yaml")
	data, err := os.ReadFile(filepath.Join("testdata", "seeds", "002-alphaus-octo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, f := range rep.Findings {
		if f.ID == "escalation/self-modification" {
			// The OwnRole statement of the "root" policy.
			if got := strings.TrimSpace(lines[f.Location.Line-1]); got != "- Sid: OwnRole" || !strings.HasSuffix(f.Location.Path, "Policies[0].PolicyDocument.Statement[3]") {
				t.Fatalf("self-modification at %s, which reads %q; want the OwnRole statement", f.Location, got)
			}
			return
		}
	}
	t.Fatal("no self-modification finding")
}

// TestIdentityWrites checks the list a caller uses to demand an explanation
// for every write (crossbill's own templates are checked this way).
func TestIdentityWrites(t *testing.T) {
	t.Parallel()
	rep := reviewFiles(t, "000-frust-client.yaml")
	if len(rep.Identities) != 1 {
		t.Fatalf("identities %+v", rep.Identities)
	}
	if got := rep.Identities[0].Writes; !slices.Equal(got, []string{"organizations:InviteAccountToOrganization"}) {
		t.Fatalf("writes %v, want only organizations:InviteAccountToOrganization", got)
	}
}

func TestStackSetLinesAreFileLines(t *testing.T) {
	t.Parallel()
	rep := reviewFiles(t, "001-trustle.yaml")
	data, err := os.ReadFile(filepath.Join("testdata", "seeds", "001-trustle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, id := range rep.Identities {
		if id.Name == "MemberRole" {
			if got := strings.TrimSpace(lines[id.Location.Line-1]); got != "MemberRole:" {
				t.Fatalf("MemberRole at line %d, which reads %q", id.Location.Line, got)
			}
			return
		}
	}
	t.Fatal("the StackSet's MemberRole was not reviewed")
}

// TestWivCategoryCounts checks the computed table against Wiv's own
// "Summary by Category" (seed 003), regrouped into crossbill's categories:
// each Wiv row is one (action pattern, resource) grant.
func TestWivCategoryCounts(t *testing.T) {
	t.Parallel()
	rep := reviewFiles(t, "003-wiv.yaml")
	want := map[string]int{
		"Cost & Billing":          8 + 6 + 2 + 1,               // billing rows but account:, CE & CUR, Compute Optimizer, savingsplans
		"Management & Governance": 1 + 11 + 3 + 2 + 3 + 10 + 2, // account:, Trusted Advisor, Config, quotas, Tagging, CloudFormation, organizations
		"Storage":                 2 + 6,                       // CUR bucket, Storage
		"Compute":                 4 + 3,                       // EC2 & Compute, Serverless
		"Containers":              5,                           //
		"Database":                9,                           //
		"Networking & CDN":        8,                           //
		"Analytics":               4 + 3 + 4,                   // Analytics & Search, Athena, Glue
		"AI/ML":                   3,                           //
		"Monitoring & Logging":    8,                           //
		"Application Integration": 11,                          // EventBridge
		"Security & Identity":     6 + 8 + 1 + 1,               // Secrets Manager, IAM, kms:List*, iam:ListAccountAliases
	}
	got := map[string]int{}
	total := 0
	for _, c := range rep.Summary.ByCategory {
		got[c.Category] = c.Grants
		total += c.Grants
	}
	for cat, n := range want {
		if got[cat] != n {
			t.Errorf("%s: %d grants, want %d", cat, got[cat], n)
		}
	}
	// Wiv's tables list 135 rows; its summary adds up to 134 (it counts
	// "Other Services" as 3 for 4 rows) and announces "~125".
	if total != 135 {
		t.Errorf("total grants %d, want 135", total)
	}
	byLevel := map[string]int{}
	for _, l := range rep.Summary.ByLevel {
		byLevel[l.Level] = l.Actions
	}
	if byLevel["List"] == 0 || byLevel["Read"] == 0 || byLevel["Write"] == 0 || byLevel["Permissions management"] == 0 {
		t.Errorf("by level %v: every level should be present", byLevel)
	}
	if !slices.ContainsFunc(rep.Summary.Can, func(s string) bool { return strings.HasPrefix(s, "invoke AI models") }) {
		t.Errorf("can %v: bedrock:InvokeModel should show as invoking AI models", rep.Summary.Can)
	}
	if !slices.Contains(rep.Summary.Cannot, "run commands or open shells on instances and containers") {
		t.Errorf("cannot %v: Wiv has no shell access", rep.Summary.Cannot)
	}
}

func TestReviewInputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		code crossbill.Code
	}{
		{"neither template nor policy", "Foo: bar\n", crossbill.CodeInvalid},
		{"malformed yaml", "Resources:\n  R: [\n", crossbill.CodeInvalid},
		{"scalar document", "just text\n", crossbill.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Template(context.Background(), "in.yaml", []byte(tt.data), Options{})
			if crossbill.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), "in.yaml") {
				t.Fatalf("err %v (code %q), want code %q naming the file", err, crossbill.ErrorCode(err), tt.code)
			}
		})
	}
	_, err := Review(context.Background(), nil, Options{})
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("no inputs: %v", err)
	}
}

func TestSmallTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   string
		want   []want
		absent []want
	}{
		{"admin policy", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			[]want{{id: "policy/all-actions", severity: SeverityCritical}}, nil},
		{"not action", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`,
			[]want{{id: "policy/not-action", severity: SeverityHigh}, {id: "data-access/secret-values", severity: SeverityCritical}}, nil},
		{"unknown action", `{"Statement":[{"Effect":"Allow","Action":["ec2:DescribeEverything","nosuchsvc:Get"],"Resource":"*"}]}`,
			[]want{{id: "action/unknown", action: "ec2:DescribeEverything"}, {id: "action/unknown", action: "nosuchsvc:Get"}}, nil},
		{"managed policies", "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {AWS: '111122223333'}, Action: 'sts:AssumeRole'}]}\n      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/ReadOnlyAccess\n        - !Sub arn:${AWS::Partition}:iam::aws:policy/job-function/ViewOnlyAccess\n        - arn:aws:iam::123456789012:policy/Elsewhere\n",
			[]want{{id: "managed-policy/aws", severity: SeverityHigh, resource: "ReadOnlyAccess"}, {id: "managed-policy/aws", severity: SeverityLow, resource: "job-function/ViewOnlyAccess"}, {id: "managed-policy/external", resource: "Elsewhere"}}, nil},
		{"secret in outputs", "Resources:\n  U: {Type: AWS::IAM::User}\n  K: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Ref U}}\nOutputs:\n  Secret: {Value: !GetAtt K.SecretAccessKey}\n",
			[]want{{id: "identity/secret-in-outputs", severity: SeverityHigh}, {id: "identity/long-lived-keys", identity: "user U"}}, nil},
		{"policy attached through resources", "Resources:\n  G: {Type: AWS::IAM::Group}\n  U: {Type: AWS::IAM::User, Properties: {Groups: [!Ref G]}}\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: p\n      Groups: [!Ref G]\n      PolicyDocument: {Statement: [{Effect: Allow, Action: 'iam:CreatePolicyVersion', Resource: '*'}]}\n",
			[]want{{id: "escalation/iam-create-policy-version", identity: "group G"}, {id: "escalation/iam-create-policy-version", identity: "user U"}}, nil},
		{"stackset json body", "Resources:\n  S:\n    Type: AWS::CloudFormation::StackSet\n    Properties:\n      TemplateBody: '{\"Resources\": {\"R\": {\"Type\": \"AWS::IAM::ManagedPolicy\", \"Properties\": {\"PolicyDocument\": {\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"ssm:StartSession\", \"Resource\": \"*\"}]}}}}}'\n",
			[]want{{id: "escalation/ssm-start-session", identity: "policy R"}}, nil},
		{"boundary", "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: 'sts:AssumeRole'}]}\n      PermissionsBoundary: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/Cap\n",
			[]want{{id: "identity/permissions-boundary", resource: "arn:aws:iam::${AWS::AccountId}:policy/Cap"}}, nil},
		{name: "role, user and group policies as resources", data: "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: vendor\n      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {AWS: '111122223333'}, Action: 'sts:AssumeRole'}]}\n  RP:\n    Type: AWS::IAM::RolePolicy\n    Properties: {RoleName: vendor, PolicyName: rp, PolicyDocument: {Statement: [{Effect: Allow, Action: 'lambda:UpdateFunctionCode', Resource: '*'}]}}\n  U: {Type: AWS::IAM::User}\n  G: {Type: AWS::IAM::Group, Properties: {GroupName: ops}}\n  Add: {Type: AWS::IAM::UserToGroupAddition, Properties: {GroupName: ops, Users: [!Ref U]}}\n  GP:\n    Type: AWS::IAM::GroupPolicy\n    Properties: {GroupName: !Ref G, PolicyName: gp, PolicyDocument: {Statement: [{Effect: Allow, Action: 'ssm:StartSession', Resource: '*'}]}}\n",
			want: []want{{id: "escalation/lambda-update-function-code", identity: "role R"}, {id: "escalation/ssm-start-session", identity: "group G"}, {id: "escalation/ssm-start-session", identity: "user U"}}},
		{name: "key and queue policies", data: "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n          - {Sid: own, Effect: Allow, Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}, Action: 'kms:*', Resource: '*'}\n          - {Sid: vendor, Effect: Allow, Principal: {AWS: 'arn:aws:iam::111122223333:root'}, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*'}\n  Q: {Type: AWS::SQS::Queue}\n  QP:\n    Type: AWS::SQS::QueuePolicy\n    Properties:\n      Queues: [!Ref Q]\n      PolicyDocument: {Statement: [{Effect: Allow, Principal: '*', Action: 'sqs:SendMessage', Resource: !GetAtt Q.Arn}]}\n",
			want:   []want{{id: "data-access/decrypt", identity: "key policy K", action: "kms:Decrypt"}, {id: "resource-policy/wildcard-principal", identity: "queue policy QP"}},
			absent: []want{{id: "policy/service-wide", identity: "key policy K"}}},
		{name: "service-only bucket policy", data: "Resources:\n  B: {Type: AWS::S3::Bucket}\n  P:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: !Ref B\n      PolicyDocument:\n        Statement:\n          - {Effect: Allow, Principal: {Service: bcm-data-exports.amazonaws.com}, Action: [s3:PutObject, s3:GetBucketPolicy], Resource: [!Sub 'arn:aws:s3:::${B}', !Sub 'arn:aws:s3:::${B}/*']}\n          - {Effect: Allow, Principal: {AWS: '111122223333'}, Action: s3:GetObject, Resource: !Sub 'arn:aws:s3:::${B}/*'}\n",
			want:   []want{{id: "resource-policy/service-without-source"}, {id: "data-access/object-read", identity: "bucket policy P", scoped: ptr(true)}},
			absent: []want{{id: "access/write", identity: "bucket policy P"}}},
		{"stackset url", "Resources:\n  S: {Type: AWS::CloudFormation::StackSet, Properties: {TemplateURL: 'https://example.com/t.yaml'}}\n",
			[]want{{id: "template/unreviewable"}}, nil},
		{"wildcard trust", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`,
			[]want{{id: "trust/wildcard-principal"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Template(context.Background(), "t.yaml", []byte(tt.data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(rep.Findings, w.matches) {
					t.Errorf("missing finding %s", w)
					dump(t, rep)
				}
			}
			for _, w := range tt.absent {
				if slices.ContainsFunc(rep.Findings, w.matches) {
					t.Errorf("unexpected finding %s", w)
					dump(t, rep)
				}
			}
		})
	}
}

// BenchmarkReviewWiv reviews Wiv's payer role: 134 grants, about 125
// distinct action patterns, the size the 10 ms target is set for.
func BenchmarkReviewWiv(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "seeds", "003-wiv.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Template(ctx, "003-wiv.yaml", data, Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if _, err := Template(ctx, "003-wiv.yaml", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time per review, next to wall time: on a shared machine the
	// wall figure mostly measures the other processes.
	b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkReview125Actions reviews a bare identity policy of 125 explicit
// actions spread over the catalog, in five statements of 25 on "*".
func BenchmarkReview125Actions(b *testing.B) {
	cat, err := iamdata.Load()
	if err != nil {
		b.Fatal(err)
	}
	all := cat.All()
	var stmts []string
	for s := 0; s < 5; s++ {
		var acts []string
		for i := 0; i < 25; i++ {
			acts = append(acts, `"`+all[(s*25+i)*(len(all)/125)].String()+`"`)
		}
		stmts = append(stmts, `{"Effect":"Allow","Action":[`+strings.Join(acts, ",")+`],"Resource":"*"}`)
	}
	data := []byte(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
	ctx := context.Background()
	if _, err := Template(ctx, "125.json", data, Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if _, err := Template(ctx, "125.json", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
