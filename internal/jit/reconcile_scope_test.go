package jit_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/jit"
)

// TestReconcileListsLeasedTargets: after the daily full pass, a reconciler
// pass lists in AWS only the targets that leases hold or just released
// (one ListAccountAssignments here, where the policy has six targets), and
// there still puts back an active lease's removed grant, removes a revoked
// lease's grant put back by hand and reports an out-of-band grant; an
// out-of-band grant on a target no lease touches waits for the next full
// pass, a day later.
func TestReconcileListsLeasedTargets(t *testing.T) {
	w := newWorld(t, 0)
	w.policy(t, func(p *jit.Policy) { p.AutoApprove = &jit.AutoApprove{LowRisk: []string{"Ops", "db-oncall"}} })
	ctx := context.Background()
	w.request(t, "ann@example.com", w.ops1(), time.Hour)
	ended := w.request(t, "bob@example.com", w.ops1(), time.Hour)
	if _, err := jit.Revoke(ctx, w.st, w.tenant, ended.ID, "done", false, person("bob@example.com"), w.opts()); err != nil {
		t.Fatal(err)
	}
	pass := func(scope jit.ReconcileScope) (jit.ReconcileResult, map[string]string) {
		t.Helper()
		w.rec.Reset()
		res, err := jit.Reconcile(ctx, w.st, w.tenant, w.conn.ID, scope, w.opts(), 4)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, d := range res.Drifts {
			kinds[d.TargetKey+" "+d.Principal] = d.Kind
		}
		return res, kinds
	}
	// The first pass is the day's full one: the policy's 6 targets.
	if res, _ := pass(jit.ScopeDue); !res.Full || res.Targets != 6 || w.rec.Count("sso:ListAccountAssignments") != 4 || w.rec.Count("iam:GetGroup") != 2 {
		t.Fatalf("first pass: %+v, %d assignment lists, %d group reads", res, w.rec.Count("sso:ListAccountAssignments"), w.rec.Count("iam:GetGroup"))
	}

	sso := ssoadmin.NewFromConfig(w.mgmt)
	assign := func(create bool, account crossbill.AccountID, ps, user string) {
		t.Helper()
		if create {
			must(sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(w.instance), PermissionSetArn: aws.String(ps),
				PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(w.users[user]), TargetId: aws.String(string(account)), TargetType: ssotypes.TargetTypeAwsAccount}))
			return
		}
		must(sso.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: aws.String(w.instance), PermissionSetArn: aws.String(ps),
			PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(w.users[user]), TargetId: aws.String(string(account)), TargetType: ssotypes.TargetTypeAwsAccount}))
	}
	assign(false, w.members[0], w.ops, "ann@example.com")  // an active lease's grant removed out of band
	assign(true, w.members[0], w.ops, "bob@example.com")   // a revoked lease's grant put back by hand
	assign(true, w.members[0], w.ops, "zed@example.com")   // out of band, on a leased target
	assign(true, w.members[1], w.admin, "zed@example.com") // out of band, on a target no lease touches

	w.clock.Add(time.Minute)
	res, kinds := pass(jit.ScopeDue)
	if res.Full || res.Targets != 1 {
		t.Fatalf("second pass: %+v, want the one leased target", res)
	}
	if n, g := w.rec.Count("sso:ListAccountAssignments"), w.rec.Count("iam:GetGroup"); n != 1 || g != 0 {
		t.Fatalf("second pass made %d ListAccountAssignments and %d GetGroup calls, want 1 and 0", n, g)
	}
	ops1 := "ps:" + string(w.members[0]) + ":" + w.ops
	want := map[string]string{
		ops1 + " " + w.users["ann@example.com"]: jit.DriftReapplied,
		ops1 + " " + w.users["bob@example.com"]: jit.DriftRemoved,
		ops1 + " " + w.users["zed@example.com"]: jit.DriftOutOfBand,
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("%s: %q, want %q (all: %v, errors %v)", k, kinds[k], v, kinds, res.Errors)
		}
	}
	if len(kinds) != len(want) {
		t.Errorf("drifts %v, want only the leased target's", kinds)
	}
	if !w.assigned(t, w.members[0], w.ops, "ann@example.com") || w.assigned(t, w.members[0], w.ops, "bob@example.com") {
		t.Fatal("the repairs did not reach AWS")
	}

	// Asked for, or a day later, the full pass finds the other grant.
	admin2 := "ps:" + string(w.members[1]) + ":" + w.admin + " " + w.users["zed@example.com"]
	if res, kinds := pass(jit.ScopeFull); !res.Full || res.Targets != 6 || kinds[admin2] != jit.DriftOutOfBand {
		t.Fatalf("full pass: %+v %v", res, kinds)
	}
	if res, _ := pass(jit.ScopeDue); res.Full {
		t.Fatal("the daily full pass ran twice in a day")
	}
	w.clock.Add(jit.FullSweepEvery)
	if res, kinds := pass(jit.ScopeDue); !res.Full || res.Targets != 6 || kinds[admin2] != jit.DriftOutOfBand {
		t.Fatalf("a day later: %+v %v", res, kinds)
	}
}
