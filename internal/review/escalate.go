package review

import (
	"fmt"
	"strings"

	"github.com/crossbill/crossbill/internal/wildcard"
)

// serviceLinkedRole reports whether an ARN pattern can only name
// service-linked roles, whose policies IAM refuses to change.
func serviceLinkedRole(r string) bool {
	return strings.Contains(r, ":role/aws-service-role/")
}

// selfOnly reports whether every grant of h targets only the identity's own
// ARNs (or service-linked roles, which IAM protects).
func (a *analyzer) selfOnly(out *analyzed, h *held) bool {
	if len(out.id.RoleARN) == 0 {
		return false
	}
	for _, r := range h.refs {
		if len(r.scope.Resources) == 0 {
			return false
		}
		for _, res := range r.scope.Resources {
			if serviceLinkedRole(res) {
				continue
			}
			if res == "*" || !matchesAny(res, out.id.RoleARN) {
				return false
			}
		}
	}
	return true
}

// matchesAny reports whether ARN pattern res matches one of the ARNs.
func matchesAny(res string, arns []string) bool {
	for _, arn := range arns {
		if wildcard.Match(res, arn, false) {
			return true
		}
	}
	return false
}

// escalations matches the identity's grants against the escalation catalog.
func (a *analyzer) escalations(out *analyzed) {
	for _, e := range a.kb.Escalations {
		var involved []*held
		complete := true
		for _, group := range e.Requires {
			found := false
			for _, act := range group {
				if h, ok := out.held[strings.ToLower(act)]; ok && !a.onlyServiceLinked(h) {
					involved = append(involved, h)
					found = true
				}
			}
			if !found {
				complete = false
				break
			}
		}
		if !complete {
			continue
		}
		allSelf, allScoped := true, true
		for _, h := range involved {
			allSelf = allSelf && a.selfOnly(out, h)
			allScoped = allScoped && a.heldScoped(h)
		}
		if allSelf {
			continue // reported once as self-modification
		}
		sev, why := e.Severity, e.Description
		if limited := a.attachLimitedAll(involved); limited != "" {
			sev, why = SeverityLow, why+" Here the policies that can be attached are limited by iam:PolicyARN to "+limited+", which grant no more than that."
		} else if allScoped {
			sev = e.ScopedSeverity
			if note := a.scopeNotes(involved); note != "" {
				why += " " + note
			}
		}
		a.add(Finding{ID: "escalation/" + e.ID, Severity: sev, Title: "Privilege escalation: " + e.Title, Identity: out.label,
			Actions: actionNames(involved), Resources: a.describeScopes(involved), Scoped: allScoped, Location: firstLocation(involved), Why: why})
	}
}

// onlyServiceLinked reports whether every grant of h names only
// service-linked roles, where IAM refuses policy changes.
func (a *analyzer) onlyServiceLinked(h *held) bool {
	if !strings.HasPrefix(h.key, "iam:") {
		return false
	}
	for _, r := range h.refs {
		if len(r.scope.Resources) == 0 {
			return false
		}
		for _, res := range r.scope.Resources {
			if !serviceLinkedRole(res) {
				return false
			}
		}
	}
	return true
}

