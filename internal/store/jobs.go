package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// JobStatus is where a job is in its life.
type JobStatus string

// Job statuses. queued and retrying jobs are due at NextRunAt.
const (
	JobQueued    JobStatus = "queued"
	JobRunning   JobStatus = "running"
	JobRetrying  JobStatus = "retrying"
	JobSucceeded JobStatus = "succeeded"
	JobFailed    JobStatus = "failed"
	JobCanceled  JobStatus = "canceled"
)

// Job is one run (with its retries) of background work for a tenant.
type Job struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id,omitempty"`
	Kind         string                 `json:"kind"`
	Status       JobStatus              `json:"status"`
	Progress     float64                `json:"progress"`
	Message      string                 `json:"message,omitempty"`
	Attempts     int                    `json:"attempts"`
	MaxAttempts  int                    `json:"max_attempts"`
	LastError    string                 `json:"last_error,omitempty"`
	ErrorCode    crossbill.Code         `json:"error_code,omitempty"`
	Interval     time.Duration          `json:"-"`
	IntervalSec  int64                  `json:"interval_seconds,omitempty"`
	Params       json.RawMessage        `json:"params,omitempty"`
	NextRunAt    time.Time              `json:"next_run_at"`
	StartedAt    *time.Time             `json:"started_at,omitempty"`
	FinishedAt   *time.Time             `json:"finished_at,omitempty"`
	CreatedAt    time.Time              `json:"created_at"`
	UpdatedAt    time.Time              `json:"updated_at"`
	// The lease: the replica running (or that last ran) the job, until
	// when its claim holds, and the claim's fencing token (see ClaimDueJobs).
	LeaseOwner string     `json:"replica,omitempty"`
	LeaseUntil *time.Time `json:"lease_expires_at,omitempty"`
	LeaseToken int64      `json:"-"`
}

// leaseLost says why a write by a replica whose claim on a job has passed
// to another is refused (CodeConflict): its heartbeat, progress or outcome.
const leaseLost = "the job's lease expired and another replica took it over; this replica's outcome is dropped"

// Lease is how a replica claims jobs: as Owner (a replica ID, unique among
// the processes sharing the database) for TTL, renewed by HeartbeatJob.
type Lease struct {
	Owner string
	TTL   time.Duration
}

// JobSpec asks for a job.
type JobSpec struct {
	TenantID     crossbill.TenantID
	ConnectionID crossbill.ConnectionID
	Kind         string
	RunAt        time.Time     // zero: now
	MaxAttempts  int           // zero: 5
	Interval     time.Duration // > 0: re-enqueue this long after each finish
	Params       json.RawMessage
}

