package main

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/cluster"
)

// costStoreFlags registers serve's --cost-store and --cost-store-endpoint
// (same environment variables) on a command group: with them its reads
// answer from cluster mode's shared cost store, as every replica does.
func costStoreFlags(cmd *cobra.Command, app *App) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&app.CostStore, "cost-store", os.Getenv("CROSSBILL_COST_STORE"),
		"cluster mode: read the cost data that serve --cost-store replicas share, s3://BUCKET/PREFIX (with the same --database); env CROSSBILL_COST_STORE")
	fl.StringVar(&app.CostStoreEndpoint, "cost-store-endpoint", os.Getenv("CROSSBILL_COST_STORE_ENDPOINT"),
		"URL of the S3-compatible store holding --cost-store; default AWS S3 (env CROSSBILL_COST_STORE_ENDPOINT)")
}

// withTenantCosts runs f on the store that answers the tenant's cost
// queries, the one the server's handlers use: the local cost store, or
// with --cost-store the tenant's committed versions in the shared store
// (cluster.Tenant), fetched with the hub's AWS credentials into a cache
// private to this command and removed after it (a replica sharing the
// data directory keeps its own cache).
func withTenantCosts(ctx context.Context, app *App, tenant crossbill.TenantID, f func(*costs.Store) error) (err error) {
	if app.CostStore == "" {
		return withCosts(ctx, app, f)
	}
	c, cleanup, err := app.sharedCosts(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()
	s, release, err := c.Tenant(ctx, tenant)
	if err != nil {
		return err
	}
	defer release()
	return f(s)
}

// tenantCosts opens the store withTenantCosts runs f on, for a use case
// that opens it only when it needs it (athena.Engines): release closes it,
// logging what closing it failed to clean up.
func tenantCosts(app *App, tenant crossbill.TenantID) func(context.Context) (*costs.Store, func(), error) {
	return func(ctx context.Context) (*costs.Store, func(), error) {
		if app.CostStore == "" {
			s, err := app.Costs(ctx)
			if err != nil {
				return nil, nil, err
			}
			return s, func() { s.Close() }, nil
		}
		c, cleanup, err := app.sharedCosts(ctx)
		if err != nil {
			return nil, nil, err
		}
		s, release, err := c.Tenant(ctx, tenant)
		if err != nil {
			return nil, nil, errors.Join(err, cleanup())
		}
		return s, func() {
			release()
			if err := cleanup(); err != nil {
				app.Logger.Warn("closing the shared cost store", "err", err)
			}
		}, nil
	}
}

// sharedCosts opens cluster mode's cost store (--cost-store).
func (a *App) sharedCosts(ctx context.Context) (*cluster.Cluster, func() error, error) {
	const op = "cost store"
	st, err := a.Store(ctx)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.AWS(ctx, awsclient.HubOptions{})
	if err != nil {
		return nil, nil, err
	}
	cache, err := os.MkdirTemp(a.DataDir, "costs-cache-cli-")
	if err != nil {
		return nil, nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "creating a cache in %s: %w", a.DataDir, err)
	}
	c, err := cluster.Dial(f.Hub(), a.CostStoreEndpoint, cluster.Config{URL: a.CostStore, Versions: st, CacheDir: cache})
	if err != nil {
		os.RemoveAll(cache)
		return nil, nil, err
	}
	return c, func() error { return errors.Join(c.Close(), os.RemoveAll(cache)) }, nil
}
