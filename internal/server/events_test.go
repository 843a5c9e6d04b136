package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/store"
)

// TestIngestEndReachesOtherReplicasCaches: two servers on one PostgreSQL
// database; when one announces a tenant's new cost data (an ingest's end),
// the other drops that tenant's cached answers and keeps the others'.
// Before, only the server that ran the ingest dropped them.
func TestIngestEndReachesOtherReplicasCaches(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	ctx := context.Background()
	open := func() *Server {
		st, err := store.OpenDatabase(ctx, t.TempDir(), url)
		if err != nil {
			t.Fatal(err)
		}
		// The listener, once connected, drops every cache (it may have
		// missed events): wait for that before caching anything.
		// Listening turns true only after every subscriber (the server's
		// included) has handled that resync; a watcher of the resync
		// event itself could subscribe after it was delivered.
		s := New(Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
		deadline := time.Now().Add(time.Minute)
		for !st.Listening() {
			if time.Now().After(deadline) {
				t.Fatal("the listen connection did not come up in a minute")
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Cleanup(func() {
			s.Wait()
			st.Close()
		})
		return s
	}
	a, b := open(), open()
	answer := func(context.Context) ([]byte, error) { return []byte(`{"rows":[]}`), nil }
	for _, tenant := range []crossbill.TenantID{"acme", "beta"} {
		if _, err := b.costs.get(ctx, tenant, "q", answer); err != nil {
			t.Fatal(err)
		}
	}
	a.costsChanged(ctx, "acme")
	deadline := time.Now().Add(20 * time.Second)
	for b.costs.stats().TenantBytes["acme"] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the other replica kept acme's answers after acme's ingest")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b.costs.stats().TenantBytes["beta"] == 0 {
		t.Fatal("beta's answers were dropped by acme's ingest")
	}
}
