package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/wildcard"
)

// Issue is a mistake in a policy that AWS accepts but that makes a
// statement do less (or, for a Deny, protect less) than it says.
type Issue struct {
	ID        string   `json:"id"`
	Severity  Severity `json:"severity"`
	Statement int      `json:"statement"`
	Action    string   `json:"action,omitempty"`
	Resource  string   `json:"resource,omitempty"`
	Key       string   `json:"key,omitempty"`
	Message   string   `json:"message"`
}

// Issue IDs.
const (
	IssueUnknownAction       = "unknown-action"            // names nothing in the catalog
	IssueResourceMismatch    = "resource-mismatch"         // an action cannot apply to any of the statement's resources
	IssueResourceUnused      = "resource-unused"           // a resource that none of the statement's actions applies to
	IssueStarOnlyAction      = "star-resource-only"        // the action supports only Resource "*"
	IssueConditionKeyUnknown = "condition-key-unsupported" // no action of the statement supports the key
)

// placeholder is a template parameter or policy variable inside a value.
var placeholder = regexp.MustCompile(`\$\{[^}]*\}`)

// Lint checks a policy against the catalog: unknown actions; actions named
// with resources they cannot apply to (s3:GetObject on a bucket ARN grants
// nothing); actions that support only Resource "*" given specific ARNs;
// resources no action of the statement applies to; service condition keys
// that no action of the statement supports. Template placeholders and
// policy variables (${...}) count as wildcards, so a policy is reported
// only for what is wrong whatever their values.
func Lint(doc *Document, cat *iamdata.Catalog) []Issue {
	var out []Issue
	for _, st := range doc.Statements {
		add := func(is Issue) {
			is.Statement = st.Index
			if st.Effect == Deny && is.Severity.Rank() < SeverityMedium.Rank() {
				// A deny that does not apply protects nothing.
				is.Severity = SeverityMedium
			}
			out = append(out, is)
		}
		if st.NotAction != nil {
			for _, p := range st.NotAction {
				if _, err := cat.Expand(p); err != nil {
					add(Issue{ID: IssueUnknownAction, Severity: SeverityLow, Action: p, Message: fmt.Sprintf("NotAction %s names no action in the catalog (%v)", p, err)})
				}
			}
			continue
		}
		type named struct {
			pattern string
			acts    []iamdata.Action
		}
		var actions []named
		for _, p := range st.Action {
			acts, err := cat.Expand(p)
			if err != nil {
				add(Issue{ID: IssueUnknownAction, Severity: SeverityLow, Action: p, Message: fmt.Sprintf("%s names no action in the catalog: a typo, a retired action, or a newer one than the catalog (%s)", p, cat.Version())})
				continue
			}
			actions = append(actions, named{p, acts})
		}
		if len(actions) == 0 {
			continue
		}
		verb := "grants nothing"
		if st.Effect == Deny {
			verb = "denies nothing"
		}

		// Resources: only a Resource list of specific ARNs can mismatch.
		if st.Resource != nil && !containsStar(st.Resource) {
			used := make([]bool, len(st.Resource))
			for _, n := range actions {
				exact := !wildcard.HasWildcard(n.pattern)
				for _, a := range n.acts {
					if len(a.Resources) == 0 {
						// Supports only "*": no specific resource matches.
						if exact {
							add(Issue{ID: IssueStarOnlyAction, Severity: SeverityLow, Action: a.String(),
								Message: fmt.Sprintf("%s supports only Resource \"*\" (no resource-level permissions), so this statement %s for it", a, verb)})
						}
						continue
					}
					matched := false
					for i, r := range st.Resource {
						if actionApplies(cat, a, r) {
							used[i] = true
							matched = true
						}
					}
					if !matched && exact {
						add(Issue{ID: IssueResourceMismatch, Severity: SeverityLow, Action: a.String(),
							Message: fmt.Sprintf("%s cannot apply to %s, so this statement %s for it; it acts on %s", a, strings.Join(st.Resource, ", "), verb, describeResourceTypes(cat, a))})
					}
				}
			}
			for i, r := range st.Resource {
				if !used[i] {
					add(Issue{ID: IssueResourceUnused, Severity: SeverityInfo, Resource: r,
						Message: fmt.Sprintf("no action of this statement applies to %s", r)})
				}
			}
		}

		// Condition keys of a service (not aws:) that no action supports:
		// a positive test on them can never hold.
		for _, c := range st.Conditions {
			svc, _, ok := strings.Cut(c.Key, ":")
			if !ok || strings.EqualFold(svc, "aws") || c.Base == Null || c.IfExists || c.Base.negated() {
				continue
			}
			supported := false
			for _, n := range actions {
				for _, a := range n.acts {
					if supportsKey(cat, a, c.Key) {
						supported = true
						break
					}
				}
				if supported {
					break
				}
			}
			if !supported {
				add(Issue{ID: IssueConditionKeyUnknown, Severity: SeverityLow, Key: c.Key,
					Message: fmt.Sprintf("no action of this statement supports the condition key %s, so the %s test never holds and the statement %s", c.Key, c.Operator, verb)})
			}
		}
	}
	return out
}

