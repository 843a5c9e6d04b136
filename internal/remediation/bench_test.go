package remediation_test

import (
	"testing"

	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/remediation"
)

// BenchmarkPlanAndRunTenInstances: one plan of 10 instances (describe,
// termination protection, DryRun each) then its run (stop and wait each,
// every step in the step log and the audit chain), against moto on
// loopback: crossbill's own cost per resource, AWS's latency aside.
func BenchmarkPlanAndRunTenInstances(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, "us-east-1")
		var targets []remediation.Target
		for range 10 {
			targets = append(targets, target(remediation.StopInstance, w.instanceARN(w.instance(allowed(), "t3.micro")), nil))
		}
		b.StartTimer()
		p, err := remediation.NewPlan(w.ctx, w.env, remediation.Request{Tenant: w.tenant, Targets: targets, By: w.requester})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, true, "ok", w.approver); err != nil {
			b.Fatal(err)
		}
		if done, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester); err != nil || done.State != remediation.StateDone {
			b.Fatalf("%v %s", err, done.State)
		}
	}
}