// EnqueueJob adds a job, unless one of the same kind for the same tenant and
// connection is already queued, retrying or running: then that one is
// returned (a second verify while one waits would do the same work twice),
// its next run moved earlier when the new request is due sooner (a verify
// asked for in five minutes must not wait for the daily one).
func (s *Store) EnqueueJob(ctx context.Context, spec JobSpec) (Job, error) {
	const op = "job enqueue"
	if spec.Kind == "" || spec.TenantID == "" {
		return Job{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a job needs a kind and a tenant")
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	j, err := s.enqueue(ctx, tx, spec)
	if err != nil {
		return Job{}, err
	}
	if err := tx.Commit(); err != nil {
		return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return j, nil
}

// enqueue is EnqueueJob inside a transaction.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, spec JobSpec) (Job, error) {
	const op = "job enqueue"
	row := tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE tenant_id = ? AND connection_id = ? AND kind = ? AND status IN ('queued', 'retrying', 'running') ORDER BY created_at LIMIT 1`,
		string(spec.TenantID), string(spec.ConnectionID), spec.Kind)
	now := s.now()
	runAt := spec.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	if j, err := scanJob(row); err == nil {
		if j.Status == JobRunning || !runAt.Before(j.NextRunAt) {
			return j, nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET next_run_at = ?, updated_at = ? WHERE id = ?`, formatStamp(runAt), formatStamp(now), j.ID); err != nil {
			return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		j.NextRunAt, j.UpdatedAt = runAt, now
		return j, nil
	} else if err != sql.ErrNoRows {
		return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	j := Job{
		ID: "job_" + uuid.NewString()[:18], TenantID: spec.TenantID, ConnectionID: spec.ConnectionID, Kind: spec.Kind,
		Status: JobQueued, MaxAttempts: spec.MaxAttempts, Interval: spec.Interval, IntervalSec: int64(spec.Interval / time.Second),
		Params: spec.Params, NextRunAt: runAt, CreatedAt: now, UpdatedAt: now,
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 5
	}
	if len(j.Params) == 0 {
		j.Params = json.RawMessage(`{}`)
	}
	if !json.Valid(j.Params) {
		return Job{}, crossbill.Errorf(crossbill.CodeInvalid, op, "job params are not valid JSON")
	}
	// Another replica may have inserted the same key since the SELECT: the
	// unique index jobs_one_live keeps one, and that one is the answer.
	res, err := tx.ExecContext(ctx, `INSERT INTO jobs(id, tenant_id, connection_id, kind, status, max_attempts, interval_seconds, params, next_run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		j.ID, string(j.TenantID), string(j.ConnectionID), j.Kind, string(j.Status), j.MaxAttempts, j.IntervalSec, string(j.Params),
		formatStamp(j.NextRunAt), formatStamp(now), formatStamp(now))
	if err != nil {
		return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	} else if n == 0 {
		row := tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE tenant_id = ? AND connection_id = ? AND kind = ? AND status IN ('queued', 'retrying', 'running') LIMIT 1`,
			string(spec.TenantID), string(spec.ConnectionID), spec.Kind)
		j, err := scanJob(row)
		if err != nil {
			return Job{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		return j, nil
	}
	return j, nil
}

// ClaimDueJobs marks up to limit due jobs running under lease and returns
// them, in one transaction. Due are queued and retrying jobs whose time has
// come, and running jobs whose lease has expired: their replica died or
// lost the database, and this one takes them over. Each claim increments
// the job's lease token; the returned jobs carry it, and the replica's
// later writes (HeartbeatJob, JobProgress, FinishJob) only apply while it
// is still the job's token. On PostgreSQL the due rows are locked as they
// are read and rows another claimer holds are skipped, so claimers sharing
// the database never take the same job; SQLite has one writer at a time.
func (s *Store) ClaimDueJobs(ctx context.Context, lease Lease, limit int) ([]Job, error) {
	const op = "job claim"
	if lease.Owner == "" || lease.TTL <= 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "a claim needs an owner and a lease duration")
	}
	now := s.now()
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// Leases are measured by the database's clock, the one clock every
	// replica shares: a replica whose own clock runs ahead cannot see a
	// live lease as expired, nor one running behind keep a dead one.
	dbNow, err := s.dbNow(ctx, tx)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	lock := ""
	if s.engine == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE (status IN ('queued', 'retrying') AND next_run_at <= ?) OR (status = 'running' AND lease_until < ?)
		ORDER BY next_run_at LIMIT ?`+lock,
		formatStamp(now), formatStamp(dbNow), limit)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	var jobs []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	until := dbNow.Add(lease.TTL)
	for i := range jobs {
		j := &jobs[i]
		msg := j.Message
		if j.Status == JobRunning {
			msg = "taken over from replica " + j.LeaseOwner + " after its lease expired"
		}
		j.Status, j.Attempts, j.StartedAt, j.UpdatedAt, j.Message = JobRunning, j.Attempts+1, &now, now, msg
		j.LeaseOwner, j.LeaseUntil, j.LeaseToken = lease.Owner, &until, j.LeaseToken+1
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'running', attempts = attempts + 1, message = ?, started_at = ?, updated_at = ?,
			lease_owner = ?, lease_until = ?, lease_token = ? WHERE id = ?`,
			msg, formatStamp(now), formatStamp(now), lease.Owner, formatStamp(until), j.LeaseToken, j.ID); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return jobs, nil
}

// HeartbeatJob extends the lease of a job this replica runs to ttl from
// now. It fails with CodeConflict when the claim is no longer this
// replica's (the lease expired and another took the job over, or the job
// ended): the replica must stop the job.
func (s *Store) HeartbeatJob(ctx context.Context, j Job, ttl time.Duration) error {
	now, err := s.dbNow(ctx, s.db)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "job heartbeat", "%w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running' AND lease_token = ?`,
		formatStamp(now.Add(ttl)), j.ID, j.LeaseToken)
	return fenced(res, err, "job heartbeat")
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dbNow reads the database's clock (PostgreSQL's now(), the transaction's
// start; SQLite's own reading of the host's clock), which measures job
// leases whatever the replicas' clocks say.
func (s *Store) dbNow(ctx context.Context, q rowQuerier) (time.Time, error) {
	if s.dbClock != nil {
		return s.dbClock().UTC(), nil
	}
	stmt := `SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
	if s.engine == Postgres {
		stmt = `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
	}
	var v string
	if err := q.QueryRowContext(ctx, stmt).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("reading the database's clock: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("the database's clock reads %q: %w", v, err)
	}
	return t.UTC(), nil
}

