package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// attempt is a verification of role for connection id; assumed says
// whether crossbill assumed the role with the connection's external ID.
func attempt(id crossbill.ConnectionID, role crossbill.RoleARN, assumed bool) store.Verification {
	now := time.Now().UTC()
	v := store.Verification{ConnectionID: id, RoleARN: role, Status: store.VerificationFailed, StartedAt: now, FinishedAt: now.Add(time.Second),
		Checks: []store.VerificationCheck{{Name: store.CheckAssumeRole, Status: store.CheckFail, Class: "role-missing-or-trust", StartedAt: now}}}
	if assumed {
		v.Status = store.VerificationVerified
		v.Checks = []store.VerificationCheck{{Name: store.CheckAssumeRole, Status: store.CheckPass, StartedAt: now},
			{Name: store.CheckCallerIdentity, Status: store.CheckPass, StartedAt: now}}
	}
	return v
}

var bind = storetest.Bind

// TestOnlyAnAssumedVerificationBinds: naming a role binds nothing; a
// failed attempt is kept for the tenant's connection without binding; a
// verification whose caller identity failed binds nothing; a "verified"
// result that did not assume its role is refused; one that assumed it
// binds the role and its account in the same write.
func TestOnlyAnAssumedVerificationBinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, acme.ID, "cb-assumed")
	const role = "arn:aws:iam::555555555555:role/CrossbillAccess"
	unbound := func(when string) {
		t.Helper()
		got, err := s.ConnectionByID(ctx, c.ID)
		if err != nil || got.RoleARN != "" || got.AccountID != "" {
			t.Fatalf("%s: connection bound: %+v, %v", when, got, err)
		}
		if bs, err := s.Bindings(ctx, store.BindingFilter{}); err != nil || len(bs) != 0 {
			t.Fatalf("%s: bindings %+v, %v", when, bs, err)
		}
		if _, err := s.ConnectionByRoleARN(ctx, role); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
			t.Fatalf("%s: role found: %v", when, err)
		}
	}

	if _, err := s.SaveVerification(ctx, attempt(c.ID, role, false)); err != nil {
		t.Fatal(err)
	}
	unbound("after a failed attempt")
	latest, err := s.LatestVerification(ctx, c.ID)
	if err != nil || latest.RoleARN != role || latest.Status != store.VerificationFailed {
		t.Fatalf("the attempt is not kept: %+v, %v", latest, err)
	}
	if got, _ := s.ConnectionByID(ctx, c.ID); got.Status != store.StatusFailed {
		t.Fatalf("status after a failed attempt: %s", got.Status)
	}

	wrongAccount := attempt(c.ID, role, true)
	wrongAccount.Status = store.VerificationFailed
	wrongAccount.Checks[1].Status = store.CheckFail
	if _, err := s.SaveVerification(ctx, wrongAccount); err != nil {
		t.Fatal(err)
	}
	unbound("after a session in another account")

	claimed := attempt(c.ID, role, false)
	claimed.Status = store.VerificationVerified
	if _, err := s.SaveVerification(ctx, claimed); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("verified without assuming: %v, want invalid", err)
	}
	unbound("after a verified claim without an assumed role")
	if vs, _ := s.Verifications(ctx, c.ID, 0); len(vs) != 2 {
		t.Fatalf("the refused claim was stored: %d verifications", len(vs))
	}

	got, err := bind(ctx, s, c.ID, role)
	if err != nil || got.RoleARN != role || got.AccountID != "555555555555" || got.Status != store.StatusVerified {
		t.Fatalf("assumed verification: %+v, %v", got, err)
	}
	bs, err := s.Bindings(ctx, store.BindingFilter{})
	if err != nil || len(bs) != 1 || bs[0].TenantName != "acme" || bs[0].AccountID != "555555555555" || len(bs[0].Roles) != 1 || bs[0].Roles[0].AssumedAt == nil {
		t.Fatalf("bindings %+v, %v", bs, err)
	}
}

