package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// jobConnection loads a job's tenant and, through the tenant-scoped
// lookup, its connection: a job naming another tenant's connection finds
// none.
func (s *Server) jobConnection(ctx context.Context, j store.Job) (store.Connection, store.Tenant, error) {
	t, err := s.store.TenantByID(ctx, j.TenantID)
	if err != nil {
		return store.Connection{}, store.Tenant{}, err
	}
	c, err := s.store.TenantConnection(ctx, t.ID, j.ConnectionID)
	if err != nil {
		return store.Connection{}, store.Tenant{}, err
	}
	return c, t, nil
}

// runVerify re-verifies a connection (its bound role, or the role of its
// last attempt: a failed attempt binds nothing); a failed or inconclusive
// verification fails the job with its code, so that denials and passing
// faults are retried with backoff.
func (s *Server) runVerify(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	c, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	role, err := s.roleToVerify(ctx, c)
	if err != nil {
		return err
	}
	if role == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "verify", "connection %s has no role yet", c.ID)
	}
	progress(0.1, "assuming "+role)
	res, err := verify.Connection(ctx, s.store, verify.Request{Tenant: t.ID, RoleARN: role, Connection: c.ID, Actor: "scheduler"}, verify.Options{
		AWS: s.cfg.AWS, PropagationWait: s.cfg.VerifyWait,
		Progress: func(format string, args ...any) { progress(0.5, fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return err
	}
	if res.Status == store.VerificationVerified {
		if err := s.scheduleCostExplorer(ctx, c); err != nil {
			return err
		}
	}
	if res.Status == store.VerificationVerified && (c.Status != store.StatusVerified || res.Bill != nil && res.Bill.Discovered) {
		// Back from failed, or the bill just found: the ingest runs now.
		if _, err := s.store.BillSource(ctx, t.ID, c.ID); err == nil {
			if _, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: t.ID, ConnectionID: c.ID, Kind: JobIngest, Interval: ingestInterval}); err != nil {
				return err
			}
		}
	}
	return res.Err()
}

// runIngest reads the connection's bill bucket with the connection's role
// credentials and loads new or changed billing periods.
func (s *Server) runIngest(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	c, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	bill, err := s.store.BillSource(ctx, t.ID, c.ID)
	if err != nil {
		return err
	}
	if c.Status != store.StatusVerified {
		return s.awaitVerify(ctx, c)
	}
	if s.costsDB == nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "ingest", "the cost store is not open (see the server log)")
	}
	// In cluster mode the local store stages the load, which is then
	// published to the shared cost store.
	load := ingest.Ingest
	if s.cfg.ClusterCosts != nil {
		load = s.cfg.ClusterCosts.Ingest
	}
	cfg := s.cfg.AWS.Config(awsclient.Target{Tenant: t.Name, Connection: c.ID, RoleARN: c.RoleARN, ExternalID: c.ExternalID}, "")
	n := 0
	res, err := load(ctx, s.costsDB, ingest.Options{
		Source: "s3://" + bill.Bucket + "/" + bill.Path, Tenant: t.ID, AWS: cfg,
		Progress: func(format string, args ...any) {
			n++
			progress(min(0.95, float64(n)/float64(n+4)), fmt.Sprintf(format, args...))
		},
	})
	s.costsChanged(ctx, t.ID)
	if err != nil {
		return err
	}
	loaded := 0
	for _, p := range res.Periods {
		if p.Status == ingest.StatusLoaded {
			loaded++
		}
	}
	progress(1, fmt.Sprintf("%d billing period(s), %d loaded", len(res.Periods), loaded))
	if loaded > 0 {
		// New cost data: the tenant's alert rules look at it now.
		if rules, err := s.store.AlertRules(ctx, t.ID); err == nil && len(rules) > 0 {
			return s.scheduleAlerts(ctx, t.ID, s.now())
		}
	}
	return nil
}

