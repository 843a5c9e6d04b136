package jit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/store"
)

var errCrash = errors.New("injected crash")

// A crash between any two steps of a grant or a revocation (the fault hook
// stops the step where a kill would; the process's store is then dropped
// and a new one opened on the same database, as a restart would) leaves
// nothing stuck: the next process finishes the lease, never grants twice,
// and removes the grant in its first pass after expiry and after the dead
// process's claim on the lease ran out, however long it was down.
func TestCrashAtEveryStep(t *testing.T) {
	w := newWorld(t, 0)
	top := t // the store reopened by a subtest lives until the test's end
	w.policy(t, func(p *jit.Policy) { p.AutoApprove = &jit.AutoApprove{LowRisk: []string{"Ops", "db-oncall"}} })
	for _, target := range []struct {
		name string
		spec jit.TargetSpec
		held func() bool
	}{
		{"permission set", w.ops1(), func() bool { return w.assigned(t, w.members[0], w.ops, "ann@example.com") }},
		{"group", w.group(), func() bool { return w.inGroup(t, "db-oncall", "ann") }},
	} {
		for _, step := range jit.Steps() {
			t.Run(target.name+"/"+step, func(t *testing.T) {
				w.rec.Reset()
				crashed := 0
				opts := w.opts()
				opts.Fault = func(l store.JITLease, s string) error {
					if s == step && crashed == 0 {
						crashed++
						return errCrash
					}
					return nil
				}
				l, err := jit.Request(context.Background(), w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall", Target: target.spec,
					Duration: jit.Duration(time.Hour), Reason: "incident 42"}, person("ann@example.com"), opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jit.Advance(context.Background(), w.st, opts, 4); err != nil && !errors.Is(err, errCrash) {
					t.Fatal(err)
				}
				// Down until past expiry when the crash hit the grant; a
				// restart then finishes the grant or goes straight to the
				// revocation.
				w.clock.Add(30 * time.Minute)
				w.open(top)
				w.advance(t)
				mid := w.lease(t, l.ID)
				if mid.State != jit.StateActive && crashed > 0 && step[:5] == "grant" {
					t.Fatalf("after restart the lease is %s (%s), want active", mid.State, mid.LastError)
				}
				w.clock.Add(31 * time.Minute) // past expiry, crossbill "down" meanwhile
				if err := func() error {
					_, err := jit.Advance(context.Background(), w.st, opts, 4)
					return err
				}(); err != nil && !errors.Is(err, errCrash) {
					t.Fatal(err)
				}
				w.clock.Add(time.Minute) // the crashed loop's claim (30 s) runs out
				w.open(top)              // restart after a crash in the revocation
				w.advance(t)
				end := w.lease(t, l.ID)
				if crashed != 1 {
					t.Fatalf("the fault at %s never fired", step)
				}
				if end.State != jit.StateRevoked || target.held() {
					t.Fatalf("after restarts: %s (%s), still held %v", end.State, end.LastError, target.held())
				}
				creates := w.rec.Count("sso:CreateAccountAssignment") + w.rec.Count("iam:AddUserToGroup")
				if creates != 1 {
					t.Fatalf("granted %d times", creates)
				}
			})
		}
	}
}

