package athena_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
)

// commitmentAnswers are every commitments analysis over one window.
type commitmentAnswers struct {
	Start, End  time.Time
	Inventory   []commitments.Commitment
	Utilization []commitments.UtilizationRow
	Hourly      []commitments.UtilizationRow
	Coverage    []commitments.CoverageRow
	Daily       commitments.UtilizationView
	Observed    []commitments.Rate
	Recommended []commitments.Recommendation
	// PlanUsage is a purchase plan's expected usage (purchase.ReadUsage),
	// its on-demand spend summed per group.
	PlanUsage map[string]float64
}

// analyses runs them all through r, the window the last 30 days of data.
func analyses(ctx context.Context, r commitments.Reader, tenant crossbill.TenantID) (commitmentAnswers, error) {
	var a commitmentAnswers
	end, err := commitments.DataEnd(ctx, r, tenant)
	if err != nil {
		return a, fmt.Errorf("data end: %w", err)
	}
	if a.Start, err = commitments.DataStart(ctx, r, tenant); err != nil {
		return a, fmt.Errorf("data start: %w", err)
	}
	w := commitments.Window{Tenant: tenant, Start: end.AddDate(0, 0, -30), End: end}
	a.End = end
	if err := commitments.CheckData(ctx, r, w); err != nil {
		return a, err
	}
	if a.Inventory, err = commitments.FromCUR(ctx, r, w); err != nil {
		return a, err
	}
	if a.Utilization, err = commitments.Utilization(ctx, r, w, commitments.Daily); err != nil {
		return a, err
	}
	if a.Hourly, err = commitments.Utilization(ctx, r, commitments.Window{Tenant: tenant, Start: end.AddDate(0, 0, -2), End: end}, commitments.Hourly); err != nil {
		return a, err
	}
	if a.Coverage, err = commitments.Coverage(ctx, r, w, commitments.Daily, true); err != nil {
		return a, err
	}
	if a.Daily, err = commitments.DailyUtilization(ctx, r, w); err != nil {
		return a, err
	}
	if a.Observed, err = commitments.ObservedRates(ctx, r, w, 0); err != nil {
		return a, err
	}
	rates, err := commitments.LoadRates(ctx, r, w, commitments.RateSources{})
	if err != nil {
		return a, err
	}
	if a.Recommended, err = commitments.RecommendWith(ctx, r, w, rates, commitments.Options{}); err != nil {
		return a, err
	}
	u, err := purchase.ReadUsage(ctx, r, w, commitments.RateSources{})
	a.PlanUsage = map[string]float64{}
	for _, g := range u.Usage {
		for _, v := range g.Spend {
			a.PlanUsage[g.Class+" "+g.InstanceType+" "+g.Region] += v
		}
	}
	return a, err
}