// fenced turns a fenced UPDATE's result into an error: CodeConflict when it
// matched no row (the lease token moved on).
func fenced(res sql.Result, err error, op string) error {
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n == 0 {
		return crossbill.Errorf(crossbill.CodeConflict, op, leaseLost)
	}
	return nil
}

// JobProgress records a running job's progress (0..1) and message, while
// the claim j was returned with holds (else CodeConflict).
func (s *Store) JobProgress(ctx context.Context, j Job, progress float64, message string) error {
	progress = min(max(progress, 0), 1)
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_token = ?`,
		progress, message, formatStamp(s.now()), j.ID, j.LeaseToken)
	return fenced(res, err, "job progress")
}

// JobOutcome is how a run ended.
type JobOutcome struct {
	// Defer, when set, puts the job back in the queue until then without
	// counting the attempt: it could not start for a reason outside itself
	// (its connection awaits a re-verify). Err says why.
	Defer     time.Time
	Err       error     // nil: succeeded
	RetryAt   time.Time // when Err is set and attempts remain: next attempt
	NextRunAt time.Time // for periodic jobs: when the successor runs
}

// FinishJob records a run's end: succeeded, retrying (attempts remain) or
// failed. A periodic job that succeeded or failed for good enqueues its
// successor; the returned job is that successor, if any. The outcome is
// fenced by j's lease token: if another replica took the job over since j
// was claimed, nothing is written and the error is CodeConflict, so a job
// finishes (and enqueues its successor) once.
func (s *Store) FinishJob(ctx context.Context, j Job, out JobOutcome) (*Job, error) {
	const op = "job finish"
	now := s.now()
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	final := true
	// Every outcome ends the lease (lease_until NULL) and applies only
	// while j's claim holds.
	const fence = `, lease_until = NULL WHERE id = ? AND status = 'running' AND lease_token = ?`
	var res sql.Result
	switch {
	case !out.Defer.IsZero():
		final = false
		msg := ""
		if out.Err != nil {
			msg = out.Err.Error()
		}
		res, err = tx.ExecContext(ctx, `UPDATE jobs SET status = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, message = ?, next_run_at = ?, updated_at = ?`+fence,
			msg, formatStamp(out.Defer), formatStamp(now), j.ID, j.LeaseToken)
	case out.Err == nil:
		res, err = tx.ExecContext(ctx, `UPDATE jobs SET status = 'succeeded', progress = 1, last_error = '', error_code = '', finished_at = ?, updated_at = ?`+fence,
			formatStamp(now), formatStamp(now), j.ID, j.LeaseToken)
	case j.Attempts < j.MaxAttempts && !out.RetryAt.IsZero():
		final = false
		res, err = tx.ExecContext(ctx, `UPDATE jobs SET status = 'retrying', last_error = ?, error_code = ?, next_run_at = ?, updated_at = ?`+fence,
			out.Err.Error(), string(crossbill.ErrorCode(out.Err)), formatStamp(out.RetryAt), formatStamp(now), j.ID, j.LeaseToken)
	default:
		res, err = tx.ExecContext(ctx, `UPDATE jobs SET status = 'failed', last_error = ?, error_code = ?, finished_at = ?, updated_at = ?`+fence,
			out.Err.Error(), string(crossbill.ErrorCode(out.Err)), formatStamp(now), formatStamp(now), j.ID, j.LeaseToken)
	}
	if err := fenced(res, err, op); err != nil {
		return nil, err
	}
	// The successor is enqueued in the same transaction: nobody sees a
	// finished periodic job without its next run.
	var next *Job
	if final && j.IntervalSec > 0 {
		n, err := s.enqueue(ctx, tx, JobSpec{
			TenantID: j.TenantID, ConnectionID: j.ConnectionID, Kind: j.Kind, RunAt: out.NextRunAt,
			MaxAttempts: j.MaxAttempts, Interval: time.Duration(j.IntervalSec) * time.Second, Params: j.Params,
		})
		if err != nil {
			return nil, err
		}
		next = &n
	}
	if err := tx.Commit(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return next, nil
}

// RequeueRunningJobs puts back in the queue, due now, the running jobs
// that no live replica holds: those of owner (this replica's ID: its
// previous process was stopped or killed), those whose lease expired, and
// those claimed before jobs had leases. Jobs other replicas hold under a
// live lease are left alone. It returns how many there were; call it
// before the scheduler starts.
func (s *Store) RequeueRunningJobs(ctx context.Context, owner string) (int, error) {
	now := formatStamp(s.now())
	dbNow, err := s.dbNow(ctx, s.db)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, "job requeue", "%w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET status = 'queued', message = 'resumed after restart', next_run_at = ?, updated_at = ?, lease_until = NULL
		WHERE status = 'running' AND (lease_owner = ? OR lease_owner = '' OR lease_until IS NULL OR lease_until < ?)`, now, now, owner, formatStamp(dbNow))
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, "job requeue", "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, "job requeue", "%w", err)
	}
	return int(n), nil
}

