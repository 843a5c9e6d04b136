package review

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

// An action that acts on several resources at once is allowed only when
// every resource of the request is allowed (the Service Authorization
// Reference marks the resource types an action always touches as
// required). A grant of sso:CreateAccountAssignment on "instance/*" and
// "account/*" therefore does nothing unless the permission set is allowed
// too: when the permission set is granted only with a tag condition, the
// action is limited to tagged permission sets however broad the other
// grants are. Judging each statement on its own would miss that.

// heldScoped reports whether the grants of h are limited: every grant is
// scoped, or some resource type the action always acts on is granted only
// through scoped grants.
func (a *analyzer) heldScoped(h *held) bool {
	scoped, _ := a.scopeOf(h)
	return scoped
}

// scopeOf decides whether the grants of h are limited and, when the limit
// comes from a required resource type rather than from every grant, says
// which one in note (e.g. "limited to permission sets tagged k=v").
func (a *analyzer) scopeOf(h *held) (scoped bool, note string) {
	every := true
	for _, r := range h.refs {
		if !a.scopeScoped(h.action, r.scope) {
			every = false
			break
		}
	}
	if every {
		return true, ""
	}
	for _, ar := range h.action.Resources {
		if !ar.Required {
			continue
		}
		if limits := a.requiredTypeLimits(h, ar.Type); len(limits) > 0 {
			return true, fmt.Sprintf("%s is limited to %s %s: every call also acts on a %s, which IAM must allow as well, and the policies allow %s only that way.",
				h.action, plural(humanType(ar.Type)), strings.Join(limits, " or "), humanType(ar.Type), plural(humanType(ar.Type)))
		}
	}
	return false, ""
}

// requiredTypeLimits describes how the grants of h reach resources of type
// typ when they reach them only through scoped grants (named resources or
// scoping conditions); nil when some grant reaches the type unscoped, or
// when no grant reaches it at all (then IAM denies the action anyway and
// the catalog, not the policy, would be the only evidence of a limit).
func (a *analyzer) requiredTypeLimits(h *held, typ string) []string {
	var limits []string
	for _, r := range h.refs {
		conds := a.scopingConditions(h.action, r.scope)
		if len(r.scope.Resources) == 0 { // NotResource, or no Resource element
			if len(conds) == 0 {
				return nil
			}
			limits = appendNew(limits, strings.Join(conds, " and "))
			continue
		}
		for _, res := range r.scope.Resources {
			if !a.appliesToType(h.action.Service, typ, res) {
				continue
			}
			narrow := narrowResource(res)
			if !narrow && len(conds) == 0 {
				return nil
			}
			var desc []string
			if narrow {
				desc = append(desc, "named "+res)
			}
			limits = appendNew(limits, strings.Join(append(desc, conds...), " and "))
		}
	}
	return limits
}

// scopingConditions describes the conditions of s that limit which
// requests or resources it covers; a resource tag condition reads as
// "tagged key=value".
func (a *analyzer) scopingConditions(act iamdata.Action, s policy.Scope) []string {
	var out []string
	for _, c := range s.Conditions {
		if !a.narrows(act, s, c) {
			continue
		}
		_, tagKey, isTag := strings.Cut(c.Key, ":ResourceTag/")
		if !isTag {
			_, tagKey, isTag = strings.Cut(c.Key, ":resourcetag/")
		}
		if isTag && (c.Operator == "StringEquals" || c.Operator == "StringLike") {
			out = append(out, "tagged "+tagKey+"="+strings.Join(c.Values, "|"))
			continue
		}
		out = append(out, "when "+c.Operator+" "+c.Key+"="+strings.Join(c.Values, "|"))
	}
	return out
}

// appliesToType reports whether a policy Resource can name a resource of
// one type of a service; a type whose ARN the catalog lacks is given the
// benefit of the doubt, as applies does.
func (a *analyzer) appliesToType(service, typ, resource string) bool {
	if resource == "*" {
		return true
	}
	arn := a.typeARN(service, typ)
	if arn == "" {
		return true
	}
	// Many actions share a resource type (svc:* expands to hundreds), so
	// each (type ARN, resource) pair is compared once per review.
	key := [2]string{arn, resource}
	match, seen := a.applyCache[key]
	if !seen {
		match = arnsIntersect(arnPattern(resource), arnPattern(arn))
		a.applyCache[key] = match
	}
	return match
}

// scopeNotes collects the notes of the held actions whose limit comes from
// a required resource type, for a finding's explanation.
func (a *analyzer) scopeNotes(hs []*held) string {
	var notes []string
	for _, h := range hs {
		if _, note := a.scopeOf(h); note != "" {
			notes = append(notes, note)
		}
	}
	return strings.Join(notes, " ")
}

// humanType turns a catalog resource type name ("PermissionSet",
// "capacity-reservation") into words ("permission set").
func humanType(typ string) string {
	rs := []rune(typ)
	var b strings.Builder
	for i, c := range rs {
		if c == '-' || c == '_' {
			b.WriteByte(' ')
			continue
		}
		// A word starts at an upper-case letter after a lower-case one
		// ("permissionSet") or before one ("DBCluster": "db cluster").
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// plural makes a resource type's name plural, well enough for AWS's nouns.
func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"):
		return s + "es"
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ey") && !strings.HasSuffix(s, "ay"):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
