package jit

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Fault-injection steps (Options.Fault), in the order a lease meets them.
const (
	StepGranting        = "granting"         // committed granting, before any AWS write
	StepGrantRequested  = "grant-requested"  // the create was sent (and its request ID saved)
	StepGrantConfirmed  = "grant-confirmed"  // AWS confirmed the grant, before active is committed
	StepRevoking        = "revoking"         // committed revoking, before any AWS write
	StepRevokeRequested = "revoke-requested" // the delete was sent
	StepRevokeConfirmed = "revoke-confirmed" // AWS confirmed, before revoked is committed
)

// Steps lists the fault-injection steps.
func Steps() []string {
	return []string{StepGranting, StepGrantRequested, StepGrantConfirmed, StepRevoking, StepRevokeRequested, StepRevokeConfirmed}
}

const (
	pollEvery     = 2 * time.Second  // an Identity Center request in flight
	requestedPoll = 10 * time.Second // a request waiting for its approvals
	maxGrantWait  = time.Minute      // backoff cap of a failed grant
	maxRevokeWait = 10 * time.Second // a revocation is retried sooner: it must end on time
	claimFor      = 30 * time.Second // a worker's hold on a lease it works on
)

// AdvanceResult counts what one pass did.
type AdvanceResult struct {
	Due      int      `json:"due"`
	Moved    int      `json:"moved"`
	Errors   []string `json:"errors,omitempty"`
	Duration string   `json:"duration"`
}

// Advance moves every due lease of every tenant one or more steps on:
// decisions read from the approvals, grants applied, expired grants
// revoked. Any number of processes may run it at once: each step is a
// compare-and-set on the lease's version. Concurrency bounds the leases
// worked on together.
func Advance(ctx context.Context, st *store.Store, opts Options, concurrency int) (AdvanceResult, error) {
	return AdvanceConnection(ctx, st, "", "", opts, concurrency)
}

// AdvanceConnection is Advance for one tenant's connection ("" for all).
func AdvanceConnection(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID, opts Options, concurrency int) (AdvanceResult, error) {
	start := time.Now()
	if concurrency <= 0 {
		concurrency = 8
	}
	var res AdvanceResult
	seen := map[string]bool{}
	for {
		due, err := st.DueJITLeases(ctx, tenant, conn, opts.now(), 500)
		if err != nil {
			return res, err
		}
		var todo []store.JITLease
		for _, l := range due {
			if !seen[l.ID] {
				seen[l.ID] = true
				todo = append(todo, l)
			}
		}
		if len(todo) == 0 {
			break
		}
		res.Due += len(todo)
		var mu sync.Mutex
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for _, l := range todo {
			wg.Add(1)
			sem <- struct{}{}
			go func(l store.JITLease) {
				defer wg.Done()
				defer func() { <-sem }()
				moved, err := advanceOne(ctx, st, l, opts)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && crossbill.ErrorCode(err) != crossbill.CodeConflict {
					res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", l.ID, err))
				} else if moved.State != l.State {
					res.Moved++
				}
			}(l)
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	res.Duration = time.Since(start).Round(time.Millisecond).String()
	return res, nil
}

// advanceOne runs a lease's due steps until it waits (for a decision, an
// AWS request, its expiry, a retry) or ends.
func advanceOne(ctx context.Context, st *store.Store, l store.JITLease, opts Options) (store.JITLease, error) {
	now := opts.now()
	if l.NextAt == nil || l.NextAt.After(now) {
		return l, nil
	}
	// Claim the lease first (a compare-and-set that pushes its next look
	// past the work): another replica's loop then skips it rather than
	// making the same AWS calls; if this one dies, the lease is due again
	// when the claim runs out. A step that wants the next one at once
	// keeps the claim (opts.goOn) rather than marking the lease due: due
	// between two steps, another loop could make the same grant.
	claim := now.Add(claimFor)
	opts.hold = &claim
	l.NextAt = &claim
	l, err := st.UpdateJITLease(ctx, l, nil, nil)
	if err != nil {
		return l, err
	}
	var c Cloud
	for i := 0; i < 8; i++ {
		now := opts.now()
		if i > 0 && !held(l, opts) && (l.NextAt == nil || l.NextAt.After(now)) {
			return l, nil
		}
		if c == nil && l.State != StateRequested && l.State != StateApproved {
			cl, err := cloudFor(ctx, st, l, opts)
			if err != nil {
				return l, retry(ctx, st, &l, err, opts)
			}
			c = cl
		}
		next, err := step(ctx, st, c, l, opts)
		if err != nil {
			return l, err
		}
		l = next
	}
	if held(l, opts) { // out of steps: due at once for the next loop
		now := opts.now()
		l.NextAt = &now
		return st.UpdateJITLease(ctx, l, nil, nil)
	}
	return l, nil
}

// held reports whether l's next look is its worker's claim, set by a step
// that wants the next step at once.
func held(l store.JITLease, opts Options) bool {
	return opts.hold != nil && l.NextAt == opts.hold
}

// CloudFor is how the engine reaches AWS for a lease; tests replace it.
var cloudFor = func(ctx context.Context, st *store.Store, l store.JITLease, opts Options) (Cloud, error) {
	conn, err := st.TenantConnection(ctx, l.TenantID, l.ConnectionID)
	if err != nil {
		return nil, err
	}
	t, err := st.TenantByID(ctx, l.TenantID)
	if err != nil {
		return nil, err
	}
	members, err := st.Members(ctx, conn.ID)
	if err != nil {
		return nil, err
	}
	if opts.AWS == nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "jit", "no AWS hub configuration")
	}
	return newCloud(opts.AWS, conn, t.Name, opts.Region, members, opts.APIOptions), nil
}

