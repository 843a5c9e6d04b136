package ingest_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// generated is a small synthetic organization (CUR 2.0 and FOCUS 1.2),
// written once for the tests that read it (they only read it); TestMain
// removes it.
var generated struct {
	once sync.Once
	dir  string
	res  cur.GenerateResult
	err  error
}

func generate(tb testing.TB) cur.GenerateResult {
	tb.Helper()
	generated.once.Do(func() {
		if generated.dir, generated.err = os.MkdirTemp("", "crossbill-ingest-gen-"); generated.err != nil {
			return
		}
		generated.res, generated.err = cur.Generate(context.Background(), cur.GenerateOptions{Dir: generated.dir, Seed: 7,
			Accounts: 1, Months: 2, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4, FOCUS: true})
	})
	if generated.err != nil {
		tb.Fatal(generated.err)
	}
	return generated.res
}

// TestIngestGenerated loads the generator's CUR 2.0 and FOCUS 1.2 exports
// of the same organization into two tenants: each period's unblended and
// amortized totals match what the generator wrote, through both formats.
func TestIngestGenerated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := generate(t)
	s := openStore(t)
	for tenant, export := range map[crossbill.TenantID]string{"cur2": gen.Export, "focus": gen.FOCUSExport} {
		res, err := ingest.Ingest(ctx, s, ingest.Options{Source: filepath.Join(gen.Dir, gen.Prefix, export), Tenant: tenant})
		if err != nil {
			t.Fatalf("%s: %v", tenant, err)
		}
		if len(res.Periods) != 2 {
			t.Fatalf("%s: %+v", tenant, res)
		}
	}
	for _, m := range gen.Months {
		for _, tenant := range []string{"cur2", "focus"} {
			for metric, want := range map[string]float64{costs.MetricUnblended: m.UnblendedCost, costs.MetricAmortized: m.AmortizedCost} {
				var got float64
				if err := s.DB().QueryRowContext(ctx, `SELECT sum(`+metric+`) FROM cost_daily WHERE tenant = ? AND billing_period = ?`,
					tenant, m.Period).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if math.Abs(got-want) > 0.01 {
					t.Errorf("%s %s %s = %.4f, generator says %.4f", tenant, m.Period, metric, got, want)
				}
			}
		}
	}
	// For every tag key and cost category, its rollup (values and the
	// untagged remainder) adds up to the month: every line item once.
	for _, tenant := range []string{"cur2", "focus"} {
		rows, err := s.DB().QueryContext(ctx, `
			SELECT d.kind, d.key, d.billing_period, d.n, d.amortized, c.n, c.amortized
			FROM (SELECT kind, key, billing_period, sum(line_items) AS n, sum(amortized) AS amortized
				FROM cost_daily_dim WHERE tenant = $1 GROUP BY ALL) d
			JOIN (SELECT billing_period, sum(line_items) AS n, sum(amortized) AS amortized
				FROM cost_daily WHERE tenant = $1 GROUP BY ALL) c USING (billing_period)`, tenant)
		if err != nil {
			t.Fatal(err)
		}
		keys := 0
		for rows.Next() {
			var kind, key, period string
			var dn, cn int64
			var da, ca float64
			if err := rows.Scan(&kind, &key, &period, &dn, &da, &cn, &ca); err != nil {
				t.Fatal(err)
			}
			keys++
			if dn != cn || math.Abs(da-ca) > 0.01 {
				t.Errorf("%s %s %s:%s: %d line items, %.4f amortized; the month has %d, %.4f", tenant, period, kind, key, dn, da, cn, ca)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if keys == 0 {
			t.Errorf("%s: no tag or cost category rollups", tenant)
		}
	}
	// The FOCUS view over CUR agrees with the FOCUS export, row class by row class.
	rows, err := s.DB().QueryContext(ctx, `
		SELECT ChargeCategory, coalesce(CommitmentDiscountStatus, ''),
			round(sum(BilledCost) FILTER (WHERE tenant = 'cur2'), 2), round(sum(BilledCost) FILTER (WHERE tenant = 'focus'), 2),
			round(sum(EffectiveCost) FILTER (WHERE tenant = 'cur2'), 2), round(sum(EffectiveCost) FILTER (WHERE tenant = 'focus'), 2)
		FROM focus GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var cat, status string
		var b1, b2, e1, e2 *float64
		if err := rows.Scan(&cat, &status, &b1, &b2, &e1, &e2); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s/%s billed %v/%v effective %v/%v", cat, status, deref(b1), deref(b2), deref(e1), deref(e2))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
