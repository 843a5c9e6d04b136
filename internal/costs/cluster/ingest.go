package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// Ingest loads an export into the staging store (ingest.Ingest) and
// publishes every period whose staged load the cluster does not hold yet:
// those just loaded, and those a crash between load and publish left
// behind (staged, so the ingest saw them unchanged).
//
// The tenant's Cost Explorer data are pulled first, so that the load
// reconciles and removes the periods it replaces, and published after.
func (c *Cluster) Ingest(ctx context.Context, staging *costs.Store, opt ingest.Options) (ingest.Result, error) {
	if opt.Tenant != "" {
		if err := c.PullExplorer(ctx, staging, opt.Tenant); err != nil {
			return ingest.Result{}, err
		}
	}
	res, err := ingest.Ingest(ctx, staging, opt)
	if len(res.Periods) == 0 {
		return res, err
	}
	current, verr := c.cfg.Versions.CostVersions(ctx, res.Tenant)
	if verr != nil {
		return res, errors.Join(err, verr)
	}
	held := map[string]string{} // period -> fingerprint the cluster holds for the source
	for _, v := range current {
		if v.Source != res.Source {
			continue
		}
		var m manifest
		if json.Unmarshal([]byte(v.Manifest), &m) == nil {
			_, held[v.Period], _ = strings.Cut(m.Fingerprint, "/")
		}
	}
	published := false
	for _, p := range res.Periods {
		if p.Status != ingest.StatusLoaded && p.Status != ingest.StatusUnchanged {
			continue
		}
		fp, ferr := staging.Fingerprint(ctx, string(res.Tenant), res.Source, p.Period)
		if ferr != nil {
			return res, errors.Join(err, ferr)
		}
		if fp == "" || held[p.Period] == fp {
			continue
		}
		if perr := c.Publish(ctx, staging, res.Tenant, res.Source, p.Period); perr != nil {
			return res, errors.Join(err, perr)
		}
		published = true
	}
	if _, has, verr := c.explorerVersion(ctx, res.Tenant); verr != nil || (published && has) {
		if verr == nil {
			verr = c.PublishExplorer(ctx, staging, res.Tenant, "")
		}
		if verr != nil {
			return res, errors.Join(err, verr)
		}
	}
	return res, err
}

// Generation names the tenant's committed versions: it changes with every
// commit, so answers cached under it are never stale.
func (c *Cluster) Generation(ctx context.Context, tenant crossbill.TenantID) (string, error) {
	versions, err := c.cfg.Versions.CostVersions(ctx, tenant)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, v := range versions {
		h.Write([]byte(v.Version + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}
