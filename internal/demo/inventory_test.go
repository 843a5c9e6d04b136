package demo

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
)

// TestDemoRecommendationsAgreeWithTheCUR: the demo's cost job builds an
// inventory from the synthetic organization and evaluates it; the
// recommendations name resources the CUR bills, with the CUR's own
// amortized cost, and cover the rules the organization was given
// resources for.
func TestDemoRecommendationsAgreeWithTheCUR(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := costs.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rep, err := LoadCosts(ctx, st, Options{DataDir: dir, Costs: cs, Accounts: 4, Months: 1, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	l, err := optimize.List(ctx, st, rep.Tenant.ID, optimize.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]int{}
	for _, r := range l.Recommendations {
		rules[r.Rule]++
	}
	for _, want := range []string{"ebs-unattached", "ebs-gp2-to-gp3", "snapshot-old", "eip-unassociated", "ec2-graviton", "ec2-rightsize", "off-hours", "s3-abort-multipart"} {
		if rules[want] == 0 {
			t.Errorf("no %s recommendation in the demo: %v", want, rules)
		}
	}
	t.Logf("%d resources, %d recommendations, %.2f a month: %v", l.Resources, len(l.Recommendations), l.Summary.Total, rules)
	// Every saving of a billed resource comes from its CUR cost.
	costsByID, err := resourceCosts(ctx, Options{Costs: cs}, rep.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := inventory.Resources(ctx, st, rep.Tenant.ID, inventory.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]inventory.Resource{}
	for _, r := range res {
		byARN[r.ARN] = r
	}
	checked := 0
	for _, r := range l.Recommendations {
		if r.Rule != "ebs-unattached" && r.Rule != "eip-unassociated" && r.Rule != "snapshot-old" {
			continue
		}
		ir := byARN[r.ARN]
		key := ir.ID
		c, ok := costsByID[key]
		if !ok || r.Savings.CostSource != inventory.CostFromCUR || r.Savings.Basis != "after-discounts" {
			t.Errorf("%s on %s: not billed in the CUR (%v) or not from it: %+v", r.Rule, key, ok, r.Savings)
			continue
		}
		if diff := r.Savings.Monthly - c.MonthlyAmortized; diff > 0.01 || diff < -0.01 {
			t.Errorf("%s on %s saves %.2f, the CUR bills %.2f a month", r.Rule, key, r.Savings.Monthly, c.MonthlyAmortized)
		}
		checked++
	}
	if checked < 4 {
		t.Errorf("only %d deletions checked against the CUR", checked)
	}
}
