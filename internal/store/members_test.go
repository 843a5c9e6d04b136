package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func memberByID(tb testing.TB, ms []store.Member, id crossbill.AccountID) store.Member {
	tb.Helper()
	for _, m := range ms {
		if m.AccountID == id {
			return m
		}
	}
	tb.Fatalf("no member %s in %+v", id, ms)
	return store.Member{}
}

func TestSyncMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	mustOK(t, err)
	other, err := s.CreateTenant(ctx, "other")
	mustOK(t, err)
	c := newConn(t, s, acme.ID, "cb-members")
	c, err = bind(ctx, s, c.ID, "arn:aws:iam::100000000000:role/CrossbillAccess")
	mustOK(t, err)
	// Another tenant already connected account 400000000000.
	oc := newConn(t, s, other.ID, "cb-other")
	_, err = bind(ctx, s, oc.ID, "arn:aws:iam::400000000000:role/CrossbillAccess")
	mustOK(t, err)

	joined := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	accounts := []store.OrgAccount{
		{AccountID: "100000000000", Name: "management", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: joined},
		{AccountID: "200000000000", Name: "prod", Email: "prod@example.com", State: "ACTIVE", JoinedMethod: "INVITED", JoinedAt: joined},
		{AccountID: "300000000000", Name: "closing", State: "PENDING_CLOSURE"},
		{AccountID: "400000000000", Name: "theirs", State: "ACTIVE"},
		{AccountID: "500000000000", Name: "dev", State: "ACTIVE"},
	}
	sync, err := s.SyncMembers(ctx, c, "CrossbillAccess", accounts)
	mustOK(t, err)
	if len(sync.Added) != 5 || len(sync.Gone) != 0 {
		t.Fatalf("first sync %+v", sync)
	}
	ms, err := s.Members(ctx, c.ID)
	mustOK(t, err)
	want := map[crossbill.AccountID]store.MemberStatus{
		"100000000000": store.MemberSkipped, "200000000000": store.MemberPending, "300000000000": store.MemberSkipped,
		"400000000000": store.MemberConflict, "500000000000": store.MemberPending,
	}
	for id, st := range want {
		if m := memberByID(t, ms, id); m.Status != st {
			t.Errorf("%s: status %s, want %s (%s)", id, m.Status, st, m.Message)
		}
	}
	prod := memberByID(t, ms, "200000000000")
	if prod.RoleARN != "arn:aws:iam::200000000000:role/CrossbillAccess" || prod.Email != "prod@example.com" || prod.JoinedAt == nil || !prod.JoinedAt.Equal(joined) {
		t.Errorf("prod member %+v", prod)
	}

	// A verified member becomes the tenant's; a failed one records its class.
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	m, err := s.SetMemberCheck(ctx, c.ID, "200000000000", store.MemberCheck{Status: store.MemberVerified, CheckedAt: at, DurationMS: 12})
	mustOK(t, err)
	if m.Status != store.MemberVerified || m.CheckedAt == nil || !m.CheckedAt.Equal(at) {
		t.Fatalf("verified member %+v", m)
	}
	_, err = s.SetMemberCheck(ctx, c.ID, "500000000000", store.MemberCheck{Status: store.MemberFailed, Class: "role-missing-or-trust", Fix: "deploy", CheckedAt: at})
	mustOK(t, err)
	// A check that could not be made (throttled) keeps the status and the
	// time of the last real check; only the note says why.
	m, err = s.SetMemberCheck(ctx, c.ID, "200000000000", store.MemberCheck{Inconclusive: true, Status: store.MemberFailed, Class: "throttled",
		Message: "could not check: Rate exceeded", CheckedAt: at.Add(time.Hour)})
	mustOK(t, err)
	if m.Status != store.MemberVerified || !m.CheckedAt.Equal(at) || m.Class != "throttled" {
		t.Fatalf("inconclusive check changed the member: %+v", m)
	}
	oc2 := newConn(t, s, other.ID, "cb-other-2")
	if _, err := bind(ctx, s, oc2.ID, "arn:aws:iam::200000000000:role/Other"); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("another tenant took a verified member account: %v", err)
	}

	// Second sync: 500000000000 left the organization; the others are
	// updated in place, their last check kept.
	sync, err = s.SyncMembers(ctx, c, "CrossbillAccess", accounts[:4])
	mustOK(t, err)
	if len(sync.Added) != 0 || len(sync.Gone) != 1 || sync.Gone[0] != "500000000000" {
		t.Fatalf("second sync %+v", sync)
	}
	ms, err = s.Members(ctx, c.ID)
	mustOK(t, err)
	if len(ms) != 5 {
		t.Fatalf("%d members after the second sync, want 5 (no duplicates, gone kept)", len(ms))
	}
	if m := memberByID(t, ms, "200000000000"); m.Status != store.MemberVerified {
		t.Errorf("the last check was lost: %+v", m)
	}
	if g := memberByID(t, ms, "500000000000"); !g.Gone() || g.Status != store.MemberFailed || ms[len(ms)-1].AccountID != "500000000000" {
		t.Errorf("gone member %+v (gone ones list last)", g)
	}
	// It comes back: no longer gone. A third sync reports nothing new gone.
	sync, err = s.SyncMembers(ctx, c, "CrossbillAccess", accounts)
	mustOK(t, err)
	if len(sync.Gone) != 0 || len(sync.Added) != 0 {
		t.Fatalf("third sync %+v", sync)
	}
	ms, err = s.Members(ctx, c.ID)
	mustOK(t, err)
	if g := memberByID(t, ms, "500000000000"); g.Gone() {
		t.Errorf("returned member still gone: %+v", g)
	}
	// Another role name resets the check: the old outcome was for another role.
	_, err = s.SyncMembers(ctx, c, "CrossbillOther", accounts)
	mustOK(t, err)
	ms, err = s.Members(ctx, c.ID)
	mustOK(t, err)
	if m := memberByID(t, ms, "200000000000"); m.Status != store.MemberPending || m.RoleARN != "arn:aws:iam::200000000000:role/CrossbillOther" {
		t.Errorf("after a role change %+v", m)
	}
}

func TestSyncMembersRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	mustOK(t, err)
	c := newConn(t, s, acme.ID, "cb-bad")
	if _, err := s.SyncMembers(ctx, c, "CrossbillAccess", nil); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("unbound connection: %v", err)
	}
	c, err = bind(ctx, s, c.ID, "arn:aws:iam::100000000000:role/CrossbillAccess")
	mustOK(t, err)
	for _, tt := range []struct {
		role    string
		account crossbill.AccountID
	}{{"CrossbillAccess", "12345"}, {"bad role name!", "200000000000"}} {
		if _, err := s.SyncMembers(ctx, c, tt.role, []store.OrgAccount{{AccountID: "200000000000", State: "ACTIVE"}, {AccountID: tt.account, State: "ACTIVE"}}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%+v: %v", tt, err)
		}
	}
	ms, err := s.Members(ctx, c.ID)
	mustOK(t, err)
	if len(ms) != 0 {
		t.Errorf("a refused sync stored %+v", ms)
	}
	if _, err := s.SetMemberCheck(ctx, c.ID, "200000000000", store.MemberCheck{Status: store.MemberVerified}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("check of an unknown member: %v", err)
	}
	if _, err := s.SetMemberCheck(ctx, c.ID, "200000000000", store.MemberCheck{Status: "nope"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("unknown status: %v", err)
	}
}

func mustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestAccountNames: a tenant's accounts are named as its organizations
// listed them; another tenant's listing names nothing for it.
func TestAccountNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, err := s.CreateTenant(ctx, "acme")
	mustOK(t, err)
	other, err := s.CreateTenant(ctx, "other")
	mustOK(t, err)
	c, err := bind(ctx, s, newConn(t, s, acme.ID, "cb-names").ID, "arn:aws:iam::100000000000:role/CrossbillAccess")
	mustOK(t, err)
	_, err = s.SyncMembers(ctx, c, "CrossbillAccess", []store.OrgAccount{
		{AccountID: "100000000000", Name: "management", State: "ACTIVE"}, {AccountID: "200000000000", Name: "prod", State: "ACTIVE"},
		{AccountID: "300000000000", State: "ACTIVE"}})
	mustOK(t, err)
	names, err := s.AccountNames(ctx, acme.ID)
	mustOK(t, err)
	if len(names) != 2 || names["100000000000"] != "management" || names["200000000000"] != "prod" {
		t.Fatalf("acme's names %v", names)
	}
	if names, err := s.AccountNames(ctx, other.ID); err != nil || len(names) != 0 {
		t.Fatalf("another tenant's names %v, %v", names, err)
	}
}