// JobByID returns one of a tenant's jobs; another tenant's job is NotFound.
func (s *Store) JobByID(ctx context.Context, tenant crossbill.TenantID, id string) (Job, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE tenant_id = ? AND id = ?`, string(tenant), id)
	j, err := scanJob(row)
	if err != nil {
		return Job{}, notFound(err, "job", "no job %q in this tenant", id)
	}
	return j, nil
}

// JobFilter narrows a job listing.
type JobFilter struct {
	ConnectionID crossbill.ConnectionID
	Kind         string
	Limit        int // zero: 100
}

// Jobs lists a tenant's jobs, newest first.
func (s *Store) Jobs(ctx context.Context, tenant crossbill.TenantID, f JobFilter) ([]Job, error) {
	const op = "job list"
	q := `SELECT ` + jobColumns + ` FROM jobs WHERE tenant_id = ?`
	args := []any{string(tenant)}
	if f.ConnectionID != "" {
		q += ` AND connection_id = ?`
		args = append(args, string(f.ConnectionID))
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC, id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// NextJobRun is when the earliest queued or retrying job is due; zero when
// none is waiting.
func (s *Store) NextJobRun(ctx context.Context) (time.Time, error) {
	var next sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_run_at) FROM jobs WHERE status IN ('queued', 'retrying')`).Scan(&next); err != nil {
		return time.Time{}, crossbill.Errorf(crossbill.CodeInternal, "job next", "%w", err)
	}
	t, err := parseStampPtr(next)
	if err != nil || t == nil {
		return time.Time{}, err
	}
	return *t, nil
}

const jobColumns = `id, tenant_id, connection_id, kind, status, progress, message, attempts, max_attempts, last_error, error_code,
	interval_seconds, params, next_run_at, started_at, finished_at, created_at, updated_at, lease_owner, lease_until, lease_token`

func scanJob(r scanner) (Job, error) {
	var j Job
	var tenant, conn, status, code, params, next, created, updated string
	var started, finished, leaseUntil sql.NullString
	if err := r.Scan(&j.ID, &tenant, &conn, &j.Kind, &status, &j.Progress, &j.Message, &j.Attempts, &j.MaxAttempts, &j.LastError, &code,
		&j.IntervalSec, &params, &next, &started, &finished, &created, &updated, &j.LeaseOwner, &leaseUntil, &j.LeaseToken); err != nil {
		return Job{}, err
	}
	j.TenantID, j.ConnectionID, j.Status, j.ErrorCode = crossbill.TenantID(tenant), crossbill.ConnectionID(conn), JobStatus(status), crossbill.Code(code)
	j.Interval, j.Params = time.Duration(j.IntervalSec)*time.Second, json.RawMessage(params)
	var err error
	for _, p := range []struct {
		dst *time.Time
		src string
	}{{&j.NextRunAt, next}, {&j.CreatedAt, created}, {&j.UpdatedAt, updated}} {
		if *p.dst, err = time.Parse(time.RFC3339Nano, p.src); err != nil {
			return Job{}, err
		}
	}
	if j.StartedAt, err = parseStampPtr(started); err != nil {
		return Job{}, err
	}
	if j.FinishedAt, err = parseStampPtr(finished); err != nil {
		return Job{}, err
	}
	if j.LeaseUntil, err = parseStampPtr(leaseUntil); err != nil {
		return Job{}, err
	}
	return j, nil
}

// beginWrite begins a transaction that reads and then writes. On SQLite a
// deferred transaction that read first cannot take the write lock once
// another connection has committed meanwhile: it fails with SQLITE_BUSY at
// once, busy_timeout or not (seen under load as jobs enqueued at server
// start raced the scheduler's claims). A first, empty write takes the lock
// at the start, waiting under busy_timeout like any write. PostgreSQL
// needs nothing: its row locks and SKIP LOCKED do the work.
func (s *Store) beginWrite(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil || s.engine == Postgres {
		return tx, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET id = id WHERE 0`); err != nil {
		tx.Rollback() //nolint:errcheck // the error that matters is err
		return nil, err
	}
	return tx, nil
}
