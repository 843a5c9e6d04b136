package athena_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/costs/athena/athenatest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// duckAthena stands in for Athena's query engine, which moto lacks: each
// statement crossbill starts in Athena is first run by DuckDB over the
// world's Parquet (laid out as the CUR stack's Glue table sees them) and
// its rows queued in moto's Athena for the customer's account, so that
// the query's answer is what the statement computes, reaching crossbill
// only through the role. Statements are kept in order.
type duckAthena struct {
	mu    sync.Mutex
	w     *engineWorld
	stmts []string
	err   error
}

func (d *duckAthena) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("duckdb-athena", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if p, ok := in.Parameters.(*sdk.StartQueryExecutionInput); ok {
			stmt := aws.ToString(p.QueryString)
			res, err := d.w.duckRows(ctx, stmt)
			if err == nil {
				err = d.w.srv.QueueAthenaResults(ctx, customer, athena.Region, res)
			}
			d.mu.Lock()
			d.stmts = append(d.stmts, stmt)
			if err != nil && d.err == nil {
				d.err = fmt.Errorf("%w\n%s", err, stmt)
			}
			d.mu.Unlock()
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// scannedStub sets the bytes a succeeded query scanned in
// GetQueryExecution's statistics: moto reports 0 for every query.
func scannedStub(scanned int64) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("scanned-bytes", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if x, ok := out.Result.(*sdk.GetQueryExecutionOutput); ok && err == nil && x.QueryExecution != nil &&
				x.QueryExecution.Status != nil && x.QueryExecution.Status.State == types.QueryExecutionStateSucceeded {
				if x.QueryExecution.Statistics == nil {
					x.QueryExecution.Statistics = &types.QueryExecutionStatistics{}
				}
				x.QueryExecution.Statistics.DataScannedInBytes = aws.Int64(scanned)
			}
			return out, md, err
		}), middleware.After)
	}
}

