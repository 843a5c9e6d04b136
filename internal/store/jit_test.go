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

// TestJITLeases: a lease moves only from the version it was read at (two
// workers racing on one step: exactly one wins), each move with its audit
// line; another tenant's lease is NotFound; the due list and the pairs
// find what the lease engine needs.
func TestJITLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	now := time.Now().UTC().Truncate(time.Microsecond)
	l := store.JITLease{ID: "lease_1", TenantID: acme.ID, ConnectionID: "conn_1", Policy: "oncall", Requester: "ann@example.com", Actor: "user:1",
		PrincipalType: "USER", PrincipalID: "u-1", PrincipalName: "ann", TargetKey: "ps:111122223333:arn:ps", Target: json.RawMessage(`{"kind":"permission-set"}`),
		Reason: "incident", DurationS: 3600, State: "requested", RequestedAt: now, DecideBy: now.Add(time.Hour), NextAt: &now}
	if err := s.CreateJITLease(ctx, l, store.AuditEntry{Actor: "user:1", Action: store.AuditJITRequest}, map[string]string{"reason": "incident"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JITLease(ctx, beta.ID, "lease_1"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("acme's lease read as beta: %v", err)
	}
	got, err := s.JITLease(ctx, acme.ID, "lease_1")
	if err != nil || !got.RequestedAt.Equal(now) || got.NextAt == nil || !got.NextAt.Equal(now) || got.ExpiresAt != nil || string(got.Target) != string(l.Target) {
		t.Fatalf("read back: %+v %v", got, err)
	}
	due, err := s.DueJITLeases(ctx, "", "", now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %d %v", len(due), err)
	}
	if due, _ := s.DueJITLeases(ctx, beta.ID, "conn_1", now, 10); len(due) != 0 {
		t.Fatal("beta sees acme's due lease")
	}
	if due, _ := s.DueJITLeases(ctx, "", "", now.Add(-time.Second), 10); len(due) != 0 {
		t.Fatal("a lease due later listed as due")
	}
	// Two workers move the same read: one wins, the other is a Conflict.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m := got
			exp := now.Add(time.Hour)
			m.State, m.ExpiresAt = "granting", &exp
			_, errs[i] = s.UpdateJITLease(ctx, m, &store.AuditEntry{Actor: "jit", Action: store.AuditJITApproved}, nil)
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch crossbill.ErrorCode(err) {
		case "":
			wins++
		case crossbill.CodeConflict:
		default:
			t.Fatalf("update: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d workers moved the same lease", wins)
	}
	moved, _ := s.JITLease(ctx, acme.ID, "lease_1")
	if moved.State != "granting" || moved.Version != got.Version+1 || moved.ExpiresAt == nil {
		t.Fatalf("after the move: %+v", moved)
	}
	beta2 := moved
	beta2.TenantID = beta.ID
	if _, err := s.UpdateJITLease(ctx, beta2, nil, nil); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("beta moving acme's lease: %v", err)
	}
	pair, err := s.JITPairLeases(ctx, acme.ID, l.TargetKey, "u-1", "granting", "active")
	if err != nil || len(pair) != 1 {
		t.Fatalf("pair: %d %v", len(pair), err)
	}
	lines, _ := s.AuditLog(ctx, "", acme.ID)
	if len(lines) != 2 || lines[0].Action != store.AuditJITRequest || lines[1].Action != store.AuditJITApproved || lines[1].Subject != "lease_1" {
		t.Fatalf("audit lines: %+v", lines)
	}
	if c, err := s.VerifyAudit(ctx); err != nil || !c.OK {
		t.Fatalf("chain: %+v %v", c, err)
	}
}

// TestJITPolicies: set replaces, names are per tenant, delete deletes,
// each with its audit line.
func TestJITPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	by := store.AuditEntry{Actor: "user:1", PersonEmail: "admin@example.com"}
	for _, body := range []string{`{"v":1}`, `{"v":2}`} {
		if _, err := s.PutJITPolicy(ctx, acme.ID, "oncall", json.RawMessage(body), by); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.JITPolicy(ctx, acme.ID, "oncall")
	if err != nil || string(p.Body) != `{"v":2}` {
		t.Fatalf("replaced: %s %v", p.Body, err)
	}
	if _, err := s.JITPolicy(ctx, beta.ID, "oncall"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("acme's policy read as beta: %v", err)
	}
	if err := s.DeleteJITPolicy(ctx, beta.ID, "oncall", by); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta deleting acme's policy: %v", err)
	}
	if err := s.DeleteJITPolicy(ctx, acme.ID, "oncall", by); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.JITPolicies(ctx, acme.ID); len(ps) != 0 {
		t.Fatalf("after delete: %d", len(ps))
	}
	lines, _ := s.AuditLog(ctx, "", acme.ID)
	if len(lines) != 3 || lines[2].Action != store.AuditJITPolicyDelete {
		t.Fatalf("audit: %+v", lines)
	}
}
