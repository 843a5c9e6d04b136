package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// tenantStore is a replica's local store of one tenant: a DuckDB database
// holding the rollups of the tenant's committed versions, with views over
// their data objects in the cache, which stay pinned while it holds them.
type tenantStore struct {
	id    crossbill.TenantID
	dir   string
	store *costs.Store

	// rw: queries hold it shared, a sync exclusively, so the objects of a
	// replaced version are unpinned only when no query can be reading them.
	rw   sync.RWMutex
	held map[costs.PeriodKey]heldVersion

	users   int    // callers between Tenant and release (under Cluster.mu)
	lastUse uint64 // Cluster.clock at the last Tenant (under Cluster.mu)
}

type heldVersion struct {
	version string
	keys    []string // pinned data objects
}

// Tenant returns a store answering the tenant's cost queries from its
// committed versions, and a release to call once the queries are done;
// the store must not be used after release nor closed. A version
// committed before the call is what the store answers from, whole.
func (c *Cluster) Tenant(ctx context.Context, tenant crossbill.TenantID) (*costs.Store, func(), error) {
	ts, err := c.acquire(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	release := func() {
		c.mu.Lock()
		ts.users--
		c.mu.Unlock()
	}
	if err := c.refresh(ctx, ts); err != nil {
		release()
		return nil, nil, err
	}
	ts.rw.RLock()
	return ts.store, func() { ts.rw.RUnlock(); release() }, nil
}

// acquire returns the tenant's store, opening it when absent, marked in use.
func (c *Cluster) acquire(ctx context.Context, tenant crossbill.TenantID) (*tenantStore, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	if ts := c.tenants[tenant]; ts != nil {
		ts.users++
		ts.lastUse = c.clock
		return ts, nil
	}
	for len(c.tenants) >= c.cfg.MaxTenants && c.evictIdle(nil) {
	}
	dir := filepath.Join(c.cfg.CacheDir, "tenants", uuid.NewString())
	opt := c.cfg.Store
	opt.FilesDir = c.cache.dir
	s, err := costs.OpenWith(ctx, dir, opt)
	if err != nil {
		return nil, err
	}
	ts := &tenantStore{id: tenant, dir: dir, store: s, held: map[costs.PeriodKey]heldVersion{}, users: 1, lastUse: c.clock}
	c.tenants[tenant] = ts
	return ts, nil
}

// evictIdle closes the least recently used tenant store nobody uses (but
// keep), releasing its objects; it reports whether it closed one. Called
// with mu held.
func (c *Cluster) evictIdle(keep *tenantStore) bool {
	var victim *tenantStore
	for _, ts := range c.tenants {
		if ts != keep && ts.users == 0 && (victim == nil || ts.lastUse < victim.lastUse) {
			victim = ts
		}
	}
	if victim == nil {
		return false
	}
	delete(c.tenants, victim.id)
	for _, h := range victim.held {
		for _, k := range h.keys {
			c.cache.release(k)
		}
	}
	victim.store.Close()
	os.RemoveAll(victim.dir)
	return true
}

// refresh brings ts to the tenant's committed versions when they changed.
func (c *Cluster) refresh(ctx context.Context, ts *tenantStore) error {
	versions, err := c.cfg.Versions.CostVersions(ctx, ts.id)
	if err != nil {
		return err
	}
	ts.rw.RLock()
	same := ts.holds(versions)
	ts.rw.RUnlock()
	if same {
		return nil
	}
	ts.rw.Lock()
	defer ts.rw.Unlock()
	// Read again under the lock: a caller holding an older list must not
	// bring back a replaced version.
	if versions, err = c.cfg.Versions.CostVersions(ctx, ts.id); err != nil {
		return err
	}
	if ts.holds(versions) {
		return nil
	}
	return c.sync(ctx, ts, versions)
}

func (ts *tenantStore) holds(versions []store.CostVersion) bool {
	if len(versions) != len(ts.held) {
		return false
	}
	for _, v := range versions {
		if ts.held[costs.PeriodKey{Tenant: string(v.TenantID), Source: v.Source, Period: v.Period}].version != v.Version {
			return false
		}
	}
	return true
}

// sync fetches the versions ts lacks and swaps them in, in one DuckDB
// transaction. Called with ts.rw held exclusively.
func (c *Cluster) sync(ctx context.Context, ts *tenantStore, versions []store.CostVersion) (err error) {
	const op = "cost store sync"
	want := map[costs.PeriodKey]store.CostVersion{}
	for _, v := range versions {
		want[costs.PeriodKey{Tenant: string(v.TenantID), Source: v.Source, Period: v.Period}] = v
	}
	var adopt []costs.PeriodFiles
	var drop []costs.PeriodKey
	added := map[costs.PeriodKey]heldVersion{}
	var pinned []string // everything pinned by this sync
	defer func() {
		for _, k := range pinned {
			c.cache.release(k)
		}
	}()
	var explorer *costs.ExplorerFiles
	for k, v := range want {
		if ts.held[k].version == v.Version || isExplorer(v) {
			continue
		}
		var m manifest
		if err := json.Unmarshal([]byte(v.Manifest), &m); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "reading version %s: %w", v.Version, err)
		}
		local := func(o object) (string, error) {
			p, err := c.fetch(ctx, ts, o)
			if err == nil {
				pinned = append(pinned, o.Key)
			}
			return p, err
		}
		pf := m.PeriodFiles
		pf.Files = nil
		h := heldVersion{version: v.Version}
		for _, o := range m.Data {
			p, err := local(o)
			if err != nil {
				return err
			}
			pf.Files = append(pf.Files, p)
			h.keys = append(h.keys, o.Key)
		}
		if pf.Daily, err = local(m.Daily); err != nil {
			return err
		}
		if pf.Dim, err = local(m.Dim); err != nil {
			return err
		}
		adopt = append(adopt, pf)
		added[k] = h
	}
	for k := range ts.held {
		if _, ok := want[k]; !ok {
			drop = append(drop, k)
		}
	}
	// Cost Explorer data are applied again whenever anything changed: a
	// new CUR period leaves its Cost Explorer rows out.
	ek := costs.PeriodKey{Tenant: string(ts.id), Source: ExplorerSource, Period: ExplorerPeriod}
	if v, ok := want[ek]; ok {
		var m manifest
		if err := json.Unmarshal([]byte(v.Manifest), &m); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "reading version %s: %w", v.Version, err)
		}
		explorer = &costs.ExplorerFiles{Tenant: string(ts.id)}
		for _, o := range []struct {
			obj  object
			file *string
		}{{m.Daily, &explorer.Daily}, {m.Dim, &explorer.Reconciliation}} {
			p, err := c.fetch(ctx, ts, o.obj)
			if err != nil {
				return err
			}
			pinned = append(pinned, o.obj.Key)
			*o.file = p
		}
		added[ek] = heldVersion{version: v.Version}
	} else if _, held := ts.held[ek]; held {
		explorer = &costs.ExplorerFiles{Tenant: string(ts.id)} // none any more
	}
	if err := ts.store.AdoptPeriods(ctx, adopt, drop, explorer); err != nil {
		return err
	}
	// The store now reads the new data objects: they stay pinned (the
	// deferred release drops this sync's own pins, the held ones remain),
	// and the replaced versions' are unpinned.
	for k, h := range added {
		for _, key := range h.keys {
			c.cache.pin(key)
		}
		for _, key := range ts.held[k].keys {
			c.cache.release(key)
		}
		ts.held[k] = h
	}
	for _, k := range drop {
		for _, key := range ts.held[k].keys {
			c.cache.release(key)
		}
		delete(ts.held, k)
	}
	return nil
}

// fetch brings an object into the cache (pinned), closing idle tenant
// stores when their pinned objects leave no room.
func (c *Cluster) fetch(ctx context.Context, ts *tenantStore, o object) (string, error) {
	for {
		p, err := c.cache.get(ctx, o.Key, o.Size, func(ctx context.Context, file string) error {
			return c.download(ctx, o.Key, file)
		})
		if !errors.Is(err, errCacheFull) {
			return p, err
		}
		c.mu.Lock()
		evicted := c.evictIdle(ts)
		c.mu.Unlock()
		if !evicted {
			return "", err
		}
	}
}

// Close closes every tenant store.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for id, ts := range c.tenants {
		errs = append(errs, ts.store.Close(), os.RemoveAll(ts.dir))
		delete(c.tenants, id)
	}
	return errors.Join(errs...)
}
