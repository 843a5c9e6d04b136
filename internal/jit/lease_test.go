package jit_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/store"
)

func actions(t *testing.T, st *store.Store, tenant crossbill.TenantID, subject string) []string {
	t.Helper()
	lines, err := st.AuditLog(context.Background(), "", tenant)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range lines {
		if e.Subject == subject && strings.HasPrefix(e.Action, "jit.") {
			out = append(out, e.Action)
		}
	}
	return out
}

// A permission set lease from request to revocation: the requester cannot
// approve their own request, an approver can; the grant is in AWS while
// active and gone within one pass of expiry; every step is on the audit
// chain.
func TestLeaseLifecycle(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, nil)
	l := w.request(t, "ann@example.com", w.ops1(), time.Hour)
	if l.State != jit.StateRequested || l.PrincipalID != w.users["ann@example.com"] || l.ApprovalID == "" {
		t.Fatalf("new lease: %+v", l)
	}
	w.advance(t)
	if got := w.lease(t, l.ID); got.State != jit.StateRequested {
		t.Fatalf("undecided lease moved to %s", got.State)
	}
	if _, err := w.decide(t, l.ID, "ann@example.com", true); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("requester approving own request: %v", err)
	}
	if _, err := w.decide(t, l.ID, "zed@example.com", true); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("a person not among the approvers: %v", err)
	}
	got, err := w.decide(t, l.ID, "carl@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != jit.StateActive || got.RemainingS != 3600 || !w.assigned(t, w.members[0], w.ops, "ann@example.com") {
		t.Fatalf("approved lease: state %s, %ds left, assigned %v (%s)", got.State, got.RemainingS, w.assigned(t, w.members[0], w.ops, "ann@example.com"), got.LastError)
	}
	w.clock.Add(59 * time.Minute)
	w.advance(t)
	if !w.assigned(t, w.members[0], w.ops, "ann@example.com") {
		t.Fatal("grant removed before expiry")
	}
	w.clock.Add(time.Minute)
	w.advance(t)
	got = w.lease(t, l.ID)
	if got.State != jit.StateRevoked || w.assigned(t, w.members[0], w.ops, "ann@example.com") {
		t.Fatalf("after expiry: %s, still assigned %v", got.State, w.assigned(t, w.members[0], w.ops, "ann@example.com"))
	}
	want := []string{store.AuditJITRequest, store.AuditJITApproved, store.AuditJITGranted, store.AuditJITRevoking, store.AuditJITRevoked}
	if a := actions(t, w.st, w.tenant, l.ID); strings.Join(a, ",") != strings.Join(want, ",") {
		t.Fatalf("audit lines %v, want %v", a, want)
	}
	if len(w.notified(jit.TopicRequested)) != 1 || len(w.notified(jit.TopicLease)) != 3 { // approved, granted, revoked
		t.Errorf("notifications: %d requested, %d lease", len(w.notified(jit.TopicRequested)), len(w.notified(jit.TopicLease)))
	}
	if c, err := w.st.VerifyAudit(context.Background()); err != nil || !c.OK {
		t.Fatalf("audit chain: %+v %v", c, err)
	}
	for _, op := range []string{"sso:CreateAccountAssignment", "sso:DeleteAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus", "sso:DescribeAccountAssignmentDeletionStatus"} {
		if w.rec.Count(op) != 1 {
			t.Errorf("%s called %d times, want 1", op, w.rec.Count(op))
		}
	}
	if u := w.rec.Undeclared(); len(u) > 0 {
		t.Errorf("undeclared calls: %v", u)
	}
}

