package jit

import (
	"context"
	"fmt"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/store"
)

// What the lease engine reads from a lease's approval.
const (
	approvalPending  = "pending"
	approvalApproved = "approved"
	approvalDenied   = "denied"
	approvalClosed   = "closed" // expired or cancelled
)

// openApproval opens (idempotently: one per lease) the shared approval of
// a lease, approved at once when auto says why.
func openApproval(ctx context.Context, st *store.Store, l store.JITLease, t Target, p Policy, auto string, by store.AuditEntry) (string, error) {
	req := approval.Request{Tenant: l.TenantID, Kind: approval.KindAccessGrant, Subject: l.ID,
		Summary:   fmt.Sprintf("%s: %s for %s", l.Requester, t, time.Duration(l.DurationS)*time.Second),
		Detail:    map[string]any{"lease": l.ID, "policy": p.Name, "target": t, "principal": l.PrincipalName, "duration": (time.Duration(l.DurationS) * time.Second).String(), "reason": l.Reason, "break_glass": p.BreakGlass},
		Approvers: p.Approvers, ExpiresAt: l.DecideBy, AutoApproved: auto}
	if p.TwoPerson {
		req.Required = 2
	}
	a, err := approval.Open(ctx, st, req, by)
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

func approvalState(ctx context.Context, st *store.Store, l store.JITLease) (string, error) {
	a, err := approval.Get(ctx, st, l.TenantID, l.ApprovalID)
	if err != nil {
		return "", err
	}
	switch a.State {
	case approval.Approved:
		return approvalApproved, nil
	case approval.Denied:
		return approvalDenied, nil
	case approval.Expired, approval.Cancelled:
		return approvalClosed, nil
	}
	return approvalPending, nil
}

// cancelApproval withdraws a lease's pending approval; a failure is only
// logged (the lease has ended: the approval expires on its own).
func cancelApproval(ctx context.Context, st *store.Store, l store.JITLease, reason string, by store.AuditEntry) {
	if l.ApprovalID == "" {
		return
	}
	if _, err := approval.Cancel(ctx, st, l.TenantID, l.ApprovalID, reason, by); err != nil && crossbill.ErrorCode(err) != crossbill.CodeConflict {
		_ = err // the approval expires at the lease's decide-by anyway
	}
}

// Decide records an approver's decision on a lease (`access approve|deny`:
// the same approval.Decide the shared inbox calls) and moves the lease on
// at once.
func Decide(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string, approve bool, reason string, by store.AuditEntry, opts Options) (Lease, error) {
	l, err := st.JITLease(ctx, tenant, id)
	if err != nil {
		return Lease{}, err
	}
	if l.State != StateRequested {
		return Lease{}, crossbill.Errorf(crossbill.CodeConflict, "jit decide", "lease %s is %s, not waiting for a decision", id, l.State)
	}
	if l.ApprovalID == "" {
		return Lease{}, crossbill.Errorf(crossbill.CodeConflict, "jit decide", "lease %s has no approval yet: try again in a few seconds", id)
	}
	if _, err := approval.Decide(ctx, st, tenant, l.ApprovalID, approve, reason, by); err != nil {
		return Lease{}, err
	}
	now := opts.now()
	l.NextAt = &now
	if moved, err := advanceOne(ctx, st, l, opts); err == nil {
		l = moved
	} else if l, err = st.JITLease(ctx, tenant, id); err != nil {
		return Lease{}, err
	}
	return view(l, opts.now()), nil
}
