package policy

import (
	"slices"

	"github.com/crossbill/crossbill/internal/iamdata"
)

// Scope is where and when one statement allows (or denies) an action.
type Scope struct {
	Statement    int
	Sid          string
	Resources    []string // the statement's Resource (nil with NotResource or neither)
	NotResources []string
	Conditions   []Condition
}

// AllResources reports whether the scope covers every resource: Resource
// "*", a NotResource (all but some), or no resource element at all.
func (s Scope) AllResources() bool {
	if s.Resources == nil {
		return true
	}
	return slices.Contains(s.Resources, "*")
}

// Grant is one action a policy allows, with every statement that allows
// it and the deny statements that narrow it.
type Grant struct {
	Action iamdata.Action
	Scopes []Scope // allowing statements, in document order
	Denies []Scope // conditional or resource-scoped denies on the action
}

// Unrestricted reports whether some statement allows the action on every
// resource without conditions.
func (g Grant) Unrestricted() bool {
	for _, s := range g.Scopes {
		if s.AllResources() && len(s.Conditions) == 0 {
			return true
		}
	}
	return false
}

// UnknownAction is an Action or NotAction value that names nothing in the
// catalog: a typo, a retired action, or a catalog older than the policy.
type UnknownAction struct {
	Statement      int
	Pattern        string
	UnknownService bool // the service prefix itself is unknown
	NotAction      bool // the value is in a NotAction element
}

// Effective is what one policy allows, action by action.
type Effective struct {
	Grants  []Grant // sorted by service, then action name
	Unknown []UnknownAction
}

// EffectiveActions lists the actions a policy allows, each with the
// resources and conditions of the statements that allow it. NotAction is
// the complement within the catalog. A Deny with no condition on every
// resource removes the action; narrower denies are kept in Grant.Denies.
// Principal elements are ignored: this answers "what may the principals
// of this policy do".
func EffectiveActions(doc *Document, cat *iamdata.Catalog) Effective {
	var eff Effective
	index := map[int]int{} // action ID -> index in eff.Grants
	removed := map[int]bool{}

	statementActions := func(st Statement) []iamdata.Action {
		if st.Action != nil {
			var out []iamdata.Action
			seen := map[int]bool{}
			for _, p := range st.Action {
				acts, err := cat.Expand(p)
				if err != nil {
					eff.Unknown = append(eff.Unknown, UnknownAction{Statement: st.Index, Pattern: p, UnknownService: iamdata.IsUnknownService(err)})
					continue
				}
				for _, a := range acts {
					if !seen[a.ID] {
						seen[a.ID] = true
						out = append(out, a)
					}
				}
			}
			return out
		}
		for _, p := range st.NotAction {
			if p == "*" {
				continue
			}
			if _, err := cat.Expand(p); err != nil {
				eff.Unknown = append(eff.Unknown, UnknownAction{Statement: st.Index, Pattern: p, UnknownService: iamdata.IsUnknownService(err), NotAction: true})
			}
		}
		var out []iamdata.Action
		for _, a := range cat.All() {
			name := a.String()
			excluded := false
			for _, p := range st.NotAction {
				if matchAction(p, name) {
					excluded = true
					break
				}
			}
			if !excluded {
				out = append(out, a)
			}
		}
		return out
	}

	for _, st := range doc.Statements {
		scope := Scope{Statement: st.Index, Sid: st.Sid, Resources: st.Resource, NotResources: st.NotResource, Conditions: st.Conditions}
		acts := statementActions(st)
		if st.Effect == Deny {
			total := len(st.Conditions) == 0 && st.NotResource == nil && scope.AllResources()
			for _, a := range acts {
				k := a.ID
				if total {
					removed[k] = true
					continue
				}
				if i, ok := index[k]; ok {
					eff.Grants[i].Denies = append(eff.Grants[i].Denies, scope)
				} else {
					// The allow may come later in the document.
					index[k] = len(eff.Grants)
					eff.Grants = append(eff.Grants, Grant{Action: a, Denies: []Scope{scope}})
				}
			}
			continue
		}
		for _, a := range acts {
			k := a.ID
			if i, ok := index[k]; ok {
				eff.Grants[i].Scopes = append(eff.Grants[i].Scopes, scope)
				continue
			}
			index[k] = len(eff.Grants)
			eff.Grants = append(eff.Grants, Grant{Action: a, Scopes: []Scope{scope}})
		}
	}
	// Drop totally denied actions and deny-only entries.
	kept := eff.Grants[:0]
	for _, g := range eff.Grants {
		if len(g.Scopes) > 0 && !removed[g.Action.ID] {
			kept = append(kept, g)
		}
	}
	eff.Grants = kept
	// Catalog order is service, then action name.
	slices.SortFunc(eff.Grants, func(a, b Grant) int { return a.Action.ID - b.Action.ID })
	return eff
}