// awaitVerify defers the ingest of a connection that is not verified,
// without spending its attempts. A connection failed by passing faults
// alone (a verification stored before crossbill told those apart, or one
// that could not check since) is verified again now; one failed for a real
// reason waits for its own verify job, which retries with backoff while
// the customer fixes the role.
func (s *Server) awaitVerify(ctx context.Context, c store.Connection) error {
	why := crossbill.Errorf(crossbill.CodeUnavailable, "ingest", "connection %s is %s, not verified: ingestion waits for it to verify", c.ID, c.Status)
	now := s.now()
	latest, err := s.store.LatestVerification(ctx, c.ID)
	switch {
	case err == nil && verify.Inconclusive(latest.Checks):
		// At most one re-verify per verifyRetry while AWS keeps failing.
		at := latest.FinishedAt.Add(s.verifyRetry())
		if at.Before(now) {
			at = now
		}
		if _, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobVerify, RunAt: at, Interval: verifyInterval}); err != nil {
			return err
		}
		return &scheduler.DeferError{Until: at.Add(time.Minute), Err: why}
	case err != nil && crossbill.ErrorCode(err) != crossbill.CodeNotFound:
		return err
	}
	until := now.Add(time.Hour)
	jobs, err := s.store.Jobs(ctx, c.TenantID, store.JobFilter{ConnectionID: c.ID, Kind: JobVerify, Limit: 5})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Status == store.JobQueued || j.Status == store.JobRetrying || j.Status == store.JobRunning {
			until = j.NextRunAt.Add(time.Minute)
			if j.Status == store.JobRunning || until.Before(now) {
				until = now.Add(time.Minute)
			}
			break
		}
	}
	return &scheduler.DeferError{Until: until, Err: why}
}

// EnsureSchedules gives every verified connection its periodic jobs, for
// connections verified outside the server (`crossbill connect verify`) or
// before a restart. Enqueueing is idempotent.
func (s *Server) EnsureSchedules(ctx context.Context) error {
	if s.sched == nil {
		return nil
	}
	if err := s.ensureAlertSchedules(ctx); err != nil {
		return err
	}
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		if c.Status != store.StatusVerified {
			continue
		}
		if _, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobVerify, RunAt: s.now().Add(verifyInterval), Interval: verifyInterval}); err != nil {
			return err
		}
		if err := s.scheduleMembers(ctx, c, s.now().Add(membersInterval)); err != nil {
			return err
		}
		if err := s.scheduleCostExplorer(ctx, c); err != nil {
			return err
		}
		if err := s.scheduleAccess(ctx, c, s.now().Add(accessInterval)); err != nil {
			return err
		}
		if err := s.scheduleJIT(ctx, c); err != nil {
			return err
		}
		if err := s.ScheduleOptimize(ctx, c.TenantID, s.now()); err != nil {
			return err
		}
		if err := s.scheduleRemediation(ctx, c.TenantID, c.ID); err != nil {
			return err
		}
		if err := s.scheduleInventory(ctx, c, s.now().Add(inventoryInterval)); err != nil {
			return err
		}
		if err := s.scheduleRenewals(ctx, c, s.now().Add(time.Minute)); err != nil {
			return err
		}
		_, err := s.store.BillSource(ctx, c.TenantID, c.ID)
		switch crossbill.ErrorCode(err) {
		case "":
			if _, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobIngest, Interval: ingestInterval}); err != nil {
				return err
			}
		case crossbill.CodeNotFound:
		default:
			return err
		}
	}
	return nil
}

// scheduleCostExplorer gives a connection with the cost module its daily
// Cost Explorer load, first run now: day-zero costs, before the CUR export
// delivers (idempotent).
func (s *Server) scheduleCostExplorer(ctx context.Context, c store.Connection) error {
	if s.sched == nil || !slices.Contains(c.Modules, manifest.ModuleCost) {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobCostExplorer, Interval: costExplorerInterval})
	return err
}

// runCostExplorer loads the connection's daily cost from Cost Explorer
// through its role. A spent budget ends the run with its status, not an
// error, so the job is not retried into more refusals.
func (s *Server) runCostExplorer(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	c, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	if c.Status != store.StatusVerified {
		return s.awaitVerify(ctx, c)
	}
	cs, err := s.localCosts()
	if err != nil {
		return err
	}
	n := 0
	rep, err := costexplorer.Load(ctx, costexplorer.Request{Tenant: t.ID, Connection: c.ID}, costexplorer.Options{
		Store: s.store, Costs: cs, AWS: s.cfg.AWS, Now: s.now, Shared: s.sharedExplorer(),
		Progress: func(format string, args ...any) {
			n++
			progress(min(0.95, float64(n)/float64(n+4)), fmt.Sprintf(format, args...))
		},
	})
	s.costs.invalidate(t.ID)
	if err != nil {
		return err
	}
	progress(1, rep.Status+": "+rep.Message)
	return nil
}