// An IAM group lease, and the two-person rule: one approval is not enough.
func TestGroupLeaseTwoPerson(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, func(p *jit.Policy) { p.TwoPerson = true })
	l := w.request(t, "ann@example.com", w.group(), 30*time.Minute)
	if l.PrincipalID != "ann" { // ann@example.com's local part: the IAM user
		t.Fatalf("principal %q", l.PrincipalID)
	}
	if got, err := w.decide(t, l.ID, "carl@example.com", true); err != nil || got.State != jit.StateRequested {
		t.Fatalf("one of two approvals: %s %v", got.State, err)
	}
	if got, err := w.decide(t, l.ID, "dana@example.com", true); err != nil || got.State != jit.StateActive {
		t.Fatalf("second approval: %+v %v", got, err)
	}
	if !w.inGroup(t, "db-oncall", "ann") {
		t.Fatal("ann not in the group")
	}
	w.clock.Add(31 * time.Minute)
	w.advance(t)
	if w.lease(t, l.ID).State != jit.StateRevoked || w.inGroup(t, "db-oncall", "ann") {
		t.Fatal("group membership not revoked at expiry")
	}
}

// Denial and an undecided request's expiry end the lease with no grant.
func TestDenialAndRequestExpiry(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, func(p *jit.Policy) { p.DecideWithin = jit.Duration(time.Hour) })
	denied := w.request(t, "ann@example.com", w.ops1(), time.Hour)
	if got, err := w.decide(t, denied.ID, "carl@example.com", false); err != nil || got.State != jit.StateDenied {
		t.Fatalf("denied: %s %v", got.State, err)
	}
	waiting := w.request(t, "bob@example.com", w.ops1(), time.Hour)
	w.clock.Add(61 * time.Minute)
	w.advance(t)
	if got := w.lease(t, waiting.ID); got.State != jit.StateExpired {
		t.Fatalf("undecided request after its deadline: %s", got.State)
	}
	if _, err := w.decide(t, waiting.ID, "carl@example.com", true); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("approving an expired request: %v", err)
	}
	if w.assigned(t, w.members[0], w.ops, "ann@example.com") || w.assigned(t, w.members[0], w.ops, "bob@example.com") {
		t.Fatal("a grant without an approval")
	}
	if w.rec.Count("sso:CreateAccountAssignment") != 0 {
		t.Fatal("an assignment was created")
	}
}

// Overlapping leases share the grant: revoking one early keeps it; the
// last one to end removes it. An extension is a new lease: the old one
// ending leaves the grant to the new one.
func TestOverlapEarlyRevokeAndExtension(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, func(p *jit.Policy) { p.AutoApprove = &jit.AutoApprove{LowRisk: []string{"Ops"}} })
	a := w.request(t, "ann@example.com", w.ops1(), time.Hour)
	b := w.request(t, "ann@example.com", w.ops1(), 2*time.Hour)
	if a.State != jit.StateActive || b.State != jit.StateActive {
		t.Fatalf("auto-approved leases: %s, %s (%s %s)", a.State, b.State, a.LastError, b.LastError)
	}
	if n := w.rec.Count("sso:CreateAccountAssignment"); n != 1 {
		t.Fatalf("%d assignments created for one pair", n)
	}
	if _, err := jit.Revoke(context.Background(), w.st, w.tenant, b.ID, "done early", false, person("ann@example.com"), w.opts()); err != nil {
		t.Fatal(err)
	}
	if w.lease(t, b.ID).State != jit.StateRevoked || !w.assigned(t, w.members[0], w.ops, "ann@example.com") {
		t.Fatal("early revoke of one of two removed the shared grant")
	}
	// Extension of a, 50 minutes in, for another hour.
	w.clock.Add(50 * time.Minute)
	ext, err := jit.Request(context.Background(), w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall", Target: w.ops1(),
		Duration: jit.Duration(time.Hour), Reason: "still on it", Extends: a.ID}, person("ann@example.com"), w.opts())
	if err != nil || ext.State != jit.StateActive || ext.Extends != a.ID {
		t.Fatalf("extension: %+v %v", ext, err)
	}
	w.clock.Add(11 * time.Minute)
	w.advance(t)
	if w.lease(t, a.ID).State != jit.StateRevoked || !w.assigned(t, w.members[0], w.ops, "ann@example.com") {
		t.Fatal("the extended lease's end removed the grant the extension holds")
	}
	w.clock.Add(50 * time.Minute)
	w.advance(t)
	if w.lease(t, ext.ID).State != jit.StateRevoked || w.assigned(t, w.members[0], w.ops, "ann@example.com") {
		t.Fatal("the last lease ended, the grant stayed")
	}
	if n := w.rec.Count("sso:DeleteAccountAssignment"); n != 1 {
		t.Fatalf("%d deletions for one shared grant", n)
	}
}

