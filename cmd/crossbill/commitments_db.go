package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs/athena"
)

// withCommitments runs one commitments analysis in the tenant's cost
// engine (athena.Engines.Commitments), after checking --tenant as the cost
// commands do: crossbill's cost store, or for an Athena tenant Athena
// through the connection's role with f's hub. run reads what Athena
// charged so far with athena.Spent.
func withCommitments(ctx context.Context, app *App, f *commitmentFlags, run func(commitments.Reader) error) error {
	tenant, err := costTenant(ctx, app, f.tenant)
	if err != nil {
		return err
	}
	f.tenant, f.tenantID = tenant.Name, tenant.ID
	st, err := app.Store(ctx)
	if err != nil {
		return err
	}
	var hub awsclient.HubOptions
	if f.hub != nil {
		hub = *f.hub
	}
	engines := athena.Engines{Store: st, OpenAWS: func(ctx context.Context) (*awsclient.Factory, error) { return app.AWS(ctx, hub) }}
	_, err = engines.Commitments(ctx, tenant.ID, tenantCosts(app, tenant.ID), run)
	return err
}

// registerAthenaHub adds the Athena engine's hub flags to a commitments
// command that has no AWS flags of its own.
func (f *commitmentFlags) registerAthenaHub(cmd *cobra.Command) {
	f.hub = &awsclient.HubOptions{}
	cmd.Flags().StringVar(&f.hub.EndpointURL, "endpoint-url", "", "the Athena engine: send AWS calls to this endpoint (an emulator)")
	cmd.Flags().StringVar(&f.hub.Profile, "profile", "", "the Athena engine: AWS shared-config profile of the hub identity")
}

// commitmentsAthenaNote writes what Athena charged for an answer so far
// (nothing for the local engine).
func commitmentsAthenaNote(w io.Writer, r commitments.Reader) {
	athenaNote(w, athena.Spent(r))
}
