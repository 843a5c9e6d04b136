package server

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
)

// costCache keeps answers to heavy queries (costs, commitments) per tenant
// until the tenant's cost data changes (an ingest ends): dashboards repeat
// the same queries, and DuckDB on two cores answers a few hundred a second
// at best. It also runs those queries: identical concurrent ones share one
// execution, a tenant runs at most slots at a time (all tenants together
// as many as DuckDB has threads; waiting ones queue in arrival order, so a
// tenant that floods holds at most its slots in that queue), and a query
// nobody waits for any more is cancelled.
//
// Memory policy: the cache is bounded in bytes (the encoded answers plus a
// fixed overhead per entry), globally and per tenant, with least recently
// used eviction. A tenant's new answer first evicts that tenant's own
// oldest answers until the tenant fits in its cap; only then, if the whole
// cache is over its cap, the oldest answers of any tenant go. So a tenant
// never holds more than its cap, and one tenant can push out at most that
// much of the others' answers. An answer larger than a tenant's cap is
// served but not kept.
type costCache struct {
	maxBytes, tenantMax int64
	slots               int           // concurrent computations per tenant
	all                 chan struct{} // slots of all tenants together
	slotWait            time.Duration // how long a computation waits for a slot
	timeout             time.Duration // bounds one computation

	mu        sync.Mutex
	bytes     int64
	entries   map[entryKey]*list.Element // of *cacheEntry
	tenants   map[crossbill.TenantID]*tenantCache
	flights   map[entryKey]*flight
	clock     uint64 // orders uses across tenants' lists
	evictions uint64
	rejected  uint64 // computations refused a slot
	running   int
}

type entryKey struct {
	tenant crossbill.TenantID
	key    string
}

type cacheEntry struct {
	k    entryKey
	val  []byte
	size int64
	used uint64
}

// tenantCache is one tenant's share: its entries, newest first, and its
// computation slots.
type tenantCache struct {
	lru   *list.List
	bytes int64
	gen   int // bumped by invalidate
	slots chan struct{}
}

// entryOverhead approximates what an entry costs besides its answer (map
// and list bookkeeping), so that many tiny answers are bounded too.
const entryOverhead = 256

// flight is one computation that requests wait for, so that a burst of
// identical queries runs once. waiters counts the requests still waiting;
// when the last one leaves, the computation is cancelled.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int
	val     []byte
	err     error
}

// cacheLimits configure a costCache; zero fields take the defaults.
type cacheLimits struct {
	Bytes       int64         // whole cache; default 32 MiB
	TenantBytes int64         // per tenant; default 8 MiB (at most Bytes)
	Slots       int           // concurrent heavy queries per tenant; default 2
	TotalSlots  int           // all tenants together; default 2 (DuckDB's threads)
	SlotWait    time.Duration // wait for a slot before 429; default 10s
	Timeout     time.Duration // one computation; default 30s
}

func newCostCache(l cacheLimits) *costCache {
	if l.Bytes <= 0 {
		l.Bytes = 32 << 20
	}
	if l.TenantBytes <= 0 {
		l.TenantBytes = 8 << 20
	}
	l.TenantBytes = min(l.TenantBytes, l.Bytes)
	if l.Slots <= 0 {
		l.Slots = 2
	}
	if l.TotalSlots <= 0 {
		l.TotalSlots = 2
	}
	if l.SlotWait <= 0 {
		l.SlotWait = 10 * time.Second
	}
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	return &costCache{maxBytes: l.Bytes, tenantMax: l.TenantBytes, slots: l.Slots, all: make(chan struct{}, l.TotalSlots), slotWait: l.SlotWait, timeout: l.Timeout,
		entries: map[entryKey]*list.Element{}, tenants: map[crossbill.TenantID]*tenantCache{}, flights: map[entryKey]*flight{}}
}

// tenant returns the tenant's share; c.mu is held.
func (c *costCache) tenant(id crossbill.TenantID) *tenantCache {
	t := c.tenants[id]
	if t == nil {
		t = &tenantCache{lru: list.New(), slots: make(chan struct{}, c.slots)}
		c.tenants[id] = t
	}
	return t
}

// get returns the cached answer to key, or computes it: once for all the
// requests asking at the same time, in one of the tenant's slots, and
// cancelled when every request waiting for it has gone (ctx ended).
func (c *costCache) get(ctx context.Context, tenant crossbill.TenantID, key string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	k := entryKey{tenant, key}
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*cacheEntry)
		c.clock++
		e.used = c.clock
		c.tenants[tenant].lru.MoveToFront(el)
		c.mu.Unlock()
		return e.val, nil
	}
	f := c.flights[k]
	if f == nil {
		// The computation is detached from the request that started it:
		// others may join it, and it ends when the last of them leaves.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[k] = f
		go c.run(fctx, k, f, c.tenant(tenant).gen, compute)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			// A request arriving now starts afresh rather than joining a
			// cancelled computation.
			if c.flights[k] == f {
				delete(c.flights, k)
			}
		}
		c.mu.Unlock()
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "query", "request ended before the answer was ready: %w", ctx.Err())
	}
}