// Break-glass is granted at once, and still opens an approval for the
// review after.
func TestBreakGlass(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, func(p *jit.Policy) { p.BreakGlass = true })
	l := w.request(t, "bob@example.com", w.ops1(), time.Hour)
	if l.State != jit.StateActive || !w.assigned(t, w.members[0], w.ops, "bob@example.com") {
		t.Fatalf("break-glass: %s", l.State)
	}
}

// Bad input is refused with the reason, before any write.
func TestRequestRefusals(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, nil)
	ctx := context.Background()
	cases := []struct {
		name   string
		who    string
		target jit.TargetSpec
		d      time.Duration
		code   crossbill.Code
		says   string
	}{
		{"untagged permission set", "ann@example.com", jit.TargetSpec{PermissionSet: w.admin, Account: w.members[0]}, time.Hour, crossbill.CodeInvalid, "not tagged crossbill-jit=allowed"},
		{"group outside the path", "ann@example.com", jit.TargetSpec{Group: "plain", Account: w.members[0]}, time.Hour, crossbill.CodeInvalid, "outside crossbill's scope"},
		{"target not in the policy", "ann@example.com", jit.TargetSpec{PermissionSet: w.ops, Account: mgmtAccount}, time.Hour, crossbill.CodeInvalid, "does not allow"},
		{"unknown permission set", "ann@example.com", jit.TargetSpec{PermissionSet: "NoSuchSet", Account: w.members[0]}, time.Hour, crossbill.CodeNotFound, "no permission set named"},
		{"unknown group", "ann@example.com", jit.TargetSpec{Group: "nope", Account: w.members[0]}, time.Hour, crossbill.CodeInvalid, "does not allow"},
		{"duration over the maximum", "ann@example.com", w.ops1(), 5 * time.Hour, crossbill.CodeInvalid, "over policy oncall's maximum of 4h0m0s"},
		{"not eligible", "zed@example.com", w.ops1(), time.Hour, crossbill.CodeAccessDenied, "not eligible"},
		{"bad account", "ann@example.com", jit.TargetSpec{PermissionSet: w.ops, Account: "12"}, time.Hour, crossbill.CodeInvalid, "12-digit"},
	}
	for _, c := range cases {
		_, err := jit.Request(ctx, w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall", Target: c.target, Duration: jit.Duration(c.d), Reason: "incident 42"}, person(c.who), w.opts())
		if crossbill.ErrorCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v (code %s), want %s saying %q", c.name, err, crossbill.ErrorCode(err), c.code, c.says)
		}
	}
	if w.rec.Count("sso:CreateAccountAssignment")+w.rec.Count("iam:AddUserToGroup") != 0 {
		t.Fatal("a refused request wrote to AWS")
	}
	leases, _ := jit.Leases(ctx, w.st, w.tenant, nil, w.opts())
	if len(leases.Leases) != 0 {
		t.Fatalf("refused requests stored %d leases", len(leases.Leases))
	}
	// A policy's own mistakes are refused too.
	for _, p := range []jit.Policy{
		{Name: "Bad Name", People: []string{"a@b.c"}, Targets: []jit.TargetRule{{Group: "g", Account: w.members[0]}}, MaxDuration: jit.Duration(time.Hour)},
		{Name: "x", People: []string{"a@b.c"}, Targets: []jit.TargetRule{{Group: "g", Account: w.members[0]}}, MaxDuration: jit.Duration(30 * 24 * time.Hour)},
		{Name: "x", People: []string{"a@b.c"}, Targets: []jit.TargetRule{{PermissionSet: w.ops}}, MaxDuration: jit.Duration(time.Hour)},
		{Name: "x", People: []string{"a@b.c"}, Targets: []jit.TargetRule{{Group: "g", Account: w.members[0]}}, MaxDuration: jit.Duration(time.Hour), TwoPerson: true, Approvers: []string{"c@d.e"}},
	} {
		if _, err := jit.SetPolicy(ctx, w.st, w.tenant, p, person("admin@example.com")); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("policy %+v: %v", p, err)
		}
	}
}

