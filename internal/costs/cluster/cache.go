package cluster

import (
	"container/list"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/crossbill/crossbill"
)

// objectCache is a directory of downloaded objects bounded in bytes and
// evicted least recently used first. Objects are immutable, so a key is
// never stale: it is fetched once and read until evicted. An object in use
// (pinned) is never evicted; when the bound leaves no room, get fails.
type objectCache struct {
	dir string
	max int64

	mu      sync.Mutex
	entries map[string]*cacheEntry
	lru     *list.List // of *cacheEntry, most recently used at the front
	size    int64      // bytes of the entries present or being fetched
}

type cacheEntry struct {
	key   string
	size  int64
	pins  int
	elem  *list.Element
	ready chan struct{} // closed when the fetch ended
	err   error
}

// errCacheFull is get's error when the pinned objects leave no room.
var errCacheFull = fmt.Errorf("cost cache full")

func newObjectCache(dir string, maxBytes int64) (*objectCache, error) {
	// What a previous process left is not tracked: start empty.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &objectCache{dir: dir, max: maxBytes, entries: map[string]*cacheEntry{}, lru: list.New()}, nil
}

// path is where key's object lives in the cache.
func (c *objectCache) path(key string) string { return filepath.Join(c.dir, filepath.FromSlash(key)) }

// get returns the local path of key's object (size bytes), fetching it with
// fetch when absent, and pins it until release(key).
func (c *objectCache) get(ctx context.Context, key string, size int64, fetch func(ctx context.Context, path string) error) (string, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		e.pins++
		c.lru.MoveToFront(e.elem)
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			c.release(key)
			return "", ctx.Err()
		}
		if e.err != nil {
			c.release(key)
			return "", e.err
		}
		return c.path(key), nil
	}
	if !c.makeRoom(size) {
		c.mu.Unlock()
		return "", crossbill.Errorf(crossbill.CodeUnavailable, "cost cache",
			"%w: %d MB in use cannot make room for %s (%d MB) under the %d MB bound; raise --cost-cache-mb", errCacheFull, c.size>>20, key, size>>20, c.max>>20)
	}
	e = &cacheEntry{key: key, size: size, pins: 1, ready: make(chan struct{})}
	e.elem = c.lru.PushFront(e)
	c.entries[key] = e
	c.size += size
	c.mu.Unlock()

	p := c.path(key)
	err := os.MkdirAll(filepath.Dir(p), 0o700)
	if err == nil {
		tmp := p + ".part"
		if err = fetch(ctx, tmp); err == nil {
			err = os.Rename(tmp, p)
		}
		if err != nil {
			os.Remove(tmp)
		}
	}
	c.mu.Lock()
	e.err = err
	close(e.ready)
	if err != nil {
		c.remove(e)
	}
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	return p, nil
}

// pin pins an object get returned, once more.
func (c *objectCache) pin(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.pins++
	}
}

// release unpins key's object.
func (c *objectCache) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.pins > 0 {
		e.pins--
	}
}

// makeRoom evicts unpinned objects, least recently used first, until need
// more bytes fit; it reports whether they do. Called with mu held.
func (c *objectCache) makeRoom(need int64) bool {
	for el := c.lru.Back(); el != nil && c.size+need > c.max; {
		prev := el.Prev()
		if e := el.Value.(*cacheEntry); e.pins == 0 {
			c.remove(e)
		}
		el = prev
	}
	return c.size+need <= c.max
}

// remove forgets e and deletes its file. Called with mu held.
func (c *objectCache) remove(e *cacheEntry) {
	c.lru.Remove(e.elem)
	delete(c.entries, e.key)
	c.size -= e.size
	os.Remove(c.path(e.key))
}

// stats returns the bytes held and the number of objects.
func (c *objectCache) stats() (bytes int64, objects int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, len(c.entries)
}
