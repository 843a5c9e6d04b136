package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestVerificationsStoredWithChecksAndStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-verify")
	start := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC)
	failed := store.Verification{
		ConnectionID: c.ID, RoleARN: "arn:aws:iam::222222222222:role/CrossbillAccess", Status: store.VerificationFailed,
		StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond),
		Checks: []store.VerificationCheck{
			{Name: "assume-role", Status: store.CheckPass, StartedAt: start, DurationMS: 300},
			{Name: "external-id-required", Status: store.CheckFail, Class: "external-id-not-enforced", Message: "assumed without an external ID", Advice: "add the condition", StartedAt: start.Add(time.Second), DurationMS: 20},
			{Name: "probe:cost:ce:GetCostAndUsage", Module: "cost", Status: store.CheckSkip, StartedAt: start.Add(time.Second)},
		},
	}
	saved, err := s.SaveVerification(ctx, failed)
	if err != nil {
		t.Fatal(err)
	}
	if saved.ID == 0 || saved.DurationMS != 1500 {
		t.Fatalf("saved %+v", saved)
	}
	got, err := s.ConnectionByID(ctx, c.ID)
	if err != nil || got.Status != store.StatusFailed {
		t.Fatalf("connection status after a failed verification: %+v, %v", got.Status, err)
	}
	later := failed
	later.Status, later.StartedAt, later.FinishedAt = store.VerificationVerified, start.Add(time.Minute), start.Add(time.Minute+time.Second)
	later.Checks = later.Checks[:1]
	if _, err := s.SaveVerification(ctx, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ConnectionByID(ctx, c.ID); got.Status != store.StatusVerified {
		t.Fatalf("connection status after a passed verification: %s", got.Status)
	}
	all, err := s.Verifications(ctx, c.ID, 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("Verifications = %d, %v", len(all), err)
	}
	if all[0].Status != store.VerificationVerified || len(all[1].Checks) != 3 {
		t.Fatalf("order or checks wrong: %+v", all)
	}
	ch := all[1].Checks[1]
	if ch.Name != "external-id-required" || ch.Status != store.CheckFail || ch.Class != "external-id-not-enforced" || ch.Advice == "" || ch.DurationMS != 20 || !ch.StartedAt.Equal(start.Add(time.Second)) {
		t.Fatalf("check round trip: %+v", ch)
	}
	if !all[1].StartedAt.Equal(start) {
		t.Fatalf("started_at lost its milliseconds: %s", all[1].StartedAt)
	}
	latest, err := s.LatestVerification(ctx, c.ID)
	if err != nil || latest.ID != all[0].ID {
		t.Fatalf("LatestVerification = %+v, %v", latest, err)
	}
}

func TestSaveVerificationRejectsBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-bad")
	now := time.Now()
	tests := []struct {
		name string
		v    store.Verification
		code crossbill.Code
	}{
		{"unknown status", store.Verification{ConnectionID: c.ID, Status: "maybe", StartedAt: now, FinishedAt: now}, crossbill.CodeInvalid},
		{"unknown check status", store.Verification{ConnectionID: c.ID, Status: store.VerificationVerified, StartedAt: now, FinishedAt: now,
			Checks: []store.VerificationCheck{{Name: "x", Status: "meh"}}}, crossbill.CodeInvalid},
		{"unknown connection", store.Verification{ConnectionID: "nope", Status: store.VerificationVerified, StartedAt: now, FinishedAt: now}, crossbill.CodeNotFound},
	}
	for _, tt := range tests {
		if _, err := s.SaveVerification(ctx, tt.v); crossbill.ErrorCode(err) != tt.code {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
		}
	}
	if got, _ := s.ConnectionByID(ctx, c.ID); got.Status != store.StatusPending {
		t.Fatalf("status changed to %s", got.Status)
	}
	if _, err := s.LatestVerification(ctx, c.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("LatestVerification of a never-verified connection: %v", err)
	}
}

// TestInconclusiveVerificationKeepsStatus: a verification that could not
// check (every failure a passing fault) is stored as history but leaves the
// connection as it was, verified or failed.
func TestInconclusiveVerificationKeepsStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-inconclusive")
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	v := store.Verification{ConnectionID: c.ID, RoleARN: "arn:aws:iam::222222222222:role/CrossbillAccess", StartedAt: start, FinishedAt: start.Add(time.Second)}
	for _, prev := range []store.VerificationStatus{store.VerificationVerified, store.VerificationFailed} {
		v.Status, v.Checks = prev, nil
		if prev == store.VerificationVerified {
			// Only a verification that assumed the role verifies (and binds) it.
			v.Checks = []store.VerificationCheck{{Name: store.CheckAssumeRole, Status: store.CheckPass, StartedAt: start},
				{Name: store.CheckCallerIdentity, Status: store.CheckPass, StartedAt: start}}
		}
		if _, err := s.SaveVerification(ctx, v); err != nil {
			t.Fatal(err)
		}
		before, _ := s.ConnectionByID(ctx, c.ID)
		v.Status = store.VerificationInconclusive
		v.Checks = []store.VerificationCheck{{Name: "assume-role", Status: store.CheckFail, Class: "throttled", Message: "Rate exceeded", StartedAt: start}}
		saved, err := s.SaveVerification(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.ConnectionByID(ctx, c.ID)
		if after.Status != before.Status || (after.Status != store.StatusVerified && after.Status != store.StatusFailed) {
			t.Fatalf("after %s then inconclusive: connection %s, want %s", prev, after.Status, before.Status)
		}
		latest, err := s.LatestVerification(ctx, c.ID)
		if err != nil || latest.ID != saved.ID || latest.Status != store.VerificationInconclusive || len(latest.Checks) != 1 {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
	}
}

// TestInconclusiveMigrationKeepsHistory runs migration 052 again over a
// database with verifications: the rebuild keeps every verification and
// its checks, and the checks still cascade with their verification.
func TestInconclusiveMigrationKeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-migrate")
	now := time.Now()
	saved, err := s.SaveVerification(ctx, store.Verification{ConnectionID: c.ID, RoleARN: "arn:aws:iam::222222222222:role/R", Status: store.VerificationFailed,
		StartedAt: now, FinishedAt: now, Checks: []store.VerificationCheck{{Name: "a", Status: store.CheckFail}, {Name: "b", Status: store.CheckPass}}})
	if err != nil {
		t.Fatal(err)
	}
	file := "migrations/052_verification_inconclusive.sql"
	if engine == store.Postgres {
		file = "migrations/052_verification_inconclusive.postgres.sql"
	}
	sql, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, string(sql)); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestVerification(ctx, c.ID)
	if err != nil || got.ID != saved.ID || len(got.Checks) != 2 {
		t.Fatalf("after the rebuild: %+v, %v", got, err)
	}
	var bad int
	// PostgreSQL keeps its foreign keys through the ALTER; SQLite's rebuild
	// is what needs the check.
	if engine == store.SQLite {
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&bad); err != nil || bad != 0 {
			t.Fatalf("foreign key check: %d, %v", bad, err)
		}
	}
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM verifications WHERE id = ?`, saved.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM verification_checks`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("checks left after their verification was deleted: %d, %v", left, err)
	}
}