func containsStar(list []string) bool {
	for _, r := range list {
		if placeholder.ReplaceAllString(r, "*") == "*" {
			return true
		}
	}
	return false
}

// actionApplies reports whether a Resource value can name a resource the
// action acts on.
func actionApplies(cat *iamdata.Catalog, a iamdata.Action, resource string) bool {
	r := placeholder.ReplaceAllString(resource, "*")
	for _, ar := range a.Resources {
		rt, ok := cat.ResourceType(a.Service, ar.Type)
		if !ok || rt.ARN == "" {
			return true // unknown shape: do not claim a mismatch
		}
		if arnIntersect(typePattern(rt.ARN), r) {
			return true
		}
	}
	return false
}

// typePattern turns a catalog ARN pattern into a glob: placeholders known
// never to hold a slash (bucket and access point names, account, region)
// match one path segment, the others anything (secret names, object keys
// and role paths contain slashes).
func typePattern(arn string) string {
	return placeholder.ReplaceAllStringFunc(arn, func(p string) string {
		switch p {
		case "${BucketName}", "${AccessPointName}", "${Partition}", "${Region}", "${Account}", "${AccountId}":
			return string(wildcard.Segment)
		}
		return "*"
	})
}

// arnIntersect compares ARN patterns component by component when both
// have all six, else as whole strings.
func arnIntersect(a, b string) bool {
	pa, pb := strings.SplitN(a, ":", 6), strings.SplitN(b, ":", 6)
	if len(pa) != 6 || len(pb) != 6 {
		return wildcard.Intersect(a, b)
	}
	for i := range pa {
		if !wildcard.Intersect(pa[i], pb[i]) {
			return false
		}
	}
	return true
}

func describeResourceTypes(cat *iamdata.Catalog, a iamdata.Action) string {
	var parts []string
	for _, ar := range a.Resources {
		if rt, ok := cat.ResourceType(a.Service, ar.Type); ok {
			parts = append(parts, rt.ARN)
		}
		if len(parts) == 3 {
			parts = append(parts, "...")
			break
		}
	}
	return strings.Join(parts, ", ")
}

// supportsKey reports whether an action (or a resource type it acts on)
// lists a condition key; keys with a variable part ("s3:ExistingObjectTag/<key>",
// "aws:ResourceTag/${TagKey}") match on their prefix.
func supportsKey(cat *iamdata.Catalog, a iamdata.Action, key string) bool {
	if keyListed(a.ConditionKeys, key) {
		return true
	}
	for _, ar := range a.Resources {
		if rt, ok := cat.ResourceType(a.Service, ar.Type); ok && keyListed(rt.ConditionKeys, key) {
			return true
		}
	}
	return false
}

func keyListed(keys []string, key string) bool {
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return true
		}
		if i := strings.IndexAny(k, "<$"); i > 0 && k[i-1] == '/' && len(key) >= i && strings.EqualFold(k[:i], key[:i]) {
			return true
		}
	}
	return false
}