// TestBindingRefusedForAnotherTenantWritesNothing: a verification of a
// role or account another tenant holds is refused whole, with
// ErrNotBindable, and BoundElsewhere says so beforehand.
func TestBindingRefusedForAnotherTenantWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	owner, _ := s.CreateTenant(ctx, "owner")
	squat, err := s.CreateTenant(ctx, "squat")
	if err != nil {
		t.Fatal(err)
	}
	co, cs := newConn(t, s, owner.ID, "cb-owner"), newConn(t, s, squat.ID, "cb-squat")
	const role = "arn:aws:iam::666666666666:role/CrossbillAccess"
	if _, err := bind(ctx, s, co.ID, role); err != nil {
		t.Fatal(err)
	}
	for _, r := range []crossbill.RoleARN{role, "arn:aws:iam::666666666666:role/Other"} {
		if elsewhere, err := s.BoundElsewhere(ctx, squat.ID, r); err != nil || !elsewhere {
			t.Errorf("BoundElsewhere(squat, %s) = %v, %v", r, elsewhere, err)
		}
		if elsewhere, err := s.BoundElsewhere(ctx, owner.ID, r); err != nil || elsewhere {
			t.Errorf("BoundElsewhere(owner, %s) = %v, %v", r, elsewhere, err)
		}
		if _, err := s.SaveVerification(ctx, attempt(cs.ID, r, true)); !errors.Is(err, store.ErrNotBindable) {
			t.Errorf("squatter's assumed verification of %s: %v, want ErrNotBindable", r, err)
		}
	}
	if elsewhere, err := s.BoundElsewhere(ctx, squat.ID, "arn:aws:iam::777777777777:role/X"); err != nil || elsewhere {
		t.Errorf("BoundElsewhere of a free account = %v, %v", elsewhere, err)
	}
	got, err := s.ConnectionByID(ctx, cs.ID)
	if err != nil || got.RoleARN != "" || got.Status != store.StatusPending {
		t.Fatalf("refused verification changed the squatter's connection: %+v, %v", got, err)
	}
	if vs, err := s.Verifications(ctx, cs.ID, 0); err != nil || len(vs) != 0 {
		t.Fatalf("refused verification stored: %+v, %v", vs, err)
	}
	// A failed attempt of the squatter is stored as any other and binds nothing.
	if _, err := s.SaveVerification(ctx, attempt(cs.ID, role, false)); err != nil {
		t.Fatal(err)
	}
	if bs, _ := s.Bindings(ctx, store.BindingFilter{TenantID: squat.ID}); len(bs) != 0 {
		t.Fatalf("squatter holds %+v", bs)
	}
}

