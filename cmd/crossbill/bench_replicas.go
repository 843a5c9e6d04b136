package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/loadtest"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// replicaBench is `bench serve --replicas N`.
type replicaBench struct {
	replicas, clients, jobs int
	duration                time.Duration
	killOne                 bool
}

// replicaBenchLease is the replicas' job lease: short, so that the jobs of
// a killed replica are taken over within the run.
const replicaBenchLease = 3 * time.Second

// ReplicaBenchResult is the load result plus what happened to the jobs.
type ReplicaBenchResult struct {
	loadtest.Result
	Replicas int    `json:"replicas"`
	Killed   string `json:"killed_replica,omitempty"`
	KilledAt string `json:"killed_at,omitempty"` // seconds into the run
	// Jobs enqueued during the run; Finished reached a final state with
	// one outcome (the store refuses a second: lease tokens), TakenOver of
	// them after their replica died, Unfinished did not.
	Jobs       int `json:"jobs"`
	Finished   int `json:"jobs_finished"`
	TakenOver  int `json:"jobs_taken_over"`
	Unfinished int `json:"jobs_unfinished"`
}

func (r ReplicaBenchResult) String() string {
	s := fmt.Sprintf("%d replicas: %s\njobs: %d enqueued, %d finished once (%d taken over from a dead replica), %d unfinished",
		r.Replicas, r.Result.String(), r.Jobs, r.Finished, r.TakenOver, r.Unfinished)
	if r.Killed != "" {
		s += fmt.Sprintf("\nkilled replica %s (kill -9) at %ss; errors by status: %v", r.Killed, r.KilledAt, r.ErrorsByCode)
	}
	return s
}

// benchReplicas prepares the demo organization (metadata in --database,
// cost files copied into each replica's data directory: the cost store is
// local to a replica), starts the replicas as `crossbill serve` processes,
// spreads the clients over them, enqueues jobs meanwhile and, with
// killOne, kills one replica halfway.
func benchReplicas(cmd *cobra.Command, app *App, o replicaBench) error {
	const op = "bench serve"
	ctx := cmd.Context()
	db := app.DatabaseURL()
	if !store.IsPostgresURL(db) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--replicas above 1 needs --database postgres://... (replicas share PostgreSQL, never a SQLite file); use a scratch database")
	}
	exe, err := os.Executable()
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "finding this program: %w", err)
	}
	dir, tenant, tokens, cleanup, err := benchData(cmd, app, db, o.clients)
	if err != nil {
		return err
	}
	defer cleanup()
	var procs []*serverProcess
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	var urls []string
	for i := range o.replicas {
		rdir := filepath.Join(dir, fmt.Sprintf("replica-%d", i))
		if err := copyCostFiles(dir, rdir); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "copying the cost store for replica %d: %w", i, err)
		}
		p, err := startServerProcess(ctx, exe, rdir, []string{"--database", db, "--replica-id", fmt.Sprintf("bench-r%d", i), "--job-lease", replicaBenchLease.String()})
		if err != nil {
			return err
		}
		procs = append(procs, p)
		urls = append(urls, p.url)
	}
	st, err := store.OpenDatabase(ctx, dir, db)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.TenantByName(ctx, tenant)
	if err != nil {
		return err
	}
	res := ReplicaBenchResult{Replicas: o.replicas, Jobs: o.jobs}
	// The jobs: verify jobs of connections that have no role yet, which
	// end at their first run with a final outcome (no retry, no AWS
	// call), so each should run once unless its replica dies under it.
	var jobIDs []string
	jobsDone := make(chan error, 1)
	go func() {
		var err error
		defer func() { jobsDone <- err }()
		for i := range o.jobs {
			var c store.Connection
			c, err = st.CreateConnection(ctx, store.NewConnection{TenantID: t.ID, ExternalID: crossbill.ExternalID(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)),
				HubPrincipal: "arn:aws:iam::111111111111:role/bench", Modules: []manifest.Module{manifest.ModuleCost}})
			if err != nil {
				return
			}
			var j store.Job
			if j, err = st.EnqueueJob(ctx, store.JobSpec{TenantID: t.ID, ConnectionID: c.ID, Kind: "verify", MaxAttempts: 3}); err != nil {
				return
			}
			jobIDs = append(jobIDs, j.ID)
			time.Sleep(o.duration * 8 / 10 / time.Duration(max(o.jobs, 1)))
		}
	}()
	killedAt := make(chan string, 1)
	if o.killOne {
		victim := procs[len(procs)-1]
		res.Killed = fmt.Sprintf("bench-r%d", len(procs)-1)
		start := time.Now()
		go func() {
			select {
			case <-time.After(o.duration / 2):
				victim.cmd.Process.Kill() //nolint:errcheck // the point
				killedAt <- fmt.Sprintf("%.1f", time.Since(start).Seconds())
			case <-ctx.Done():
			}
		}()
	}
	app.Progress("bench: %d clients for %s against %d replicas (%s)%s", o.clients, o.duration, o.replicas, strings.Join(urls, ", "),
		map[bool]string{true: "; one is killed halfway", false: ""}[o.killOne])
	lr, err := loadtest.Run(ctx, loadtest.Options{BaseURLs: urls, Tokens: tokens, Paths: benchPaths(tenant), Clients: o.clients, Duration: o.duration})
	if err != nil {
		return err
	}
	res.Result = lr
	select {
	case res.KilledAt = <-killedAt:
	default:
	}
	if err := <-jobsDone; err != nil {
		return err
	}
	// Jobs of a killed replica wait out its lease before another takes
	// them; then every job should be final.
	deadline := time.Now().Add(replicaBenchLease*4 + 30*time.Second)
	for {
		res.Finished, res.TakenOver, res.Unfinished = 0, 0, 0
		for _, id := range jobIDs {
			j, err := st.JobByID(ctx, t.ID, id)
			if err != nil {
				return err
			}
			switch {
			case j.FinishedAt == nil:
				res.Unfinished++
			default:
				res.Finished++
				if j.Attempts > 1 {
					res.TakenOver++
				}
			}
		}
		if res.Unfinished == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return app.Print(res, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, res.String())
		return err
	})
}

// copyCostFiles copies the cost store (DuckDB and Parquet files) of dir
// into dst, leaving out the metadata (in PostgreSQL here), the replica ID
// and the other replicas' directories.
func copyCostFiles(dir, dst string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "replica-") || rel == store.FileName || strings.HasPrefix(rel, store.FileName+"-") || rel == "replica-id" || strings.HasSuffix(rel, ".log") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