// TestCommitmentsMatchLocal: for an Athena tenant every commitments
// analysis (inventory from the CUR, utilization daily and hourly,
// coverage per account, the daily view, observed discounts,
// recommendations, a purchase plan's expected usage) answers from Athena through the connection's role, the
// local store never opened, and equals the local engine's answer on the
// same Parquet: DuckDB executes the exact SQL crossbill sends (duckAthena;
// moto's Athena executes none) and moto hands its rows to the customer's
// account only. Every statement but the first hour's prunes on
// billing_period; the answer carries what Athena charged (bytes scanned
// stubbed: moto reports 0) and the tenant's month adds it up.
func TestCommitmentsMatchLocal(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	ctx := context.Background()
	duck := &duckAthena{}
	const scanned = 25<<20 + 1 // billed as 26 MB
	w := newEngineWorld(t, duck.middleware, scannedStub(scanned))
	duck.w = &w
	progress(t, w.srv, 1)
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC) // the export holds January and February
	engines := athena.Engines{Store: w.st, AWS: w.hub, Poll: 5 * time.Millisecond, Now: func() time.Time { return now }}
	opened := 0
	local := func(context.Context) (*costs.Store, func(), error) { opened++; return w.cs, func() {}, nil }
	run := func() (commitmentAnswers, *costs.EngineCost) {
		t.Helper()
		var a commitmentAnswers
		cost, err := engines.Commitments(ctx, w.tenant.ID, local, func(r commitments.Reader) error {
			var err error
			a, err = analyses(ctx, r, w.tenant.ID)
			return err
		})
		if duck.err != nil {
			t.Fatalf("DuckDB: %v", duck.err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return a, cost
	}
	want, cost := run()
	if opened != 1 || cost != nil || len(duck.stmts) != 0 {
		t.Fatalf("a local tenant: store opened %d times, Athena cost %+v, %d statements", opened, cost, len(duck.stmts))
	}
	var sps, ris int
	for _, c := range want.Inventory {
		if c.Kind == commitments.KindSavingsPlan {
			sps++
		} else {
			ris++
		}
	}
	if sps == 0 || ris == 0 || len(want.Utilization) == 0 || len(want.Hourly) == 0 || len(want.Coverage) == 0 || len(want.Daily.Daily) == 0 ||
		len(want.Observed) == 0 || len(want.Recommended) == 0 || len(want.PlanUsage) == 0 {
		t.Fatalf("the local answers are thin, the comparison would prove little: %d Savings Plans, %d reservations, %d utilization rows, %d hourly, %d coverage, %d days, %d rates, %d recommendations",
			sps, ris, len(want.Utilization), len(want.Hourly), len(want.Coverage), len(want.Daily.Daily), len(want.Observed), len(want.Recommended))
	}

	if _, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Connection: w.conn.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	opened = 0
	got, cost := run()
	if opened != 0 {
		t.Fatalf("the local store was opened %d times for an Athena tenant", opened)
	}
	sameAnswer(t, "commitments", got, want)

	// DataEnd, DataStart, CheckData, FromCUR, Utilization twice,
	// Coverage, DailyUtilization (2), ObservedRates twice (itself and in
	// LoadRates), RecommendWith (CheckData, EligibleUsage), ReadUsage
	// (DataStart, CheckData, ObservedRates, EligibleUsage): one statement
	// each.
	const statements = 17
	if n := len(duck.stmts); n != statements || w.rec.Count("athena:StartQueryExecution") != statements {
		t.Fatalf("%d statements sent to Athena, want %d:\n%s", n, statements, strings.Join(duck.stmts, "\n\n"))
	}
	for _, s := range duck.stmts {
		if !strings.Contains(s, "billing_period IN (") && !strings.HasPrefix(s, "SELECT min(line_item_usage_start_date), min(") {
			t.Errorf("a statement reads every billing period:\n%s", s)
		}
		if strings.Contains(s, "tenant") {
			t.Errorf("a statement selects a tenant column Athena's table lacks:\n%s", s)
		}
		// DuckDB runs these; Athena (Trino) would refuse them.
		for _, duckOnly := range []string{"GROUP BY ALL", "::", "ILIKE", "any_value", "FILTER (", "epoch(", "generate_series", "unnest", "INTERVAL 1", "?"} {
			if strings.Contains(s, duckOnly) {
				t.Errorf("a statement uses DuckDB's %q, which Athena lacks:\n%s", duckOnly, s)
			}
		}
	}
	if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
		t.Fatalf("calls missing from the permission manifest: %v", undeclared)
	}
	if cost == nil || cost.Queries != statements || cost.ScannedBytes != statements*scanned || cost.BilledBytes != statements*26<<20 ||
		!near(cost.CostUSD, statements*costs.AthenaCostUSD(26<<20)) {
		t.Fatalf("the answer's cost: %+v, want %d queries of 26 MB billed", cost, statements)
	}
	e, err := athena.Engine(ctx, w.st, w.tenant.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if sp := e.AthenaSpend; sp == nil || sp.Queries != statements || sp.BilledBytes != statements*26<<20 {
		t.Fatalf("the month's spend: %+v", e.AthenaSpend)
	}
}

// sameAnswer compares two answers through their JSON, numbers within a
// millionth (Athena and the local engine may add in another order).
func sameAnswer(t *testing.T, what string, got, want any) {
	t.Helper()
	var g, w any
	for _, p := range []struct {
		v   any
		out *any
	}{{got, &g}, {want, &w}} {
		b, err := json.Marshal(p.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, p.out); err != nil {
			t.Fatal(err)
		}
	}
	if path, ok := sameJSON(g, w, what); !ok {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Fatalf("%s differs at %s:\nAthena %s\nlocal  %s", what, path, gb, wb)
	}
}

func sameJSON(g, w any, path string) (string, bool) {
	switch w := w.(type) {
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok || len(gm) != len(w) {
			return path, false
		}
		for k, v := range w {
			if p, ok := sameJSON(gm[k], v, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		gl, ok := g.([]any)
		if !ok || len(gl) != len(w) {
			return path + fmt.Sprintf(" (length %d, want %d)", len(gl), len(w)), false
		}
		for i, v := range w {
			if p, ok := sameJSON(gl[i], v, fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	case float64:
		gf, ok := g.(float64)
		return path, ok && near(gf, w)
	}
	return path, g == w
}

// TestCommitmentsAthenaFailures: a commitments analysis whose query fails
// in Athena says why (the FAILED state is stubbed: moto never fails a
// query), bills nothing and never falls back to the local store; an
// Athena table without data in the recent billing periods says what to
// check.
func TestCommitmentsAthenaFailures(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	ctx := context.Background()
	failed := types.QueryExecutionStatus{State: types.QueryExecutionStateFailed,
		StateChangeReason: aws.String("TABLE_NOT_FOUND: Table 'awsdatacatalog.crossbill_cur.cur2' does not exist"), AthenaError: &types.AthenaError{ErrorCategory: aws.Int32(2)}}
	w := newEngineWorld(t, emulator.Stub("Athena", "GetQueryExecution", &sdk.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &failed}}, nil))
	if _, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Connection: w.conn.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	local := func(context.Context) (*costs.Store, func(), error) {
		t.Fatal("the local store was opened for an Athena tenant's failed query")
		return nil, nil, nil
	}
	engines := athena.Engines{Store: w.st, AWS: w.hub, Poll: time.Millisecond}
	cost, err := engines.Commitments(ctx, w.tenant.ID, local, func(r commitments.Reader) error {
		_, err := commitments.DataEnd(ctx, r, w.tenant.ID)
		return err
	})
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "TABLE_NOT_FOUND") {
		t.Fatalf("a missing table: %v", err)
	}
	if cost == nil || cost.Queries != 0 {
		t.Fatalf("a failed query was billed: %+v", cost)
	}

}

// TestCommitmentsAthenaNoRecentData: an Athena table without line items
// in the billing periods up to now says what to check and how to name
// the window's end instead; DuckDB answers the statement over the export
// (January and February 2026) for a March 2027 "now".
func TestCommitmentsAthenaNoRecentData(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	ctx := context.Background()
	duck := &duckAthena{}
	w := newEngineWorld(t, duck.middleware)
	duck.w = &w
	progress(t, w.srv, 1)
	if _, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Connection: w.conn.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 4, 0, 0, 0, 0, time.UTC)
	engines := athena.Engines{Store: w.st, AWS: w.hub, Poll: time.Millisecond, Now: func() time.Time { return now }}
	_, err := engines.Commitments(ctx, w.tenant.ID, nil, func(r commitments.Reader) error {
		_, err := commitments.DataEnd(ctx, r, w.tenant.ID)
		return err
	})
	if crossbill.ErrorCode(err) != crossbill.CodeNotFound || !strings.Contains(err.Error(), "2027-01, 2027-02, 2027-03") || !strings.Contains(err.Error(), "--end") {
		t.Fatalf("no recent data: %v", err)
	}
	if duck.err != nil {
		t.Fatal(duck.err)
	}
}
