package remediation_test

import (
	"context"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
)

// TestTargetsForRecommendations: stored optimization recommendations
// become plan targets with their action, resource and recommendation ID;
// another tenant's recommendation is NotFound, and a resolved one is
// refused.
func TestTargetsForRecommendations(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acme, _ := st.CreateTenant(ctx, "acme")
	beta, _ := st.CreateTenant(ctx, "beta")
	const acct = "111122223333"
	vol := inventory.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":volume/vol-free", AccountID: acct, Region: "us-east-1", Service: "ec2", Type: "volume",
		ID: "vol-free", State: "available", Metadata: map[string]any{"volume_type": "gp3", "size_gb": 100.0, "iops": 3000.0, "throughput_mibps": 125.0}}
	eip := inventory.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":elastic-ip/eipalloc-free", AccountID: acct, Region: "us-east-1", Service: "ec2", Type: "elastic-ip",
		ID: "eipalloc-free"}
	src := &optimize.Memory{}
	src.Save(acme.ID, []inventory.Resource{vol, eip}, nil)
	if _, err := optimize.Evaluate(ctx, st, acme.ID, src); err != nil {
		t.Fatal(err)
	}
	l, err := optimize.List(ctx, st, acme.ID, optimize.Filter{})
	if err != nil || len(l.Recommendations) != 2 {
		t.Fatalf("recommendations: %+v %v", l, err)
	}
	var ids []string
	want := map[string]remediation.Action{vol.ARN: remediation.DeleteVolume, eip.ARN: remediation.ReleaseAddress}
	for _, r := range l.Recommendations {
		ids = append(ids, r.ID)
	}
	ts, err := remediation.TargetsFor(ctx, st, acme.ID, ids)
	if err != nil || len(ts) != 2 {
		t.Fatalf("targets: %+v %v", ts, err)
	}
	for i, tg := range ts {
		if tg.Action != want[tg.ARN] || tg.Recommendation != ids[i] || tg.Account != acct || tg.Region != "us-east-1" {
			t.Errorf("target %d: %+v", i, tg)
		}
	}
	if _, err := remediation.TargetsFor(ctx, st, beta.ID, ids[:1]); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta carried out acme's recommendation: %v", err)
	}
	// The volume is gone at the next evaluation: its recommendation is
	// resolved, and carrying it out is refused.
	src.Save(acme.ID, []inventory.Resource{eip}, nil)
	if _, err := optimize.Evaluate(ctx, st, acme.ID, src); err != nil {
		t.Fatal(err)
	}
	for i, tg := range ts {
		if tg.ARN == vol.ARN {
			if _, err := remediation.TargetsFor(ctx, st, acme.ID, ids[i:i+1]); crossbill.ErrorCode(err) != crossbill.CodeConflict {
				t.Fatalf("a resolved recommendation: %v", err)
			}
		}
	}
}
