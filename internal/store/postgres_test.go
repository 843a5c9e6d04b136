package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/store"
)

// postgresOnly skips a test on the SQLite pass: it is about what several
// processes sharing one PostgreSQL database do.
func postgresOnly(t *testing.T) string {
	t.Helper()
	if engine != store.Postgres {
		t.Skip("PostgreSQL only: replicas share a PostgreSQL database, never a SQLite file")
	}
	return pgtest.Database(t)
}

// TestReplicasMigrateTogether: replicas starting at once on an empty
// database each apply every migration exactly once between them, and all
// start. Without the migration lock they race to create the same tables.
func TestReplicasMigrateTogether(t *testing.T) {
	t.Parallel()
	url := postgresOnly(t)
	ctx := context.Background()
	const replicas = 4
	stores := make([]*store.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = store.OpenDatabase(ctx, t.TempDir(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	var rows, versions int
	if err := stores[0].DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != versions || rows < 10 {
		t.Fatalf("schema_migrations: %d rows for %d versions", rows, versions)
	}
	if _, err := stores[replicas-1].CreateTenant(ctx, "acme"); err != nil {
		t.Fatalf("the migrated schema does not work: %v", err)
	}
}

// TestClaimersNeverShareAJob: two replicas (two connection pools) claiming
// from one queue concurrently run each job once.
func TestClaimersNeverShareAJob(t *testing.T) {
	t.Parallel()
	url := postgresOnly(t)
	ctx := context.Background()
	var replicas [2]*store.Store
	for i := range replicas {
		s, err := store.OpenDatabase(ctx, t.TempDir(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas[i] = s
	}
	acme, err := replicas[0].CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	const jobs = 60
	for i := range jobs {
		if _, err := replicas[0].EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, Kind: fmt.Sprintf("k%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claims := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for {
				got, err := replicas[w%2].ClaimDueJobs(ctx, store.Lease{Owner: fmt.Sprint("replica-", w%2), TTL: time.Minute}, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					claims[j.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claims) != jobs {
		t.Errorf("%d jobs claimed, want %d", len(claims), jobs)
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("job %s claimed %d times", id, n)
		}
	}
}

// TestTokenCapHoldsUnderConcurrency: concurrent creations never take a
// tenant past its cap. PostgreSQL evaluates concurrent INSERT ... SELECT
// counts side by side; SQLite has one writer at a time.
func TestTokenCapHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	ctx := context.Background()
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	const tries, max = 24, 5
	var mu sync.Mutex
	made := 0
	var wg sync.WaitGroup
	for range tries {
		wg.Go(func() {
			_, _, err := s.CreateTokenCapped(ctx, acme.ID, "ci", store.ScopeRead, max)
			if err == nil {
				mu.Lock()
				made++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if made != max {
		t.Fatalf("%d tokens made under a cap of %d", made, max)
	}
}

// TestPostgresTextIsBytewise: every text column of the schema (variant
// files included) sorts bytewise, as SQLite does, whatever the database's
// locale; a variant that forgets COLLATE "C" fails here.
func TestPostgresTextIsBytewise(t *testing.T) {
	t.Parallel()
	if engine != store.Postgres {
		t.Skip("PostgreSQL only: SQLite's TEXT is always bytewise")
	}
	s := MustOpen(t)
	rows, err := s.DB().QueryContext(context.Background(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'text' AND table_name <> 'schema_migrations'
		AND collation_name IS DISTINCT FROM 'C'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		t.Errorf("%s.%s sorts by the database's locale: declare it TEXT COLLATE \"C\"", table, column)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
