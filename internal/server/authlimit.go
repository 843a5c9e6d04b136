package server

import (
	"net/netip"
	"sync"
	"time"
)

// authFailures counts failed authentications per client address, so that
// nobody can guess tokens at the API's request rate. An address that
// presented max bad tokens within window is refused (429) for the rest of
// the window, whatever token it sends: checking the token first would let
// the guessing go on. crossbill has no trusted-proxy setting, so the
// address is the connection's own (RemoteAddr), never a forwarded header a
// client could forge; behind a proxy every client shares the proxy's
// address.
type authFailures struct {
	max    int // zero or less: no limit
	window time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*failWindow
}

type failWindow struct {
	start time.Time
	count int
}

func newAuthFailures(max int, window time.Duration, now func() time.Time) *authFailures {
	return &authFailures{max: max, window: window, now: now, m: map[string]*failWindow{}}
}

// addrKey is the key failures are counted under: the IP (each connection
// has a port of its own); for IPv6 its /64, the block one host usually
// holds whole.
func addrKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// blocked reports how long addr must wait, zero when it may try.
func (a *authFailures) blocked(addr string) time.Duration {
	if a.max <= 0 {
		return 0
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.m[addr]
	if !ok || f.count < a.max {
		return 0
	}
	if wait := f.start.Add(a.window).Sub(now); wait > 0 {
		return wait
	}
	delete(a.m, addr)
	return 0
}

// fail records a failed authentication from addr.
func (a *authFailures) fail(addr string) {
	if a.max <= 0 {
		return
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.m[addr]
	if !ok || now.Sub(f.start) >= a.window {
		if len(a.m) >= 100000 { // bounded: drop the windows that ended
			for k, v := range a.m {
				if now.Sub(v.start) >= a.window {
					delete(a.m, k)
				}
			}
			if len(a.m) >= 100000 {
				a.m = map[string]*failWindow{}
			}
		}
		f = &failWindow{start: now}
		a.m[addr] = f
	}
	f.count++
}
