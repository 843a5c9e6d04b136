package review

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/policy"
)

// Tests for what reviewing real vendor templates taught: one test per
// lesson, on the corpus templates (testdata/corpus) or small inline ones.

func corpusReview(t *testing.T, name string, opts Options) Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Template(context.Background(), name, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findAll(rep Report, w want) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if w.matches(f) {
			out = append(out, f)
		}
	}
	return out
}

func requireFinding(t *testing.T, rep Report, w want) Finding {
	t.Helper()
	fs := findAll(rep, w)
	if len(fs) == 0 {
		dump(t, rep)
		t.Fatalf("missing finding %v", w)
	}
	return fs[0]
}

func requireNone(t *testing.T, rep Report, w want) {
	t.Helper()
	if fs := findAll(rep, w); len(fs) > 0 {
		dump(t, rep)
		t.Fatalf("unexpected finding %+v", fs[0])
	}
}

// Nested stacks and SAM functions hold permissions the template does not
// show: never a false all-clear, and a severity that fails --fail-on high.
func TestNeverAFalseAllClear(t *testing.T) {
	rep := corpusReview(t, "01-monitoring-nested-stacks.yaml", Options{})
	if rep.Highest() != SeverityHigh {
		dump(t, rep)
		t.Fatalf("a template of nested stacks only: highest %q, want high", rep.Highest())
	}
	pinned := requireFinding(t, rep, want{id: "template/unreviewable", severity: SeverityHigh})
	fs := findAll(rep, want{id: "template/unreviewable"})
	if len(fs) != 2 || !strings.Contains(fs[1].Why, "not pinned") || strings.Contains(pinned.Why, "not pinned") {
		t.Errorf("want one finding per nested stack, the latest URL called unpinned: %+v", fs)
	}

	rep = corpusReview(t, "04-sam-function-policies.yaml", Options{})
	requireFinding(t, rep, want{id: "template/unreviewable", severity: SeverityHigh})                                          // S3ReadPolicy template
	requireFinding(t, rep, want{id: "data-access/secret-values", identity: "ShipperFunctionRole", severity: SeverityCritical}) // inline statement
	requireFinding(t, rep, want{id: "managed-policy/aws", identity: "ShipperFunctionRole", severity: SeverityInfo})            // AWSLambdaBasicExecutionRole

	rep = corpusReview(t, "05-sam-function-existing-role.yaml", Options{})
	f := requireFinding(t, rep, want{id: "template/unreviewable", severity: SeverityHigh})
	if !strings.Contains(f.Why, "vendor-collector-role") {
		t.Errorf("the finding should name the role (from the parameter default): %s", f.Why)
	}

	rep = corpusReview(t, "19-stackset-template-url.yaml", Options{})
	requireFinding(t, rep, want{id: "template/unreviewable", severity: SeverityHigh})

	// A vendor macro generates the policy at deploy time.
	tmpl := `Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: sts:AssumeRole, Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}}
      Policies:
        - PolicyName: generated
          PolicyDocument:
            Fn::Transform:
              - Name: VendorPolicyMacro
                Parameters: {Permissions: Full}
`
	rep, err := Template(context.Background(), "macro.yaml", []byte(tmpl), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f = requireFinding(t, rep, want{id: "template/unreviewable", severity: SeverityHigh})
	if !strings.Contains(f.Why, "VendorPolicyMacro") {
		t.Errorf("why %q should name the macro", f.Why)
	}
}

// CAN/CANNOT comes from identities the vendor can use, and says "unknown"
// when a managed policy it does not expand is attached.
func TestCanCannotIsHonest(t *testing.T) {
	rep := corpusReview(t, "06-readonlyaccess-role.yaml", Options{})
	s := rep.Summary
	if !slices.ContainsFunc(s.Can, func(c string) bool { return strings.HasPrefix(c, "read object contents in S3 buckets") }) ||
		slices.Contains(s.Cannot, "read object contents in S3 buckets") {
		t.Errorf("ReadOnlyAccess reads S3 objects: can %q, cannot %q", s.Can, s.Cannot)
	}
	if !slices.Contains(s.Cannot, "read secret values (Secrets Manager)") || len(s.Unknown) != 0 {
		t.Errorf("ReadOnlyAccess is fully known and does not read secrets: cannot %q, unknown %q", s.Cannot, s.Unknown)
	}

	tmpl := `Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::111122223333:root"}
            Action: sts:AssumeRole
            Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonRDSFullAccess]
`
	rep, err := Template(context.Background(), "unknown-managed.yaml", []byte(tmpl), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Summary.Cannot) != 0 || !slices.ContainsFunc(rep.Summary.Unknown, func(c string) bool {
		return strings.HasPrefix(c, "read secret values") && strings.Contains(c, "AmazonRDSFullAccess")
	}) {
		t.Errorf("an unexpanded managed policy: cannot %q, unknown %q; want nothing in cannot and the policy named", rep.Summary.Cannot, rep.Summary.Unknown)
	}

	// The CUR helper's role is used only by inline code the vendor cannot
	// run: its writes are not the vendor's.
	rep = corpusReview(t, "18-cur-setup-helper.yaml", Options{})
	for _, c := range rep.Summary.Can {
		if strings.Contains(c, "cur:PutReportDefinition") {
			t.Errorf("can %q: the helper's permissions are not the vendor's", rep.Summary.Can)
		}
	}
	// The vendor may invoke the helper: the helper's secrets are the vendor's.
	rep = corpusReview(t, "15-invoke-function.yaml", Options{})
	if !slices.Contains(rep.Summary.Can, "read secret values (Secrets Manager)") {
		t.Errorf("can %q: invoking the function reads secrets", rep.Summary.Can)
	}
}

// Conditions are modelled as AWS evaluates them.
func TestConditionsThatNarrow(t *testing.T) {
	rep := corpusReview(t, "10-getatt-principal.yaml", Options{})
	requireNone(t, rep, want{id: "trust/no-external-id"})
	for _, id := range rep.Identities {
		if id.Name == "ReportReaderRole" && (len(id.TrustedBy) != 1 || id.TrustedBy[0].Kind != "same-template") {
			t.Errorf("ReportReaderRole trusted by %+v, want the template's HubRole", id.TrustedBy)
		}
	}

	for _, name := range []string{"11-bucket-policy-narrowed.yaml", "12-topic-policy-source-arn.yaml"} {
		rep = corpusReview(t, name, Options{})
		requireFinding(t, rep, want{id: "resource-policy/wildcard-principal", severity: SeverityLow})
		requireNone(t, rep, want{id: "resource-policy/wildcard-principal", severity: SeverityMedium})
	}
	rep = corpusReview(t, "11-bucket-policy-narrowed.yaml", Options{})
	if !slices.ContainsFunc(rep.Identities[0].TrustedBy, func(p Principal) bool { return p.Value == "arn:aws:iam::444455556666:role/vendor-exporter" }) {
		t.Errorf("the role named by aws:PrincipalArn is not listed: %+v", rep.Identities[0].TrustedBy)
	}

	rep = corpusReview(t, "13-attach-limited-by-policyarn.yaml", Options{})
	requireFinding(t, rep, want{id: "escalation/iam-attach-role-policy", severity: SeverityLow})

	rep = corpusReview(t, "14-negated-conditions.yaml", Options{})
	requireFinding(t, rep, want{id: "escalation/iam-attach-role-policy", severity: SeverityCritical, scoped: ptr(false)})
	requireFinding(t, rep, want{id: "access/delete", severity: SeverityHigh, scoped: ptr(false), action: "ec2:TerminateInstances"})

	// A tag condition does not limit an identity that may set the tag.
	rep = corpusReview(t, "20-snapshot-scanner.yaml", Options{})
	requireFinding(t, rep, want{id: "access/permissions-management", severity: SeverityHigh, scoped: ptr(false), action: "ec2:ModifySnapshotAttribute"})

	// "*" narrowed by aws:PrincipalArn given as a parameter; the EBS
	// snapshot tag is set through EC2, which the role may do at will.
	rep = corpusReview(t, "22-agentless-snapshot-reader.yaml", Options{})
	requireFinding(t, rep, want{id: "trust/wildcard-principal", severity: SeverityLow})
	requireFinding(t, rep, want{id: "data-access/backups", severity: SeverityHigh, scoped: ptr(false), action: "ebs:GetSnapshotBlock"})

	// Tagging only at creation (ec2:CreateAction) lets the role satisfy a
	// tag condition on its own snapshots only: reads of them stay data
	// access (the snapshot copies any volume), deletes of them are scoped,
	// and other resource types (volumes, instances) are not affected.
	requireFinding(t, rep, want{id: "access/delete", scoped: ptr(true), action: "ec2:DeleteSnapshot"})
	pol := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*::snapshot/*","Condition":{"StringEquals":{"ec2:CreateAction":"CreateSnapshot"}}},
	  {"Effect":"Allow","Action":["ec2:DeleteVolume","ec2:ModifyInstanceAttribute"],"Resource":["arn:aws:ec2:*:*:volume/*","arn:aws:ec2:*:*:instance/*"],"Condition":{"StringEquals":{"aws:ResourceTag/remediation":"allowed"}}}]}`
	rep, err := Template(context.Background(), "create-only.json", []byte(pol), Options{})
	if err != nil {
		t.Fatal(err)
	}
	requireFinding(t, rep, want{id: "access/delete", scoped: ptr(true), action: "ec2:DeleteVolume"})
	requireNone(t, rep, want{id: "access/delete", scoped: ptr(false)})

	// Tagging limited to another key does not defeat the condition.
	tmpl := `Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: sts:AssumeRole, Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: ec2:CreateTags, Resource: "*", Condition: {StringEquals: {aws:RequestTag/CostCenter: vendor}}}
              - {Effect: Allow, Action: ec2:TerminateInstances, Resource: "*", Condition: {StringEquals: {aws:ResourceTag/VendorManaged: "true"}}}
`
	rep, err = Template(context.Background(), "tag-other-key.yaml", []byte(tmpl), Options{})
	if err != nil {
		t.Fatal(err)
	}
	requireFinding(t, rep, want{id: "access/delete", scoped: ptr(true), action: "ec2:TerminateInstances"})
}

// A role whose trust policy cannot be read is assumed to be the vendor's:
// its findings keep their severity.
func TestUnreadableTrustIsTheVendors(t *testing.T) {
	tmpl := `Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17"}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: secretsmanager:GetSecretValue, Resource: "*"}
`
	rep, err := Template(context.Background(), "no-statement.yaml", []byte(tmpl), Options{})
	if err != nil {
		t.Fatal(err)
	}
	requireFinding(t, rep, want{id: "data-access/secret-values", severity: SeverityCritical})
}

// What the vendor can trigger counts as what it can do.
func TestWhatTheVendorCanTrigger(t *testing.T) {
	rep := corpusReview(t, "15-invoke-function.yaml", Options{})
	f := requireFinding(t, rep, want{id: "escalation/invoke-function", identity: "VendorRole", severity: SeverityCritical, action: "lambda:InvokeFunction"})
	if !strings.Contains(f.Title, "HelperFunction") {
		t.Errorf("title %q should name the function", f.Title)
	}
	requireFinding(t, rep, want{id: "data-access/secret-values", identity: "HelperRole", severity: SeverityCritical})

	rep = corpusReview(t, "16-vendor-service-token.yaml", Options{})
	requireFinding(t, rep, want{id: "custom-resource/external-service-token", severity: SeverityMedium, resource: "888899990000"})

	rep = corpusReview(t, "03-permissions-fetched-at-deploy.yaml", Options{})
	requireFinding(t, rep, want{id: "template/runtime-permissions", identity: "AttachPermissionsFunction", severity: SeverityHigh, action: "iam:AttachRolePolicy"})

	// A helper only CloudFormation runs, with its code inline, is rated one
	// level below the same grant to the vendor.
	rep = corpusReview(t, "18-cur-setup-helper.yaml", Options{})
	w := requireFinding(t, rep, want{id: "access/write", identity: "ReportHelperRole", severity: SeverityLow})
	if !strings.Contains(w.Why, "one level lower") {
		t.Errorf("why %q should say the severity was lowered", w.Why)
	}
}

func TestCalibration(t *testing.T) {
	rep := corpusReview(t, "07-commitment-manager.yaml", Options{})
	requireFinding(t, rep, want{id: "cost/commit-spend", severity: SeverityHigh, action: "savingsplans:CreateSavingsPlan"})
	requireFinding(t, rep, want{id: "cost/commit-spend", action: "ec2:PurchaseReservedInstancesOffering"})
	requireFinding(t, rep, want{id: "cost/commit-cancel", severity: SeverityLow, action: "savingsplans:DeleteQueuedSavingsPlan"})
	requireNone(t, rep, want{id: "access/delete"})
	if !slices.Contains(rep.Summary.Can, "commit spend (buy Savings Plans or reserved capacity)") {
		t.Errorf("can %q", rep.Summary.Can)
	}

	rep = corpusReview(t, "17-backup-vendor.yaml", Options{})
	requireFinding(t, rep, want{id: "credential-exposure/database-master-password", severity: SeverityHigh, action: "rds:ModifyDBInstance"})
	requireFinding(t, rep, want{id: "data-access/backups", severity: SeverityHigh, action: "ebs:GetSnapshotBlock"})
	requireFinding(t, rep, want{id: "data-access/backups", action: "glacier:GetJobOutput"})

	rep = corpusReview(t, "02-monitoring-integration-role.yaml", Options{})
	requireFinding(t, rep, want{id: "data-access/instance-secrets", severity: SeverityMedium, action: "lambda:ListFunctions"})

	rep = corpusReview(t, "03-permissions-fetched-at-deploy.yaml", Options{})
	requireFinding(t, rep, want{id: "managed-policy/aws", severity: SeverityInfo, resource: "AWSLambdaBasicExecutionRole"})

	rep = corpusReview(t, "08-placeholder-external-id.yaml", Options{})
	requireFinding(t, rep, want{id: "trust/external-id-placeholder", severity: SeverityHigh})

	// Defaults are resolved: the short default external ID is flagged for
	// each of the two accounts an Fn::If chooses between, and both are listed.
	rep = corpusReview(t, "09-defaults-and-regions.yaml", Options{})
	if fs := findAll(rep, want{id: "trust/external-id-short", severity: SeverityMedium}); len(fs) != 2 {
		dump(t, rep)
		t.Errorf("want external-id-short for each trusted account, got %d", len(fs))
	}
	var accounts []string
	for _, p := range rep.Identities[0].TrustedBy {
		accounts = append(accounts, p.Value)
	}
	if !slices.Contains(accounts, "arn:aws:iam::111122223333:root") || !slices.Contains(accounts, "arn:aws:iam::222233334444:root") {
		t.Errorf("trusted by %q, want both accounts of the Fn::If", accounts)
	}

	known, err := policy.LoadKnownAccounts(strings.NewReader("- name: Example Vendor A\n  accounts: ['131313131313']\n- name: Example Vendor B\n  accounts: ['141414141414', '151515151515']\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep = corpusReview(t, "21-several-trusted-accounts.yaml", Options{Known: known})
	if fs := findAll(rep, want{id: "trust/known-vendor"}); len(fs) != 3 {
		dump(t, rep)
		t.Errorf("want a known-vendor finding for each of the 3 trusted accounts, got %d", len(fs))
	}

	tmpl := `Parameters:
  VendorAccount: {Type: String, Default: "131313131313"}
Resources:
  VendorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:aws:iam::${VendorAccount}:root"}
            Action: sts:AssumeRole
            Condition: {StringEquals: {sts:ExternalId: "3f9a1c7e5b2d48a6"}}
`
	rep, err = Template(context.Background(), "default-account.yaml", []byte(tmpl), Options{Known: known})
	if err != nil {
		t.Fatal(err)
	}
	if tb := rep.Identities[0].TrustedBy; len(tb) != 1 || tb[0].Vendor != "Example Vendor A" {
		t.Errorf("trusted by %+v, want the vendor of the parameter's default account", tb)
	}
	requireFinding(t, rep, want{id: "trust/external-id-literal", severity: SeverityLow})
}

// Deleting configuration is not deleting data; Keyspaces Select reads rows.
func TestDeleteAndReadCalibration(t *testing.T) {
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*",
	  "Action":["logs:DeleteSubscriptionFilter","ec2:DeleteVolume","cassandra:Select"]}]}`
	rep, err := Template(context.Background(), "monitoring.json", []byte(pol), Options{})
	if err != nil {
		t.Fatal(err)
	}
	requireFinding(t, rep, want{id: "access/delete", severity: SeverityMedium, action: "logs:DeleteSubscriptionFilter"})
	requireFinding(t, rep, want{id: "access/delete", severity: SeverityHigh, action: "ec2:DeleteVolume"})
	requireNone(t, rep, want{id: "access/delete", severity: SeverityHigh, action: "logs:DeleteSubscriptionFilter"})
	requireFinding(t, rep, want{id: "data-access/tables", severity: SeverityHigh, action: "cassandra:Select"})
}

// JSON output shows empty lists as [], never null.
func TestJSONEmptyListsAreNotNull(t *testing.T) {
	rep, err := Template(context.Background(), "empty.yaml", []byte("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, FormatJSON, "test"); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("null")) {
		t.Errorf("JSON contains null:\n%s", buf.String())
	}
	// The API stores json.Marshal(report): the same rule applies.
	direct, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(direct, []byte("null")) {
		t.Errorf("json.Marshal(report) contains null: %s", direct)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if fs, ok := back["findings"].([]any); !ok || len(fs) != 0 {
		t.Errorf("findings = %#v, want []", back["findings"])
	}
}
