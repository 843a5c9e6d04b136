package server

import (
	"sync"

	"github.com/crossbill/crossbill"
)

// costCache keeps answers to cost queries per tenant until the tenant's
// cost data changes (an ingest ends): dashboards repeat the same queries,
// and DuckDB on two cores answers a few hundred a second at best.
type costCache struct {
	mu      sync.Mutex
	max     int
	entries map[crossbill.TenantID]map[string][]byte
	size    int
	flights map[string]*flight
	gen     map[crossbill.TenantID]int // bumped by invalidate
}

// flight is one computation others wait for, so that a burst of identical
// queries runs once.
type flight struct {
	done chan struct{}
	val  []byte
	err  error
}

func newCostCache() *costCache {
	return &costCache{max: 2000, entries: map[crossbill.TenantID]map[string][]byte{}, flights: map[string]*flight{}, gen: map[crossbill.TenantID]int{}}
}

// get returns the cached answer or computes it once for all callers.
func (c *costCache) get(tenant crossbill.TenantID, key string, compute func() ([]byte, error)) ([]byte, error) {
	fk := string(tenant) + "\x00" + key
	c.mu.Lock()
	if v, ok := c.entries[tenant][key]; ok {
		c.mu.Unlock()
		return v, nil
	}
	if f, ok := c.flights[fk]; ok {
		c.mu.Unlock()
		<-f.done
		return f.val, f.err
	}
	f := &flight{done: make(chan struct{})}
	c.flights[fk] = f
	gen := c.gen[tenant]
	c.mu.Unlock()

	f.val, f.err = compute()
	c.mu.Lock()
	delete(c.flights, fk)
	// An answer computed while the data changed is not kept.
	if f.err == nil && gen == c.gen[tenant] {
		if c.size >= c.max { // crude but bounded: start over
			c.entries, c.size = map[crossbill.TenantID]map[string][]byte{}, 0
		}
		if c.entries[tenant] == nil {
			c.entries[tenant] = map[string][]byte{}
		}
		c.entries[tenant][key] = f.val
		c.size++
	}
	c.mu.Unlock()
	close(f.done)
	return f.val, f.err
}

// invalidate drops a tenant's answers (its cost data changed).
func (c *costCache) invalidate(tenant crossbill.TenantID) {
	c.mu.Lock()
	c.size -= len(c.entries[tenant])
	delete(c.entries, tenant)
	c.gen[tenant]++
	c.mu.Unlock()
}
