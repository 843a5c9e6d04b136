package verify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestPassingFaultsAreNotFindings: a verification and a members check that
// meet only throttling (after the SDK's and verify's own retries) store
// nothing as failed: the verification is inconclusive and the connection
// stays verified, the members keep their status and are listed as
// unchecked, and both exit 6, never 5.
func TestPassingFaultsAreNotFindings(t *testing.T) {
	w := newOrgWorld(t, []string{"prod", "dev"}, 2)
	ctx := context.Background()
	opts := verify.Options{AWS: awsclient.MustFactory(w.hubConfig(t)), Tenant: "acme"}
	res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(w.conn.RoleARN)}, opts)
	if err != nil || res.Status != store.VerificationVerified {
		t.Fatalf("verify without faults: %s, %v", res.Status, err)
	}
	if _, err := verify.Members(ctx, w.st, w.conn, verify.MembersOptions{Options: opts, Verify: true}); err != nil {
		t.Fatal(err)
	}

	// Every GetCallerIdentity (a check of the connection and of each
	// member, never the organization's listing) is throttled.
	proxy, err := emulator.StartFaultProxy(w.srv.URL, 11, emulator.Rule{Service: "sts", Operation: "GetCallerIdentity", Fault: emulator.FaultThrottle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	opts = verify.Options{AWS: awsclient.MustFactory(w.hubConfigAt(t, proxy.URL)), Tenant: "acme", TransientWait: 300 * time.Millisecond}

	res, err = verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(w.conn.RoleARN)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.VerificationInconclusive || crossbill.ExitCode(res.Err()) != 6 {
		t.Fatalf("verify under throttling: %s, exit %d: %v (proxy saw %v)", res.Status, crossbill.ExitCode(res.Err()), res.Err(), proxy.Requests())
	}
	if c := check(t, res, verify.CheckCallerIdentity); c.Class != string(awsclient.ClassThrottled) {
		t.Fatalf("caller-identity %+v", c)
	}
	conn, err := w.st.ConnectionByID(ctx, w.conn.ID)
	if err != nil || conn.Status != store.StatusVerified {
		t.Fatalf("connection %s after an inconclusive verification, want verified: %v", conn.Status, err)
	}
	if v, err := w.st.LatestVerification(ctx, w.conn.ID); err != nil || v.Status != store.VerificationInconclusive {
		t.Fatalf("stored %+v, %v", v.Status, err)
	}
	// The SDK's 3 attempts, then verify's own retries within 300 ms.
	if n := proxy.Requests()["sts:GetCallerIdentity"]; n < 3 {
		t.Fatalf("GetCallerIdentity sent %d times, want the SDK's attempts at least", n)
	}

	mres, err := verify.Members(ctx, w.st, w.conn, verify.MembersOptions{Options: opts, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	merr := mres.Err()
	if crossbill.ExitCode(merr) != 6 || mres.Summary.Unchecked != 2 || mres.Summary.Verified != 2 || mres.Summary.Failed != 0 {
		t.Fatalf("members under throttling: exit %d, summary %+v: %v", crossbill.ExitCode(merr), mres.Summary, merr)
	}
	for _, id := range w.members {
		m := member(t, mres, id)
		if m.Status != store.MemberVerified || m.Class != string(awsclient.ClassThrottled) || !slices.Contains(mres.Unchecked, id) {
			t.Errorf("member %s: %+v", id, m)
		}
	}
}

// TestMembersErrPrefersRealFailures: a member that really failed in this
// run makes exit 5 even beside unchecked ones; a failed status kept by an
// unchecked member is not a failure of this run.
func TestMembersErrPrefersRealFailures(t *testing.T) {
	t.Parallel()
	members := []store.Member{{AccountID: "111111111111", Status: store.MemberFailed, Fix: "deploy the StackSet"}, {AccountID: "222222222222", Status: store.MemberVerified}}
	r := verify.MembersResult{Verified: true, Members: members, Unchecked: []crossbill.AccountID{"222222222222"}, Summary: verify.MembersSummary{Members: 2, Failed: 1, Verified: 1, Unchecked: 1}}
	if code := crossbill.ExitCode(r.Err()); code != 5 {
		t.Fatalf("a real failure beside an unchecked member: exit %d", code)
	}
	r.Unchecked = []crossbill.AccountID{"111111111111", "222222222222"}
	if code := crossbill.ExitCode(r.Err()); code != 6 {
		t.Fatalf("only unchecked members (one kept failed): exit %d", code)
	}
}