// A policy's OU target allows the accounts the latest access sync found
// under the OU, and no other; the reconciler watches them too.
func TestOUTarget(t *testing.T) {
	w := newWorld(t, 0)
	ctx := context.Background()
	snap := access.Snapshot{ConnectionID: w.conn.ID, TakenAt: time.Now().UTC(), Accounts: []access.Account{
		{ID: w.members[0], Ancestors: []string{"r-ab12", "ou-ab12-prod0001"}}, {ID: w.members[1], Ancestors: []string{"r-ab12", "ou-ab12-dev00001"}}}}
	raw, _ := json.Marshal(snap)
	if _, err := w.st.SaveAccessSync(ctx, store.AccessSync{TenantID: w.tenant, ConnectionID: w.conn.ID, StartedAt: snap.TakenAt, FinishedAt: snap.TakenAt, Accounts: 2, Snapshot: raw}, nil); err != nil {
		t.Fatal(err)
	}
	w.policy(t, func(p *jit.Policy) {
		p.Targets = []jit.TargetRule{{PermissionSet: w.ops, OUs: []string{"ou-ab12-prod0001"}}}
		p.AutoApprove = &jit.AutoApprove{LowRisk: []string{"Ops"}}
	})
	l := w.request(t, "ann@example.com", w.ops1(), time.Hour)
	if l.State != jit.StateActive {
		t.Fatalf("account under the OU: %s (%s)", l.State, l.LastError)
	}
	_, err := jit.Request(ctx, w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall", Target: jit.TargetSpec{PermissionSet: w.ops, Account: w.members[1]},
		Duration: jit.Duration(time.Hour), Reason: "incident 42"}, person("ann@example.com"), w.opts())
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "does not allow") {
		t.Fatalf("account outside the OU: %v", err)
	}
	res, err := jit.Reconcile(ctx, w.st, w.tenant, w.conn.ID, jit.ScopeDue, w.opts(), 4)
	if err != nil || res.Targets != 1 || len(res.Drifts) != 0 {
		t.Fatalf("reconcile: %+v %v", res, err)
	}
}

// Two replicas' lease loops (two store handles on one database) working
// the same approved leases at once: each grant is made once. The pause
// after the granting commit, before the AWS write, is where another loop
// once found the lease due and made the same grant.
func TestTwoWorkersGrantOnce(t *testing.T) {
	w := newWorld(t, 6)
	w.policy(t, func(p *jit.Policy) {
		p.People = []string{"user0@example.com", "user1@example.com", "user2@example.com", "user3@example.com", "user4@example.com", "user5@example.com"}
	})
	ctx := context.Background()
	var ids []string
	for i := 0; i < 6; i++ {
		l := w.request(t, "user"+strconv.Itoa(i)+"@example.com", w.ops1(), time.Hour)
		if _, err := approval.Decide(ctx, w.st, w.tenant, l.ApprovalID, true, "", person("carl@example.com")); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	first := w.st
	w.open(t)
	stores := []*store.Store{first, w.st}
	opts := w.opts()
	opts.Fault = func(_ store.JITLease, step string) error {
		if step == jit.StepGranting {
			time.Sleep(30 * time.Millisecond)
		}
		return nil
	}
	var wg sync.WaitGroup
	for _, st := range stores {
		wg.Add(1)
		go func(st *store.Store) {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				if _, err := jit.Advance(ctx, st, opts, 4); err != nil {
					t.Error(err)
				}
			}
		}(st)
	}
	wg.Wait()
	for _, id := range ids {
		if l := w.lease(t, id); l.State != jit.StateActive {
			t.Errorf("%s: %s (%s)", id, l.State, l.LastError)
		}
	}
	if n := w.rec.Count("sso:CreateAccountAssignment"); n != len(ids) {
		t.Fatalf("%d assignments created for %d leases", n, len(ids))
	}
}
