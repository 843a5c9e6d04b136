package athena_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// TestCatalogMatchesLocal: for an Athena tenant the billing periods
// (`costs periods`) and the dimension listing (GET .../costs/dimensions)
// with a dimension's values answer from Athena through the connection's
// role, never opening the local store, and equal the local engine's on
// the same Parquet: DuckDB executes the exact statements crossbill sends
// (duckAthena: moto's Athena executes none), scanned bytes stubbed
// (moto reports 0). Each answer carries what it cost.
func TestCatalogMatchesLocal(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	ctx := context.Background()
	duck := &duckAthena{}
	const scanned = 3 << 20 // billed as the 10 MB minimum
	w := newEngineWorld(t, duck.middleware, scannedStub(scanned))
	duck.w = &w
	progress(t, w.srv, 1)
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC) // the export holds January and February
	engines := athena.Engines{Store: w.st, AWS: w.hub, Poll: 5 * time.Millisecond, Now: func() time.Time { return now }}
	opened := 0
	local := func(context.Context) (*costs.Store, func(), error) { opened++; return w.cs, func() {}, nil }

	// The dimensions asked: plain ones, the tag keys, a tag's values, the
	// cost categories' keys.
	asked := []string{"", costs.DimService, costs.DimAccount, costs.DimRegion, costs.DimUsageType, costs.DimChargeType, costs.DimTag, costs.DimCostCategory}
	type answers struct {
		periods     []costs.Period
		periodsCost *costs.EngineCost
		catalogs    []athena.Catalog
	}
	run := func(extra ...string) answers {
		t.Helper()
		var a answers
		var err error
		if a.periods, a.periodsCost, err = engines.Periods(ctx, w.tenant.ID, local); err != nil {
			t.Fatalf("periods: %v", err)
		}
		for _, d := range append(slices.Clone(asked), extra...) {
			c, err := engines.Catalog(ctx, w.tenant.ID, d, local)
			if err != nil {
				t.Fatalf("catalog %q: %v", d, err)
			}
			a.catalogs = append(a.catalogs, c)
		}
		if duck.err != nil {
			t.Fatalf("DuckDB: %v", duck.err)
		}
		return a
	}
	want := run()
	// A tag key to list the values of: the first the local store has.
	keys := want.catalogs[slices.Index(asked, costs.DimTag)].Values.Values
	if len(keys) == 0 {
		t.Fatal("the local store lists no tag key: the comparison would prove nothing")
	}
	tagKey := "tag:" + keys[0]
	want.catalogs = append(want.catalogs, must[athena.Catalog](t)(engines.Catalog(ctx, w.tenant.ID, tagKey, local)))
	if opened != 2+len(asked) || want.periodsCost != nil || want.catalogs[0].Athena != nil || want.catalogs[0].Engine != store.EngineLocal {
		t.Fatalf("a local tenant: store opened %d times, costs %+v %+v", opened, want.periodsCost, want.catalogs[0])
	}
	if len(want.periods) != 2 || want.catalogs[0].Values != nil {
		t.Fatalf("local periods %+v, values without asking %+v", want.periods, want.catalogs[0].Values)
	}
	for i, c := range want.catalogs[1:] {
		if c.Values == nil || len(c.Values.Values) == 0 {
			t.Fatalf("the local store lists no value of %q: %+v", append(asked, tagKey)[i+1], c.Values)
		}
	}

	if _, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Connection: w.conn.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	opened = 0
	got := run(tagKey)
	if opened != 0 {
		t.Fatalf("the local store was opened %d times for an Athena tenant", opened)
	}
	// Periods: one statement; each listing: the periods, and the values
	// when asked.
	if n, want := len(duck.stmts), 1+1+2*(len(asked)); n != want {
		t.Fatalf("%d statements sent to Athena, want %d:\n%q", n, want, duck.stmts)
	}
	for _, s := range duck.stmts {
		if !strings.Contains(s, "WHERE billing_period IN (") {
			t.Fatalf("a statement not bounded by billing periods (partitions):\n%s", s)
		}
	}
	if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
		t.Fatalf("calls missing from the permission manifest: %v", undeclared)
	}

	// The periods: the same months and line items.
	if len(got.periods) != len(want.periods) {
		t.Fatalf("periods: Athena %+v\nlocal %+v", got.periods, want.periods)
	}
	for i, p := range want.periods {
		if g := got.periods[i]; g.Period != p.Period || g.Rows != p.Rows || g.Source != "athena:"+manifest.AthenaDatabase+"."+manifest.AthenaTable {
			t.Fatalf("period %d: Athena %+v, local %+v", i, g, p)
		}
	}
	billed := costs.AthenaCostUSD(10 << 20)
	if c := got.periodsCost; c == nil || c.Queries != 1 || c.ScannedBytes != scanned || !near(c.CostUSD, billed) {
		t.Fatalf("periods cost: %+v", c)
	}
	// The listings.
	for i, l := range want.catalogs {
		g := got.catalogs[i]
		if g.Engine != store.EngineAthena || !slices.Equal(g.Periods, l.Periods) || g.DefaultFrom != l.DefaultFrom || g.DefaultTo != l.DefaultTo ||
			len(g.Dimensions) != len(l.Dimensions) || !slices.Equal(g.Metrics, l.Metrics) {
			t.Fatalf("listing %d: Athena %+v\nlocal %+v", i, g, l)
		}
		queries := 2
		if l.Values == nil {
			queries = 1
			if g.Values != nil {
				t.Fatalf("Athena listed values unasked: %+v", g.Values)
			}
		} else if g.Values == nil || g.Values.Dimension != l.Values.Dimension || !slices.Equal(g.Values.Values, resourceTagsOnly(l.Values)) || g.Values.Truncated {
			t.Fatalf("values of %s: Athena %+v\nlocal %+v", l.Values.Dimension, g.Values, l.Values)
		}
		if g.Athena == nil || g.Athena.Queries != queries || !near(g.Athena.CostUSD, float64(queries)*billed) {
			t.Fatalf("listing %d cost: %+v, want %d queries", i, g.Athena, queries)
		}
	}
	// The month's spend adds every query up.
	e, err := athena.Engine(ctx, w.st, w.tenant.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(len(duck.stmts)); e.AthenaSpend == nil || e.AthenaSpend.Queries != n || e.AthenaSpend.ScannedBytes != n*scanned {
		t.Fatalf("the month's spend: %+v, want %d queries", e.AthenaSpend, n)
	}

	// A dimension that does not exist is refused before any query.
	if _, err := engines.Catalog(ctx, w.tenant.ID, "colour", local); err == nil || !strings.Contains(err.Error(), "tag or cost-category alone") {
		t.Fatalf("an unknown dimension: %v", err)
	}
}

