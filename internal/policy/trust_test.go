package policy_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/policy"
)

func knownAccounts(tb testing.TB) *policy.KnownAccounts {
	tb.Helper()
	k, err := policy.LoadKnownAccountsFile("testdata/known_accounts.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// findingSet renders findings as "id/severity" for comparison.
func findingSet(r policy.TrustReport) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s/%s", f.ID, f.Severity))
	}
	slices.Sort(out)
	return out
}

func trustDoc(principal, condition string) string {
	s := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"`
	if condition != "" {
		s += `,"Condition":` + condition
	}
	return s + `}]}`
}

func TestAnalyzeTrust(t *testing.T) {
	t.Parallel()
	known := knownAccounts(t)
	const own = "111122223333"
	const extID = `{"StringEquals":{"sts:ExternalId":"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}`
	tests := []struct {
		name     string
		doc      string
		kinds    []policy.PrincipalKind
		findings []string
	}{
		{
			name:     "vendor role with exact external id",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:role/cost-collector"}`, extID),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id/info", "known-vendor/info"},
		},
		{
			name:     "vendor root without external id",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:root"}`, ""),
			kinds:    []policy.PrincipalKind{policy.KindAccountRoot},
			findings: []string{"account-root/low", "known-vendor/info", "no-external-id/high"},
		},
		{
			name:     "unknown bare account with StringLike wildcard",
			doc:      trustDoc(`{"AWS":"444455556666"}`, `{"StringLike":{"sts:ExternalId":"*"}}`),
			kinds:    []policy.PrincipalKind{policy.KindAccount},
			findings: []string{"account-root/low", "external-id-wildcard/high", "unknown-account/low"},
		},
		{
			name:     "StringLike without wildcard is exact",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:role/x"}`, `{"StringLike":{"sts:ExternalId":"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}`),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id/info", "known-vendor/info"},
		},
		{
			name:     "external id IfExists",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:role/x"}`, `{"StringEqualsIfExists":{"sts:ExternalId":"4f9c2a7e1b3d45e6a8c0b2d4f6e8a0c1"}}`),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id-ifexists/high", "known-vendor/info"},
		},
		{
			name:     "short external id",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:role/x"}`, `{"StringEquals":{"sts:ExternalId":"acme"}}`),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id-short/medium", "known-vendor/info"},
		},
		{
			name:     "documentation placeholder external id",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:role/x"}`, `{"StringEquals":{"sts:ExternalId":"<YOUR_EXTERNAL_ID>"}}`),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id-placeholder/high", "known-vendor/info"},
		},
		{
			name:     "repeated-character external id",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::123456789012:role/x"}`, `{"StringEquals":{"sts:ExternalId":"xxxxxxxxxxxxxxxxxxxx"}}`),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id-placeholder/high", "known-vendor/info"},
		},
		{
			name:     "template placeholder external id",
			doc:      trustDoc(`{"AWS":"arn:${AWS::Partition}:iam::123456789012:role/x"}`, `{"StringEquals":{"sts:ExternalId":"${ExternalId}"}}`),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"external-id/info", "known-vendor/info"},
		},
		{
			name:     "same account user with MFA",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::111122223333:user/ana"}`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`),
			kinds:    []policy.PrincipalKind{policy.KindUser},
			findings: []string{"mfa-required/info", "same-account/info"},
		},
		{
			name:     "MFA IfExists",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::111122223333:root"}`, `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`),
			kinds:    []policy.PrincipalKind{policy.KindAccountRoot},
			findings: []string{"mfa-ifexists/medium", "same-account/info"},
		},
		{
			name:     "wildcard principal",
			doc:      trustDoc(`"*"`, ""),
			kinds:    []policy.PrincipalKind{policy.KindAny},
			findings: []string{"wildcard-principal/critical"},
		},
		{
			name:     "wildcard principal limited to the organization",
			doc:      trustDoc(`{"AWS":"*"}`, `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}`),
			kinds:    []policy.PrincipalKind{policy.KindAny},
			findings: []string{"wildcard-principal/low"},
		},
		{
			// aws:PrincipalArn names the caller: AWS admits only that
			// role, which is then listed like a named principal.
			name:     "wildcard principal limited to one role ARN",
			doc:      trustDoc(`{"AWS":"*"}`, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/reader"}}`),
			kinds:    []policy.PrincipalKind{policy.KindAny, policy.KindRole},
			findings: []string{"wildcard-principal/low"},
		},
		{
			name:     "wildcard principal with a source ARN in any account",
			doc:      trustDoc(`{"AWS":"*"}`, `{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:*:alarm:*"}}`),
			kinds:    []policy.PrincipalKind{policy.KindAny},
			findings: []string{"wildcard-principal/medium"},
		},
		{
			name:     "wildcard principal with a negated organization test",
			doc:      trustDoc(`{"AWS":"*"}`, `{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}`),
			kinds:    []policy.PrincipalKind{policy.KindAny},
			findings: []string{"wildcard-principal/critical"},
		},
		{
			name:     "service principal without source",
			doc:      trustDoc(`{"Service":"bcm-data-exports.amazonaws.com"}`, ""),
			kinds:    []policy.PrincipalKind{policy.KindService},
			findings: []string{"service-without-source/medium"},
		},
		{
			name:     "service principal with source account",
			doc:      trustDoc(`{"Service":["bcm-data-exports.amazonaws.com","ec2.amazonaws.com"]}`, `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`),
			kinds:    []policy.PrincipalKind{policy.KindService, policy.KindService},
			findings: nil,
		},
		{
			name:     "own compute service needs no source",
			doc:      trustDoc(`{"Service":"lambda.amazonaws.com"}`, ""),
			kinds:    []policy.PrincipalKind{policy.KindService},
			findings: nil,
		},
		{
			name: "GitHub OIDC without subject",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
			  "Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}}`,
			kinds:    []policy.PrincipalKind{policy.KindOIDC},
			findings: []string{"federated/info", "oidc-without-subject/critical"},
		},
		{
			name: "GitHub OIDC with subject",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
			  "Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/infra:ref:refs/heads/main"}}}}`,
			kinds:    []policy.PrincipalKind{policy.KindOIDC},
			findings: []string{"federated/info"},
		},
		{
			name:     "SAML",
			doc:      `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}}`,
			kinds:    []policy.PrincipalKind{policy.KindSAML},
			findings: []string{"federated/info"},
		},
		{
			name:     "NotPrincipal allow",
			doc:      `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/x"},"Action":"sts:AssumeRole"}}`,
			findings: []string{"not-principal-allow/high"},
		},
		{
			name:     "wildcard inside a principal ARN",
			doc:      trustDoc(`{"AWS":"arn:aws:iam::*:role/vendor"}`, extID),
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"principal-wildcard-arn/medium"},
		},
		{
			name:     "deny statements are not principals",
			doc:      `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}}`,
			findings: nil,
		},
		{
			name:     "external id not required for other actions",
			doc:      `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/x"},"Action":"sts:TagSession"}}`,
			kinds:    []policy.PrincipalKind{policy.KindRole},
			findings: []string{"known-vendor/info"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := policy.AnalyzeTrust(mustParse(t, tt.doc), known, own)
			var kinds []policy.PrincipalKind
			for _, p := range r.Principals {
				kinds = append(kinds, p.Kind)
			}
			if !reflect.DeepEqual(kinds, tt.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.kinds)
			}
			want := slices.Clone(tt.findings)
			slices.Sort(want)
			if got := findingSet(r); !reflect.DeepEqual(got, want) {
				t.Errorf("findings = %v, want %v", got, want)
				for _, f := range r.Findings {
					t.Logf("  %s %s: %s", f.Severity, f.ID, f.Message)
				}
			}
			for i := 1; i < len(r.Findings); i++ {
				if r.Findings[i-1].Severity.Rank() < r.Findings[i].Severity.Rank() {
					t.Errorf("findings not sorted by severity: %v", findingSet(r))
				}
			}
			for _, f := range r.Findings {
				if f.Message == "" || f.Severity.Rank() < 0 {
					t.Errorf("finding %+v lacks a message or severity", f)
				}
			}
		})
	}
}

