package main

import (
	"context"
	"database/sql"

	"github.com/crossbill/crossbill/internal/costs"
)

// withCommitmentsDB opens the cost store for one commitments command, after
// checking --tenant as the cost commands do.
func withCommitmentsDB(ctx context.Context, app *App, f *commitmentFlags, run func(*sql.DB) error) error {
	tenant, err := costTenant(ctx, app, f.tenant)
	if err != nil {
		return err
	}
	f.tenant, f.tenantID = tenant.Name, tenant.ID
	return withTenantCosts(ctx, app, tenant.ID, func(s *costs.Store) error { return run(s.DB()) })
}
