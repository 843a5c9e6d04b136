package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestOptimizeRecommendations: an evaluation stores its recommendations
// under their stable IDs, a second one updates those it makes again
// (first seen kept) and resolves the rest; filters and tenant scoping
// hold; thresholds are stored per rule with an audit line.
func TestOptimizeRecommendations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rec := func(id, rule, acct string, save float64) store.OptimizeRecommendation {
		return store.OptimizeRecommendation{ID: id, Rule: rule, AccountID: crossbill.AccountID(acct), Region: "us-east-1", ARN: "arn:" + id, Action: "Delete", MonthlySavings: save, Body: json.RawMessage(`{"id":"` + id + `"}`)}
	}
	e1, err := s.SaveOptimizeEvaluation(ctx, store.OptimizeEvaluation{TenantID: acme.ID, StartedAt: t0, FinishedAt: t0, Resources: 3, Recommendations: 2, Summary: json.RawMessage(`{}`)},
		[]store.OptimizeRecommendation{rec("rec_a", "ebs-unattached", "111111111111", 10), rec("rec_b", "eip-unassociated", "222222222222", 3.65)})
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(24 * time.Hour)
	e2, err := s.SaveOptimizeEvaluation(ctx, store.OptimizeEvaluation{TenantID: acme.ID, StartedAt: t1, FinishedAt: t1, Resources: 3, Recommendations: 2, Summary: json.RawMessage(`{"n":2}`)},
		[]store.OptimizeRecommendation{rec("rec_a", "ebs-unattached", "111111111111", 12), rec("rec_c", "ebs-unattached", "222222222222", 50)})
	if err != nil || e2.ID == e1.ID {
		t.Fatal(err)
	}
	open, err := s.OptimizeRecommendations(ctx, acme.ID, store.OptimizeFilter{})
	if err != nil || len(open) != 2 || open[0].ID != "rec_c" || open[1].ID != "rec_a" || open[1].MonthlySavings != 12 || !open[1].FirstSeen.Equal(t0) || !open[1].LastSeen.Equal(t1) || open[1].EvaluationID != e2.ID {
		t.Fatalf("open after the second evaluation: %+v, %v", open, err)
	}
	b, err := s.OptimizeRecommendation(ctx, acme.ID, "rec_b")
	if err != nil || b.State != store.RecommendationResolved || !b.ResolvedAt.Equal(t1) || string(b.Body) != `{"id":"rec_b"}` {
		t.Fatalf("rec_b, no longer made: %+v, %v", b, err)
	}
	if got, _ := s.OptimizeRecommendations(ctx, acme.ID, store.OptimizeFilter{Rule: "ebs-unattached", Account: "222222222222"}); len(got) != 1 || got[0].ID != "rec_c" {
		t.Fatalf("filtered: %+v", got)
	}
	if got, _ := s.OptimizeRecommendations(ctx, acme.ID, store.OptimizeFilter{State: "all"}); len(got) != 3 {
		t.Fatalf("all states: %d", len(got))
	}
	if _, err := s.OptimizeRecommendations(ctx, acme.ID, store.OptimizeFilter{State: "maybe"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("bad state: %v", err)
	}
	if _, err := s.OptimizeRecommendation(ctx, beta.ID, "rec_a"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("acme's recommendation read as beta: %v", err)
	}
	if got, _ := s.OptimizeRecommendations(ctx, beta.ID, store.OptimizeFilter{State: "all"}); len(got) != 0 {
		t.Fatalf("beta lists acme's: %+v", got)
	}
	latest, err := s.LatestOptimizeEvaluation(ctx, acme.ID)
	if err != nil || latest.ID != e2.ID || string(latest.Summary) != `{"n":2}` {
		t.Fatalf("latest: %+v, %v", latest, err)
	}
	if _, err := s.LatestOptimizeEvaluation(ctx, beta.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta's latest: %v", err)
	}

	by := store.AuditEntry{Actor: "token:tok_1", PersonEmail: "ann@example.com"}
	if err := s.SetOptimizeThresholds(ctx, acme.ID, "ec2-idle", json.RawMessage(`{"cpu_percent":5}`), by); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOptimizeThresholds(ctx, acme.ID, "ec2-idle", json.RawMessage(`{"cpu_percent":7}`), by); err != nil {
		t.Fatal(err)
	}
	th, err := s.OptimizeThresholds(ctx, acme.ID)
	if err != nil || string(th["ec2-idle"]) != `{"cpu_percent":7}` {
		t.Fatalf("thresholds: %v, %v", th, err)
	}
	if th, _ := s.OptimizeThresholds(ctx, beta.ID); len(th) != 0 {
		t.Fatalf("beta sees acme's thresholds: %v", th)
	}
	if err := s.SetOptimizeThresholds(ctx, acme.ID, "ec2-idle", nil, by); err != nil {
		t.Fatal(err)
	}
	if th, _ := s.OptimizeThresholds(ctx, acme.ID); len(th) != 0 {
		t.Fatalf("reset kept %v", th)
	}
	lines, err := s.AuditLog(ctx, store.AuditOptimizeThresholds, acme.ID)
	if err != nil || len(lines) != 3 || lines[0].Subject != "ec2-idle" {
		t.Fatalf("audit: %+v, %v", lines, err)
	}
}
