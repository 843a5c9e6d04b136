package jit

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Options are what the use cases need beyond the store.
type Options struct {
	AWS        *awsclient.Factory
	Region     string // Identity Center's region (default us-east-1)
	APIOptions []func(*middleware.Stack) error
	Now        func() time.Time
	Log        *slog.Logger
	// Fault, when set, is called between the steps of a grant and a
	// revocation (tests: a crash there); an error stops the step as a
	// crash would, leaving the lease as last committed.
	Fault func(l store.JITLease, step string) error
	// Notify replaces the notification hook (tests).
	Notify func(ctx context.Context, st *store.Store, m Message)

	hold *time.Time // the claim of the worker running the steps (advanceOne)
}

// goOn is the next look of a step that wants the next one at once: the
// worker's claim while one is held, so the lease is not due to another
// replica between the two steps; now otherwise.
func (o *Options) goOn(now time.Time) *time.Time {
	if o.hold != nil {
		return o.hold
	}
	return &now
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

func (o *Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.Default()
	}
	return o.Log
}

// Lease states.
const (
	StateRequested   = "requested"
	StateApproved    = "approved"
	StateDenied      = "denied"
	StateExpired     = "expired" // the request expired undecided, or was cancelled
	StateGranting    = "granting"
	StateGrantFailed = "grant-failed" // retrying
	StateActive      = "active"
	StateRevoking    = "revoking"
	StateRevokeFail  = "revoke-failed" // retrying
	StateRevoked     = "revoked"
)

// live states hold (or are about to hold) the grant.
var liveStates = []string{StateGranting, StateGrantFailed, StateActive}

// Ended reports whether a state is final.
func Ended(state string) bool {
	return state == StateDenied || state == StateExpired || state == StateRevoked
}

// PolicyList is a tenant's policies as the CLI and the API show them.
type PolicyList struct {
	Policies []Policy `json:"policies"`
}

// LeaseList is a tenant's leases as the CLI and the API show them.
type LeaseList struct {
	Leases []Lease `json:"leases"`
}

// AuditTrail is the audit lines of a lease (or of all JIT).
type AuditTrail struct {
	Lines []store.AuditEntry `json:"lines"`
}

// Lease is a lease as shown: the stored lease and the time it has left.
type Lease struct {
	store.JITLease
	RemainingS int64 `json:"remaining_s"`
}

func view(l store.JITLease, now time.Time) Lease {
	v := Lease{JITLease: l}
	if l.State == StateActive && l.ExpiresAt != nil && l.ExpiresAt.After(now) {
		v.RemainingS = int64(l.ExpiresAt.Sub(now).Seconds())
	}
	return v
}

// TargetSpec is a requested target as people name it.
type TargetSpec struct {
	PermissionSet string              `json:"permission_set,omitempty"` // ARN or name
	Group         string              `json:"group,omitempty"`
	Account       crossbill.AccountID `json:"account"`
}

// RequestInput is a request for access.
type RequestInput struct {
	Tenant     crossbill.TenantID     `json:"-"`
	TenantName string                 `json:"-"`
	Connection crossbill.ConnectionID `json:"connection,omitempty"`
	Policy     string                 `json:"policy"`
	Target     TargetSpec             `json:"target"`
	Duration   Duration               `json:"duration"`
	Reason     string                 `json:"reason"`
	// Extends names a lease this one extends: a new lease on the same
	// target, never a change to the old one.
	Extends string `json:"extends,omitempty"`
}

// Connection finds the tenant's connection with the access-jit module:
// connID when given (it must be the tenant's), else the only one.
func Connection(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID) (store.Connection, error) {
	return st.ConnectionWithModule(ctx, tenant, connID, manifest.ModuleAccessJIT)
}

// LoadPolicy reads and decodes one of a tenant's policies.
func LoadPolicy(ctx context.Context, st *store.Store, tenant crossbill.TenantID, name string) (Policy, error) {
	sp, err := st.JITPolicy(ctx, tenant, name)
	if err != nil {
		return Policy{}, err
	}
	var p Policy
	if err := json.Unmarshal(sp.Body, &p); err != nil {
		return Policy{}, crossbill.Errorf(crossbill.CodeInternal, "jit policy", "stored policy %s: %w", name, err)
	}
	return p, nil
}

