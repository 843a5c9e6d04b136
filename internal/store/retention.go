package store

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
)

// JobRetention says which finished jobs PruneJobs deletes.
type JobRetention struct {
	// Age: a finished (succeeded, failed or canceled) job is deleted once
	// it ended this long ago.
	Age time.Duration
	// Keep: the newest Keep finished jobs of each key (tenant, connection,
	// kind) are kept whatever their age, so that a job's history still
	// shows its last runs.
	Keep int
	// Batch bounds the rows one DELETE removes (default 500), so that a
	// first sweep over a large table never holds a long write lock.
	Batch int
}

// finishedJob is the SQL condition of a job that will not change again.
const finishedJob = `status IN ('succeeded', 'failed', 'canceled')`

// PruneJobs deletes the finished jobs that ended more than r.Age ago,
// except the newest r.Keep of each key; queued, retrying and running jobs
// are never touched. It works key by key in bounded batches and returns
// how many rows it deleted.
func (s *Store) PruneJobs(ctx context.Context, r JobRetention) (int, error) {
	const op = "job prune"
	if r.Age <= 0 || r.Keep < 0 {
		return 0, crossbill.Errorf(crossbill.CodeInvalid, op, "job retention needs a positive age and a keep count of 0 or more")
	}
	if r.Batch <= 0 {
		r.Batch = 500
	}
	cutoff := formatStamp(s.now().Add(-r.Age))
	type key struct{ tenant, conn, kind string }
	// Only the keys that have more finished rows than they keep.
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, connection_id, kind FROM jobs WHERE `+finishedJob+`
		GROUP BY tenant_id, connection_id, kind HAVING COUNT(*) > ?`, r.Keep)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.tenant, &k.conn, &k.kind); err != nil {
			rows.Close()
			return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	total := 0
	for _, k := range keys {
		// The oldest kept row bounds what may go: only rows older than it.
		cond := ` WHERE tenant_id = ? AND connection_id = ? AND kind = ? AND ` + finishedJob + ` AND COALESCE(finished_at, updated_at) < ?`
		args := []any{k.tenant, k.conn, k.kind, cutoff}
		if r.Keep > 0 {
			var created, id string
			err := s.db.QueryRowContext(ctx, `SELECT created_at, id FROM jobs WHERE tenant_id = ? AND connection_id = ? AND kind = ? AND `+finishedJob+`
				ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?`, k.tenant, k.conn, k.kind, r.Keep-1).Scan(&created, &id)
			if err != nil {
				return total, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
			}
			cond += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
			args = append(args, created, created, id)
		}
		for {
			res, err := s.db.ExecContext(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs`+cond+` LIMIT ?)`, append(args, r.Batch)...)
			if err != nil {
				return total, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
			}
			total += int(n)
			if n < int64(r.Batch) {
				break
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// ClaimSweep reports whether this replica (owner) runs the named sweep
// now: true when the sweep's period has passed since it last ran anywhere,
// and its next run is moved a period on. Of replicas sharing the database
// that ask together, one gets true. Periods are measured by the database's
// clock, like job leases.
func (s *Store) ClaimSweep(ctx context.Context, name, owner string, every time.Duration) (bool, error) {
	now, err := s.dbNow(ctx, s.db)
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, "sweep claim", "%w", err)
	}
	return s.ClaimSweepAt(ctx, name, owner, now, every)
}

// ClaimSweepAt is ClaimSweep measured by the caller's clock (now): for
// sweeps whose caller already runs once across replicas (a job) and keeps
// its own time, such as the JIT reconciler's daily full pass.
func (s *Store) ClaimSweepAt(ctx context.Context, name, owner string, now time.Time, every time.Duration) (bool, error) {
	const op = "sweep claim"
	if name == "" || every <= 0 {
		return false, crossbill.Errorf(crossbill.CodeInvalid, op, "a sweep needs a name and a period")
	}
	// First use: a row due at once.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sweeps(name, next_run_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, name, formatStamp(now)); err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sweeps SET owner = ?, next_run_at = ? WHERE name = ? AND next_run_at <= ?`,
		owner, formatStamp(now.Add(every)), name, formatStamp(now))
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return n == 1, nil
}
