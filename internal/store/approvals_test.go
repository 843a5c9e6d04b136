package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func person(email string) store.AuditEntry {
	return store.AuditEntry{Actor: "user:" + email, PersonEmail: email}
}

// TestApprovalRules: opening is idempotent per subject; the requester
// cannot decide; a person decides once; two people are needed under the
// two-person rule; a deny ends it; another tenant sees nothing; every step
// is on the audit chain.
func TestApprovalRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	ann, bob, cat := person("ann@example.com"), person("bob@example.com"), person("cat@example.com")
	n := store.NewApproval{Kind: "access-grant", Subject: "lease_1", Summary: "admin on prod for 1h", Detail: json.RawMessage(`{"target":"x"}`),
		Required: 2, ExpiresAt: time.Now().Add(time.Hour)}
	a, err := s.OpenApproval(ctx, acme.ID, n, ann)
	if err != nil || a.State != store.ApprovalPending || a.RequestedPerson != "ann@example.com" {
		t.Fatalf("open: %+v, %v", a, err)
	}
	if again, err := s.OpenApproval(ctx, acme.ID, n, ann); err != nil || again.ID != a.ID {
		t.Fatalf("a retried open made another approval: %+v, %v", again, err)
	}
	if _, err := s.Approval(ctx, beta.ID, a.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta read acme's approval: %v", err)
	}
	if _, err := s.DecideApproval(ctx, beta.ID, a.ID, true, "", bob); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta decided acme's approval: %v", err)
	}
	if _, err := s.DecideApproval(ctx, acme.ID, a.ID, true, "", ann); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("the requester approved her own request: %v", err)
	}
	// Same person through another token (another actor) is still the requester.
	if _, err := s.DecideApproval(ctx, acme.ID, a.ID, true, "", store.AuditEntry{Actor: "token:tok_2", PersonEmail: "ANN@example.com"}); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("the requester approved through another token: %v", err)
	}
	a, err = s.DecideApproval(ctx, acme.ID, a.ID, true, "looks right", bob)
	if err != nil || a.State != store.ApprovalPending || len(a.Decisions) != 1 || !a.Decisions[0].Approve {
		t.Fatalf("first of two approvals: %+v, %v", a, err)
	}
	if _, err := s.DecideApproval(ctx, acme.ID, a.ID, true, "", bob); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("bob approved twice: %v", err)
	}
	a, err = s.DecideApproval(ctx, acme.ID, a.ID, true, "", cat)
	if err != nil || a.State != store.ApprovalApproved || a.DecidedAt == nil || len(a.Decisions) != 2 {
		t.Fatalf("second approval: %+v, %v", a, err)
	}
	if _, err := s.DecideApproval(ctx, acme.ID, a.ID, false, "too late", person("dan@example.com")); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("decided after approval: %v", err)
	}

	// A deny ends it at once, even when two approvals are required.
	n.Subject = "lease_2"
	d, _ := s.OpenApproval(ctx, acme.ID, n, ann)
	if d, err = s.DecideApproval(ctx, acme.ID, d.ID, false, "not during the freeze", bob); err != nil || d.State != store.ApprovalDenied {
		t.Fatalf("deny: %+v, %v", d, err)
	}

	// Named approvers: nobody else decides.
	n.Subject, n.Required, n.Approvers = "lease_3", 1, []string{"cat@example.com"}
	o, _ := s.OpenApproval(ctx, acme.ID, n, ann)
	if _, err := s.DecideApproval(ctx, acme.ID, o.ID, true, "", bob); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("an unnamed approver decided: %v", err)
	}
	if o, err = s.DecideApproval(ctx, acme.ID, o.ID, true, "", cat); err != nil || o.State != store.ApprovalApproved {
		t.Fatalf("the named approver: %+v, %v", o, err)
	}

	// Auto-approval by policy is approved at once, and says why.
	n.Subject, n.Approvers, n.AutoApproved = "lease_4", nil, "break-glass: reviewed after"
	if g, err := s.OpenApproval(ctx, acme.ID, n, ann); err != nil || g.State != store.ApprovalApproved || g.AutoApproved == "" {
		t.Fatalf("auto-approved: %+v, %v", g, err)
	}

	if list, err := s.Approvals(ctx, acme.ID, "access-grant", store.ApprovalApproved, 0); err != nil || len(list) != 3 {
		t.Fatalf("approved list: %d, %v", len(list), err)
	}
	if list, _ := s.Approvals(ctx, beta.ID, "", "", 0); len(list) != 0 {
		t.Fatalf("beta lists acme's approvals: %+v", list)
	}
	log, err := s.AuditLog(ctx, "", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range log {
		count[e.Action]++
	}
	if count[store.AuditApprovalOpen] != 4 || count[store.AuditApprovalApprove] != 3 || count[store.AuditApprovalDeny] != 1 {
		t.Fatalf("audit lines: %v", count)
	}
	if chk, err := s.VerifyAudit(ctx); err != nil || !chk.OK {
		t.Fatalf("audit chain: %+v, %v", chk, err)
	}
}

// TestApprovalExpiryAndCancel: a pending approval past its expiry cannot
// be decided and the sweep expires it once; a cancelled one is closed.
func TestApprovalExpiryAndCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	n := store.NewApproval{Kind: "purchase", Subject: "plan_1", Summary: "buy", Detail: json.RawMessage(`{}`), Required: 1, ExpiresAt: now.Add(time.Minute)}
	a, _ := s.OpenApproval(ctx, acme.ID, n, person("ann@example.com"))
	n.Subject = "plan_2"
	c, _ := s.OpenApproval(ctx, acme.ID, n, person("ann@example.com"))
	if c, err := s.CancelApproval(ctx, acme.ID, c.ID, "wrong term", person("ann@example.com")); err != nil || c.State != store.ApprovalCancelled {
		t.Fatalf("cancel: %+v, %v", c, err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.DecideApproval(ctx, acme.ID, a.ID, true, "", person("bob@example.com")); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("decided after expiry: %v", err)
	}
	got, err := s.ExpireApprovals(ctx)
	if err != nil || len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("expire: %+v, %v", got, err)
	}
	if again, _ := s.ExpireApprovals(ctx); len(again) != 0 {
		t.Fatalf("expired twice: %+v", again)
	}
	if a, _ = s.Approval(ctx, acme.ID, a.ID); a.State != store.ApprovalExpired {
		t.Fatalf("state: %s", a.State)
	}
}

// TestApprovalConcurrentDecisions: two approvers deciding at once under
// the two-person rule both count, and the approval is approved once.
func TestApprovalConcurrentDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	a, err := s.OpenApproval(ctx, acme.ID, store.NewApproval{Kind: "remediation", Subject: "plan_9", Summary: "stop", Detail: json.RawMessage(`{}`),
		Required: 2, ExpiresAt: time.Now().Add(time.Hour)}, person("ann@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []string{"bob@example.com", "cat@example.com"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.DecideApproval(ctx, acme.ID, a.ID, true, "", person(who))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, _ = s.Approval(ctx, acme.ID, a.ID)
	if a.State != store.ApprovalApproved || len(a.Decisions) != 2 {
		t.Fatalf("after two concurrent approvals: %+v", a)
	}
}