// 30% of the writes (throttling and 500s, through the fault proxy in front
// of moto) fail: every lease still ends revoked, with nothing left in AWS.
func TestThrottledWrites(t *testing.T) {
	w := newWorld(t, 12)
	w.policy(t, func(p *jit.Policy) {
		p.People = nil
		p.Groups = nil
		for i := 0; i < 12; i++ {
			p.People = append(p.People, fmt.Sprintf("user%d@example.com", i))
		}
		p.AutoApprove = &jit.AutoApprove{LowRisk: []string{"Ops"}}
	})
	var rules []emulator.Rule
	for _, op := range []string{"CreateAccountAssignment", "DeleteAccountAssignment"} {
		rules = append(rules, emulator.Rule{Service: "sso", Operation: op, Fault: emulator.FaultThrottle, Rate: 0.15},
			emulator.Rule{Service: "sso", Operation: op, Fault: emulator.Fault500, Rate: 0.15 / 0.85})
	}
	proxy, err := emulator.StartFaultProxy(w.srv.URL, 7, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	w.hub.BaseEndpoint = aws.String(proxy.URL)
	w.hub.ConfigSources = nil // else the clients take the endpoint the config was loaded with (moto's)
	// No SDK retries: every injected fault reaches the lease engine.
	w.hub.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	opts := w.opts()
	var ids []string
	for i := 0; i < 12; i++ {
		l, err := jit.Request(context.Background(), w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall",
			Target: jit.TargetSpec{PermissionSet: w.ops, Account: w.members[i%2]}, Duration: jit.Duration(time.Duration(10+i) * time.Minute), Reason: "load"},
			person(fmt.Sprintf("user%d@example.com", i)), opts)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	for i := 0; i < 40; i++ {
		w.clock.Add(time.Minute)
		if _, err := jit.Advance(context.Background(), w.st, opts, 4); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		l := w.lease(t, id)
		if l.State != jit.StateRevoked || l.GrantedAt == nil {
			t.Errorf("lease %d: %s granted %v (%s)", i, l.State, l.GrantedAt, l.LastError)
		}
		if w.assigned(t, w.members[i%2], w.ops, fmt.Sprintf("user%d@example.com", i)) {
			t.Errorf("lease %d: still assigned", i)
		}
	}
	if proxy.InjectedTotal() == 0 {
		t.Fatalf("no fault was injected: %v", proxy.Requests())
	}
	t.Logf("faults injected: %v", proxy.Injected())
}

// The reconciler puts back an active lease's grant removed out of band,
// removes a revoked lease's grant put back by hand, and reports once a
// grant crossbill did not make on a JIT-managed target.
func TestReconciler(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, func(p *jit.Policy) { p.AutoApprove = &jit.AutoApprove{LowRisk: []string{"Ops", "db-oncall"}} })
	ctx := context.Background()
	w.request(t, "ann@example.com", w.ops1(), time.Hour)
	ended := w.request(t, "bob@example.com", w.ops1(), time.Hour)
	w.request(t, "ann@example.com", w.group(), time.Hour)
	if _, err := jit.Revoke(ctx, w.st, w.tenant, ended.ID, "done", false, person("bob@example.com"), w.opts()); err != nil {
		t.Fatal(err)
	}
	sso := ssoadmin.NewFromConfig(w.mgmt)
	assignment := func(user string) (*string, *string, ssotypes.PrincipalType, *string, *string, ssotypes.TargetType) {
		return aws.String(w.instance), aws.String(w.ops), ssotypes.PrincipalTypeUser, aws.String(w.users[user]), aws.String(string(w.members[0])), ssotypes.TargetTypeAwsAccount
	}
	del := func(user string) {
		i, p, pt, pid, tid, tt := assignment(user)
		must(sso.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: i, PermissionSetArn: p, PrincipalType: pt, PrincipalId: pid, TargetId: tid, TargetType: tt}))
	}
	add := func(user string) {
		i, p, pt, pid, tid, tt := assignment(user)
		must(sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: i, PermissionSetArn: p, PrincipalType: pt, PrincipalId: pid, TargetId: tid, TargetType: tt}))
	}
	del("ann@example.com")                                                                                                                                      // out-of-band removal of an active grant
	add("bob@example.com")                                                                                                                                      // a revoked grant put back by hand
	add("zed@example.com")                                                                                                                                      // out-of-band grant, never leased
	must(iam.NewFromConfig(w.member1).RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("db-oncall"), UserName: aws.String("ann")})) // and the group's

	res, err := jit.Reconcile(ctx, w.st, w.tenant, w.conn.ID, jit.ScopeDue, w.opts(), 4)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, d := range res.Drifts {
		kinds[d.TargetKey+" "+d.Principal] = d.Kind
	}
	key := "ps:" + string(w.members[0]) + ":" + w.ops
	want := map[string]string{
		key + " " + w.users["ann@example.com"]:             jit.DriftReapplied,
		key + " " + w.users["bob@example.com"]:             jit.DriftRemoved,
		key + " " + w.users["zed@example.com"]:             jit.DriftOutOfBand,
		"group:" + string(w.members[0]) + ":db-oncall ann": jit.DriftReapplied,
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("%s: %q, want %q (all: %v, errors %v)", k, kinds[k], v, kinds, res.Errors)
		}
	}
	if !w.assigned(t, w.members[0], w.ops, "ann@example.com") || w.assigned(t, w.members[0], w.ops, "bob@example.com") || !w.inGroup(t, "db-oncall", "ann") {
		t.Fatal("the repairs did not reach AWS")
	}
	if !w.assigned(t, w.members[0], w.ops, "zed@example.com") {
		t.Fatal("an out-of-band grant crossbill did not make was removed: it is only reported")
	}
	// A second pass: nothing to repair, the out-of-band grant not new.
	res, err = jit.Reconcile(ctx, w.st, w.tenant, w.conn.ID, jit.ScopeDue, w.opts(), 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Drifts) != 1 || res.Drifts[0].Kind != jit.DriftOutOfBand || res.Drifts[0].New {
		t.Fatalf("second pass: %+v", res.Drifts)
	}
	lines, _ := w.st.AuditLog(ctx, store.AuditJITOutOfBand, w.tenant)
	repairs, _ := w.st.AuditLog(ctx, store.AuditJITRepair, w.tenant)
	if len(lines) != 1 || len(repairs) != 3 {
		t.Fatalf("%d out-of-band lines (want 1), %d repairs (want 3)", len(lines), len(repairs))
	}
}
