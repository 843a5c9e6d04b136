package policy

import (
	"strings"

	"github.com/crossbill/crossbill/internal/wildcard"
)

// tri is a three-valued truth: a statement or condition may match, not
// match, or depend on request context the caller did not give.
type tri int8

const (
	no tri = iota
	maybe
	yes
)

func (t tri) not() tri { return yes - t }

func or(a, b tri) tri {
	if a > b {
		return a
	}
	return b
}

func and(a, b tri) tri {
	if a < b {
		return a
	}
	return b
}

// context is the request context with lower-cased keys. A key mapped to
// nil is known to be absent from the request; a key not in the map is
// unknown.
type context struct {
	vals    map[string][]string
	missing map[string]bool // unknown keys that evaluation needed, lower-case -> recorded
	order   []string        // missing keys as first written
}

func newContext(m map[string][]string) *context {
	c := &context{vals: make(map[string][]string, len(m)), missing: map[string]bool{}}
	for k, v := range m {
		c.vals[strings.ToLower(k)] = v
	}
	return c
}

// lookup returns a key's values and whether the key is known (present or
// known absent). Unknown keys are recorded as missing.
func (c *context) lookup(key string) ([]string, bool) {
	lk := strings.ToLower(key)
	v, ok := c.vals[lk]
	if !ok && !c.missing[lk] {
		c.missing[lk] = true
		c.order = append(c.order, key)
	}
	return v, ok
}

// matchAction matches an action against an Action element value.
func matchAction(pattern, action string) bool {
	return wildcard.Match(pattern, action, true)
}

// resolve substitutes policy variables (${aws:username}, ${aws:PrincipalTag/team},
// ${key, 'default'}) in a policy value. It returns the value with every
// unresolvable variable replaced by "*" and whether any was unresolvable
// (then a match is only a maybe). known is false when a variable names a
// key known to be absent without a default: nothing can match.
func resolve(s string, version string, ctx *context) (out string, unresolved bool, known bool) {
	if version != Version2012 || !strings.Contains(s, "${") {
		return s, false, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), unresolved, true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), unresolved, true
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		switch name {
		case "*", "?", "$":
			// Escapes for literal characters; "*" and "?" stay
			// wildcards here, a slight over-match on a rare form.
			b.WriteString(name)
			continue
		}
		key, def, hasDefault := strings.Cut(name, ",")
		key = strings.TrimSpace(key)
		if hasDefault {
			def = strings.Trim(strings.TrimSpace(def), "'")
		}
		vals, ok := ctx.lookup(key)
		switch {
		case ok && len(vals) == 1:
			b.WriteString(vals[0])
		case ok && len(vals) == 0 && hasDefault:
			b.WriteString(def)
		case ok && len(vals) == 0:
			return "", false, false
		default:
			// Unknown, or multivalued (IAM does not substitute those).
			b.WriteString("*")
			unresolved = true
		}
	}
}

// matchResource matches a request resource against one Resource pattern.
func matchResource(pattern, resource, version string, ctx *context) tri {
	p, unresolved, known := resolve(pattern, version, ctx)
	if !known {
		return no
	}
	// AWS: a `*` may expand across the colons of an ARN in Resource, so
	// the whole ARN is one glob (unlike ArnLike conditions).
	if !wildcard.Match(p, resource, false) {
		return no
	}
	if unresolved {
		return maybe
	}
	return yes
}

// matchARN matches an ARN against a pattern as the Arn* condition
// operators do: each of the six colon-separated components separately
// (arn:partition:service:region:account:resource), so a pattern with
// fewer components matches nothing; other strings match as a whole.
func matchARN(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	if !strings.HasPrefix(pattern, "arn:") || !strings.HasPrefix(arn, "arn:") {
		return wildcard.Match(pattern, arn, false)
	}
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return false
	}
	for i := range pp {
		if !wildcard.Match(pp[i], ap[i], false) {
			return false
		}
	}
	return true
}

// matchAny ORs a matcher over a statement's values.
func matchAny(patterns []string, f func(string) tri) tri {
	r := no
	for _, p := range patterns {
		if r = or(r, f(p)); r == yes {
			return yes
		}
	}
	return r
}

// matchPrincipal matches a request principal (an ARN, an account ID or a
// service name) against a Principal element. An empty request principal
// is unknown.
func matchPrincipal(p *Principal, principal string) tri {
	if p.Any {
		return yes
	}
	if principal == "" {
		return maybe
	}
	for _, v := range p.AWS {
		if principalMatchesAWS(v, principal) {
			return yes
		}
	}
	for _, list := range [][]string{p.Service, p.Federated, p.CanonicalUser} {
		for _, v := range list {
			if strings.EqualFold(v, principal) {
				return yes
			}
		}
	}
	return no
}

// principalMatchesAWS reports whether an AWS principal value names the
// request principal: an account ID or root ARN names every identity of the
// account; a role ARN also names that role's sessions.
func principalMatchesAWS(value, principal string) bool {
	if value == principal {
		return true
	}
	acct := principalAccount(principal)
	if acct == "" {
		return false
	}
	if isAccountID(value) {
		return value == acct
	}
	if strings.HasPrefix(value, "arn:") && strings.HasSuffix(value, ":root") {
		return principalAccount(value) == acct
	}
	// arn:aws:sts::111122223333:assumed-role/Role/session is a session of
	// arn:aws:iam::111122223333:role/Role (roles with paths are named
	// without the path in the session ARN).
	if parts := strings.SplitN(principal, ":", 6); len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
		role := strings.SplitN(strings.TrimPrefix(parts[5], "assumed-role/"), "/", 2)[0]
		vp := strings.SplitN(value, ":", 6)
		if len(vp) == 6 && vp[2] == "iam" && vp[4] == acct && strings.HasPrefix(vp[5], "role/") {
			return vp[5][strings.LastIndexByte(vp[5], '/')+1:] == role
		}
	}
	return false
}

// principalAccount returns the account of an ARN or account ID, "" if none.
func principalAccount(p string) string {
	if isAccountID(p) {
		return p
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && isAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
