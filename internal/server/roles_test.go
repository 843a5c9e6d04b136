package server

import (
	"testing"

	"github.com/crossbill/crossbill/internal/store"
)

// TestEveryRouteDeclaresItsRole: a route added without a role fails here
// (and is refused to all but operators at run time).
func TestEveryRouteDeclaresItsRole(t *testing.T) {
	for _, rt := range (&Server{metrics: newMetrics()}).routeTable() {
		if rt.role != public && store.Role(rt.role).Rank() == 0 {
			t.Errorf("%s %s declares no role: set role to public, viewer, analyst, approver, admin or operator in its route table entry", rt.method, rt.path)
		}
		if rt.role == operator && rt.tenantParam != "" {
			t.Errorf("%s %s: an operator route names a tenant; give it the tenant role it needs instead", rt.method, rt.path)
		}
	}
}
