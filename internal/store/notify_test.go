package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/store"
)

// recorder collects the events a store delivers.
func recorder(s *store.Store) chan store.Event {
	ch := make(chan store.Event, 64)
	s.Subscribe(func(ev store.Event) {
		select {
		case ch <- ev:
		default:
		}
	})
	return ch
}

// await waits for an event of kind (and id, if not "") and fails the test
// after a generous bound: the delivery is at once, the bound only stops a
// hung test.
func await(t *testing.T, ch chan store.Event, kind store.EventKind, id string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind && (id == "" || ev.ID == id) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s event for %q", kind, id)
		}
	}
}

// TestRevocationReachesEveryReplica: a token revoked through one store is
// announced to the subscribers of another store on the same database
// (PostgreSQL: LISTEN/NOTIFY), and of the same store (both engines).
func TestRevocationReachesEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().UTC()
	a, b := twoReplicas(t, &now)
	acme, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.CreateToken(ctx, acme.ID, "ci", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	local := recorder(a)
	var remote chan store.Event
	if engine == store.Postgres {
		remote = recorder(b)
		await(t, remote, store.EventResync, "") // the listener is up
	}
	if err := a.RevokeToken(ctx, acme.ID, false, tok.ID); err != nil {
		t.Fatal(err)
	}
	await(t, local, store.EventTokenRevoked, tok.ID)
	if remote != nil {
		await(t, remote, store.EventTokenRevoked, tok.ID)
	}
}

// TestListenerReconnects: when the listen connection is killed, the
// subscriber is told to drop its caches (events may be lost), and events
// sent after the listener is back arrive.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	url := postgresOnly(t)
	ctx := context.Background()
	a, err := store.OpenDatabase(ctx, t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.OpenDatabase(ctx, t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ch := recorder(b)
	await(t, ch, store.EventResync, "")
	res, err := a.DB().ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d listen connections terminated, want 1", n)
	}
	await(t, ch, store.EventResync, "") // down, then up again
	// Sent until received: the listener may still be reconnecting.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := a.Notify(ctx, store.Event{Kind: store.EventCostsChanged, ID: "t1"}); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-ch:
			if ev.Kind == store.EventCostsChanged {
				return
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event after the listener reconnected")
		}
	}
}
