package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
)

// answer returns a compute function whose answer is n bytes.
func answer(n int) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return bytes.Repeat([]byte("x"), n), nil }
}

func mustGet(t *testing.T, c *costCache, tenant crossbill.TenantID, key string, compute func(context.Context) ([]byte, error)) []byte {
	t.Helper()
	v, err := c.get(context.Background(), tenant, key, compute)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCacheByteCaps: the cache stays within its byte caps, a flooding
// tenant evicts its own answers first (never another tenant's while under
// the global cap), the least recently used go first, and an answer larger
// than a tenant's share is served but not kept.
func TestCacheByteCaps(t *testing.T) {
	t.Parallel()
	const kb = 1024
	c := newCostCache(cacheLimits{Bytes: 10 * kb, TenantBytes: 4 * kb})
	size := kb - entryOverhead - 3 // an entry of exactly 1 KiB with its 3-byte key
	for i := range 3 {
		mustGet(t, c, "b", fmt.Sprintf("b%02d", i), answer(size))
	}
	for i := range 100 {
		mustGet(t, c, "a", fmt.Sprintf("a%02d", i%50), answer(size))
		mustGet(t, c, "a", "a00", answer(size)) // keep a00 recent
		st := c.stats()
		if st.Bytes > st.MaxBytes || st.TenantBytes["a"] > st.TenantMax {
			t.Fatalf("over the caps: %+v", st)
		}
	}
	st := c.stats()
	if st.TenantBytes["a"] != 4*kb || st.TenantBytes["b"] != 3*kb || st.Evictions == 0 {
		t.Fatalf("after a flood by tenant a: %+v; want a at its 4 KiB share, b's 3 KiB untouched, evictions counted", st)
	}
	calls := 0
	counting := func(ctx context.Context) ([]byte, error) { calls++; return answer(size)(ctx) }
	mustGet(t, c, "a", "a00", counting)
	if calls != 0 {
		t.Error("the most recently used answer of a was evicted")
	}
	mustGet(t, c, "b", "b00", counting)
	if calls != 0 {
		t.Error("tenant a's flood evicted tenant b's answer")
	}

	// Many tenants fill the whole cache: the global cap holds and evicts
	// the least recently used of any tenant.
	for i := range 30 {
		tenant := crossbill.TenantID(fmt.Sprintf("t%d", i))
		mustGet(t, c, tenant, "k00", answer(size))
		if st := c.stats(); st.Bytes > st.MaxBytes {
			t.Fatalf("over the global cap: %+v", st)
		}
	}
	if st := c.stats(); st.Bytes != 10*kb {
		t.Errorf("full cache holds %d bytes, want 10 KiB", st.Bytes)
	}

	// Too large for a tenant's share: served, not kept.
	before := c.stats().Bytes
	if v := mustGet(t, c, "c", "huge", answer(5*kb)); len(v) != 5*kb {
		t.Fatalf("huge answer: %d bytes", len(v))
	}
	if st := c.stats(); st.Bytes != before || st.TenantBytes["c"] != 0 {
		t.Errorf("an answer over the tenant cap was kept: %+v", st)
	}

	// invalidate drops the tenant's bytes.
	c.invalidate("a")
	if st := c.stats(); st.TenantBytes["a"] != 0 {
		t.Errorf("after invalidate: %+v", st)
	}
}

// TestCacheSingleflight: identical concurrent queries run once.
func TestCacheSingleflight(t *testing.T) {
	t.Parallel()
	c := newCostCache(cacheLimits{})
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) ([]byte, error) {
		calls.Add(1)
		<-release
		return []byte("v"), nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { mustGet(t, c, "a", "k", compute) })
	}
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		f := c.flights[entryKey{"a", "k"}]
		return f != nil && f.waiters == 20
	})
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times, want 1", n)
	}
}

