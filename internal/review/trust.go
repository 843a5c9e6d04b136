package review

import (
	"strings"

	"github.com/crossbill/crossbill/internal/policy"
)

// trust reviews a role's trust policy and returns who can assume the role.
func (a *analyzer) trust(out *analyzed, p *rawPolicy) []Principal {
	doc := a.parse(out.label, p)
	if doc == nil {
		return nil
	}
	return a.principals(out, p, doc, "trust/")
}

// principals runs the trust analysis on any policy with principals.
func (a *analyzer) principals(out *analyzed, p *rawPolicy, doc *policy.Document, prefix string) []Principal {
	rep := policy.AnalyzeTrust(doc, a.known, p.ownAccount)
	for _, f := range rep.Findings {
		if prefix == "resource-policy/" && strings.Contains(f.ID, "external-id") {
			continue // external IDs apply to sts:AssumeRole only
		}
		if _, ok := a.local[f.Principal]; ok {
			// !GetAtt Role.Arn names a role of this template, in this
			// account: not a cross-account trust, whatever the policy
			// package could tell from a placeholder.
			if f.ID == policy.FindingNoExternalID || f.ID == policy.FindingUnknownAccount || f.ID == policy.FindingAccountRoot || strings.HasPrefix(f.ID, "external-id") {
				continue
			}
		}
		sev := Severity(f.Severity)
		if !sev.valid() {
			sev = SeverityMedium
		}
		if f.ID == policy.FindingExternalID && p.ownAccount != "" && literalExternalID(doc, f.Statement) {
			// In a template (not a deployed policy) a literal value is
			// the same for everyone who downloads it.
			f.ID, sev = "external-id-literal", SeverityLow
			f.Message = "the external ID is written into the template (or a parameter default): it protects only if the vendor generated this template for this customer alone; otherwise every customer who deploys it shares the value"
		}
		a.add(Finding{ID: prefix + f.ID, Severity: sev, Title: trustTitle(f.ID), Identity: out.label, Resources: nonEmpty(f.Principal), Location: p.stmtLocation(f.Statement), Why: f.Message})
	}
	var list []Principal
	for _, tp := range rep.Principals {
		ext := false
		for _, st := range doc.Statements {
			if st.Index == tp.Statement {
				for _, c := range st.ConditionsOn("sts:ExternalId") {
					ext = ext || strings.HasPrefix(c.Operator, "StringEquals")
				}
			}
		}
		kind := string(tp.Kind)
		if id, ok := a.local[tp.Value]; ok {
			kind = "same-template"
			a.add(Finding{ID: prefix + policy.FindingSameAccount, Severity: SeverityInfo, Title: trustTitle(policy.FindingSameAccount), Identity: out.label, Resources: []string{tp.Value}, Location: p.stmtLocation(tp.Statement),
				Why: tp.Value + " is " + id.Kind + " " + id.Name + " of this template, in this account; who can use it is reviewed with that " + id.Kind + "."})
		}
		list = append(list, Principal{Kind: kind, Value: tp.Value, Vendor: tp.Vendor, ExternalID: ext})
	}
	return list
}

// literalExternalID reports whether statement i tests sts:ExternalId
// against a literal value rather than a template parameter.
func literalExternalID(doc *policy.Document, i int) bool {
	for _, st := range doc.Statements {
		if st.Index != i {
			continue
		}
		for _, c := range st.ConditionsOn("sts:ExternalId") {
			for _, v := range c.Values {
				if !strings.Contains(v, "${") {
					return true
				}
			}
		}
	}
	return false
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// trustTitle turns a trust finding ID into a title.
func trustTitle(id string) string {
	switch id {
	case policy.FindingWildcardPrincipal:
		return "Anyone can use this trust or grant"
	case policy.FindingNotPrincipalAllow:
		return "Allow with NotPrincipal admits everyone not listed"
	case policy.FindingNoExternalID:
		return "Cross-account trust without an external ID"
	case policy.FindingExternalIDWildcard:
		return "External ID checked with a pattern, not an exact value"
	case policy.FindingExternalIDIfExists:
		return "External ID condition passes when the ID is absent"
	case policy.FindingExternalIDShort:
		return "External ID is short or guessable"
	case policy.FindingExternalID:
		return "Trust requires an exact external ID"
	case policy.FindingAccountRoot:
		return "Trust names a whole account (any identity it allows)"
	case policy.FindingKnownVendor:
		return "Trusted account belongs to a known vendor"
	case policy.FindingUnknownAccount:
		return "Trusted account is not a known vendor account"
	case policy.FindingSameAccount:
		return "Trust to the account itself"
	case policy.FindingServiceWithoutSource:
		return "Service principal without aws:SourceArn or aws:SourceAccount"
	case policy.FindingFederated:
		return "Trust to a federated identity provider"
	case policy.FindingOIDCNoSubject:
		return "Web identity trust without a subject condition"
	case policy.FindingMFARequired:
		return "Trust requires MFA"
	case policy.FindingMFAIfExists:
		return "MFA condition passes without MFA"
	case policy.FindingCanonicalUser:
		return "Grant to an S3 canonical user"
	}
	return "Trust: " + strings.ReplaceAll(id, "-", " ")
}

// resourcePrincipals reviews the principals of a resource (bucket) policy.
func (a *analyzer) resourcePrincipals(out *analyzed, p *rawPolicy) {
	data, err := p.policyJSON()
	if err != nil {
		return // reported by policy()
	}
	doc, err := policy.Parse(data)
	if err != nil {
		return // reported by policy()
	}
	out.trusted = append(out.trusted, a.principals(out, p, doc, "resource-policy/")...)
}
