// Package scheduler runs crossbill's background jobs (verify, ingest, ...)
// from the jobs table: due jobs are claimed, run by the runner registered for
// their kind, retried with exponential backoff and jitter, and periodic jobs
// re-enqueued; jobs left running by a stopped process resume on start.
//
// Several replicas may share one database: each claims jobs under a lease
// in its own name (Options.Owner) and heartbeats the jobs it runs; a job
// whose replica died is taken over by another once its lease expires, and
// a replica that loses a lease stops that job and records nothing.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Progress reports a running job's progress (0..1) with a short message.
type Progress func(fraction float64, message string)

// Runner does one job's work. It must return when ctx is canceled.
type Runner func(ctx context.Context, job store.Job, progress Progress) error

// Store is the part of the metadata store the scheduler uses.
type Store interface {
	ClaimDueJobs(ctx context.Context, lease store.Lease, limit int) ([]store.Job, error)
	HeartbeatJob(ctx context.Context, j store.Job, ttl time.Duration) error
	JobProgress(ctx context.Context, j store.Job, progress float64, message string) error
	FinishJob(ctx context.Context, j store.Job, out store.JobOutcome) (*store.Job, error)
	RequeueRunningJobs(ctx context.Context, owner string) (int, error)
	EnqueueJob(ctx context.Context, spec store.JobSpec) (store.Job, error)
}

var _ Store = (*store.Store)(nil)

// Options tune the scheduler; zero values take the defaults.
type Options struct {
	Poll        time.Duration // how often due jobs are looked for; default 1s
	Concurrency int           // jobs run at once; default 2 (the machine has 2 cores)
	JobTimeout  time.Duration // one attempt's limit; default 30m
	BaseBackoff time.Duration // first retry delay; default 30s, doubled per attempt
	MaxBackoff  time.Duration // default 1h
	Jitter      float64       // fraction of a delay drawn at random, default 0.2
	Now         func() time.Time
	Rand        func() float64 // in [0,1); default math/rand/v2
	// Owner is this replica's ID in job leases: unique among the
	// processes sharing the database, the same across restarts of one
	// (its previous process's jobs resume at once). Default "local".
	Owner string
	// Lease is how long a claimed job stays this replica's without a
	// heartbeat (heartbeats come every third of it): how soon another
	// replica takes over a job whose replica died. Default 1m.
	Lease time.Duration
}

// Scheduler claims and runs due jobs.
type Scheduler struct {
	store   Store
	log     *slog.Logger
	opts    Options
	runners map[string]Runner

	wake    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	running map[string]context.CancelFunc
	onEnd   func(store.Job, error) // observer, for metrics
}

// New makes a scheduler; register runners with Handle before Start.
func New(s Store, log *slog.Logger, opts Options) *Scheduler {
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 30 * time.Minute
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 30 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Hour
	}
	if opts.Jitter <= 0 {
		opts.Jitter = 0.2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Owner == "" {
		opts.Owner = "local"
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	return &Scheduler{store: s, log: log.With("component", "scheduler"), opts: opts, runners: map[string]Runner{},
		wake: make(chan struct{}, 1), running: map[string]context.CancelFunc{}}
}

// Handle registers the runner of a job kind.
func (s *Scheduler) Handle(kind string, r Runner) { s.runners[kind] = r }

// Kinds lists the registered job kinds.
func (s *Scheduler) Kinds() []string {
	out := make([]string, 0, len(s.runners))
	for k := range s.runners {
		out = append(out, k)
	}
	return out
}

// OnJobEnd sets an observer called after every attempt (err nil on success).
func (s *Scheduler) OnJobEnd(f func(store.Job, error)) { s.onEnd = f }

// Enqueue adds a job and wakes the scheduler.
func (s *Scheduler) Enqueue(ctx context.Context, spec store.JobSpec) (store.Job, error) {
	if _, ok := s.runners[spec.Kind]; !ok {
		return store.Job{}, crossbill.Errorf(crossbill.CodeInvalid, "job enqueue", "unknown job kind %q", spec.Kind)
	}
	j, err := s.store.EnqueueJob(ctx, spec)
	if err != nil {
		return store.Job{}, err
	}
	s.Wake()
	return j, nil
}

// Wake makes the scheduler look for due jobs now.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start requeues jobs a previous process of this replica left running (and
// any whose lease expired) and runs the loop until ctx is canceled; Wait
// waits for the loop and running jobs to end.
func (s *Scheduler) Start(ctx context.Context) error {
	n, err := s.store.RequeueRunningJobs(ctx, s.opts.Owner)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("resumed interrupted jobs", "count", n)
	}
	s.wg.Add(1)
	go s.loop(ctx)
	return nil
}

