package costs_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// TestResourceCosts: a resource's monthly cost from its own line items,
// amortized and on demand, scaled to 730 hours by the hours it appears;
// commitment-covered usage is flagged; fees and other tenants' rows do
// not count.
func TestResourceCosts(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := context.Background()
	if got, err := s.ResourceCosts(ctx, "acme"); err != nil || len(got) != 0 {
		t.Fatalf("no CUR yet: %v %v", got, err)
	}
	id := func(v string) costtest.Row { return costtest.Row{cur.ColLineItemResourceID: "'" + v + "'"} }
	with := func(r costtest.Row, kv costtest.Row) costtest.Row {
		for k, v := range kv {
			r[k] = v
		}
		return r
	}
	var rows []costtest.Row
	// i-web: on demand, $0.10/h, every hour of days 1 to 10 (240 hours).
	for day := 1; day <= 10; day++ {
		rows = append(rows, with(lineItem(day, "Usage", "AmazonEC2", "us-east-1", 2.4, id("i-web")), costtest.Row{
			cur.ColPricingPublicOnDemandCost: "2.4", cur.ColLineItemUsageEndDate: fmt.Sprintf("TIMESTAMP '2026-01-%02d 00:00:00'", day+1)}))
	}
	// i-sp: covered by a Savings Plan ($1 effective for $1.5 on demand)
	// for one day.
	rows = append(rows, with(lineItem(3, "SavingsPlanCoveredUsage", "AmazonEC2", "us-east-1", 1.5, id("i-sp")), costtest.Row{
		cur.ColPricingPublicOnDemandCost: "1.5", cur.ColSavingsPlanEffectiveCost: "1", cur.ColSavingsPlanARN: spARN,
		cur.ColLineItemUsageEndDate: "TIMESTAMP '2026-01-04 00:00:00'"}),
		lineItem(3, "SavingsPlanNegation", "AmazonEC2", "us-east-1", -1.5, with(id("i-sp"), costtest.Row{cur.ColSavingsPlanARN: spARN})),
		// A fee row naming a resource is not its usage.
		lineItem(3, "Fee", "AmazonEC2", "us-east-1", 50, id("i-web")))
	loadRows(t, s, "acme", "2026-01", "e1", rows)
	loadRows(t, s, "other", "2026-01", "e2", []costtest.Row{lineItem(1, "Usage", "AmazonEC2", "us-east-1", 99, id("i-web"))})

	got, err := s.ResourceCosts(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	web := got["i-web"]
	if !near(web.MonthlyAmortized, 24*730/240.0) || !near(web.MonthlyOnDemand, 24*730/240.0) || web.Covered || web.Currency != "USD" {
		t.Errorf("i-web = %+v, want $73 a month on demand", web)
	}
	sp := got["i-sp"]
	if !near(sp.MonthlyAmortized, 730/24.0) || !near(sp.MonthlyOnDemand, 1.5*730/24) || !sp.Covered {
		t.Errorf("i-sp = %+v, want $30.42 amortized, $45.63 on demand, covered", sp)
	}
	if len(got) != 2 {
		t.Errorf("resources = %v", got)
	}
	other, err := s.ResourceCosts(ctx, "other")
	if err != nil || len(other) != 1 || near(other["i-web"].MonthlyAmortized, web.MonthlyAmortized) {
		t.Errorf("other tenant = %+v %v", other, err)
	}
}
