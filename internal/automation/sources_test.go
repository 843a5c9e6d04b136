package automation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
)

// TestPoliciesActOnRecommendations: a recommendations policy reads the
// tenant's open optimization recommendations (filtered by rule) and its
// remediate action plans through internal/remediation; the savings alert
// rule reads the same recommendations. Another tenant's are not read.
func TestPoliciesActOnRecommendations(t *testing.T) {
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
	eip := inventory.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":elastic-ip/eipalloc-free", AccountID: acct, Region: "us-east-1", Service: "ec2", Type: "elastic-ip", ID: "eipalloc-free"}
	src := &optimize.Memory{}
	src.Save(acme.ID, []inventory.Resource{vol, eip}, nil)
	if _, err := optimize.Evaluate(ctx, st, acme.ID, src); err != nil {
		t.Fatal(err)
	}
	ps, err := automation.Parse([]byte("policies:\n  - name: free-volumes\n    resource: recommendations\n    filters:\n      - rule: ebs-unattached\n    action: remediate\n"))
	if err != nil {
		t.Fatal(err)
	}
	sources := automation.Sources{Recommendations: automation.Optimize{Store: st}, Remediator: automation.Remediation{Env: remediation.Env{Store: st}}}
	rep, err := automation.Run(ctx, st, acme.ID, ps, sources, true)
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Policies[0]
	if len(p.Matched) != 1 || p.Matched[0].Text["resource"] != vol.ARN || !strings.Contains(p.Outcome, "would plan 1 remediation") || p.Error != "" {
		t.Fatalf("dry run: %+v", p)
	}
	if rep, err = automation.Run(ctx, st, beta.ID, ps, sources, true); err != nil || len(rep.Policies[0].Matched) != 0 {
		t.Fatalf("beta's run read acme's recommendations: %+v %v", rep, err)
	}
	ops, err := alerts.OptimizeSavings{Store: st}.Opportunities(ctx, acme.ID)
	if err != nil || len(ops) != 2 {
		t.Fatalf("savings opportunities: %+v %v", ops, err)
	}
	for _, o := range ops {
		if o.MonthlySavings <= 0 || o.ID == "" || o.Title == "" {
			t.Errorf("opportunity: %+v", o)
		}
	}
	if ops, err := (alerts.OptimizeSavings{Store: st}).Opportunities(ctx, beta.ID); err != nil || len(ops) != 0 {
		t.Fatalf("beta, never evaluated: %+v %v", ops, err)
	}
}
