package review

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestRequiredResourceTypesScope checks the multi-resource rule: an action
// that always acts on several resource types is limited as soon as one of
// them is granted only through scoped grants, however broad the grants of
// the others are.
func TestRequiredResourceTypesScope(t *testing.T) {
	t.Parallel()
	const (
		tagged    = `"Condition":{"StringEquals":{"aws:ResourceTag/crossbill-jit":"allowed"}}`
		instAcct  = `["arn:aws:sso:::instance/*","arn:aws:sso:::account/*"]`
		permSets  = `"arn:aws:sso:::permissionSet/*"`
		assign    = `["sso:CreateAccountAssignment","sso:DeleteAccountAssignment"]`
		remTagged = `"Condition":{"StringEquals":{"aws:ResourceTag/team":"ops"}}`
	)
	stmt := func(action, resource, extra string) string {
		s := `{"Effect":"Allow","Action":` + action + `,"Resource":` + resource
		if extra != "" {
			s += "," + extra
		}
		return s + "}"
	}
	doc := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}

	tests := []struct {
		name     string
		policy   string
		id       string // finding that must hold action
		action   string
		severity Severity
		scoped   bool
		why      string // substring of the finding's Why; "" for none
		noNote   bool   // the Why must not carry a required-type note
	}{
		{name: "tagged permission sets, untagged instance and account: scoped",
			policy: doc(stmt(assign, permSets, tagged), stmt(assign, instAcct, "")),
			id:     "escalation/sso-create-account-assignment", action: "sso:CreateAccountAssignment", severity: SeverityMedium, scoped: true,
			why: "sso:CreateAccountAssignment is limited to permission sets tagged crossbill-jit=allowed"},
		{name: "same pair, the delete finding is scoped too",
			policy: doc(stmt(assign, permSets, tagged), stmt(assign, instAcct, "")),
			id:     "access/delete", action: "sso:DeleteAccountAssignment", severity: SeverityMedium, scoped: true,
			why: "sso:DeleteAccountAssignment is limited to permission sets tagged crossbill-jit=allowed"},
		{name: "one statement naming all three types, untagged: unscoped",
			policy: doc(stmt(assign, `["arn:aws:sso:::instance/*","arn:aws:sso:::account/*",`+permSets+`]`, "")),
			id:     "escalation/sso-create-account-assignment", action: "sso:CreateAccountAssignment", severity: SeverityCritical, scoped: false, noNote: true},
		{name: "both statements unscoped: unscoped",
			policy: doc(stmt(assign, permSets, ""), stmt(assign, instAcct, "")),
			id:     "escalation/sso-create-account-assignment", action: "sso:CreateAccountAssignment", severity: SeverityCritical, scoped: false, noNote: true},
		{name: "star beside a tagged grant: unscoped",
			policy: doc(stmt(assign, permSets, tagged), stmt(assign, `"*"`, "")),
			id:     "access/delete", action: "sso:DeleteAccountAssignment", severity: SeverityHigh, scoped: false, noNote: true},
		{name: "named permission set: scoped, named in the note",
			policy: doc(stmt(assign, `["arn:aws:sso:::permissionSet/ssoins-1/ps-1",`+strings.Trim(instAcct, "[]")+`]`, "")),
			id:     "escalation/sso-create-account-assignment", action: "sso:CreateAccountAssignment", severity: SeverityMedium, scoped: true,
			why: "limited to permission sets named arn:aws:sso:::permissionSet/ssoins-1/ps-1"},
		{name: "required type granted nowhere is no evidence of a limit",
			policy: doc(stmt(assign, instAcct, "")),
			id:     "escalation/sso-create-account-assignment", action: "sso:CreateAccountAssignment", severity: SeverityCritical, scoped: false, noNote: true},
		{name: "snapshot on any resource, volume only tagged: scoped",
			policy: doc(stmt(`"ec2:CreateSnapshot"`, `"arn:aws:ec2:*::snapshot/*"`, ""), stmt(`"ec2:CreateSnapshot"`, `"arn:aws:ec2:*:*:volume/*"`, remTagged)),
			id:     "access/write", action: "ec2:CreateSnapshot", severity: SeverityLow, scoped: true,
			why: "ec2:CreateSnapshot is limited to volumes tagged team=ops"},
		{name: "single resource type on star: unscoped",
			policy: doc(stmt(`"lambda:UpdateFunctionCode"`, `"*"`, "")),
			id:     "escalation/lambda-update-function-code", action: "lambda:UpdateFunctionCode", severity: SeverityHigh, scoped: false, noNote: true},
		{name: "single resource type on every resource of the type: unscoped",
			policy: doc(stmt(`"lambda:UpdateFunctionCode"`, `"arn:aws:lambda:*:*:function:*"`, "")),
			id:     "escalation/lambda-update-function-code", action: "lambda:UpdateFunctionCode", severity: SeverityHigh, scoped: false, noNote: true},
		{name: "single resource type, named: scoped by its only grant",
			policy: doc(stmt(`"lambda:UpdateFunctionCode"`, `"arn:aws:lambda:*:*:function:etl"`, "")),
			id:     "escalation/lambda-update-function-code", action: "lambda:UpdateFunctionCode", severity: SeverityMedium, scoped: true, noNote: true},
		{name: "no resource types, star: unscoped as before",
			policy: doc(stmt(`"ec2:DeleteSpotDatafeedSubscription"`, `"*"`, "")),
			// A subscription is configuration, not data: medium on "*".
			id: "access/delete", action: "ec2:DeleteSpotDatafeedSubscription", severity: SeverityMedium, scoped: false, noNote: true},
		{name: "optional resource types only, every key pair: unscoped as before",
			policy: doc(stmt(`"ec2:DeleteKeyPair"`, `"arn:aws:ec2:*:*:key-pair/*"`, "")),
			id:     "access/delete", action: "ec2:DeleteKeyPair", severity: SeverityHigh, scoped: false, noNote: true},
		{name: "optional resource types only, named: scoped as before",
			policy: doc(stmt(`"ec2:DeleteKeyPair"`, `"arn:aws:ec2:*:*:key-pair/deploy"`, "")),
			id:     "access/delete", action: "ec2:DeleteKeyPair", severity: SeverityMedium, scoped: true, noNote: true},
		{name: "placeholder account in a template ARN is not a name",
			policy: doc(stmt(`"lambda:UpdateFunctionCode"`, `"arn:aws:lambda:*:${AWS::AccountId}:function:*"`, "")),
			id:     "escalation/lambda-update-function-code", action: "lambda:UpdateFunctionCode", severity: SeverityHigh, scoped: false, noNote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Template(context.Background(), "p.json", []byte(tt.policy), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got *Finding
			for i, f := range rep.Findings {
				if f.ID == tt.id && slices.Contains(f.Actions, tt.action) {
					got = &rep.Findings[i]
					break
				}
			}
			if got == nil {
				dump(t, rep)
				t.Fatalf("no %s finding holds %s", tt.id, tt.action)
			}
			if got.Severity != tt.severity || got.Scoped != tt.scoped {
				t.Errorf("%s: severity %s scoped %v, want %s scoped %v (%s)", tt.id, got.Severity, got.Scoped, tt.severity, tt.scoped, got.Why)
			}
			if tt.why != "" && !strings.Contains(got.Why, tt.why) {
				t.Errorf("why %q lacks %q", got.Why, tt.why)
			}
			if tt.noNote && strings.Contains(got.Why, "every call also acts on") {
				t.Errorf("why %q has a required-type note", got.Why)
			}
		})
	}
}

func TestHumanType(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"PermissionSet", "permission sets"},
		{"capacity-reservation", "capacity reservations"},
		{"DBCluster", "db clusters"},
		{"role", "roles"},
		{"policy", "policies"},
		{"accesspointobject", "accesspointobjects"},
		{"address", "addresses"},
		{"key", "keys"},
	}
	for _, tt := range tests {
		if got := plural(humanType(tt.in)); got != tt.want {
			t.Errorf("plural(humanType(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
