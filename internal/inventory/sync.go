package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// SyncOptions tunes Sync.
type SyncOptions struct {
	CollectOptions
	Tenant string // tenant name, for AWS session names
	// Costs gives resources their CUR cost; nil: price list only.
	Costs CostSource
}

// SyncResult is the outcome of one sync.
type SyncResult struct {
	SyncID       string                 `json:"sync_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	Accounts     int                    `json:"accounts"`
	Regions      []string               `json:"regions"`
	Resources    int                    `json:"resources"`
	// ByType counts resources per "service type".
	ByType      map[string]int `json:"by_type"`
	Utilization int            `json:"resources_with_utilization"`
	// CostSources counts resources per cost source ("cur", "price-list",
	// "" for none known).
	CostSources map[string]int `json:"cost_sources"`
	Failures    []Failure      `json:"failures"`
	StartedAt   time.Time      `json:"started_at"`
	DurationMS  int64          `json:"duration_ms"`
}

// ConnectionFor finds the connection to read: connID when given (it must be
// the tenant's), else the tenant's one connection with the inventory
// module and a role.
func ConnectionFor(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID) (store.Connection, error) {
	return st.ConnectionWithModule(ctx, tenant, connID, manifest.ModuleInventory)
}

// Sync reads the resources of conn's account and, for an organization, of
// every member account whose role `connect members --verify` verified, in
// every enabled region; their utilization; their cost. It stores them and
// the sync's failures. Parts that cannot be read are recorded per
// (account, region, service) and keep their previous resources.
func Sync(ctx context.Context, st *store.Store, conn store.Connection, opts SyncOptions) (SyncResult, error) {
	const op = "inventory sync"
	if opts.AWS == nil {
		return SyncResult{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no AWS hub configuration: set the hub's credentials (AWS_PROFILE or the default chain)")
	}
	opts.defaults()
	start := opts.Now()
	self := awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: conn.RoleARN, ExternalID: conn.ExternalID}
	if _, err := opts.AWS.Retrieve(ctx, self); err != nil {
		return SyncResult{}, err
	}
	sources := []source{{account: conn.AccountID, target: self}}
	var skipped []Failure
	members, err := st.Members(ctx, conn.ID)
	if err != nil {
		return SyncResult{}, err
	}
	for _, m := range members {
		if m.Gone() || m.AccountID == conn.AccountID || m.Status == store.MemberConflict {
			continue
		}
		if m.Status != store.MemberVerified {
			skipped = append(skipped, Failure{Account: m.AccountID, Service: "sts", Operation: "AssumeRole",
				Message: fmt.Sprintf("member role not verified (status %s)", m.Status),
				Fix:     "run `crossbill connect members --verify` and fix what it reports; the next sync reads this account"})
			continue
		}
		sources = append(sources, source{account: m.AccountID,
			target: awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: m.RoleARN, ExternalID: conn.ExternalID}})
	}
	opts.Progress("reading %d account(s) through %s", len(sources), conn.RoleARN)
	c := collect(ctx, sources, opts.CollectOptions)
	if err := ctx.Err(); err != nil {
		return SyncResult{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "interrupted: %w", err)
	}
	failures := append(c.failures, skipped...)
	for _, f := range failures {
		if f.Account == conn.AccountID && f.Operation == "DescribeRegions" {
			return SyncResult{}, crossbill.Errorf(crossbill.CodeAccessDenied, op, "the role %s could not list the account's regions (%s): %s", conn.RoleARN, f.Message, f.Fix)
		}
	}
	var cur map[string]costs.ResourceCost
	if opts.Costs != nil {
		if cur, err = opts.Costs.ResourceCosts(ctx, conn.TenantID); err != nil {
			return SyncResult{}, err
		}
	}
	assignCosts(c.resources, cur)
	for i := range c.resources {
		c.resources[i].TenantID = conn.TenantID
	}
	var scopes []store.InventoryScope
	for _, s := range c.done {
		scopes = append(scopes, store.InventoryScope{AccountID: s.account, Region: s.region, Service: s.service})
	}
	if err := save(ctx, st, conn.TenantID, conn.ID, c.resources, c.util, scopes, c.fetched); err != nil {
		return SyncResult{}, err
	}
	res := SyncResult{ConnectionID: conn.ID, Accounts: len(sources), Resources: len(c.resources), Utilization: len(c.util),
		ByType: map[string]int{}, CostSources: map[string]int{}, Failures: failures, StartedAt: start.UTC()}
	for r := range c.regions {
		res.Regions = append(res.Regions, r)
	}
	slices.Sort(res.Regions)
	for _, r := range c.resources {
		res.ByType[r.Service+" "+r.Type]++
		src := ""
		if r.Cost != nil {
			src = r.Cost.Source
		}
		res.CostSources[src]++
	}
	if res.Failures == nil {
		res.Failures = []Failure{}
	}
	fj, err := json.Marshal(res.Failures)
	if err != nil {
		return SyncResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	saved, err := st.SaveInventorySync(ctx, store.InventorySync{TenantID: conn.TenantID, ConnectionID: conn.ID, StartedAt: start, FinishedAt: opts.Now(),
		Accounts: len(sources), Regions: len(res.Regions), Resources: len(c.resources), Failures: fj})
	if err != nil {
		return SyncResult{}, err
	}
	res.SyncID = saved.ID
	res.DurationMS = opts.Now().Sub(start).Milliseconds()
	return res, nil
}
