package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// Job kinds of the replica test: jobCount records each run in a file (to
// count runs across processes); jobLoad is a real ingest of a local export
// whose first attempt stops just before the load commits, to be killed
// there.
const (
	jobCount = "count"
	jobLoad  = "load"
)

// replicaLease is the replicas' lease in the test: short, so that a
// killed replica's job is taken over within seconds, yet long enough that
// a replica starved of CPU (CI runs every package at once on 2 cores)
// still renews its lease in time and no job runs twice.
const replicaLease = 4 * time.Second

// TestReplicaChild is one replica of TestThreeReplicas, a process of its
// own: server.Main (what `crossbill serve` runs) on the shared PostgreSQL
// database, with its own data directory. It reports on stdout.
func TestReplicaChild(t *testing.T) {
	id := os.Getenv("CROSSBILL_REPLICA")
	if id == "" {
		t.Skip("run by TestThreeReplicas")
	}
	runs, export := os.Getenv("CROSSBILL_REPLICA_RUNS"), os.Getenv("CROSSBILL_REPLICA_EXPORT")
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	m := &server.Main{}
	m.Addr, m.DataDir, m.Database, m.ReplicaID, m.JobLease = "127.0.0.1:0", os.Getenv("CROSSBILL_REPLICA_DIR"), os.Getenv("CROSSBILL_REPLICA_DB"), id, replicaLease
	m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	m.Runners = map[string]scheduler.Runner{
		jobCount: func(_ context.Context, j store.Job, _ scheduler.Progress) error {
			// One file per run: the parent counts the runs of each job.
			return os.WriteFile(filepath.Join(runs, fmt.Sprintf("%s.%s.%d", j.ID, id, j.Attempts)), nil, 0o600)
		},
		jobLoad: func(ctx context.Context, j store.Job, _ scheduler.Progress) error {
			_, err := ingest.Ingest(ctx, m.Costs(), ingest.Options{Source: export, Tenant: j.TenantID, Progress: func(format string, args ...any) {
				if j.Attempts == 1 && strings.Contains(fmt.Sprintf(format, args...), "loading") {
					say("HOLDING %s", j.ID) // files fetched, load not committed: kill here
					time.Sleep(time.Hour)
				}
			}})
			if err != nil {
				return err
			}
			m.Server().InvalidateCosts(j.TenantID)
			rows, err := m.Costs().DB().QueryContext(ctx, `SELECT billing_period, COUNT(*) FROM line_items WHERE tenant = ? GROUP BY 1 ORDER BY 1`, string(j.TenantID))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var p string
				var n int64
				if err := rows.Scan(&p, &n); err != nil {
					return err
				}
				say("PERIOD %s %s %d", j.ID, p, n)
			}
			return rows.Err()
		},
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	say("URL %s", m.URL())
	if m.BootstrapToken != "" {
		say("TOKEN %s", m.BootstrapToken)
	}
	time.Sleep(time.Hour)
}

// replica is a running replica process and the lines it printed.
type replica struct {
	id    string
	cmd   *exec.Cmd
	url   string
	lines chan string
}

// startReplica starts TestReplicaChild as replica id and waits for its URL.
func startReplica(t *testing.T, id, db, runs, export string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CROSSBILL_REPLICA="+id, "CROSSBILL_REPLICA_DB="+db, "CROSSBILL_REPLICA_DIR="+t.TempDir(),
		"CROSSBILL_REPLICA_RUNS="+runs, "CROSSBILL_REPLICA_EXPORT="+export)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{id: id, cmd: cmd, lines: make(chan string, 1000)}
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck // may be dead already
		cmd.Wait()         //nolint:errcheck // killed
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	r.url = r.await(t, "URL ")
	return r
}

// await returns the rest of the first line starting with prefix.
func (r *replica) await(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				t.Fatalf("replica %s exited before printing %q", r.id, prefix)
			}
			if v, ok := strings.CutPrefix(l, prefix); ok {
				return v
			}
		case <-deadline:
			t.Fatalf("replica %s printed no %q", r.id, prefix)
		}
	}
}