// Wait blocks until the loop and every running job have returned.
func (s *Scheduler) Wait() { s.wg.Wait() }

func (s *Scheduler) loop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		s.runDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Scheduler) runDue(ctx context.Context) {
	s.mu.Lock()
	free := s.opts.Concurrency - len(s.running)
	s.mu.Unlock()
	if free <= 0 || ctx.Err() != nil {
		return
	}
	jobs, err := s.store.ClaimDueJobs(ctx, store.Lease{Owner: s.opts.Owner, TTL: s.opts.Lease}, free)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("claiming due jobs", "err", err)
		}
		return
	}
	for _, j := range jobs {
		jctx, cancel := context.WithTimeout(ctx, s.opts.JobTimeout)
		s.mu.Lock()
		s.running[j.ID] = cancel
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				cancel()
				s.mu.Lock()
				delete(s.running, j.ID)
				s.mu.Unlock()
				s.Wake() // a slot is free
			}()
			s.run(ctx, jctx, j, s.heartbeat(jctx, cancel, j))
		}()
	}
}

// heartbeat extends j's lease every third of it until stopped. When the
// lease is lost (another replica took the job over, or heartbeats failed
// for a whole lease so another may have), it cancels the job (cancel) and
// marks it lost. Stop it before recording the outcome: once the outcome
// ends the lease, a heartbeat would find it gone.
func (s *Scheduler) heartbeat(jctx context.Context, cancel context.CancelFunc, j store.Job) *beat {
	ctx, stop := context.WithCancel(jctx)
	b := &beat{lost: make(chan struct{}), done: make(chan struct{}), stop: stop}
	lost := b.lost
	go func() {
		defer close(b.done)
		t := time.NewTicker(s.opts.Lease / 3)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := s.store.HeartbeatJob(ctx, j, s.opts.Lease)
			switch {
			case err == nil:
				last = time.Now()
				continue
			case ctx.Err() != nil:
				return
			case crossbill.ErrorCode(err) != crossbill.CodeConflict && time.Since(last) < s.opts.Lease:
				s.log.Warn("job heartbeat failed; retrying", "job", j.ID, "err", err)
				continue
			}
			s.log.Warn("job lease lost: stopping the job, another replica runs it", "job", j.ID, "kind", j.Kind, "err", err)
			close(lost)
			cancel()
			return
		}
	}()
	return b
}

// beat is a running job's heartbeat.
type beat struct {
	lost, done chan struct{}
	stop       context.CancelFunc
}

// end stops the heartbeat and reports whether the lease was lost.
func (b *beat) end() (lost bool) {
	b.stop()
	<-b.done
	select {
	case <-b.lost:
		return true
	default:
		return false
	}
}