// SetPolicy checks and stores a policy (creating or replacing it).
func SetPolicy(ctx context.Context, st *store.Store, tenant crossbill.TenantID, p Policy, by store.AuditEntry) (Policy, error) {
	if err := p.Check(); err != nil {
		return Policy{}, err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Policy{}, crossbill.Errorf(crossbill.CodeInternal, "jit policy", "%w", err)
	}
	if _, err := st.PutJITPolicy(ctx, tenant, p.Name, body, by); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// DeletePolicy removes a policy; leases it allowed run to their end.
func DeletePolicy(ctx context.Context, st *store.Store, tenant crossbill.TenantID, name string, by store.AuditEntry) error {
	return st.DeleteJITPolicy(ctx, tenant, name, by)
}

// Policies lists a tenant's policies.
func Policies(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]Policy, error) {
	all, err := st.JITPolicies(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Policy, 0, len(all))
	for _, sp := range all {
		var p Policy
		if err := json.Unmarshal(sp.Body, &p); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "jit policy", "stored policy %s: %w", sp.Name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// latestSync is the connection's latest access sync (empty without one).
func latestSync(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID) access.Snapshot {
	var snap access.Snapshot
	sync, err := st.LatestAccessSync(ctx, tenant, conn)
	if err != nil {
		return snap
	}
	_ = json.Unmarshal(sync.Snapshot, &snap) // unreadable: as if none
	return snap
}

// ancestorsOf lists the OUs and root above an account in a sync.
func ancestorsOf(snap access.Snapshot, account crossbill.AccountID) []string {
	for _, a := range snap.Accounts {
		if a.ID == account {
			return a.Ancestors
		}
	}
	return nil
}

// groupsOf lists the Identity Center groups of the user named email (or
// its local part), from the latest access sync.
func groupsOf(ic *access.IdentityCenter, email string) []string {
	if ic == nil {
		return nil
	}
	local, _, _ := strings.Cut(email, "@")
	var uid string
	for _, u := range ic.Users {
		if strings.EqualFold(u.UserName, email) || strings.EqualFold(u.UserName, local) {
			uid = u.ID
			break
		}
	}
	names := map[string]string{}
	for _, g := range ic.Groups {
		names[g.ID] = g.Name
	}
	var out []string
	for _, m := range ic.Memberships {
		if m.UserID == uid && uid != "" {
			out = append(out, names[m.GroupID])
		}
	}
	return out
}

// Request files a request for access by the person in by (PersonEmail is
// required): checks the policy (eligibility, target, duration), the
// module's scope (tag or path) and maps the person to their AWS user,
// stores the lease and opens its approval (approved at once by break-glass
// or an auto-approval rule). The lease is granted by Advance.
func Request(ctx context.Context, st *store.Store, in RequestInput, by store.AuditEntry, opts Options) (Lease, error) {
	const op = "jit request"
	bad := func(format string, args ...any) (Lease, error) {
		return Lease{}, crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	email := strings.ToLower(by.PersonEmail)
	if email == "" {
		return bad("a request is made by a person: use a signed-in session or a token created with --user EMAIL")
	}
	if len(in.Reason) < 3 || len(in.Reason) > 500 {
		return bad("give a reason of 3 to 500 characters (--reason)")
	}
	if err := crossbill.CheckText(op, "reason", in.Reason); err != nil {
		return Lease{}, err
	}
	if opts.AWS == nil {
		return bad("no AWS hub configuration: set the hub's credentials (AWS_PROFILE or the default chain)")
	}
	p, err := LoadPolicy(ctx, st, in.Tenant, in.Policy)
	if err != nil {
		return Lease{}, err
	}
	d := time.Duration(in.Duration)
	if d <= 0 {
		return bad("give a duration (--duration 1h)")
	}
	if d > time.Duration(p.MaxDuration) {
		return bad("duration %s is over policy %s's maximum of %s: ask for at most %s", d, p.Name, time.Duration(p.MaxDuration), time.Duration(p.MaxDuration))
	}
	conn, err := Connection(ctx, st, in.Tenant, in.Connection)
	if err != nil {
		return Lease{}, err
	}
	spec := in.Target
	if err := crossbill.CheckText(op, "permission set", spec.PermissionSet); err != nil || len(spec.PermissionSet) > 2048 {
		return bad("the permission set is not a name or ARN crossbill accepts")
	}
	t := Target{Account: spec.Account}
	switch {
	case spec.PermissionSet != "" && spec.Group != "":
		return bad("name a permission set or a group, not both")
	case spec.PermissionSet != "":
		t.Kind = KindPermissionSet
	case spec.Group != "":
		t.Kind, t.Group = KindGroup, spec.Group
		if !groupName.MatchString(spec.Group) {
			return bad("%q is not an IAM group name", spec.Group)
		}
	default:
		return bad("name the target: --permission-set ARN|NAME or --group NAME, with --account")
	}
	if !t.Account.Valid() {
		return bad("--account %q is not a 12-digit account ID", t.Account)
	}
	snap := latestSync(ctx, st, in.Tenant, conn.ID)
	ic := snap.IdentityCenter
	if !p.eligible(email, groupsOf(ic, email)) {
		return Lease{}, crossbill.Errorf(crossbill.CodeAccessDenied, op, "%s is not eligible under policy %s (neither named nor in one of its groups)", email, p.Name)
	}
	members, err := st.Members(ctx, conn.ID)
	if err != nil {
		return Lease{}, err
	}
	c := newCloud(opts.AWS, conn, in.TenantName, opts.Region, members, opts.APIOptions)
	identityStore := ""
	if t.Kind == KindPermissionSet {
		cfg, err := c.config("")
		if err != nil {
			return Lease{}, err
		}
		inst, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
		if err != nil {
			return Lease{}, awsclient.Classify("jit: finding the Identity Center instance", err)
		}
		if len(inst.Instances) == 0 {
			return Lease{}, crossbill.Errorf(crossbill.CodeNotFound, op, "the connection's account has no Identity Center instance")
		}
		t.Instance, identityStore = aws.ToString(inst.Instances[0].InstanceArn), aws.ToString(inst.Instances[0].IdentityStoreId)
		t.PermissionSet = spec.PermissionSet
		if !strings.HasPrefix(spec.PermissionSet, "arn:") {
			t.PermissionSetName, t.PermissionSet = spec.PermissionSet, ""
			if ic != nil {
				for _, ps := range ic.PermissionSets {
					if ps.Name == spec.PermissionSet {
						t.PermissionSet = ps.ARN
					}
				}
			}
			if t.PermissionSet == "" {
				return Lease{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no permission set named %q in the latest access sync: pass its ARN, or run `crossbill access sync` first", spec.PermissionSet)
			}
		} else {
			// The name, for people and for low-risk rules that name sets.
			out, err := ssoadmin.NewFromConfig(cfg).DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(t.Instance), PermissionSetArn: aws.String(t.PermissionSet)})
			var nf *ssotypes.ResourceNotFoundException
			switch {
			case errors.As(err, &nf):
				return Lease{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no permission set %s in Identity Center", t.PermissionSet)
			case err != nil:
				return Lease{}, awsclient.Classify("jit: reading permission set "+t.PermissionSet, err)
			}
			t.PermissionSetName = aws.ToString(out.PermissionSet.Name)
		}
	}
	if p.rule(t, ancestorsOf(snap, t.Account)) == nil {
		return Lease{}, crossbill.Errorf(crossbill.CodeInvalid, op, "policy %s does not allow %s: `crossbill access policy show %s` lists its targets", p.Name, t, p.Name)
	}
	if err := c.scopeCheck(ctx, &t); err != nil {
		return Lease{}, err
	}
	pid, pname, err := c.principal(ctx, t, identityStore, email)
	if err != nil {
		return Lease{}, err
	}
	if in.Extends != "" {
		old, err := st.JITLease(ctx, in.Tenant, in.Extends)
		if err != nil {
			return Lease{}, err
		}
		if old.TargetKey != t.Key() || old.Requester != email {
			return bad("lease %s is for another target or person: an extension asks for the same target again", in.Extends)
		}
	}
	now := opts.now()
	target, _ := json.Marshal(t)
	l := store.JITLease{ID: "lease_" + uuid.NewString()[:18], TenantID: in.Tenant, ConnectionID: conn.ID, Policy: p.Name, Requester: email, Actor: by.Actor,
		PrincipalType: map[bool]string{true: PrincipalIAMUser, false: PrincipalICUser}[t.Kind == KindGroup], PrincipalID: pid, PrincipalName: pname,
		TargetKey: t.Key(), Target: target, Reason: in.Reason, DurationS: int64(d / time.Second), State: StateRequested, Extends: in.Extends,
		RequestedAt: now, DecideBy: now.Add(time.Duration(p.DecideWithin)), NextAt: &now, BreakGlass: p.BreakGlass}
	by.Action = store.AuditJITRequest
	if err := st.CreateJITLease(ctx, l, by, map[string]any{"policy": p.Name, "target": t, "duration": d.String(), "reason": in.Reason, "principal": pname, "extends": in.Extends}); err != nil {
		return Lease{}, err
	}
	auto := p.autoApproval(t, now)
	ap, err := openApproval(ctx, st, l, t, p, auto, by)
	if err != nil {
		return Lease{}, err
	}
	l.ApprovalID = ap
	if l, err = st.UpdateJITLease(ctx, l, nil, nil); err != nil {
		return Lease{}, err
	}
	notify(ctx, st, opts, Message{Tenant: in.Tenant, Topic: TopicRequested, Subject: "Access requested: " + t.String(),
		Text: email + " asks for " + t.String() + " for " + d.String() + ": " + in.Reason, Data: l, DedupKey: l.ID + ":requested"})
	// Approved at once (break-glass, a rule): grant now rather than at
	// the next pass.
	if auto != "" {
		if moved, err := advanceOne(ctx, st, l, opts); err == nil {
			l = moved
		}
	}
	return view(l, opts.now()), nil
}

// Leases lists a tenant's leases, newest first (states filters).
func Leases(ctx context.Context, st *store.Store, tenant crossbill.TenantID, states []string, opts Options) (LeaseList, error) {
	for _, s := range states {
		if !slices.Contains(States(), s) {
			return LeaseList{}, crossbill.Errorf(crossbill.CodeInvalid, "jit leases", "unknown state %q: use %s", s, strings.Join(States(), ", "))
		}
	}
	all, err := st.JITLeases(ctx, tenant, states, 0)
	if err != nil {
		return LeaseList{}, err
	}
	now := opts.now()
	out := LeaseList{Leases: make([]Lease, len(all))}
	for i, l := range all {
		out.Leases[i] = view(l, now)
	}
	return out, nil
}

// States lists the lease states.
func States() []string {
	return []string{StateRequested, StateApproved, StateDenied, StateExpired, StateGranting, StateGrantFailed, StateActive, StateRevoking, StateRevokeFail, StateRevoked}
}

// Get returns one lease.
func Get(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string, opts Options) (Lease, error) {
	l, err := st.JITLease(ctx, tenant, id)
	if err != nil {
		return Lease{}, err
	}
	return view(l, opts.now()), nil
}

// Revoke ends a lease early: a request still waiting is cancelled, a
// grant is revoked now. Its requester may, and anyone when anyone is true
// (an approver, the local CLI).
func Revoke(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id, reason string, anyone bool, by store.AuditEntry, opts Options) (Lease, error) {
	const op = "jit revoke"
	if err := crossbill.CheckText(op, "reason", reason); err != nil {
		return Lease{}, err
	}
	if len(reason) > 500 {
		return Lease{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the reason is %d characters long; use at most 500", len(reason))
	}
	for attempt := 0; ; attempt++ {
		l, err := st.JITLease(ctx, tenant, id)
		if err != nil {
			return Lease{}, err
		}
		if !anyone && !strings.EqualFold(by.PersonEmail, l.Requester) {
			return Lease{}, crossbill.Errorf(crossbill.CodeAccessDenied, op, "only %s (the requester) or an approver may revoke lease %s", l.Requester, id)
		}
		now := opts.now()
		switch l.State {
		case StateDenied, StateExpired, StateRevoked, StateRevoking, StateRevokeFail:
			return view(l, now), nil // already ending: idempotent
		case StateRequested:
			l.State, l.EndedAt, l.NextAt = StateExpired, &now, nil
			by.Action = store.AuditJITExpired
			l, err = st.UpdateJITLease(ctx, l, &by, map[string]string{"reason": "cancelled: " + reason})
			if err == nil {
				cancelApproval(ctx, st, l, reason, by)
				return view(l, now), nil
			}
		default:
			// A creation still in flight is not polled as a deletion: the
			// revocation looks for the grant itself (and the reconciler
			// removes one that lands after).
			l.State, l.ExpiresAt, l.NextAt, l.Attempts, l.LastError, l.AWSRequest = StateRevoking, &now, &now, 0, "", ""
			by.Action = store.AuditJITRevoking
			l, err = st.UpdateJITLease(ctx, l, &by, map[string]string{"reason": "revoked early: " + reason})
			if err == nil {
				if moved, err := advanceOne(ctx, st, l, opts); err == nil {
					l = moved
				}
				return view(l, opts.now()), nil
			}
		}
		if crossbill.ErrorCode(err) != crossbill.CodeConflict || attempt > 5 {
			return Lease{}, err
		}
	}
}

// Trail is a lease's audit trail, oldest first: its own lines and its
// approval's. With id "", every JIT line of the tenant (its policies,
// leases and the reconciler's repairs).
func Trail(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id string) (AuditTrail, error) {
	subjects := map[string]bool{}
	if id != "" {
		l, err := st.JITLease(ctx, tenant, id)
		if err != nil {
			return AuditTrail{}, err
		}
		subjects[l.ID] = true
		if l.ApprovalID != "" {
			subjects[l.ApprovalID] = true
		}
	}
	all, err := st.AuditLog(ctx, "", tenant)
	if err != nil {
		return AuditTrail{}, err
	}
	out := []store.AuditEntry{}
	for _, e := range all {
		if id != "" && subjects[e.Subject] || id == "" && strings.HasPrefix(e.Action, "jit.") {
			out = append(out, e)
		}
	}
	return AuditTrail{Lines: out}, nil
}
