package store

import (
	"github.com/crossbill/crossbill"
)

// Role is what a person or a token may do in a tenant. Each role includes
// the ones before it.
type Role string

// Roles, from least to most.
const (
	RoleViewer   Role = "viewer"   // read costs, commitments, findings
	RoleAnalyst  Role = "analyst"  // plus saved views and exports
	RoleApprover Role = "approver" // plus approvals (access reviews, later JIT, remediation, purchases)
	RoleAdmin    Role = "admin"    // plus connections, tokens, policies
	RoleOperator Role = "operator" // admin of every tenant
)

// Roles lists the roles from least to most.
func Roles() []Role { return []Role{RoleViewer, RoleAnalyst, RoleApprover, RoleAdmin, RoleOperator} }

// Rank orders roles: 1 for viewer up to 5 for operator, 0 for none.
func (r Role) Rank() int {
	for i, x := range Roles() {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// AtLeast reports whether r includes min.
func (r Role) AtLeast(min Role) bool { return r.Rank() >= min.Rank() && r.Rank() > 0 }

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	if Role(s).Rank() == 0 {
		return "", crossbill.Errorf(crossbill.CodeInvalid, "role", "unknown role %q: use viewer, analyst, approver, admin or operator", s)
	}
	return Role(s), nil
}

// scopeRole is the role of a token stored before tokens carried one.
func scopeRole(scope Scope, operator bool) Role {
	switch {
	case operator:
		return RoleOperator
	case scope == ScopeAdmin:
		return RoleAdmin
	}
	return RoleViewer
}

// roleScope is the scope a token of this role is listed with.
func roleScope(r Role) Scope {
	if r.AtLeast(RoleAdmin) {
		return ScopeAdmin
	}
	return ScopeRead
}
