package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestRemediationStore: plans are tenant-scoped, state moves only from
// the expected states, a done step cannot be started again (a resumed run
// skips it), and every change is an audit line; marks replace and delete.
func TestRemediationStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	by := store.AuditEntry{Actor: "user:ann", PersonEmail: "ann@example.com"}
	p, err := s.CreateRemediationPlan(ctx, store.RemediationPlan{ID: "rp_1", TenantID: acme.ID, ConnectionID: "conn_1", State: "awaiting-approval",
		RequestedBy: by.Actor, Person: by.PersonEmail, Plan: json.RawMessage(`{"items":[]}`)}, by, map[string]int{"items": 0})
	if err != nil || p.CreatedAt.IsZero() {
		t.Fatalf("create: %+v %v", p, err)
	}
	if _, err := s.RemediationPlanByID(ctx, beta.ID, "rp_1"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("acme's plan read as beta: %v", err)
	}
	if ps, err := s.RemediationPlans(ctx, beta.ID, ""); err != nil || len(ps) != 0 {
		t.Fatalf("beta's list: %v %v", ps, err)
	}
	if _, err := s.SetRemediationPlanState(ctx, acme.ID, "rp_1", []string{"approved"}, "running", nil, by, nil); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("from the wrong state: %v", err)
	}
	if _, err := s.SetRemediationPlanState(ctx, beta.ID, "rp_1", []string{"awaiting-approval"}, "running", nil, by, nil); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta moving acme's plan: %v", err)
	}
	got, err := s.SetRemediationPlanState(ctx, acme.ID, "rp_1", []string{"awaiting-approval"}, "running", json.RawMessage(`{"items":[1]}`), by, nil)
	if err != nil || got.State != "running" || string(got.Plan) != `{"items":[1]}` {
		t.Fatalf("state: %+v %v", got, err)
	}
	if ps, _ := s.RemediationPlans(ctx, "", "running"); len(ps) != 1 {
		t.Fatalf("every tenant's running plans: %d", len(ps))
	}
	// Two runners read the plan at once: one claims it.
	if _, err := s.ClaimRemediationPlan(ctx, acme.ID, "rp_1", "running", got.UpdatedAt, by); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if _, err := s.ClaimRemediationPlan(ctx, acme.ID, "rp_1", "running", got.UpdatedAt, by); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("second claim of the same read: %v", err)
	}

	if err := s.StartRemediationStep(ctx, acme.ID, "rp_1", 0, 0, "ec2:CreateSnapshot"); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRemediationStep(ctx, acme.ID, "rp_1", 0, 0, "ec2:CreateSnapshot"); err != nil {
		t.Fatalf("a started (crashed) step starts again: %v", err)
	}
	if err := s.FinishRemediationStep(ctx, acme.ID, "rp_1", 0, 0, store.StepDone, map[string]string{"snapshot_id": "snap-1"}, by); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRemediationStep(ctx, acme.ID, "rp_1", 0, 0, "ec2:CreateSnapshot"); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("a done step started again: %v", err)
	}
	if err := s.FinishRemediationStep(ctx, acme.ID, "rp_1", 0, 1, store.StepDone, nil, by); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("finishing a step never started: %v", err)
	}
	steps, err := s.RemediationSteps(ctx, acme.ID, "rp_1")
	if err != nil || len(steps) != 1 || steps[0].Status != store.StepDone || string(steps[0].Output) != `{"snapshot_id":"snap-1"}` || steps[0].FinishedAt.IsZero() {
		t.Fatalf("steps: %+v %v", steps, err)
	}
	if steps, _ := s.RemediationSteps(ctx, beta.ID, "rp_1"); len(steps) != 0 {
		t.Fatalf("beta sees acme's steps: %+v", steps)
	}

	m := store.RemediationMark{TenantID: acme.ID, ConnectionID: "conn_1", ARN: "arn:aws:ec2:eu-west-1:123456789012:instance/i-1", Action: "stop-instance", AccountID: "123456789012", Region: "eu-west-1", Due: "2026-12-07"}
	if err := s.SaveRemediationMark(ctx, m, by); err != nil {
		t.Fatal(err)
	}
	m.Due = "2026-12-09"
	if err := s.SaveRemediationMark(ctx, m, by); err != nil {
		t.Fatal(err)
	}
	marks, err := s.RemediationMarks(ctx, acme.ID, "conn_1")
	if err != nil || len(marks) != 1 || marks[0].Due != "2026-12-09" {
		t.Fatalf("marks: %+v %v", marks, err)
	}
	if marks, _ := s.RemediationMarks(ctx, beta.ID, "conn_1"); len(marks) != 0 {
		t.Fatalf("beta sees acme's marks")
	}
	if err := s.DeleteRemediationMark(ctx, acme.ID, m.ARN, "compliant", by); err != nil {
		t.Fatal(err)
	}
	if marks, _ := s.RemediationMarks(ctx, acme.ID, "conn_1"); len(marks) != 0 {
		t.Fatalf("mark left after delete: %+v", marks)
	}
	lines, err := s.AuditLog(ctx, "", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, l := range lines {
		count[l.Action]++
	}
	if count[store.AuditRemediationPlan] != 1 || count[store.AuditRemediationState] != 2 || count[store.AuditRemediationStep] != 1 ||
		count[store.AuditRemediationMark] != 2 || count[store.AuditRemediationUnmk] != 1 {
		t.Errorf("audit lines: %v", count)
	}
	if res, err := s.VerifyAudit(ctx); err != nil || !res.OK {
		t.Errorf("audit chain: %+v %v", res, err)
	}
}
