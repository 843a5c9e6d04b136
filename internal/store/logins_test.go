package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestPendingLogins: a started sign-in is taken once only, even by
// callbacks racing on two store handles (two replicas); expired ones are
// dropped; too many in progress are throttled.
func TestPendingLogins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, db := t.TempDir(), database(t)
	a, err := store.OpenDatabase(ctx, dir, db)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.OpenDatabase(ctx, dir, db) // a second replica on the same database
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	a.SetClock(func() time.Time { return now })

	for i := range 20 {
		p := store.PendingLogin{StateHash: fmt.Sprintf("s%d", i), Provider: "corp", BrowserHash: "bh", Sealed: "x", ExpiresAt: now.Add(10 * time.Minute)}
		if err := a.StartLogin(ctx, p, 100); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []store.PendingLogin
		for _, s := range []*store.Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.TakeLogin(ctx, p.StateHash)
				if err == nil {
					mu.Lock()
					won = append(won, got)
					mu.Unlock()
				} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 || won[0].Provider != "corp" || won[0].BrowserHash != "bh" || won[0].Sealed != "x" || !won[0].ExpiresAt.Equal(p.ExpiresAt) {
			t.Fatalf("state %d taken %d times: %+v", i, len(won), won)
		}
	}

	if err := a.StartLogin(ctx, store.PendingLogin{StateHash: "old", Provider: "corp", BrowserHash: "bh", Sealed: "x", ExpiresAt: now.Add(time.Minute)}, 2); err != nil {
		t.Fatal(err)
	}
	if err := a.StartLogin(ctx, store.PendingLogin{StateHash: "new", Provider: "corp", BrowserHash: "bh", Sealed: "x", ExpiresAt: now.Add(10 * time.Minute)}, 2); err != nil {
		t.Fatal(err)
	}
	if err := a.StartLogin(ctx, store.PendingLogin{StateHash: "full", Provider: "corp", BrowserHash: "bh", Sealed: "x", ExpiresAt: now.Add(10 * time.Minute)}, 2); crossbill.ErrorCode(err) != crossbill.CodeThrottled {
		t.Fatalf("over the bound: %v", err)
	}
	now = now.Add(2 * time.Minute) // "old" expired: the next start drops it and finds room
	if err := a.StartLogin(ctx, store.PendingLogin{StateHash: "later", Provider: "corp", BrowserHash: "bh", Sealed: "x", ExpiresAt: now.Add(10 * time.Minute)}, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TakeLogin(ctx, "old"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("expired sign-in still there: %v", err)
	}
	if _, err := b.TakeLogin(ctx, "new"); err != nil {
		t.Fatal(err)
	}
}
