package costs_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
)

// TestRollupsMatchLineItems checks that a load's rollups, which read the
// load's own files, hold what the line_items view gives for the same
// period: for a full CUR 2.0 file, one without the optional tags and
// cost_category columns (NULL in the view), and a FOCUS file; with other
// loads in the store that must not leak in.
func TestRollupsMatchLineItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	loadRows(t, s, "acme", "2026-01", "exec-1", commitmentScenario())
	loadRows(t, s, "other", "2026-01", "exec-1", commitmentScenario())

	dir, err := s.StageDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "part.parquet")
	costtest.WriteParquet(t, path, cur.Columns(), commitmentScenario(), cur.ColTags, cur.ColCostCategory)
	if _, err := s.ReplacePeriod(ctx, costs.Load{Tenant: "acme", Source: "narrow", Period: "2026-02", Format: costs.FormatCUR2,
		Dir: dir, Files: []string{path}, ExecutionID: "exec-2", Fingerprint: "exec-2"}); err != nil {
		t.Fatal(err)
	}

	dir, err = s.StageDir()
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "part.parquet")
	focusRow := func(day int, category, service string, billed, effective float64, tags string) costtest.Row {
		return costtest.Row{
			"ChargePeriodStart": "TIMESTAMP '2026-03-0" + string(rune('0'+day)) + " 00:00:00'",
			"SubAccountId":      "'222222222222'", "ServiceName": "'" + service + "'", "RegionId": "'eu-west-1'",
			"ChargeCategory": "'" + category + "'", "BilledCost": fmtFloat(billed), "EffectiveCost": fmtFloat(effective),
			"ListCost": fmtFloat(billed), "ConsumedQuantity": "3", "Tags": tags,
		}
	}
	costtest.WriteParquet(t, path, cur.FOCUSColumns(), []costtest.Row{
		focusRow(1, "Usage", "Amazon EC2", 4, 3, "MAP {'team': 'web'}"),
		focusRow(1, "Usage", "Amazon EC2", 6, 6, "MAP {'team': 'api', 'env': 'prod'}"),
		focusRow(2, "Tax", "Amazon EC2", 1, 1, "MAP {}"),
	})
	if _, err := s.ReplacePeriod(ctx, costs.Load{Tenant: "acme", Source: "focus", Period: "2026-03", Format: costs.FormatFOCUS,
		Dir: dir, Files: []string{path}, ExecutionID: "exec-3", Fingerprint: "exec-3"}); err != nil {
		t.Fatal(err)
	}

	// Each query counts the rows on which the rollup and the same
	// aggregation over line_items differ (both ways); metrics are rounded
	// as the rollups' differences are.
	const metrics = `round(sum(unblended), 6) AS u, round(sum(amortized), 6) AS a, round(sum(net), 6) AS n,
		round(sum(list), 6) AS l, round(sum(usage), 6) AS q`
	const lineKey = `tenant, source, billing_period, usage_start::DATE AS day, account, service, region, usage_type, operation, charge_type`
	daily := `(SELECT tenant, source, billing_period, day, account, service, region, usage_type, operation, charge_type, ` + metrics + `, sum(line_items) AS c
			FROM cost_daily GROUP BY ALL)`
	lines := `(SELECT ` + lineKey + `, ` + metrics + `, count(*) AS c FROM line_items GROUP BY ALL)`
	// Tags: a row per entry, the CUR 2.0 'user_' prefix removed, as the rollup does.
	dim := `(SELECT tenant, source, billing_period, day, kind, key, value, ` + metrics + `, sum(line_items) AS c
			FROM cost_daily_dim WHERE value IS NOT NULL GROUP BY ALL)`
	lineTags := `(SELECT tenant, source, billing_period, day, kind, regexp_replace(e.key, '^user[_:]', '') AS key, e.value AS value, ` + metrics + `, count(*) AS c
			FROM (SELECT *, usage_start::DATE AS day, 'tag' AS kind, unnest(map_entries(tags)) AS e FROM line_items
				UNION ALL BY NAME
				SELECT *, usage_start::DATE AS day, 'cost_category' AS kind, unnest(map_entries(cost_categories)) AS e FROM line_items)
			GROUP BY ALL)`
	// Every tag key's values and NULL add up to the period's total.
	keyTotals := `(SELECT tenant, source, billing_period, kind, key, ` + metrics + `, sum(line_items) AS c FROM cost_daily_dim GROUP BY ALL)`
	periodTotals := `(SELECT DISTINCT d.tenant, d.source, d.billing_period, d.kind, d.key, t.u, t.a, t.n, t.l, t.q, t.c
			FROM cost_daily_dim d JOIN (SELECT tenant, source, billing_period, ` + metrics + `, count(*) AS c FROM line_items GROUP BY ALL) t
			USING (tenant, source, billing_period))`
	for name, pair := range map[string][2]string{"cost_daily": {daily, lines}, "cost_daily_dim values": {dim, lineTags}, "cost_daily_dim key totals": {keyTotals, periodTotals}} {
		var n int64
		q := `SELECT count(*) FROM ((FROM ` + pair[0] + ` EXCEPT ALL FROM ` + pair[1] + `) UNION ALL (FROM ` + pair[1] + ` EXCEPT ALL FROM ` + pair[0] + `))`
		if err := s.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows differ from line_items", name, n)
		}
	}
	// The comparison covers what it should: the loads and both kinds.
	var loads, kinds int64
	if err := s.DB().QueryRowContext(ctx, `SELECT count(DISTINCT (tenant, source, billing_period)), count(DISTINCT kind) FROM cost_daily_dim`).Scan(&loads, &kinds); err != nil {
		t.Fatal(err)
	}
	if loads != 4 || kinds != 2 {
		t.Errorf("cost_daily_dim holds %d loads and %d kinds, want 4 and 2", loads, kinds)
	}
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