// TestReleaseAccount: the operator frees an account; the tenant's
// connections and member records return to pending, one audit line says
// who and why, the log cannot be edited, and the account can then be bound
// by its real owner.
func TestReleaseAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	squat, _ := s.CreateTenant(ctx, "squat")
	owner, err := s.CreateTenant(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	const account = "888888888888"
	const role = "arn:aws:iam::" + account + ":role/CrossbillAccess"
	cs, co := newConn(t, s, squat.ID, "cb-squat"), newConn(t, s, owner.ID, "cb-owner")
	// A binding made before crossbill required an assumed role: written
	// directly, as the old code did, with no verification behind it.
	if _, err := s.DB().ExecContext(ctx, `UPDATE connections SET role_arn = ?, account_id = ?, status = 'failed' WHERE id = ?`, role, account, string(cs.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO account_owners(account_id, tenant_id) VALUES (?, ?)`, account, string(squat.ID)); err != nil {
		t.Fatal(err)
	}
	bs, err := s.Bindings(ctx, store.BindingFilter{AccountID: account})
	if err != nil || len(bs) != 1 || bs[0].TenantID != squat.ID || len(bs[0].Roles) != 1 || bs[0].Roles[0].AssumedAt != nil {
		t.Fatalf("legacy binding listed as %+v, %v", bs, err)
	}
	if _, err := bind(ctx, s, co.ID, role); !errors.Is(err, store.ErrNotBindable) {
		t.Fatalf("owner before the release: %v", err)
	}

	for name, tc := range map[string]struct {
		account       crossbill.AccountID
		actor, reason string
		want          crossbill.Code
	}{
		"malformed account": {"12345", "cli:op", "x", crossbill.CodeInvalid},
		"no reason":         {account, "cli:op", "", crossbill.CodeInvalid},
		"no actor":          {account, "", "x", crossbill.CodeInvalid},
		"not bound":         {"999999999999", "cli:op", "x", crossbill.CodeNotFound},
	} {
		if _, err := s.ReleaseAccount(ctx, tc.account, store.AuditEntry{Actor: tc.actor}, tc.reason); crossbill.ErrorCode(err) != tc.want {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}
	if log, _ := s.AuditLog(ctx, "", ""); len(log) != 0 {
		t.Fatalf("refused releases were audited: %+v", log)
	}

	// A person signed in through the IdP releases: the line names them.
	by := store.AuditEntry{Actor: "user:usr_op", PersonSubject: "sub-op", PersonEmail: "op@example.com"}
	released, err := s.ReleaseAccount(ctx, account, by, "owner showed the account is theirs")
	if err != nil || released.TenantID != squat.ID || len(released.Roles) != 1 {
		t.Fatalf("release: %+v, %v", released, err)
	}
	got, err := s.ConnectionByID(ctx, cs.ID)
	if err != nil || got.RoleARN != "" || got.AccountID != "" || got.Status != store.StatusPending {
		t.Fatalf("squatter's connection after release: %+v, %v", got, err)
	}
	if bs, _ := s.Bindings(ctx, store.BindingFilter{}); len(bs) != 0 {
		t.Fatalf("bindings after release: %+v", bs)
	}
	log, err := s.AuditLog(ctx, store.AuditBindingRelease, "")
	if err != nil || len(log) != 1 {
		t.Fatalf("audit log: %+v, %v", log, err)
	}
	e := log[0]
	var detail struct {
		Reason string `json:"reason"`
		Tenant string `json:"tenant"`
		Roles  []struct {
			RoleARN string `json:"role_arn"`
		} `json:"roles"`
	}
	if err := json.Unmarshal(e.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if e.Actor != "user:usr_op" || e.PersonSubject != "sub-op" || e.PersonEmail != "op@example.com" || e.TenantID != squat.ID || e.Subject != account || e.At.IsZero() ||
		detail.Reason != "owner showed the account is theirs" || detail.Tenant != "squat" || len(detail.Roles) != 1 || detail.Roles[0].RoleARN != role {
		t.Fatalf("audit line %+v, detail %+v", e, detail)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'someone else'`, `DELETE FROM audit_log`} {
		if _, err := s.DB().ExecContext(ctx, q); err == nil {
			t.Errorf("%s: the audit log was changed", q)
		}
	}
	if _, err := s.ReleaseAccount(ctx, account, store.AuditEntry{Actor: "cli:op"}, "again"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("second release: %v", err)
	}

	// The real owner's verification now binds.
	if c, err := bind(ctx, s, co.ID, role); err != nil || c.RoleARN != role {
		t.Fatalf("owner after the release: %+v, %v", c, err)
	}
	if bs, _ := s.Bindings(ctx, store.BindingFilter{TenantID: owner.ID}); len(bs) != 1 || bs[0].Roles[0].ConnectionID != co.ID {
		t.Fatalf("owner's binding: %+v", bs)
	}
}

// TestReleaseResetsVerifiedMembers: a member account claimed through an
// organization returns to pending on release, so the next members run
// checks (and may claim) it again.
func TestReleaseResetsVerifiedMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := bind(ctx, s, newConn(t, s, acme.ID, "cb-org").ID, "arn:aws:iam::100000000001:role/CrossbillAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SyncMembers(ctx, c, "CrossbillAccess", []store.OrgAccount{{AccountID: "200000000002", State: store.AccountActive}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMemberCheck(ctx, c.ID, "200000000002", store.MemberCheck{Status: store.MemberVerified, CheckedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	bs, err := s.Bindings(ctx, store.BindingFilter{AccountID: "200000000002"})
	if err != nil || len(bs) != 1 || len(bs[0].Members) != 1 || bs[0].Members[0] != c.ID || len(bs[0].Roles) != 0 {
		t.Fatalf("member binding: %+v, %v", bs, err)
	}
	if _, err := s.ReleaseAccount(ctx, "200000000002", store.AuditEntry{Actor: "token:tok_op"}, "test"); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Members(ctx, c.ID)
	if err != nil || len(ms) != 1 || ms[0].Status != store.MemberPending || ms[0].Message == "" {
		t.Fatalf("member after release: %+v, %v", ms, err)
	}
	if got, _ := s.ConnectionByID(ctx, c.ID); got.RoleARN == "" {
		t.Fatal("releasing a member account unbound the management account's connection")
	}
}
