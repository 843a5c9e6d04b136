package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crossbill/crossbill"
)

// Event is a change that every process's caches must see at once: a token
// revoked, a tenant's cost data replaced. On PostgreSQL events travel
// between replicas by NOTIFY on one channel; on SQLite (one process) they
// stay in the process.
type Event struct {
	Kind EventKind `json:"k"`
	ID   string    `json:"id,omitempty"`
}

// EventKind says what changed.
type EventKind string

// Event kinds.
const (
	// EventTokenRevoked: ID is the revoked token; "" means some tokens
	// whose IDs the sender did not list (drop every cached token).
	EventTokenRevoked EventKind = "token_revoked"
	// EventCostsChanged: ID is the tenant whose cost data changed.
	EventCostsChanged EventKind = "costs_changed"
	// EventResync: events may have been missed (the listen connection was
	// down): drop every cache. Delivered locally, never sent.
	EventResync EventKind = "resync"
)

// notifyChannel is the PostgreSQL channel events travel on.
const notifyChannel = "crossbill_events"

// listenRetry is how often a down listen connection is retried; each
// failed try delivers EventResync, so while PostgreSQL's notifications
// cannot reach this replica its caches hold nothing older than this.
const listenRetry = time.Second

// events is a store's subscribers and its listen loop.
type events struct {
	mu      sync.Mutex
	subs    map[int]func(Event)
	next    int
	cancel  context.CancelFunc // the listen loop, once started
	done    chan struct{}
	stopped bool
	// up is true while the listen connection is up, set after its first
	// EventResync was delivered (so every subscriber has resynced).
	up atomic.Bool
}

func (e *events) deliver(ev Event) {
	e.mu.Lock()
	ids := slices.Sorted(maps.Keys(e.subs))
	fns := make([]func(Event), len(ids))
	for i, id := range ids {
		fns[i] = e.subs[id] // in subscription order: a later subscriber sees the earlier ones' effects
	}
	e.mu.Unlock()
	for _, f := range fns {
		f(ev)
	}
}

func (e *events) stop() {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.stopped = true
	e.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Subscribe calls fn with every event: this process's at once, other
// replicas' (PostgreSQL) as their transactions commit. fn runs on the
// listener's goroutine and must be quick. The returned func unsubscribes.
// On PostgreSQL the first subscription starts the listen connection, a
// dedicated connection outside the pool, reconnected when it fails.
func (s *Store) Subscribe(fn func(Event)) (unsubscribe func()) {
	e := &s.events
	e.mu.Lock()
	if e.subs == nil {
		e.subs = map[int]func(Event){}
	}
	id := e.next
	e.next++
	e.subs[id] = fn
	if s.engine == Postgres && e.cancel == nil && !e.stopped {
		ctx, cancel := context.WithCancel(context.Background())
		e.cancel, e.done = cancel, make(chan struct{})
		go s.listen(ctx, e.done)
	}
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		delete(e.subs, id)
		e.mu.Unlock()
	}
}

// Listening reports whether the PostgreSQL listen connection is up and
// every subscriber has seen its resync; always false on SQLite.
func (s *Store) Listening() bool { return s.events.up.Load() }

// Notify tells every process sharing the database (this one included)
// about ev.
func (s *Store) Notify(ctx context.Context, ev Event) error {
	if err := s.notifyTx(ctx, s.db, ev); err != nil {
		return err
	}
	s.events.deliver(ev)
	return nil
}

// notifyTx sends ev to the other replicas through x; inside a transaction,
// PostgreSQL delivers it when (and only if) the transaction commits. The
// caller delivers it to this process (s.events.deliver) after commit,
// whether or not the listener is up: the listener's echo of it is a
// harmless second delivery.
func (s *Store) notifyTx(ctx context.Context, x interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, ev Event) error {
	if s.engine != Postgres {
		return nil
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "notify", "%w", err)
	}
	if _, err := x.ExecContext(ctx, `SELECT pg_notify(?, ?)`, notifyChannel, string(payload)); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "notify", "%w", err)
	}
	return nil
}

// listen keeps a LISTEN connection up until ctx ends, delivering what it
// hears. Whenever the connection is down it delivers EventResync once per
// listenRetry: notifications sent meanwhile are lost, so caches are
// dropped instead (a short poll, in effect, until the listener is back).
func (s *Store) listen(ctx context.Context, done chan struct{}) {
	defer close(done)
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		_ = err // the next try says the same or succeeds; nothing to log to here
		s.events.deliver(Event{Kind: EventResync})
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listenOnce connects, listens and delivers events until the connection
// fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pgcfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	// Events sent while this connection was not up are lost: start clean.
	s.events.deliver(Event{Kind: EventResync})
	s.events.up.Store(true)
	defer s.events.up.Store(false)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ev Event
		if json.Unmarshal([]byte(n.Payload), &ev) != nil || ev.Kind == "" || ev.Kind == EventResync {
			continue // not crossbill's (or a newer version's): ignore
		}
		s.events.deliver(ev)
	}
}