func targetOf(l store.JITLease) (Target, error) {
	var t Target
	if err := json.Unmarshal(l.Target, &t); err != nil {
		return t, crossbill.Errorf(crossbill.CodeInternal, "jit", "lease %s target: %w", l.ID, err)
	}
	return t, nil
}

func fault(opts Options, l store.JITLease, s string) error {
	if opts.Fault == nil {
		return nil
	}
	return opts.Fault(l, s)
}

func system(action string) *store.AuditEntry {
	return &store.AuditEntry{Actor: "jit", Action: action}
}

// step runs one transition of l and returns the lease as committed.
func step(ctx context.Context, st *store.Store, c Cloud, l store.JITLease, opts Options) (store.JITLease, error) {
	now := opts.now()
	switch l.State {
	case StateRequested:
		return stepRequested(ctx, st, l, opts)
	case StateApproved:
		exp := now.Add(time.Duration(l.DurationS) * time.Second)
		l.State, l.ExpiresAt, l.NextAt, l.Attempts, l.LastError = StateGranting, &exp, opts.goOn(now), 0, ""
		l, err := st.UpdateJITLease(ctx, l, nil, nil)
		if err != nil {
			return l, err
		}
		return l, fault(opts, l, StepGranting)
	case StateGranting, StateGrantFailed:
		if l.ExpiresAt != nil && !now.Before(*l.ExpiresAt) {
			return toRevoking(ctx, st, l, now, "expired before the grant was confirmed", opts)
		}
		return stepGrant(ctx, st, c, l, opts)
	case StateActive:
		if l.ExpiresAt == nil || now.Before(*l.ExpiresAt) {
			l.NextAt = l.ExpiresAt
			return st.UpdateJITLease(ctx, l, nil, nil)
		}
		return toRevoking(ctx, st, l, now, "expired", opts)
	case StateRevoking, StateRevokeFail:
		return stepRevoke(ctx, st, c, l, opts)
	}
	l.NextAt = nil // ended
	return st.UpdateJITLease(ctx, l, nil, nil)
}

func toRevoking(ctx context.Context, st *store.Store, l store.JITLease, now time.Time, why string, opts Options) (store.JITLease, error) {
	l.State, l.NextAt, l.Attempts, l.LastError, l.AWSRequest = StateRevoking, opts.goOn(now), 0, "", ""
	l, err := st.UpdateJITLease(ctx, l, system(store.AuditJITRevoking), map[string]string{"reason": why})
	if err != nil {
		return l, err
	}
	return l, fault(opts, l, StepRevoking)
}

// retry records a failed AWS step: the lease moves to its failed state
// and is tried again after a backoff (shorter for revocations).
func retry(ctx context.Context, st *store.Store, l *store.JITLease, cause error, opts Options) error {
	now := opts.now()
	l.Attempts++
	l.LastError = cause.Error()
	if len(l.LastError) > 500 {
		l.LastError = l.LastError[:500]
	}
	wait := time.Second << min(l.Attempts, 8)
	first := false
	switch l.State {
	case StateGranting, StateGrantFailed:
		first = l.State == StateGranting
		l.State, wait = StateGrantFailed, min(wait, maxGrantWait)
	case StateRevoking, StateRevokeFail:
		first = l.State == StateRevoking
		l.State, wait = StateRevokeFail, min(wait, maxRevokeWait)
	default:
		wait = min(wait, requestedPoll)
	}
	next := now.Add(wait)
	l.NextAt = &next
	var audit *store.AuditEntry
	if first {
		audit = system(store.AuditJITFailed) // the first failure of a step; retries are not logged one by one
	}
	moved, err := st.UpdateJITLease(ctx, *l, audit, map[string]string{"error": l.LastError})
	if err == nil {
		*l = moved
		opts.log().Warn("jit: step failed, will retry", "lease", l.ID, "state", l.State, "attempts", l.Attempts, "err", cause)
	}
	return cause
}