// run computes one flight in a slot of the tenant and keeps its answer.
func (c *costCache) run(ctx context.Context, k entryKey, f *flight, gen int, compute func(context.Context) ([]byte, error)) {
	defer f.cancel()
	var val []byte
	err := crossbill.Errorf(crossbill.CodeInternal, "query", "the query panicked")
	func() {
		// This goroutine is not under the request's panic recovery.
		defer func() {
			if v := recover(); v != nil {
				err = crossbill.Errorf(crossbill.CodeInternal, "query", "panic: %v", v)
			}
		}()
		val, err = c.inSlot(ctx, k.tenant, compute)
	}()
	c.mu.Lock()
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	// An answer computed while the data changed is not kept.
	if err == nil && gen == c.tenant(k.tenant).gen {
		c.add(k, val)
	}
	f.val, f.err = val, err
	c.mu.Unlock()
	close(f.done)
}

// inSlot runs compute in one of the tenant's slots and one of all
// tenants' slots, waiting up to slotWait for them: the first bounds what
// one tenant can take, the second the memory of all queries at once.
func (c *costCache) inSlot(ctx context.Context, tenant crossbill.TenantID, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	mine := c.tenant(tenant).slots
	c.mu.Unlock()
	wait := time.NewTimer(c.slotWait)
	defer wait.Stop()
	for _, slots := range []chan struct{}{mine, c.all} {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait.C:
			c.mu.Lock()
			c.rejected++
			c.mu.Unlock()
			return nil, crossbill.Errorf(crossbill.CodeThrottled, "query",
				"too many heavy queries (costs, commitments) are running (at most %d per tenant, %d in all); retry in a few seconds, or ask for less (coarser granularity, a shorter range)", c.slots, cap(c.all))
		}
	}
	c.mu.Lock()
	c.running++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running--
		c.mu.Unlock()
	}()
	return compute(ctx)
}

// add keeps an answer within the caps; c.mu is held.
func (c *costCache) add(k entryKey, val []byte) {
	size := int64(len(val)+len(k.key)) + entryOverhead
	if size > c.tenantMax {
		return
	}
	t := c.tenant(k.tenant)
	for t.bytes+size > c.tenantMax {
		c.evict(t.lru.Back())
	}
	for c.bytes+size > c.maxBytes {
		c.evict(c.oldest())
	}
	c.clock++
	e := &cacheEntry{k: k, val: val, size: size, used: c.clock}
	c.entries[k] = t.lru.PushFront(e)
	t.bytes += size
	c.bytes += size
}

// oldest is the least recently used entry of all tenants; c.mu is held.
func (c *costCache) oldest() *list.Element {
	var old *list.Element
	for _, t := range c.tenants {
		if b := t.lru.Back(); b != nil && (old == nil || b.Value.(*cacheEntry).used < old.Value.(*cacheEntry).used) {
			old = b
		}
	}
	return old
}

// evict drops one entry; c.mu is held.
func (c *costCache) evict(el *list.Element) {
	c.remove(el)
	c.evictions++
}

func (c *costCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	t := c.tenants[e.k.tenant]
	t.lru.Remove(el)
	t.bytes -= e.size
	c.bytes -= e.size
	delete(c.entries, e.k)
}

// invalidate drops a tenant's answers (its cost data changed).
func (c *costCache) invalidate(tenant crossbill.TenantID) {
	c.mu.Lock()
	t := c.tenant(tenant)
	for t.lru.Len() > 0 {
		c.remove(t.lru.Back())
	}
	t.gen++
	c.mu.Unlock()
}

// invalidateAll drops every tenant's answers (events may have been missed).
func (c *costCache) invalidateAll() {
	c.mu.Lock()
	ids := make([]crossbill.TenantID, 0, len(c.tenants))
	for id := range c.tenants {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.invalidate(id)
	}
}

// cacheStats is a snapshot for /metrics and the tests.
type cacheStats struct {
	Bytes, MaxBytes, TenantMax int64
	Entries                    int
	Evictions, Rejected        uint64
	Running                    int
	TenantBytes                map[crossbill.TenantID]int64
}

func (c *costCache) stats() cacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := cacheStats{Bytes: c.bytes, MaxBytes: c.maxBytes, TenantMax: c.tenantMax, Entries: len(c.entries),
		Evictions: c.evictions, Rejected: c.rejected, Running: c.running, TenantBytes: map[crossbill.TenantID]int64{}}
	for id, t := range c.tenants {
		s.TenantBytes[id] = t.bytes
	}
	return s
}