// selfModification finds a role allowed to change its own permissions.
func (a *analyzer) selfModification(out *analyzed) {
	if len(out.id.RoleARN) == 0 {
		return
	}
	var hs []*held
	for _, h := range out.sorted {
		if !a.kb.selfModify[h.key] {
			continue
		}
		if targetsSelf(h, out.id.RoleARN) {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return
	}
	a.add(Finding{ID: "escalation/self-modification", Severity: SeverityCritical, Title: "The vendor's role can change its own permissions", Identity: out.label,
		Actions: actionNames(hs), Resources: a.describeScopes(hs), Scoped: true, Location: firstLocation(hs),
		Why: fmt.Sprintf("%s is allowed on the role's own ARN. Restricting a policy-writing action to \"our own role\" is no restriction: the vendor can add any statement to this role and then hold every permission in the account.", strings.Join(actionNames(hs), ", "))})
}

// targetsSelf reports whether some grant of h names one of the role's ARNs
// explicitly (not through "*", which the escalation findings cover).
func targetsSelf(h *held, arns []string) bool {
	for _, r := range h.refs {
		for _, res := range r.scope.Resources {
			if res != "*" && matchesAny(res, arns) {
				return true
			}
		}
	}
	return false
}

// managedPolicies explains AWS managed policies attached by ARN.
func (a *analyzer) managedPolicies(out *analyzed) {
	for _, m := range out.id.ManagedARNs {
		if mp, ok := a.kb.managed(m.ARN); ok {
			a.add(Finding{ID: "managed-policy/aws", Severity: mp.Severity, Title: "AWS managed policy " + mp.Name + " attached", Identity: out.label, Resources: []string{m.ARN}, Location: m.Where, Why: mp.Meaning})
			continue
		}
		if strings.Contains(m.ARN, ":iam::aws:policy/") {
			a.add(Finding{ID: "managed-policy/aws", Severity: SeverityMedium, Title: "AWS managed policy attached", Identity: out.label, Resources: []string{m.ARN}, Location: m.Where,
				Why: "This AWS managed policy is not in the review's list; AWS changes managed policies over time, so read its current version in the IAM console before accepting it."})
			continue
		}
		a.add(Finding{ID: "managed-policy/external", Severity: SeverityMedium, Title: "Policy defined outside the template attached", Identity: out.label, Resources: []string{m.ARN}, Location: m.Where,
			Why: "The policy's content is not in the input, so the review cannot see what it grants; review it separately."})
	}
}

// credentials reports long-lived credentials of vendor users, and notes a
// permissions boundary, which this review does not apply.
func (a *analyzer) credentials(out *analyzed) {
	if out.id.Boundary != "" {
		a.add(Finding{ID: "identity/permissions-boundary", Severity: SeverityInfo, Title: "Permissions boundary set", Identity: out.label, Resources: []string{out.id.Boundary}, Location: out.id.Where,
			Why: "A boundary caps what the identity's policies can grant. This review reports the policies as written; check the boundary to see which of these grants it removes."})
	}
	for _, k := range out.id.AccessKeys {
		a.add(Finding{ID: "identity/long-lived-keys", Severity: SeverityHigh, Title: "Long-lived access key for a vendor user", Identity: out.label, Location: k,
			Why: "An IAM user access key never expires on its own; it is stored in the vendor's systems, works from anywhere, and needs no external ID. Prefer a role the vendor assumes with an external ID, or rotate the key and alert on its use."})
	}
	if out.id.LoginProfile != nil {
		a.add(Finding{ID: "identity/console-password", Severity: SeverityHigh, Title: "Console password for a vendor user", Identity: out.label, Location: *out.id.LoginProfile,
			Why: "A vendor integration needs API access only; a console password is a second long-lived credential that can be phished."})
	}
}

// attachActions attach a managed policy; iam:PolicyARN says which one.
var attachActions = map[string]bool{"iam:attachrolepolicy": true, "iam:attachuserpolicy": true, "iam:attachgrouppolicy": true}

// attachLimited returns the managed policies h may attach when every grant
// of h limits iam:PolicyARN to AWS managed policies the review knows to be
// below high (SecurityAudit, ViewOnlyAccess...); "" otherwise. AWS checks
// iam:PolicyARN against the policy in the request, so such a grant can
// attach nothing else.
func (a *analyzer) attachLimited(h *held) string {
	if !attachActions[h.key] || len(h.refs) == 0 {
		return ""
	}
	var names []string
	for _, r := range h.refs {
		found := false
		for _, c := range r.scope.Conditions {
			if !strings.EqualFold(c.Key, "iam:PolicyARN") || !a.narrows(h.action, r.scope, c) || c.IfExists {
				continue
			}
			ok := len(c.Values) > 0
			for _, v := range c.Values {
				mp, known := a.kb.managed(v)
				ok = ok && known && !strings.ContainsAny(v, "*?") && mp.Severity.Rank() < SeverityHigh.Rank()
				if ok {
					names = appendNew(names, mp.Name)
				}
			}
			found = found || ok
		}
		if !found {
			return ""
		}
	}
	return strings.Join(names, ", ")
}

// attachLimitedAll returns the policies when every involved grant that
// attaches a policy is limited, and all involved grants are attaches.
func (a *analyzer) attachLimitedAll(hs []*held) string {
	var out []string
	for _, h := range hs {
		l := a.attachLimited(h)
		if l == "" {
			return ""
		}
		out = appendNew(out, l)
	}
	return strings.Join(out, ", ")
}
