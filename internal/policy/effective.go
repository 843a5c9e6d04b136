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
	all := cat.All()
	// Indexed by action ID: cheaper than maps for the thousands of
	// actions a wildcard or NotAction grant expands to.
	pos := make([]int32, len(all))  // 1 + index in grants; -1: denied outright
	mark := make([]int32, len(all)) // 1 + index of the statement that last listed the action
	var ids []int32                 // the current statement's actions, reused
	var grants []Grant

	for _, st := range doc.Statements {
		stamp := int32(st.Index + 1)
		ids = ids[:0]
		if st.Action != nil {
			for _, p := range st.Action {
				exp, err := cat.Expand(p)
				if err != nil {
					eff.Unknown = append(eff.Unknown, UnknownAction{Statement: st.Index, Pattern: p, UnknownService: iamdata.IsUnknownService(err)})
					continue
				}
				for _, a := range exp {
					if mark[a.ID] != stamp {
						mark[a.ID] = stamp
						ids = append(ids, int32(a.ID))
					}
				}
			}
		} else {
			// NotAction: every catalog action that no pattern expands to.
			excluded := 0
			for _, p := range st.NotAction {
				exp, err := cat.Expand(p)
				if err != nil {
					eff.Unknown = append(eff.Unknown, UnknownAction{Statement: st.Index, Pattern: p, UnknownService: iamdata.IsUnknownService(err), NotAction: true})
					continue
				}
				for _, a := range exp {
					if mark[a.ID] != stamp {
						mark[a.ID] = stamp
						excluded++
					}
				}
			}
			ids = slices.Grow(ids, len(all)-excluded)
			for id := range all {
				if mark[id] != stamp {
					ids = append(ids, int32(id))
				}
			}
		}

		scope := Scope{Statement: st.Index, Sid: st.Sid, Resources: st.Resource, NotResources: st.NotResource, Conditions: st.Conditions}
		// One backing array for the statement's scope, capacity 1: grants
		// share it until a second scope is appended, which copies.
		one := []Scope{scope}
		if st.Effect == Deny {
			total := len(st.Conditions) == 0 && st.NotResource == nil && scope.AllResources()
			for _, id := range ids {
				switch p := pos[id]; {
				case total:
					pos[id] = -1
				case p < 0:
				case p == 0:
					// The allow may come later in the document.
					grants = append(grants, Grant{Action: all[id], Denies: one[:1:1]})
					pos[id] = int32(len(grants))
				default:
					grants[p-1].Denies = append(grants[p-1].Denies, scope)
				}
			}
			continue
		}
		if grants == nil {
			grants = make([]Grant, 0, len(ids))
		}
		for _, id := range ids {
			switch p := pos[id]; {
			case p < 0:
			case p == 0:
				grants = append(grants, Grant{Action: all[id], Scopes: one[:1:1]})
				pos[id] = int32(len(grants))
			default:
				grants[p-1].Scopes = append(grants[p-1].Scopes, scope)
			}
		}
	}
	// Drop totally denied actions and deny-only entries, in place, then
	// put the rest in catalog order (service, then action name): usually
	// it already is.
	kept := grants[:0]
	for _, g := range grants {
		if pos[g.Action.ID] > 0 && len(g.Scopes) > 0 {
			kept = append(kept, g)
		}
	}
	byID := func(a, b Grant) int { return a.Action.ID - b.Action.ID }
	if !slices.IsSortedFunc(kept, byID) {
		slices.SortFunc(kept, byID)
	}
	eff.Grants = kept
	return eff
}