func stepRequested(ctx context.Context, st *store.Store, l store.JITLease, opts Options) (store.JITLease, error) {
	now := opts.now()
	if l.ApprovalID == "" {
		// The request was stored but its approval not opened (a crash
		// between the two): open it now; Open is idempotent.
		p, err := LoadPolicy(ctx, st, l.TenantID, l.Policy)
		if err != nil {
			return l, err
		}
		t, err := targetOf(l)
		if err != nil {
			return l, err
		}
		id, err := openApproval(ctx, st, l, t, p, p.autoApproval(t, l.RequestedAt), store.AuditEntry{Actor: l.Actor, PersonEmail: l.Requester})
		if err != nil {
			return l, retry(ctx, st, &l, err, opts)
		}
		l.ApprovalID = id
		if l, err = st.UpdateJITLease(ctx, l, nil, nil); err != nil {
			return l, err
		}
	}
	state, err := approvalState(ctx, st, l)
	if err != nil {
		return l, retry(ctx, st, &l, err, opts)
	}
	switch state {
	case approvalApproved:
		l.State, l.NextAt = StateApproved, opts.goOn(now)
		l, err := st.UpdateJITLease(ctx, l, system(store.AuditJITApproved), map[string]string{"approval": l.ApprovalID})
		if err == nil {
			notifyRequester(ctx, st, opts, l, "approved")
		}
		return l, err
	case approvalDenied:
		l.State, l.NextAt, l.EndedAt = StateDenied, nil, &now
		l, err := st.UpdateJITLease(ctx, l, system(store.AuditJITDenied), map[string]string{"approval": l.ApprovalID})
		if err == nil {
			notifyRequester(ctx, st, opts, l, "denied")
		}
		return l, err
	case approvalClosed:
		l.State, l.NextAt, l.EndedAt = StateExpired, nil, &now
		return st.UpdateJITLease(ctx, l, system(store.AuditJITExpired), map[string]string{"reason": "the approval expired or was cancelled"})
	}
	if !now.Before(l.DecideBy) {
		l.State, l.NextAt, l.EndedAt = StateExpired, nil, &now
		l, err := st.UpdateJITLease(ctx, l, system(store.AuditJITExpired), map[string]string{"reason": "not decided by " + l.DecideBy.Format(time.RFC3339)})
		if err == nil {
			cancelApproval(ctx, st, l, "the request expired undecided", store.AuditEntry{Actor: "jit"})
			notifyRequester(ctx, st, opts, l, "expired undecided")
		}
		return l, err
	}
	next := now.Add(requestedPoll)
	if l.DecideBy.Before(next) {
		next = l.DecideBy
	}
	l.NextAt = &next
	return st.UpdateJITLease(ctx, l, nil, nil)
}

// stepGrant applies a grant: a request in flight is polled; otherwise the
// grant is looked for first (a crash after the write left it in place) and
// created only when missing.
func stepGrant(ctx context.Context, st *store.Store, c Cloud, l store.JITLease, opts Options) (store.JITLease, error) {
	t, err := targetOf(l)
	if err != nil {
		return l, err
	}
	if l.AWSRequest != "" {
		done, err := c.Status(ctx, t, l.AWSRequest, false)
		if err != nil {
			l.AWSRequest = ""
			return l, retry(ctx, st, &l, err, opts)
		}
		if !done {
			next := opts.now().Add(pollEvery)
			l.NextAt = &next
			return st.UpdateJITLease(ctx, l, nil, nil)
		}
	} else {
		present, err := c.Present(ctx, t, l.PrincipalID)
		if err != nil {
			return l, retry(ctx, st, &l, err, opts)
		}
		if !present {
			req, err := c.Create(ctx, t, l.PrincipalID)
			if err != nil {
				return l, retry(ctx, st, &l, err, opts)
			}
			if req != "" {
				l.AWSRequest = req
				l.NextAt = opts.goOn(opts.now()) // poll at once: most requests are done by then
				if l, err = st.UpdateJITLease(ctx, l, nil, nil); err != nil {
					return l, err
				}
				if err := fault(opts, l, StepGrantRequested); err != nil {
					return l, err
				}
				return l, nil
			}
			if err := fault(opts, l, StepGrantRequested); err != nil {
				return l, err
			}
			// Created synchronously (IAM) or a concurrent operation: look again.
			if present, err = c.Present(ctx, t, l.PrincipalID); err != nil || !present {
				if err == nil {
					err = crossbill.Errorf(crossbill.CodeUnavailable, "jit", "%s not in place yet after the write", t)
				}
				return l, retry(ctx, st, &l, err, opts)
			}
		}
	}
	if err := fault(opts, l, StepGrantConfirmed); err != nil {
		return l, err
	}
	now := opts.now()
	l.State, l.GrantedAt, l.AWSRequest, l.LastError, l.NextAt = StateActive, &now, "", "", l.ExpiresAt
	l, err = st.UpdateJITLease(ctx, l, system(store.AuditJITGranted), map[string]any{"target": t, "principal": l.PrincipalName, "expires_at": l.ExpiresAt})
	if err == nil {
		notifyRequester(ctx, st, opts, l, "granted until "+l.ExpiresAt.Format(time.RFC3339))
	}
	return l, err
}

