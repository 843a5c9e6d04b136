package jit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/store"
)

// parallel runs f(0..n-1), at most k at once.
func parallel(n, k int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, k)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}(i)
	}
	wg.Wait()
}

// BenchmarkExpiry1000: 1,000 active leases (Identity Center assignments in
// moto, 500 per member account) whose expiries fall within one minute;
// the figure is the time from the last expiry until the last lease is
// revoked and its assignment gone, with the lease engine's default
// concurrency. The server's lease loop runs every 5 s: add up to that.
//
//	go test ./internal/jit -run '^$' -bench Expiry1000 -benchtime 1x
func BenchmarkExpiry1000(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newWorld(b, n)
		ctx := context.Background()
		sso := ssoadmin.NewFromConfig(w.mgmt)
		t0 := w.clock.Now()
		ids := make([]string, n)
		parallel(n, 16, func(i int) {
			user := w.users[fmt.Sprintf("user%d@example.com", i)]
			account := w.members[i%2]
			must(sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(w.instance), PermissionSetArn: aws.String(w.ops),
				PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(user), TargetId: aws.String(string(account)), TargetType: ssotypes.TargetTypeAwsAccount}))
			t := jit.Target{Kind: jit.KindPermissionSet, Account: account, PermissionSet: w.ops, Instance: w.instance}
			raw, _ := json.Marshal(t)
			granted := t0.Add(-time.Hour)
			exp := t0.Add(time.Duration(i) * time.Minute / n) // all within one minute
			l := store.JITLease{ID: fmt.Sprintf("lease_bench_%04d", i), TenantID: w.tenant, ConnectionID: w.conn.ID, Policy: "oncall", Requester: fmt.Sprintf("user%d@example.com", i),
				Actor: "bench", PrincipalType: jit.PrincipalICUser, PrincipalID: user, PrincipalName: "u", TargetKey: t.Key(), Target: raw, Reason: "bench", DurationS: 3600,
				State: jit.StateActive, RequestedAt: granted, DecideBy: granted, GrantedAt: &granted, ExpiresAt: &exp, NextAt: &exp}
			if err := w.st.CreateJITLease(ctx, l, store.AuditEntry{Actor: "bench", Action: store.AuditJITGranted}, nil); err != nil {
				panic(err)
			}
			ids[i] = l.ID
		})
		w.clock.Add(time.Minute)
		b.StartTimer()
		start := time.Now()
		for {
			res, err := jit.Advance(ctx, w.st, w.opts(), 8)
			if err != nil {
				b.Fatal(err)
			}
			left, err := w.st.JITLeases(ctx, w.tenant, []string{jit.StateActive, jit.StateRevoking, jit.StateRevokeFail}, 2*n)
			if err != nil {
				b.Fatal(err)
			}
			if len(left) == 0 {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("%d leases not revoked after 10 minutes (last pass: %+v)", len(left), res)
			}
			w.clock.Add(10 * time.Second) // retries wait for their backoff
		}
		elapsed := time.Since(start)
		b.StopTimer()
		for _, a := range w.members {
			out := must(sso.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(w.instance), AccountId: aws.String(string(a)), PermissionSetArn: aws.String(w.ops)}))
			if len(out.AccountAssignments) != 0 {
				b.Fatalf("%d assignments left in %s", len(out.AccountAssignments), a)
			}
		}
		b.ReportMetric(elapsed.Seconds(), "s-until-last-revoked")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "revocations/s")
	}
}

// BenchmarkReconcile100x50: one full reconciler pass (ScopeFull, what the
// server does once a day per connection; the per-minute passes list only
// the leased targets) over a policy of 50 permission sets in 100 accounts
// (5,000 targets, one ListAccountAssignments each, 8 at once), against
// moto.
//
//	go test ./internal/jit -run '^$' -bench Reconcile100x50 -benchtime 1x
func BenchmarkReconcile100x50(b *testing.B) {
	b.StopTimer()
	w := newWorld(b, 0)
	ctx := context.Background()
	sso := ssoadmin.NewFromConfig(w.mgmt)
	var sets []string
	for i := 0; i < 50; i++ {
		out := must(sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: aws.String(w.instance), Name: aws.String(fmt.Sprintf("Set%02d", i)), SessionDuration: aws.String("PT1H")}))
		sets = append(sets, aws.ToString(out.PermissionSet.PermissionSetArn))
	}
	var accounts []crossbill.AccountID
	for i := 0; i < 100; i++ {
		accounts = append(accounts, crossbill.AccountID(fmt.Sprintf("5000000%05d", i)))
	}
	w.policy(b, func(p *jit.Policy) {
		p.Targets = nil
		for _, s := range sets {
			p.Targets = append(p.Targets, jit.TargetRule{PermissionSet: s, Accounts: accounts})
		}
	})
	for i := 0; i < b.N; i++ {
		b.StartTimer()
		res, err := jit.Reconcile(ctx, w.st, w.tenant, w.conn.ID, jit.ScopeFull, w.opts(), 8)
		b.StopTimer()
		if err != nil || res.Targets != 5000 || len(res.Errors) != 0 {
			b.Fatalf("%d targets, errors %v, %v", res.Targets, res.Errors, err)
		}
		b.ReportMetric(float64(res.DurationMS)/1000, "s/pass")
	}
}
