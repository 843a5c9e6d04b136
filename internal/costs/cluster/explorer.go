package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// Cost Explorer's day-zero data are published like a CUR period: a
// tenant's whole Cost Explorer data (rows and reconciliations, a few MB at
// most) are one version, key (tenant, ExplorerSource, ExplorerPeriod),
//
//	PREFIX/<tenant>/ce/<version>/ce_daily.parquet          (manifest's daily)
//	PREFIX/<tenant>/ce/<version>/ce_reconciliation.parquet (manifest's dim)
//
// Loads are incremental, so a loader first pulls the committed version
// into its staging store, loads, and publishes the result.
const (
	ExplorerSource = "cost-explorer"
	ExplorerPeriod = "ce"
)

// PullExplorer makes the staging store's Cost Explorer data for the tenant
// the committed version's (nothing changes when none is committed).
func (c *Cluster) PullExplorer(ctx context.Context, staging *costs.Store, tenant crossbill.TenantID) error {
	_, err := c.withExplorer(ctx, tenant, staging.ReplaceExplorer)
	return err
}

// withExplorer downloads the tenant's committed Cost Explorer version, if
// any, and calls use with its files. It returns the version ("": none).
func (c *Cluster) withExplorer(ctx context.Context, tenant crossbill.TenantID, use func(context.Context, costs.ExplorerFiles) error) (string, error) {
	const op = "cost explorer pull"
	v, ok, err := c.explorerVersion(ctx, tenant)
	if err != nil || !ok {
		return "", err
	}
	var m manifest
	if err := json.Unmarshal([]byte(v.Manifest), &m); err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, op, "reading version %s: %w", v.Version, err)
	}
	tmp, err := os.MkdirTemp(c.cfg.CacheDir, "pull-")
	if err != nil {
		return "", crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer os.RemoveAll(tmp)
	f := costs.ExplorerFiles{Tenant: string(tenant), Daily: filepath.Join(tmp, "daily.parquet"), Reconciliation: filepath.Join(tmp, "rec.parquet")}
	if err := c.download(ctx, m.Daily.Key, f.Daily); err != nil {
		return "", err
	}
	if err := c.download(ctx, m.Dim.Key, f.Reconciliation); err != nil {
		return "", err
	}
	return v.Version, use(ctx, f)
}

// explorerAttempts bounds a publish's merge-and-swap rounds: each lost
// round means another replica published meanwhile (seconds apart).
const explorerAttempts = 3

// PublishExplorer uploads the staging store's Cost Explorer data for the
// tenant as a new version and commits it, replacing the previous one. The
// staging store first takes the latest committed version's rows of the
// other connections (all connections when connection is "", as after a
// CUR ingest, which changes none): loads of two connections on two
// replicas keep each other's rows. The commit is a compare-and-swap on the
// version merged: when another replica published in between, this one
// merges the new version and tries again, and after explorerAttempts
// rounds says so (CodeConflict: run the load again); either way no
// publish's rows are lost.
func (c *Cluster) PublishExplorer(ctx context.Context, staging *costs.Store, tenant crossbill.TenantID, connection crossbill.ConnectionID) error {
	for attempt := 1; ; attempt++ {
		err := c.publishExplorer(ctx, staging, tenant, connection)
		if !errors.Is(err, store.ErrCostVersionMoved) {
			return err
		}
		if attempt == explorerAttempts {
			return crossbill.Errorf(crossbill.CodeConflict, "cost explorer publish",
				"other replicas published the tenant's Cost Explorer data %d times while this one merged its load; nothing of it is lost, run the load again: %w", attempt, err)
		}
	}
}

// publishExplorer is one merge, upload and swap round of PublishExplorer.
func (c *Cluster) publishExplorer(ctx context.Context, staging *costs.Store, tenant crossbill.TenantID, connection crossbill.ConnectionID) (err error) {
	const op = "cost explorer publish"
	merged, err := c.withExplorer(ctx, tenant, func(ctx context.Context, f costs.ExplorerFiles) error {
		return staging.MergeExplorer(ctx, f, connection)
	})
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(c.cfg.CacheDir, "publish-")
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	defer os.RemoveAll(tmp)
	f, err := staging.ExportExplorer(ctx, tenant, tmp)
	if err != nil {
		return err
	}
	version := uuid.NewString()
	base := path.Join(c.prefix, string(tenant), ExplorerPeriod, version)
	m := manifest{PeriodFiles: costs.PeriodFiles{Tenant: string(tenant), Source: ExplorerSource, Period: ExplorerPeriod}}
	var uploaded []string
	defer func() {
		if err != nil { // never committed: nobody reads these
			c.deleteObjects(context.WithoutCancel(ctx), uploaded)
		}
	}()
	if m.Daily, err = c.upload(ctx, f.Daily, base+"/ce_daily.parquet"); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "uploading: %w", err)
	}
	uploaded = append(uploaded, m.Daily.Key)
	if m.Dim, err = c.upload(ctx, f.Reconciliation, base+"/ce_reconciliation.parquet"); err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "uploading: %w", err)
	}
	uploaded = append(uploaded, m.Dim.Key)
	body, err := json.Marshal(m)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if c.beforeCommit != nil {
		c.beforeCommit()
	}
	return c.cfg.Versions.SwapCostVersion(ctx, store.CostVersion{TenantID: tenant, Source: ExplorerSource, Period: ExplorerPeriod, Version: version, Manifest: string(body)}, merged)
}

func (c *Cluster) explorerVersion(ctx context.Context, tenant crossbill.TenantID) (store.CostVersion, bool, error) {
	versions, err := c.cfg.Versions.CostVersions(ctx, tenant)
	if err != nil {
		return store.CostVersion{}, false, err
	}
	for _, v := range versions {
		if isExplorer(v) {
			return v, true, nil
		}
	}
	return store.CostVersion{}, false, nil
}

func isExplorer(v store.CostVersion) bool {
	return v.Source == ExplorerSource && v.Period == ExplorerPeriod
}
