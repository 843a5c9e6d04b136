package review

import (
	"regexp"
	"strings"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/wildcard"
)

// placeholder matches ${...} in ARN templates and resolved CloudFormation
// values; both stand for "some value" when comparing ARN patterns.
var placeholder = regexp.MustCompile(`\$\{[^}]*\}`)

// arnPattern turns an ARN with placeholders into an IAM glob.
func arnPattern(s string) string {
	return placeholder.ReplaceAllString(s, "*")
}

// applies reports whether a policy Resource can name a resource of the
// action: some ARN both match. Actions without resource types accept only
// "*" (IAM matches their requests against "*"), so a named resource does
// not apply to them; a resource type whose ARN the catalog lacks is given
// the benefit of the doubt.
func (a *analyzer) applies(act iamdata.Action, resource string) bool {
	if resource == "*" {
		return true
	}
	if len(act.Resources) == 0 {
		return false
	}
	known := false
	for _, ar := range act.Resources {
		if a.typeARN(act.Service, ar.Type) == "" {
			continue
		}
		known = true
		if a.appliesToType(act.Service, ar.Type, resource) {
			return true
		}
	}
	return !known
}

// typeARN returns the ARN format of a resource type, "" when unknown.
func (a *analyzer) typeARN(service, typ string) string {
	key := [2]string{service, typ}
	if arn, ok := a.typeARNs[key]; ok {
		return arn
	}
	rt, _ := a.cat.ResourceType(service, typ)
	a.typeARNs[key] = rt.ARN
	return rt.ARN
}

// effectiveScope drops the resources of s that cannot name a resource of
// the action; ok is false when none is left, i.e. the grant does nothing.
func (a *analyzer) effectiveScope(act iamdata.Action, s policy.Scope) (policy.Scope, bool) {
	if len(s.Resources) == 0 {
		return s, true // NotResource or a resource policy without Resource
	}
	keep := make([]string, 0, len(s.Resources))
	for _, r := range s.Resources {
		if a.applies(act, r) {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		return s, false
	}
	s.Resources = keep
	return s, true
}

// arnsIntersect compares two ARN patterns the way IAM matches ARNs: each of
// the six colon-separated parts on its own, so a "*" in the region cannot
// swallow the account and resource parts.
func arnsIntersect(p, q string) bool {
	ps, qs := strings.SplitN(p, ":", 6), strings.SplitN(q, ":", 6)
	if len(ps) != 6 || len(qs) != 6 {
		return wildcard.Intersect(p, q)
	}
	for i := range ps {
		if !wildcard.Intersect(ps[i], qs[i]) {
			return false
		}
	}
	return true
}

// ineffective reports grants that name only resources the action cannot
// act on: they do nothing, which usually means the vendor's policy was
// never tested as written.
func (a *analyzer) ineffective(out *analyzed, dropped []*held) {
	if len(dropped) == 0 {
		return
	}
	a.add(Finding{ID: "policy/ineffective-grant", Severity: SeverityInfo, Title: "Grants that cannot take effect", Identity: out.label,
		Actions: actionNames(dropped), Resources: a.describeScopes(dropped), Scoped: true, Location: firstLocation(dropped),
		Why: "The resources named are not of a type these actions act on (per the IAM catalog), so IAM never matches them. The review ignores these grants; the vendor should fix or remove them."})
}
