// Package approval is the one approval model for every write crossbill
// makes in a customer's account on a person's say-so: just-in-time access
// grants, remediations and commitment purchases. A feature opens an
// approval for its lease or plan (its subject), people decide it, and the
// feature's own job moves its state machine on when it reads the outcome.
// Every step is a line of the hash-chained audit log, written in the same
// transaction as the change.
package approval

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Kinds of approval: what the approved write does.
const (
	KindAccessGrant = "access-grant"
	KindRemediation = "remediation"
	KindPurchase    = "purchase"
)

// Kinds lists the known kinds, for validation and the API's enum.
var Kinds = []string{KindAccessGrant, KindRemediation, KindPurchase}

// States, re-exported so features need not import the store for them.
const (
	Pending   = store.ApprovalPending
	Approved  = store.ApprovalApproved
	Denied    = store.ApprovalDenied
	Expired   = store.ApprovalExpired
	Cancelled = store.ApprovalCancelled
)

// States lists every state, for validation and the API's enum.
var States = []string{Pending, Approved, Denied, Expired, Cancelled}

type (
	// Approval is one request for a go-ahead, with its decisions.
	Approval = store.Approval
	// Decision is one person's approve or deny.
	Decision = store.Decision
)

// DefaultTTL is how long a request waits for its decision when the
// feature sets no expiry.
const DefaultTTL = 72 * time.Hour

// Request is what a feature asks approval for.
type Request struct {
	Tenant  crossbill.TenantID
	Kind    string
	Subject string // the feature's lease or plan ID, unique per kind in the tenant
	Summary string // one line for the inbox
	Detail  any    // the plan or dry run the approver sees
	// Required is the number of distinct people who must approve: 1, or 2
	// for a two-person rule (0 means 1).
	Required int
	// Approvers, when set, are the only people (emails) who may decide;
	// empty lets anyone with the approver role decide.
	Approvers []string
	ExpiresAt time.Time // zero: DefaultTTL from now
	// AutoApproved, when set, approves at once by policy (break-glass, an
	// auto-approval rule) and records why.
	AutoApproved string
}

// Filter narrows List; empty fields match all.
type Filter struct {
	Kind, State string
	Limit       int
}

// Open records a request for approval, or returns the one already opened
// for the same subject (a retried request never opens two).
func Open(ctx context.Context, st *store.Store, r Request, by store.AuditEntry) (Approval, error) {
	const op = "approval"
	if !known(Kinds, r.Kind) {
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, op, "unknown kind %q: use one of %s", r.Kind, strings.Join(Kinds, ", "))
	}
	if r.Subject == "" || len(r.Subject) > 200 {
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, op, "an approval needs a subject of at most 200 characters (the lease or plan it approves)")
	}
	if len(r.Summary) > 500 {
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the summary is %d characters long; use at most 500", len(r.Summary))
	}
	for field, v := range map[string]string{"subject": r.Subject, "summary": r.Summary, "auto_approved": r.AutoApproved} {
		if err := crossbill.CheckText(op, field, v); err != nil {
			return Approval{}, err
		}
	}
	switch {
	case r.Required == 0:
		r.Required = 1
	case r.Required < 1 || r.Required > 5:
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, op, "required approvals must be between 1 and 5, not %d", r.Required)
	}
	if len(r.Approvers) > 0 && len(r.Approvers) < r.Required {
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%d approvals are required but only %d approvers are named: name more approvers or require fewer", r.Required, len(r.Approvers))
	}
	for _, a := range r.Approvers {
		if !strings.Contains(a, "@") || crossbill.CheckText(op, "approver", a) != nil {
			return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, op, "approver %q is not an email address", a)
		}
	}
	detail, err := json.Marshal(r.Detail)
	if err != nil {
		return Approval{}, crossbill.Errorf(crossbill.CodeInternal, op, "the approval's detail: %w", err)
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = time.Now().Add(DefaultTTL)
	}
	return st.OpenApproval(ctx, r.Tenant, store.NewApproval{
		Kind: r.Kind, Subject: r.Subject, Summary: r.Summary, Detail: detail, Required: r.Required,
		Approvers: r.Approvers, ExpiresAt: r.ExpiresAt, AutoApproved: r.AutoApproved,
	}, by)
}

// Decide records by's approve or deny of approval id. The requester cannot
// decide their own request (AccessDenied), nor can anyone outside the
// approval's named approvers; a person decides once; a deny ends it.
func Decide(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string, approve bool, reason string, by store.AuditEntry) (Approval, error) {
	if len(reason) > 1000 {
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, "approval decide", "the reason is %d characters long; use at most 1000", len(reason))
	}
	if err := crossbill.CheckText("approval decide", "reason", reason); err != nil {
		return Approval{}, err
	}
	if !approve && strings.TrimSpace(reason) == "" {
		return Approval{}, crossbill.Errorf(crossbill.CodeInvalid, "approval decide", "a denial needs a reason the requester can act on")
	}
	return st.DecideApproval(ctx, tenant, id, approve, reason, by)
}

// Cancel withdraws a pending request.
func Cancel(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id, reason string, by store.AuditEntry) (Approval, error) {
	if err := crossbill.CheckText("approval cancel", "reason", reason); err != nil {
		return Approval{}, err
	}
	return st.CancelApproval(ctx, tenant, id, reason, by)
}

// Expire ends every pending request past its expiry (the scheduler's
// sweep) and returns them.
func Expire(ctx context.Context, st *store.Store) ([]Approval, error) {
	return st.ExpireApprovals(ctx)
}

// Get reads one of the tenant's approvals.
func Get(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string) (Approval, error) {
	return st.Approval(ctx, tenant, id)
}

// ForSubject reads the approval of a feature's lease or plan.
func ForSubject(ctx context.Context, st *store.Store, tenant crossbill.TenantID, kind, subject string) (Approval, error) {
	return st.ApprovalForSubject(ctx, tenant, kind, subject)
}

// List lists a tenant's approvals, newest first.
func List(ctx context.Context, st *store.Store, tenant crossbill.TenantID, f Filter) ([]Approval, error) {
	if f.Kind != "" && !known(Kinds, f.Kind) {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "approvals", "unknown kind %q: use one of %s", f.Kind, strings.Join(Kinds, ", "))
	}
	if f.State != "" && !known(States, f.State) {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "approvals", "unknown state %q: use one of %s", f.State, strings.Join(States, ", "))
	}
	as, err := st.Approvals(ctx, tenant, f.Kind, f.State, f.Limit)
	if as == nil && err == nil {
		as = []Approval{}
	}
	return as, err
}

func known(list []string, v string) bool {
	for _, k := range list {
		if k == v {
			return true
		}
	}
	return false
}
