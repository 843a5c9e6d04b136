package commitments_test

import (
	"testing"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/manifest"
)

// Every AWS operation the commitments code calls is in the permission
// manifest.
func TestOperationsDeclared(t *testing.T) {
	t.Parallel()
	declared := map[string]bool{}
	for _, p := range manifest.All() {
		if len(p.Calls) == 0 {
			declared[p.Action] = true
		}
		for _, c := range p.Calls {
			declared[c] = true
		}
	}
	ops := append(commitments.Operations(), commitments.CostExplorerOperations()...)
	for _, op := range append(ops, commitments.PricingOperations()...) {
		if !declared[op] {
			t.Errorf("%s is called but not declared in internal/manifest", op)
		}
	}
}
