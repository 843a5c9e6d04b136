package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// tamper runs a statement the append-only triggers would refuse, as an
// attacker with write access to the database would: triggers off first.
func tamper(t *testing.T, s *store.Store, stmt string, args ...any) {
	t.Helper()
	ctx := context.Background()
	var err error
	if s.Engine() == store.Postgres {
		_, err = s.DB().ExecContext(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
	} else {
		_, err = s.DB().ExecContext(ctx, `DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete`)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, stmt, args...); err != nil {
		t.Fatal(err)
	}
}

func appendN(t *testing.T, s *store.Store, n int) {
	t.Helper()
	for i := range n {
		if err := s.AppendAudit(context.Background(), store.AuditEntry{Actor: "test", Action: "test.line", Subject: fmt.Sprint(i), PersonEmail: "a@example.com"}, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name, stmt, want string
	}{
		{"edit a line's content", `UPDATE audit_log SET actor = 'someone else' WHERE id = 3`, "line 3: its content"},
		{"edit a line and its hash", `UPDATE audit_log SET detail = '{"i":9}', hash = 'ab' WHERE id = 2`, "line 3: its link"},
		{"delete a middle line", `DELETE FROM audit_log WHERE id = 2`, "line 3: its link"},
		{"delete the last line", `DELETE FROM audit_log WHERE id = 5`, "the chain's head"},
		{"blank a line's hash", `UPDATE audit_log SET hash = '', prev_hash = '' WHERE id = 4`, "line 5: its link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := MustOpen(t)
			appendN(t, s, 5)
			chk, err := s.VerifyAudit(ctx)
			if err != nil || !chk.OK || chk.Chained != 5 || chk.Lines != 5 {
				t.Fatalf("untouched log: %+v %v", chk, err)
			}
			tamper(t, s, c.stmt)
			chk, err = s.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if chk.OK || !strings.Contains(strings.Join(chk.Problems, "\n"), c.want) {
				t.Fatalf("after %s: %+v, want a problem %q", c.stmt, chk, c.want)
			}
		})
	}
}

func TestAuditChainConcurrentAppends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				errs <- s.AppendAudit(ctx, store.AuditEntry{Actor: fmt.Sprintf("g%d", g), Action: "test.line", Subject: fmt.Sprint(i)}, nil)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	chk, err := s.VerifyAudit(ctx)
	if err != nil || !chk.OK || chk.Chained != 40 {
		t.Fatalf("after 40 concurrent appends: %+v %v", chk, err)
	}
}

func TestRolesSessionsAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.SignInUser(ctx, "https://idp.example", "sub-1", "ann@example.com", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.SignInUser(ctx, "https://idp.example", "sub-1", "ann@corp.example", "Ann")
	if err != nil || again.ID != u.ID || again.Email != "ann@corp.example" {
		t.Fatalf("second sign-in is the same person with the new email: %+v %v", again, err)
	}
	by := store.AuditEntry{Actor: "idp", PersonSubject: "sub-1"}
	if err := s.SetUserRoles(ctx, again, []store.RoleGrant{{TenantID: acme.ID, Role: store.RoleViewer}, {TenantID: acme.ID, Role: store.RoleApprover}}, by); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserRoles(ctx, again, []store.RoleGrant{{TenantID: acme.ID, Role: store.RoleApprover}}, by); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserRoles(ctx, again, nil, by); err != nil {
		t.Fatal(err)
	}
	log, err := s.AuditLog(ctx, "", acme.ID)
	if err != nil || len(log) != 2 || log[0].Action != store.AuditRoleGrant || log[1].Action != store.AuditRoleRevoke || !strings.Contains(string(log[0].Detail), `"to":"approver"`) {
		t.Fatalf("role changes audited once each (the highest of two grants, no line for no change): %+v %v", log, err)
	}
	if err := s.SetUserRoles(ctx, again, []store.RoleGrant{{TenantID: acme.ID, Role: store.RoleOperator}}, by); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("operator in one tenant: %v", err)
	}

	ses, secret, err := s.CreateSession(ctx, u.ID, "", 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE hash = ? OR id = ?`, string(secret), string(secret)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("session secret stored in plain text (%d, %v)", n, err)
	}
	now = now.Add(20 * time.Minute)
	if got, err := s.SessionBySecret(ctx, secret, 30*time.Minute); err != nil || got.ID != ses.ID {
		t.Fatalf("live session: %+v %v", got, err)
	}
	now = now.Add(29 * time.Minute) // 29 min after the last use: still live
	if _, err := s.SessionBySecret(ctx, secret, 30*time.Minute); err != nil {
		t.Fatalf("session used 29 minutes ago: %v", err)
	}
	now = now.Add(31 * time.Minute)
	if _, err := s.SessionBySecret(ctx, secret, 30*time.Minute); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("idle session: %v", err)
	}
	_, secret2, err := s.CreateSession(ctx, u.ID, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // used every 15 minutes, yet ends after the absolute hour
		now = now.Add(15 * time.Minute)
		_, err = s.SessionBySecret(ctx, secret2, 30*time.Minute)
	}
	if crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("session past its absolute end: %v", err)
	}
	_, a, _ := s.CreateSession(ctx, u.ID, "", time.Hour)
	_, b, _ := s.CreateSession(ctx, u.ID, "", time.Hour)
	// The idle session (not past its absolute end) is ended as well: 3.
	if n, err := s.EndUserSessions(ctx, u.ID); err != nil || n != 3 {
		t.Fatalf("sign out everywhere: %d %v", n, err)
	}
	for _, sec := range []store.Secret{a, b} {
		if _, err := s.SessionBySecret(ctx, sec, time.Hour); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
			t.Fatalf("session after sign-out everywhere: %v", err)
		}
	}

	// Sessions ended over a day ago are dropped at the next sign-in.
	var before, after int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	if _, _, err := s.CreateSession(ctx, u.ID, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&after); err != nil || before != 4 || after != 1 {
		t.Fatalf("sessions before %d, after the next sign-in %d (%v); want 4 then 1", before, after, err)
	}

	// Tokens: no role keeps the scope's meaning; a role sets the scope.
	read, _, err := s.CreateToken(ctx, acme.ID, "r", store.ScopeRead)
	if err != nil || read.Role != store.RoleViewer {
		t.Fatalf("read token: %+v %v", read, err)
	}
	adm, _, err := s.CreateToken(ctx, acme.ID, "a", store.ScopeAdmin)
	if err != nil || adm.Role != store.RoleAdmin {
		t.Fatalf("admin token: %+v %v", adm, err)
	}
	ap, apSecret, err := s.NewToken(ctx, store.TokenRequest{Tenant: acme.ID, Role: store.RoleApprover, UserID: u.ID})
	if err != nil || ap.Scope != store.ScopeRead || ap.UserID != u.ID {
		t.Fatalf("approver token: %+v %v", ap, err)
	}
	if got, err := s.Authenticate(ctx, apSecret); err != nil || got.Role != store.RoleApprover || got.UserID != u.ID {
		t.Fatalf("approver token read back: %+v %v", got, err)
	}
	if _, _, err := s.NewToken(ctx, store.TokenRequest{Tenant: acme.ID, Role: store.RoleOperator}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("tenant token with role operator: %v", err)
	}
	if _, _, err := s.NewToken(ctx, store.TokenRequest{Tenant: acme.ID, Role: store.RoleAdmin, Scope: store.ScopeRead}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("admin role with read scope: %v", err)
	}
	chk, err := s.VerifyAudit(ctx)
	if err != nil || !chk.OK {
		t.Fatalf("chain: %+v %v", chk, err)
	}
}

// BenchmarkAuditAppend: one chained audit line (head update, hash, insert)
// in its own transaction; the chain's cost over the plain insert is the
// head row's update and one SHA-256.
func BenchmarkAuditAppend(b *testing.B) {
	ctx := context.Background()
	s := MustOpen(b)
	b.ResetTimer()
	for i := range b.N {
		if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "bench", Action: "bench.line", Subject: fmt.Sprint(i), PersonEmail: "a@example.com"}, map[string]int{"i": i}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAudit: recomputing a 10,000-line chain.
func BenchmarkVerifyAudit(b *testing.B) {
	ctx := context.Background()
	s := MustOpen(b)
	for i := range 10000 {
		if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "bench", Action: "bench.line", Subject: fmt.Sprint(i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if c, err := s.VerifyAudit(ctx); err != nil || !c.OK {
			b.Fatal(c, err)
		}
	}
}