// resourceTagsOnly is the local listing without the IAM principal tags
// (iamPrincipal/KEY) of CUR 2.0's tags column: Athena reads tags from
// resource_tags, the column every CUR 2.0 export has (costs.AthenaSQL),
// so it neither groups by them nor offers them.
func resourceTagsOnly(v *costs.DimValues) []string {
	if v.Dimension != costs.DimTag {
		return v.Values
	}
	return slices.DeleteFunc(slices.Clone(v.Values), func(k string) bool { return strings.HasPrefix(k, "iamPrincipal/") })
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestValuesSQLBounded: a listing reads only the partitions asked and at
// most the limit, with literal periods checked.
func TestValuesSQLBounded(t *testing.T) {
	t.Parallel()
	stmt, err := costs.AthenaValuesSQL("db.t", costs.Dim{Kind: costs.DimTag}, []string{"2026-01", "2026-02"}, 11)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"billing_period IN ('2026-01', '2026-02')", "LIMIT 11", "UNNEST(map_keys(resource_tags))"} {
		if !strings.Contains(stmt, want) {
			t.Fatalf("missing %q:\n%s", want, stmt)
		}
	}
	if _, err := costs.AthenaValuesSQL("db.t", costs.Dim{Kind: costs.DimService}, []string{"2026-01' OR 1=1 --"}, 10); err == nil {
		t.Fatal("a period that is not YYYY-MM was accepted")
	}
	if _, err := costs.AthenaPeriodsSQL("db.t; DROP", []string{"2026-01"}); err == nil {
		t.Fatal("a table name that is not DATABASE.TABLE was accepted")
	}
}

// FuzzValuesSQL: any dimension a caller names is refused or rendered as
// one statement whose string literals are all closed (a tag key cannot
// end its quote early), bounded by the periods and the limit.
func FuzzValuesSQL(f *testing.F) {
	for _, s := range []string{"service", "tag", "cost-category", "tag:team", "tag:user_team", "tag:it's", "cost-category:a'b''", "tag:x'] OR 1=1 --", "colour", "tag:", "cost-category:user_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := costs.ParseValuesDim(s)
		if err != nil {
			return
		}
		stmt, err := costs.AthenaValuesSQL("db.t", d, []string{"2026-01"}, 5)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if strings.Count(stmt, "'")%2 != 0 || !strings.HasSuffix(stmt, "LIMIT 5") || !strings.Contains(stmt, "WHERE billing_period IN ('2026-01')") {
			t.Fatalf("%q:\n%s", s, stmt)
		}
		key := d.Key
		if d.Kind == costs.DimTag {
			key = strings.TrimPrefix(key, "user_")
		}
		if key != "" && !strings.Contains(stmt, "'"+strings.ReplaceAll(key, "'", "''")+"'") {
			t.Fatalf("%q: the key is not one literal:\n%s", s, stmt)
		}
	})
}
