package main

import (
	"context"
	"database/sql"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// withCommitmentsDB opens the cost store for one commitments command, after
// checking --tenant as the cost commands do.
func withCommitmentsDB(ctx context.Context, app *App, f *commitmentFlags, run func(*sql.DB) error) error {
	tenant, err := costTenant(ctx, app, f.tenant)
	if err != nil {
		return err
	}
	f.tenant, f.tenantID = tenant.Name, tenant.ID
	st, err := app.Store(ctx)
	if err != nil {
		return err
	}
	// An Athena tenant is told where these answers come from.
	note, err := athena.LocalOnly(ctx, st, tenant.ID)
	if err != nil {
		return err
	}
	if note != "" {
		rowf(app.Stderr, "note: %s\n", note)
	}
	err = withTenantCosts(ctx, app, tenant.ID, func(s *costs.Store) error { return run(s.DB()) })
	return athena.LocalOnlyErr(ctx, st, tenant.ID, err)
}