// duckRows runs stmt in DuckDB over the export's Parquet files as the
// Glue table (partitioned by billing_period) and spells the rows as
// Athena's GetQueryResults does: the column names first, every value a
// string, timestamps with milliseconds, NULL as no value.
func (w *engineWorld) duckRows(ctx context.Context, stmt string) (emulator.AthenaResult, error) {
	db := w.cs.DB()
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS ` + manifest.AthenaDatabase,
		`CREATE OR REPLACE VIEW ` + manifest.AthenaDatabase + `.` + manifest.AthenaTable + ` AS SELECT * FROM read_parquet('` +
			filepath.Join(w.export, "data", "*", "*.parquet") + `', hive_partitioning = true, hive_types = {'BILLING_PERIOD': VARCHAR}, union_by_name = true)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return emulator.AthenaResult{}, err
		}
	}
	return athenatest.Rows(ctx, db, stmt)
}

// TestEngineUseCasesMatchLocal: with Athena chosen, month over month,
// forecast, anomalies, a saved view and a CSV export answer from Athena
// through the connection's role (the local store is never opened for
// them, but for Cost Explorer's forecast beside crossbill's), each equal
// to the local engine's answer on the same Parquet: DuckDB executes the
// exact SQL crossbill sends (duckAthena; moto's Athena executes none) and
// moto hands its rows out to the customer's account only. Each answer
// carries what Athena charged, and the tenant's month adds it up: the
// bytes scanned are stubbed (moto reports 0), the price is $5 per TB
// with 10 MB at least per query.
func TestEngineUseCasesMatchLocal(t *testing.T) {
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

	q, err := costs.ParseQuery(w.tenant.ID, costs.QueryInput{GroupBy: costs.DimService, Top: 4})
	if err != nil {
		t.Fatal(err)
	}
	byAccount, err := costs.ParseQuery(w.tenant.ID, costs.QueryInput{GroupBy: costs.DimAccount, Granularity: "monthly", From: "2026-01", To: "2026-03"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := costs.SaveView(ctx, w.st, w.tenant.ID, "by account", costs.ViewQuery{GroupBy: "account", Granularity: "monthly", From: "2026-01", To: "2026-03"},
		store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	type answers struct {
		mom       costs.MoM
		forecast  costs.Forecast
		amortized costs.Forecast
		anomalies []costs.Anomaly
		anomCost  *costs.EngineCost
		view      costs.Result
		export    []byte
	}
	run := func() answers {
		t.Helper()
		defer func() {
			if duck.err != nil {
				t.Fatalf("DuckDB: %v", duck.err)
			}
		}()
		var a answers
		var err error
		if a.mom, err = engines.MonthOverMonth(ctx, q, time.Time{}, local); err != nil {
			t.Fatalf("month over month: %v", err)
		}
		// Unblended without a filter: Cost Explorer's forecast may sit
		// beside it (none loaded here); amortized: crossbill's alone.
		if a.forecast, err = engines.Forecast(ctx, w.tenant.ID, costs.MetricUnblended, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), nil, local); err != nil {
			t.Fatalf("forecast: %v", err)
		}
		if a.amortized, err = engines.Forecast(ctx, w.tenant.ID, costs.MetricAmortized, time.Time{}, nil, local); err != nil {
			t.Fatalf("forecast: %v", err)
		}
		if a.anomalies, a.anomCost, err = engines.Anomalies(ctx, costs.AnomalyOptions{Tenant: w.tenant.ID, MinDelta: 1, Threshold: 2.5}, local); err != nil {
			t.Fatalf("anomalies: %v", err)
		}
		if a.view, err = engines.RunView(ctx, w.tenant.ID, "by account", 100, local); err != nil {
			t.Fatalf("view: %v", err)
		}
		if a.export, err = engines.Export(ctx, byAccount, local); err != nil {
			t.Fatalf("export: %v", err)
		}
		return a
	}
	// Alert rules on the costs the tenant's queries show: a budget, an
	// anomaly and two commitment rules, evaluated (dry runs) on the local
	// store now and through Athena's engine later.
	for name, r := range map[string]alerts.RuleRequest{"budget": {Kind: alerts.KindBudget, Params: alerts.Params{Amount: 100}},
		"spikes":    {Kind: alerts.KindAnomaly, Params: alerts.Params{MinAmount: 1, Days: 20}},
		"underused": {Kind: alerts.KindCommitUtilized, Params: alerts.Params{BelowPct: 100, Days: 30}},
		"expiring":  {Kind: alerts.KindCommitExpiry, Params: alerts.Params{Days: 3650}}} {
		r.Tenant, r.Name, r.By = w.tenant.ID, name, store.AuditEntry{Actor: "test"}
		if _, err := alerts.AddRule(ctx, w.st, r); err != nil {
			t.Fatal(err)
		}
	}
	firings := func(src alerts.Sources) []string {
		t.Helper()
		rep, err := alerts.Evaluate(ctx, w.st, w.tenant.ID, src, "", true)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rep.Rules {
			if r.Error != "" {
				t.Fatalf("rule %s: %s", r.Rule, r.Error)
			}
			for _, f := range r.Firings {
				out = append(out, f.Key+" "+f.Subject)
			}
		}
		slices.Sort(out)
		return out
	}
	wantFirings := firings(alerts.Sources{Costs: w.cs})

	want := run()
	if opened != 6 || want.mom.Athena != nil || want.forecast.Athena != nil || want.anomCost != nil || want.view.Athena != nil {
		t.Fatalf("a local tenant: store opened %d times for 6 answers; Athena costs %+v %+v %+v", opened, want.mom.Athena, want.forecast.Athena, want.anomCost)
	}
	if len(want.mom.Changes) == 0 || want.forecast.Forecast == 0 || len(want.anomalies) == 0 || len(want.view.Rows) == 0 {
		t.Fatalf("the local answers are empty, the comparison would prove nothing: %+v %+v %d anomalies %d rows", want.mom, want.forecast, len(want.anomalies), len(want.view.Rows))
	}

	if _, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Connection: w.conn.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	opened = 0
	got := run()
	if duck.err != nil {
		t.Fatal(duck.err)
	}
	// Only the unblended forecast opened the local store: for Cost
	// Explorer's forecast beside it.
	if opened != 1 {
		t.Fatalf("the local store was opened %d times for an Athena tenant; want once (Cost Explorer's forecast)", opened)
	}
	// Month over month: the latest day, this month, the month before.
	// Forecast: the latest day, the days. Anomalies: the latest day, one
	// query per dimension (service, account). View, export: one each.
	if n := len(duck.stmts); n != 3+2+2+3+1+1 {
		t.Fatalf("%d statements sent to Athena, want 12:\n%q", n, duck.stmts)
	}
	if c := w.rec.Count("athena:StartQueryExecution"); c != 12 || w.rec.Count("athena:StopQueryExecution") != 0 {
		t.Fatalf("calls: %+v", w.rec.Operations())
	}
	if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
		t.Fatalf("calls missing from the permission manifest: %v", undeclared)
	}

	// The alert rules through Athena (no local store given): the same
	// firings, from Athena's queries, commitment rules' included.
	eng, err := engines.Athena(ctx, w.tenant.ID)
	if err != nil || eng == nil {
		t.Fatalf("the Athena engine as a source: %v, %v", eng, err)
	}
	gotFirings := firings(alerts.Sources{Engine: eng, Commitments: athena.CommitmentsOf(eng)})
	var commitmentFirings int
	for _, f := range wantFirings {
		if strings.HasPrefix(f, "utilization:") || strings.HasPrefix(f, "expiry:") {
			commitmentFirings++
		}
	}
	if len(wantFirings) < 4 || commitmentFirings < 2 || !slices.Equal(gotFirings, wantFirings) {
		t.Fatalf("alert firings: Athena %q\nlocal %q", gotFirings, wantFirings)
	}
	if n := len(duck.stmts); n <= 12 {
		t.Fatalf("the alert rules sent Athena no statement")
	}
	if local, err := (athena.Engines{Store: w.st}).Athena(ctx, "t_none"); err != nil || local != nil {
		t.Fatalf("a tenant without an engine: %v, %v", local, err)
	}

	// Month over month.
	g, l := got.mom, want.mom
	if g.Current != l.Current || g.Previous != l.Previous || len(g.Changes) != len(l.Changes) || g.Metric != l.Metric || g.GroupBy != l.GroupBy {
		t.Fatalf("month over month: Athena %+v\nlocal %+v", g, l)
	}
	for i, c := range l.Changes {
		if x := g.Changes[i]; x.Group != c.Group || !near(x.Current, c.Current) || !near(x.Previous, c.Previous) {
			t.Fatalf("change %d: Athena %+v, local %+v", i, x, c)
		}
	}
	// Forecasts.
	for _, p := range [][2]costs.Forecast{{got.forecast, want.forecast}, {got.amortized, want.amortized}} {
		g, l := p[0], p[1]
		if g.Month != l.Month || g.DaysActual != l.DaysActual || g.DaysInMonth != l.DaysInMonth || !near(g.ActualToDate, l.ActualToDate) ||
			!near(g.Forecast, l.Forecast) || !near(g.Low, l.Low) || !near(g.High, l.High) {
			t.Fatalf("forecast: Athena %+v\nlocal %+v", g, l)
		}
	}
	// Anomalies.
	if len(got.anomalies) != len(want.anomalies) {
		t.Fatalf("anomalies: Athena %d, local %d", len(got.anomalies), len(want.anomalies))
	}
	for i, a := range want.anomalies {
		x := got.anomalies[i]
		if x.Day != a.Day || x.Dim != a.Dim || x.Group != a.Group || x.Direction != a.Direction || !near(x.Value, a.Value) || !near(x.Baseline, a.Baseline) {
			t.Fatalf("anomaly %d: Athena %+v, local %+v", i, x, a)
		}
	}
	// The saved view and the export.
	if len(got.view.Totals) != len(want.view.Totals) || !near(got.view.Total, want.view.Total) || got.view.Source != "athena" {
		t.Fatalf("view: Athena %+v\nlocal %+v", got.view, want.view)
	}
	gr, lr := readCSV(t, got.export), readCSV(t, want.export)
	if len(gr) != len(lr) || len(lr) < 2 {
		t.Fatalf("export: Athena %q\nlocal %q", gr, lr)
	}
	for i, r := range lr {
		if gr[i][0] != r[0] || gr[i][1] != r[1] || (i > 0 && !near(num(t, gr[i][2]), num(t, r[2]))) {
			t.Fatalf("export row %d: Athena %q, local %q", i, gr[i], r)
		}
	}

	// What it cost: each answer its own queries, the month all of them.
	per := costs.AthenaCostUSD(26 << 20)
	for name, c := range map[string]struct {
		cost    *costs.EngineCost
		queries int
	}{"mom": {got.mom.Athena, 3}, "forecast": {got.forecast.Athena, 2}, "anomalies": {got.anomCost, 3}, "view": {got.view.Athena, 1}} {
		if c.cost == nil || c.cost.Queries != c.queries || c.cost.ScannedBytes != int64(c.queries)*scanned || c.cost.BilledBytes != int64(c.queries)*26<<20 ||
			!near(c.cost.CostUSD, float64(c.queries)*per) {
			t.Errorf("%s cost: %+v, want %d queries of 26 MB billed", name, c.cost, c.queries)
		}
	}
	e, err := athena.Engine(ctx, w.st, w.tenant.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(duck.stmts))
	if sp := e.AthenaSpend; sp == nil || sp.Month != "2026-03" || sp.Queries != n || sp.ScannedBytes != n*scanned || sp.BilledBytes != n*26<<20 || !near(sp.CostUSD, float64(n)*per) {
		t.Fatalf("the month's spend: %+v", e.AthenaSpend)
	}
}

// TestAthenaPrice: $5 per TB, by the MB, 10 MB at least per query.
func TestAthenaPrice(t *testing.T) {
	t.Parallel()
	for scanned, billed := range map[int64]int64{0: 10 << 20, 1: 10 << 20, 10 << 20: 10 << 20, 10<<20 + 1: 11 << 20, 1 << 40: 1 << 40} {
		if b := costs.AthenaBilled(scanned); b != billed {
			t.Errorf("%d bytes scanned: billed %d, want %d", scanned, b, billed)
		}
	}
	if c := costs.AthenaCostUSD(1 << 40); c != 5 {
		t.Fatalf("a TB: $%v", c)
	}
	var c costs.EngineCost
	c.Add(0)
	c.Add(3 << 30)
	if c.Queries != 2 || c.BilledBytes != 10<<20+3<<30 || !near(c.CostUSD, 5*float64(10<<20+3<<30)/(1<<40)) {
		t.Fatalf("two queries: %+v", c)
	}
}

// TestEngineFailures: an Athena tenant's analysis whose query fails in
// Athena says why, and one whose caller gives up stops the query in
// Athena (moto never fails a query: the FAILED state is stubbed).
func TestEngineFailures(t *testing.T) {
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
	_, err := engines.Forecast(ctx, w.tenant.ID, costs.MetricAmortized, time.Time{}, nil, local)
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !bytes.Contains([]byte(err.Error()), []byte("TABLE_NOT_FOUND")) {
		t.Fatalf("forecast over a missing table: %v", err)
	}
	// Athena bills no failed query.
	if sp, _ := athena.AthenaSpend(ctx, w.st, w.tenant.ID, time.Now()); sp.Queries != 0 {
		t.Fatalf("a failed query was counted: %+v", sp)
	}

	// A caller that gives up: the query is stopped in Athena.
	w2 := newEngineWorld(t)
	progress(t, w2.srv, 1_000_000) // never finishes on its own
	if _, err := athena.SetEngine(ctx, w2.st, athena.EngineRequest{Tenant: w2.tenant.ID, Connection: w2.conn.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	q, _ := costs.ParseQuery(w2.tenant.ID, costs.QueryInput{GroupBy: costs.DimService})
	_, err = athena.Engines{Store: w2.st, AWS: w2.hub, Poll: 10 * time.Millisecond}.MonthOverMonth(tctx, q, time.Time{}, local)
	if !errors.Is(err, context.DeadlineExceeded) || w2.rec.Count("athena:StopQueryExecution") != 1 {
		t.Fatalf("month over month past its deadline: %v; calls %+v", err, w2.rec.Operations())
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