// run does one attempt and records its outcome. parent is the scheduler's
// context: when it ends (shutdown) the job is left for RequeueRunningJobs
// rather than counted as failed. When lost closes, the lease passed to
// another replica: nothing is recorded.
func (s *Scheduler) run(parent, ctx context.Context, j store.Job, hb *beat) {
	log := s.log.With("job", j.ID, "kind", j.Kind, "tenant", j.TenantID, "connection", j.ConnectionID, "attempt", j.Attempts, "replica", s.opts.Owner)
	r, ok := s.runners[j.Kind]
	var err error
	if !ok {
		err = crossbill.Errorf(crossbill.CodeInternal, "job run", "no runner for job kind %q in this build", j.Kind)
	} else {
		log.Info("job started")
		err = safeRun(ctx, r, j, func(f float64, msg string) {
			// Progress is advisory: a failed write must not fail the job.
			if perr := s.store.JobProgress(context.WithoutCancel(ctx), j, f, msg); perr != nil {
				log.Warn("recording progress", "err", perr)
			}
		})
	}
	if parent.Err() != nil {
		if hb.end() {
			return
		}
		// Released now rather than at its lease's end, its attempt not
		// counted: another replica (or this one's next start) resumes it.
		rel := store.JobOutcome{Defer: s.opts.Now(), Err: errors.New("interrupted by a replica's shutdown; resumed by the next replica to claim it")}
		if _, err := s.store.FinishJob(context.WithoutCancel(parent), j, rel); err != nil {
			log.Warn("releasing the job at shutdown; it resumes when its lease expires", "err", err)
		}
		log.Info("job interrupted by shutdown; released to the queue")
		return
	}
	if hb.end() {
		return // logged by heartbeat; the new holder records the outcome
	}
	if s.onEnd != nil {
		s.onEnd(j, err)
	}
	now := s.opts.Now()
	out := store.JobOutcome{Err: err}
	if j.IntervalSec > 0 {
		out.NextRunAt = now.Add(s.jittered(time.Duration(j.IntervalSec) * time.Second))
	}
	var deferred *DeferError
	switch {
	case errors.As(err, &deferred):
		out.Defer, out.Err = deferred.Until, deferred.Err
	case err != nil && retryable(err):
		out.RetryAt = now.Add(s.Backoff(j.Attempts))
	}
	next, ferr := s.store.FinishJob(context.WithoutCancel(parent), j, out)
	switch {
	case crossbill.ErrorCode(ferr) == crossbill.CodeConflict:
		log.Warn("job outcome dropped: its lease passed to another replica", "err", ferr)
	case ferr != nil:
		log.Error("recording job outcome", "err", ferr)
	case deferred != nil:
		log.Info("job deferred", "reason", deferred.Err, "until", deferred.Until)
	case err == nil:
		log.Info("job succeeded")
	case !out.RetryAt.IsZero() && j.Attempts < j.MaxAttempts:
		log.Warn("job failed; will retry", "err", err, "code", crossbill.ErrorCode(err), "retry_at", out.RetryAt)
	default:
		log.Error("job failed", "err", err, "code", crossbill.ErrorCode(err))
	}
	if next != nil {
		log.Debug("next periodic run", "next_job", next.ID, "at", next.NextRunAt)
	}
}

func safeRun(ctx context.Context, r Runner, j store.Job, p Progress) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = crossbill.Errorf(crossbill.CodeInternal, "job run", "job %s panicked: %v", j.Kind, v)
		}
	}()
	return r(ctx, j, p)
}

// DeferError asks the scheduler to put the job back in the queue until
// Until without counting the attempt: it could not start for a reason
// outside itself (its connection awaits a re-verify). Err says why.
type DeferError struct {
	Until time.Time
	Err   error
}

func (e *DeferError) Error() string {
	return fmt.Sprintf("deferred until %s: %v", e.Until.Format(time.RFC3339), e.Err)
}
func (e *DeferError) Unwrap() error { return e.Err }

// retryable: bad input and missing things do not fix themselves; denials
// might (a role still propagating, an SCP being changed), throttling and
// outages do. Refused credentials do not, unless the network caused the
// refusal (a credentials refresh cut off on its way).
func retryable(err error) bool {
	switch crossbill.ErrorCode(err) {
	case crossbill.CodeInvalid, crossbill.CodeConflict:
		return false
	case crossbill.CodeUnauthorized:
		return networkCause(err)
	}
	return true
}

// networkCause reports whether err's chain holds a network failure.
func networkCause(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// Backoff is the delay before attempt n+1 after n failed attempts:
// BaseBackoff doubled per attempt, capped at MaxBackoff, with jitter so that
// many connections failing together do not retry together.
func (s *Scheduler) Backoff(attempts int) time.Duration {
	d := s.opts.BaseBackoff
	for i := 1; i < attempts && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	return s.jittered(min(d, s.opts.MaxBackoff))
}

// jittered spreads d by ±Jitter/2.
func (s *Scheduler) jittered(d time.Duration) time.Duration {
	f := 1 + s.opts.Jitter*(s.opts.Rand()-0.5)
	return time.Duration(float64(d) * f)
}

// String describes the configuration, for the startup log.
func (s *Scheduler) String() string {
	return fmt.Sprintf("scheduler(replica=%s lease=%s concurrency=%d poll=%s backoff=%s..%s)", s.opts.Owner, s.opts.Lease, s.opts.Concurrency, s.opts.Poll, s.opts.BaseBackoff, s.opts.MaxBackoff)
}