func TestAnalyzeTrustPrincipalDetails(t *testing.T) {
	t.Parallel()
	doc := mustParse(t, trustDoc(`{"AWS":["arn:aws:iam::123456789012:role/collector","arn:aws:sts::999988887777:assumed-role/r/s","${VendorPrincipal}"]}`, ""))
	r := policy.AnalyzeTrust(doc, knownAccounts(t), "")
	want := []struct {
		kind            policy.PrincipalKind
		account, vendor string
	}{
		{policy.KindRole, "123456789012", "Example Cost Vendor"},
		{policy.KindAssumedRole, "999988887777", "Retired Vendor"},
		{policy.KindOther, "", ""},
	}
	if len(r.Principals) != len(want) {
		t.Fatalf("principals = %+v", r.Principals)
	}
	for i, w := range want {
		p := r.Principals[i]
		if p.Kind != w.kind || p.Account != w.account || p.Vendor != w.vendor || p.SameAccount || !reflect.DeepEqual(p.Actions, []string{"sts:AssumeRole"}) {
			t.Errorf("principal %d = %+v, want %+v", i, p, w)
		}
	}
	svc := policy.AnalyzeTrust(mustParse(t, trustDoc(`{"AWS":"arn:aws:iam::210987654321:root"}`, "")), knownAccounts(t), "")
	if p := svc.Principals[0]; !p.AWSService || p.Vendor != "Example Log Service" {
		t.Errorf("AWS service account principal = %+v", p)
	}
	for _, f := range policy.AnalyzeTrust(doc, nil, "").Findings {
		if f.ID == policy.FindingUnknownAccount {
			t.Errorf("unknown-account reported without a known accounts list: %+v", f)
		}
	}
	if r.MaxSeverity() != policy.SeverityHigh {
		t.Errorf("MaxSeverity = %s", r.MaxSeverity())
	}
	// Every principal without an external ID is reported.
	n := 0
	for _, f := range r.Findings {
		if f.ID == policy.FindingNoExternalID {
			n++
			if !strings.Contains(f.Message, "sts:ExternalId") {
				t.Errorf("message %q", f.Message)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d no-external-id findings, want 3", n)
	}
}
