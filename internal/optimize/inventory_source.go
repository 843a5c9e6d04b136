package optimize

import (
	"context"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/store"
)

// InventoryStore is the inventory store (what `crossbill inventory sync`
// and the inventory job write) as a Source.
type InventoryStore struct{ Store *store.Store }

// Resources implements Source.
func (s InventoryStore) Resources(ctx context.Context, tenant crossbill.TenantID) ([]inventory.Resource, error) {
	return inventory.Resources(ctx, s.Store, tenant, inventory.Filter{})
}

// Utilization implements Source.
func (s InventoryStore) Utilization(ctx context.Context, tenant crossbill.TenantID, arns []string) ([]inventory.Utilization, error) {
	m, err := inventory.UtilizationOf(ctx, s.Store, tenant, arns)
	if err != nil {
		return nil, err
	}
	out := make([]inventory.Utilization, 0, len(m))
	for arn, u := range m {
		u.ARN = arn
		out = append(out, u)
	}
	return out, nil
}