func (r *replica) get(t *testing.T, path, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("replica %s: %v", r.id, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestThreeReplicas runs three server processes on one PostgreSQL
// database: a token revoked through one is refused by the others at once
// (not after their token cache's TTL); jobs enqueued together each run and
// succeed once across the replicas; and a replica killed (SIGKILL) while
// it holds an ingest has the ingest taken over by another once its lease
// expires, which loads the billing period whole.
func TestThreeReplicas(t *testing.T) {
	t.Parallel()
	db := pgtest.Database(t)
	ctx := context.Background()
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 7, Accounts: 1, Months: 1,
		Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(gen.Dir, gen.Prefix, gen.Export)
	runs := t.TempDir()
	first := startReplica(t, "r0", db, runs, export)
	op := first.await(t, "TOKEN ")
	rs := []*replica{first}
	for _, id := range []string{"r1", "r2"} {
		rs = append(rs, startReplica(t, id, db, runs, export))
	}
	st, err := store.OpenDatabase(ctx, t.TempDir(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acme, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("revocation", func(t *testing.T) {
		tok, secret, err := st.CreateToken(ctx, acme.ID, "ci", store.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		cachedAt := map[*replica]time.Time{}
		for _, r := range rs {
			cachedAt[r] = time.Now()
			if code := r.get(t, "/api/v1/me", string(secret)); code != 200 {
				t.Fatalf("replica %s before revocation: %d", r.id, code)
			}
		}
		req, _ := http.NewRequest(http.MethodDelete, rs[0].url+"/api/v1/tenants/acme/tokens/"+tok.ID, nil)
		req.Header.Set("Authorization", "Bearer "+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		revoked := time.Now()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke through r0: %d", resp.StatusCode)
		}
		// The others cached the token a moment ago; the notification
		// reaches them in milliseconds, their cache's expiry only
		// server.TokenCacheTTL after they cached it. A refusal seen before
		// that is the notification's doing.
		for _, r := range rs[1:] {
			for {
				code := r.get(t, "/api/v1/me", string(secret))
				if time.Since(cachedAt[r]) >= server.TokenCacheTTL {
					t.Fatalf("replica %s accepted the revoked token until its cache expired", r.id)
				}
				if code == http.StatusUnauthorized {
					break
				}
				if code != 200 {
					t.Fatalf("replica %s: %d", r.id, code)
				}
				time.Sleep(50 * time.Millisecond) // under the token's rate limit
			}
			t.Logf("replica %s refused the revoked token %s after revocation", r.id, time.Since(revoked).Round(time.Millisecond))
		}
	})

	t.Run("jobs-once", func(t *testing.T) {
		const n = 30
		ids := make([]string, n)
		for i := range n {
			j, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, ConnectionID: crossbill.ConnectionID(fmt.Sprint("c", i)), Kind: jobCount})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = j.ID
		}
		byReplica := map[string]int{}
		for _, id := range ids {
			j := waitDone(t, st, acme.ID, id)
			if j.Status != store.JobSucceeded || j.Attempts != 1 {
				t.Errorf("job %s: %s after %d attempts, want succeeded after 1", id, j.Status, j.Attempts)
			}
			byReplica[j.LeaseOwner]++
			if files, _ := filepath.Glob(filepath.Join(runs, id+".*")); len(files) != 1 {
				t.Errorf("job %s ran %d times: %v", id, len(files), files)
			}
		}
		t.Logf("jobs run per replica: %v", byReplica)
		// The API says which replica ran a job.
		req, _ := http.NewRequest(http.MethodGet, rs[1].url+"/api/v1/tenants/acme/jobs/"+ids[0], nil)
		req.Header.Set("Authorization", "Bearer "+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ Replica string }
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Replica == "" || byReplica[got.Replica] == 0 {
			t.Errorf("job %s through the API: replica %q, %v", ids[0], got.Replica, err)
		}
	})

	t.Run("kill-during-ingest", func(t *testing.T) {
		j, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: acme.ID, Kind: jobLoad})
		if err != nil {
			t.Fatal(err)
		}
		holder := awaitAny(t, rs, "HOLDING "+j.ID)
		if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		done := waitDone(t, st, acme.ID, j.ID)
		if done.Status != store.JobSucceeded || done.Attempts != 2 || done.LeaseOwner == holder.id || done.LeaseOwner == "" {
			t.Fatalf("after killing %s: %+v", holder.id, done)
		}
		t.Logf("replica %s killed holding the ingest; %s finished it %s later", holder.id, done.LeaseOwner, time.Since(killed).Round(time.Millisecond))
		var finisher *replica
		for _, r := range rs {
			if r.id == done.LeaseOwner {
				finisher = r
			}
		}
		if finisher == nil {
			t.Fatalf("no replica named %q", done.LeaseOwner)
		}
		for _, m := range gen.Months {
			line := finisher.await(t, "PERIOD "+j.ID+" ")
			p, count, _ := strings.Cut(line, " ")
			if n, _ := strconv.ParseInt(count, 10, 64); p != m.Period || n != m.Rows {
				t.Errorf("period %s: %d line items loaded by %s, the export has %d in %s", p, n, finisher.id, m.Rows, m.Period)
			}
		}
		for _, r := range rs {
			if r != holder && r.get(t, "/healthz", "") != 200 {
				t.Errorf("replica %s not healthy after %s was killed", r.id, holder.id)
			}
		}
	})
}

// awaitAny waits for a line from any replica, returning the one that
// printed it (other lines are dropped).
func awaitAny(t *testing.T, rs []*replica, line string) *replica {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		for _, r := range rs {
			select {
			case l := <-r.lines:
				if l == line {
					return r
				}
			default:
			}
		}
		select {
		case <-deadline:
			t.Fatalf("no replica printed %q", line)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitDone polls the job until it succeeded or failed.
func waitDone(t *testing.T, st *store.Store, tenant crossbill.TenantID, id string) store.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j, err := st.JobByID(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == store.JobSucceeded || j.Status == store.JobFailed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