// TestCacheSlots: a tenant runs at most Slots heavy queries at once; the
// next waits for a slot, and gets a throttled error (429) when none frees
// up in time; other tenants are not held up.
func TestCacheSlots(t *testing.T) {
	t.Parallel()
	c := newCostCache(cacheLimits{Slots: 2, TotalSlots: 10, SlotWait: 300 * time.Millisecond})
	var running, peak atomic.Int32
	release := make(chan struct{})
	blocking := func(context.Context) ([]byte, error) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		running.Add(-1)
		return []byte("v"), nil
	}
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			_, err := c.get(context.Background(), "a", fmt.Sprint(i), blocking)
			errs <- err
		}()
	}
	waitFor(t, func() bool { return running.Load() == 2 })
	// Another tenant has slots of its own.
	if v := mustGet(t, c, "b", "k", answer(1)); len(v) != 1 {
		t.Fatal("tenant b was held up by tenant a's queries")
	}
	err := <-errs // the third waited past SlotWait
	if crossbill.ErrorCode(err) != crossbill.CodeThrottled || statusOf(err) != 429 {
		t.Errorf("third concurrent query: %v; want throttled (429)", err)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak %d concurrent queries, want 2", p)
	}
	if st := c.stats(); st.Rejected != 1 || st.Running != 0 {
		t.Errorf("stats %+v; want 1 rejected, none running", st)
	}

	// A query waiting for a slot gets it when one frees up.
	c = newCostCache(cacheLimits{Slots: 1, SlotWait: 10 * time.Second})
	release = make(chan struct{})
	running.Store(0)
	go func() { _, err := c.get(context.Background(), "a", "first", blocking); errs <- err }()
	waitFor(t, func() bool { return running.Load() == 1 })
	go func() { _, err := c.get(context.Background(), "a", "second", answer(1)); errs <- err }()
	time.Sleep(50 * time.Millisecond)
	if len(errs) != 0 {
		t.Fatal("the second query ran while the only slot was busy")
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCacheTotalSlots: all tenants together run at most TotalSlots.
func TestCacheTotalSlots(t *testing.T) {
	t.Parallel()
	c := newCostCache(cacheLimits{Slots: 2, TotalSlots: 3, SlotWait: 300 * time.Millisecond})
	var running atomic.Int32
	release := make(chan struct{})
	blocking := func(context.Context) ([]byte, error) {
		running.Add(1)
		<-release
		return []byte("v"), nil
	}
	errs := make(chan error, 3)
	for _, q := range []struct{ tenant, key string }{{"a", "1"}, {"a", "2"}, {"b", "1"}} {
		go func() {
			_, err := c.get(context.Background(), crossbill.TenantID(q.tenant), q.key, blocking)
			errs <- err
		}()
	}
	waitFor(t, func() bool { return running.Load() == 3 })
	if _, err := c.get(context.Background(), "c", "1", answer(1)); crossbill.ErrorCode(err) != crossbill.CodeThrottled {
		t.Errorf("a fourth query while three run in all: %v; want throttled", err)
	}
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if v := mustGet(t, c, "c", "1", answer(1)); len(v) != 1 {
		t.Error("no answer once the slots freed up")
	}
}

// TestCacheCancel: a computation goes on while a request waits for it and
// is cancelled when the last waiting request goes away; the next request
// starts afresh, and nothing is cached.
func TestCacheCancel(t *testing.T) {
	t.Parallel()
	c := newCostCache(cacheLimits{})
	started, cancelled := make(chan struct{}, 2), make(chan struct{}, 2)
	compute := func(ctx context.Context) ([]byte, error) {
		started <- struct{}{}
		<-ctx.Done()
		cancelled <- struct{}{}
		return nil, ctx.Err()
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := c.get(ctx1, "a", "k", compute); errs <- err }()
	<-started
	go func() { _, err := c.get(ctx2, "a", "k", compute); errs <- err }()
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.flights[entryKey{"a", "k"}].waiters == 2 })

	cancel1()
	if err := <-errs; crossbill.ErrorCode(err) != crossbill.CodeUnavailable {
		t.Errorf("the request that left: %v", err)
	}
	select {
	case <-cancelled:
		t.Fatal("the query was cancelled while a request still waited for it")
	case <-time.After(100 * time.Millisecond):
	}
	cancel2()
	<-errs
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the query went on after its last waiting request left")
	}
	waitFor(t, func() bool { return c.stats().Running == 0 })
	if v := mustGet(t, c, "a", "k", answer(3)); len(v) != 3 {
		t.Errorf("the next request got %q, want a fresh answer", v)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCostQueryKey: parameters reordered, repeated within a filter, or
// filters given in another order ask the same question, so they share one
// cache key; a different question does not.
func TestCostQueryKey(t *testing.T) {
	t.Parallel()
	key := func(raw string) string {
		t.Helper()
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseCostQuery("tenant-1", v)
		if err != nil {
			t.Fatal(err)
		}
		k, err := queryKey("costs", q)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	same := []string{
		"group_by=service&granularity=daily&filter=region=us-east-1,eu-west-1&filter=service=AmazonEC2&from=2026-01-01",
		"filter=service=AmazonEC2&from=2026-01&filter=region=eu-west-1,us-east-1,us-east-1&group_by=SERVICE&metric=amortized",
		"from=2026-01-01&filter=region=eu-west-1,us-east-1&filter=service=AmazonEC2&filter=service=AmazonEC2&group_by=service",
	}
	want := key(same[0])
	for _, raw := range same[1:] {
		if got := key(raw); got != want {
			t.Errorf("%s\n  key %s\n want %s", raw, got, want)
		}
	}
	for _, raw := range []string{
		"group_by=service&granularity=hourly&filter=region=us-east-1,eu-west-1&filter=service=AmazonEC2&from=2026-01-01",
		"group_by=service&filter=region=us-east-1&filter=service=AmazonEC2&from=2026-01-01",
		"group_by=service&filter=region=us-east-1,eu-west-1&filter=service=AmazonEC2&from=2026-01-01&top=3",
	} {
		if key(raw) == want {
			t.Errorf("%s shares the key of a different question", raw)
		}
	}
}

// TestThrottledAnswerSaysWhenToRetry: a 429 carries Retry-After, whoever
// returned the throttled error.
func TestThrottledAnswerSaysWhenToRetry(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("GET", "/", nil), crossbill.Errorf(crossbill.CodeThrottled, "query", "busy"))
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}