// othersLive reports whether another lease of l's (target, principal) pair
// still needs the grant: the grant is shared, and removed only by the
// last lease to end.
func othersLive(ctx context.Context, st *store.Store, l store.JITLease, now time.Time) (bool, error) {
	others, err := st.JITPairLeases(ctx, l.TenantID, l.TargetKey, l.PrincipalID, liveStates...)
	if err != nil {
		return false, err
	}
	for _, o := range others {
		if o.ID != l.ID && o.ExpiresAt != nil && o.ExpiresAt.After(now) {
			return true, nil
		}
	}
	return false, nil
}

// stepRevoke removes a grant unless another live lease shares it; after
// the removal it looks again, and puts the grant back if a lease of the
// pair started meanwhile (that lease's own grant step may have found the
// grant in place just before it went).
func stepRevoke(ctx context.Context, st *store.Store, c Cloud, l store.JITLease, opts Options) (store.JITLease, error) {
	t, err := targetOf(l)
	if err != nil {
		return l, err
	}
	shared, err := othersLive(ctx, st, l, opts.now())
	if err != nil {
		return l, retry(ctx, st, &l, err, opts)
	}
	if !shared {
		if l.AWSRequest != "" {
			done, err := c.Status(ctx, t, l.AWSRequest, true)
			if err != nil {
				l.AWSRequest = ""
				return l, retry(ctx, st, &l, err, opts)
			}
			if !done {
				next := opts.now().Add(pollEvery)
				l.NextAt = &next
				return st.UpdateJITLease(ctx, l, nil, nil)
			}
		} else {
			present, err := c.Present(ctx, t, l.PrincipalID)
			if err != nil {
				return l, retry(ctx, st, &l, err, opts)
			}
			if present {
				req, err := c.Delete(ctx, t, l.PrincipalID)
				if err != nil {
					return l, retry(ctx, st, &l, err, opts)
				}
				if req != "" {
					l.AWSRequest = req
					l.NextAt = opts.goOn(opts.now())
					if l, err = st.UpdateJITLease(ctx, l, nil, nil); err != nil {
						return l, err
					}
					return l, fault(opts, l, StepRevokeRequested)
				}
				if err := fault(opts, l, StepRevokeRequested); err != nil {
					return l, err
				}
				if present, err = c.Present(ctx, t, l.PrincipalID); err != nil || present {
					if err == nil {
						err = crossbill.Errorf(crossbill.CodeUnavailable, "jit", "%s still in place after the removal", t)
					}
					return l, retry(ctx, st, &l, err, opts)
				}
			}
		}
		if again, err := othersLive(ctx, st, l, opts.now()); err == nil && again {
			if _, err := c.Create(ctx, t, l.PrincipalID); err != nil {
				return l, retry(ctx, st, &l, err, opts)
			}
			shared = true
		}
	}
	if err := fault(opts, l, StepRevokeConfirmed); err != nil {
		return l, err
	}
	now := opts.now()
	l.State, l.EndedAt, l.AWSRequest, l.LastError, l.NextAt = StateRevoked, &now, "", "", nil
	l, err = st.UpdateJITLease(ctx, l, system(store.AuditJITRevoked), map[string]any{"target": t, "principal": l.PrincipalName, "shared_with_live_lease": shared})
	if err == nil {
		notifyRequester(ctx, st, opts, l, "revoked")
	}
	return l, err
}
