package athena_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/emulator"
)

// moto's Athena does not execute SQL: these tests check the call sequence
// (start, poll until done, page through results, failures, stop on
// cancellation) against moto_server, with the results queued through
// moto's /moto-api/static/athena/query-results and the query's progress
// through its state manager. What the SQL computes is tested with DuckDB
// on real Parquet in internal/costs (TestAthenaSQLMatchesStore). What
// moto cannot do (fail a query, page results) is stubbed, and each such
// test says so.

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// The tests share moto's Athena state manager: they do not run in parallel.
var motoMu sync.Mutex

func client(t *testing.T, rec *awsclient.Recorder, stubs ...func(*middleware.Stack) error) (*sdk.Client, *emulator.Server) {
	t.Helper()
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rec != nil {
		rec.Attach(&cfg)
	}
	cfg.APIOptions = append(cfg.APIOptions, stubs...)
	return sdk.NewFromConfig(cfg), srv
}

func motoAPI(t *testing.T, srv *emulator.Server, path string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
}

// progress makes each query need polls GetQueryExecution calls per state
// (QUEUED, RUNNING) before it moves on.
func progress(t *testing.T, srv *emulator.Server, polls int) {
	motoAPI(t, srv, "/moto-api/state-manager/set-transition", map[string]any{"model_name": "athena::execution",
		"transition": map[string]any{"progression": "manual", "times": polls}})
	t.Cleanup(func() {
		motoAPI(t, srv, "/moto-api/state-manager/unset-transition", map[string]any{"model_name": "athena::execution"})
	})
}

func cell(s string) map[string]string { return map[string]string{"VarCharValue": s} }

func TestQueryCallSequence(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	rec := awsclient.NewRecorder()
	api, srv := client(t, rec)
	progress(t, srv, 2)
	// What Athena would answer: the header row, then (period, group, value).
	motoAPI(t, srv, "/moto-api/static/athena/query-results", map[string]any{"results": []any{map[string]any{
		"column_info": []any{map[string]any{"Name": "period", "Type": "timestamp"}, map[string]any{"Name": "grp", "Type": "varchar"}, map[string]any{"Name": "value", "Type": "double"}},
		"rows": []any{
			map[string]any{"Data": []any{cell("period"), cell("grp"), cell("value")}},
			map[string]any{"Data": []any{cell("2026-01-01 00:00:00.000"), cell("AmazonEC2"), cell("120.5")}},
			map[string]any{"Data": []any{cell("2026-01-01 00:00:00.000"), cell("AmazonS3"), cell("30.25")}},
			map[string]any{"Data": []any{cell("2026-02-01 00:00:00.000"), cell("AmazonEC2"), cell("99")}},
		}}}})
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := athena.Query(context.Background(), api, costs.Query{Metric: costs.MetricUnblended, GroupBy: costs.Dim{Kind: costs.DimService},
		Granularity: costs.Monthly, From: jan, To: jan.AddDate(0, 2, 0)}, athena.Options{Table: "crossbill_cur.cur2", OutputLocation: "s3://athena-results/crossbill/", Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || res.Total != 249.75 || res.Totals[0].Group != "AmazonEC2" || res.Totals[0].Value != 219.5 || res.Source != "athena" {
		t.Fatalf("result: %+v", res)
	}
	// Polled through QUEUED and RUNNING to SUCCEEDED.
	if n := rec.Count("athena:GetQueryExecution"); n < 3 {
		t.Fatalf("GetQueryExecution sent %d times; want the query polled through QUEUED and RUNNING", n)
	}
	if rec.Count("athena:StartQueryExecution") != 1 || rec.Count("athena:GetQueryResults") != 1 || rec.Count("athena:StopQueryExecution") != 0 {
		t.Fatalf("calls: %+v", rec.Operations())
	}
	if undeclared := rec.Undeclared(); len(undeclared) > 0 {
		t.Fatalf("calls missing from the permission manifest: %v", undeclared)
	}
}

// idCatcher is the real client, noting the execution ID it started.
type idCatcher struct {
	*sdk.Client
	id string
}

func (c *idCatcher) StartQueryExecution(ctx context.Context, in *sdk.StartQueryExecutionInput, opts ...func(*sdk.Options)) (*sdk.StartQueryExecutionOutput, error) {
	out, err := c.Client.StartQueryExecution(ctx, in, opts...)
	if err == nil {
		c.id = aws.ToString(out.QueryExecutionId)
	}
	return out, err
}

// A caller that gives up stops the query in Athena, not only its polling.
func TestCancelStopsTheQuery(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	api, srv := client(t, awsclient.NewRecorder())
	progress(t, srv, 1_000_000) // never finishes on its own
	c := &idCatcher{Client: api}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := athena.Run(ctx, c, "SELECT 1", athena.Options{Table: "db.t", Poll: 10 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || crossbill.ErrorCode(err) != crossbill.CodeUnavailable {
		t.Fatalf("Run after the deadline: %v", err)
	}
	out, err := api.GetQueryExecution(context.Background(), &sdk.GetQueryExecutionInput{QueryExecutionId: aws.String(c.id)})
	if err != nil {
		t.Fatal(err)
	}
	if st := out.QueryExecution.Status.State; st != types.QueryExecutionStateCancelled {
		t.Fatalf("query %s is %s in Athena after the caller gave up; want CANCELLED", c.id, st)
	}
}

// moto never fails a query: GetQueryExecution is stubbed with the states
// Athena reports, and each gives the error class crossbill documents.
func TestFailureStates(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	for name, c := range map[string]struct {
		status types.QueryExecutionStatus
		code   crossbill.Code
		says   string
	}{
		"user error": {types.QueryExecutionStatus{State: types.QueryExecutionStateFailed, StateChangeReason: aws.String("TABLE_NOT_FOUND: line 3:6: Table 'awsdatacatalog.crossbill_cur.cur2' does not exist"),
			AthenaError: &types.AthenaError{ErrorCategory: aws.Int32(2)}}, crossbill.CodeInvalid, "TABLE_NOT_FOUND"},
		"access denied": {types.QueryExecutionStatus{State: types.QueryExecutionStateFailed, StateChangeReason: aws.String("Access denied when writing output to url: s3://athena-results/"),
			AthenaError: &types.AthenaError{ErrorCategory: aws.Int32(2)}}, crossbill.CodeAccessDenied, "writing output"},
		"system error": {types.QueryExecutionStatus{State: types.QueryExecutionStateFailed, AthenaError: &types.AthenaError{ErrorCategory: aws.Int32(1), ErrorMessage: aws.String("Internal error")}},
			crossbill.CodeUnavailable, "Internal error"},
		"cancelled elsewhere": {types.QueryExecutionStatus{State: types.QueryExecutionStateCancelled}, crossbill.CodeUnavailable, "cancelled in Athena"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := awsclient.NewRecorder()
			st := c.status
			api, _ := client(t, rec, emulator.Stub("Athena", "GetQueryExecution", &sdk.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &st}}, nil))
			_, err := athena.Run(context.Background(), api, "SELECT 1", athena.Options{Table: "db.t", Poll: time.Millisecond})
			if crossbill.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v (code %s); want code %s saying %q", err, crossbill.ErrorCode(err), c.code, c.says)
			}
			if rec.Count("athena:GetQueryResults") != 0 {
				t.Fatal("results read of a query that did not succeed")
			}
		})
	}
}

// moto answers GetQueryResults in one page: the pages of a large result
// are stubbed (two pages joined by NextToken; only the first starts with
// the header row), so that Run's paging is tested.
func TestResultPages(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	meta := &types.ResultSetMetadata{ColumnInfo: []types.ColumnInfo{{Name: aws.String("n")}}}
	row := func(v string) types.Row { return types.Row{Data: []types.Datum{{VarCharValue: aws.String(v)}}} }
	pages := map[string]*sdk.GetQueryResultsOutput{
		"":   {ResultSet: &types.ResultSet{ResultSetMetadata: meta, Rows: []types.Row{row("n"), row("1"), row("2")}}, NextToken: aws.String("p2")},
		"p2": {ResultSet: &types.ResultSet{ResultSetMetadata: meta, Rows: []types.Row{row("3")}}},
	}
	var tokens []string
	var mu sync.Mutex
	paged := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("pages", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			p, ok := in.Parameters.(*sdk.GetQueryResultsInput)
			if !ok {
				return next.HandleInitialize(ctx, in)
			}
			mu.Lock()
			tokens = append(tokens, aws.ToString(p.NextToken))
			mu.Unlock()
			out := *pages[aws.ToString(p.NextToken)]
			return middleware.InitializeOutput{Result: &out}, middleware.Metadata{}, nil
		}), middleware.After)
	}
	api, _ := client(t, awsclient.NewRecorder(), paged)
	rows, err := athena.Run(context.Background(), api, "SELECT n FROM t", athena.Options{Table: "db.t", Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "1" || rows[2][0] != "3" || strings.Join(tokens, ",") != ",p2" {
		t.Fatalf("rows %v after pages %q", rows, tokens)
	}
}

// Athena bills a query cancelled in Athena for what it scanned, and no
// failed one: Run tells Options.Billed of the first only (moto neither
// cancels nor fails a query by itself nor reports bytes: stubbed).
func TestBilledStates(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	for state, want := range map[types.QueryExecutionState]int64{types.QueryExecutionStateCancelled: 50 << 20, types.QueryExecutionStateFailed: -1} {
		out := &sdk.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &types.QueryExecutionStatus{State: state},
			Statistics: &types.QueryExecutionStatistics{DataScannedInBytes: aws.Int64(50 << 20)}}}
		api, _ := client(t, awsclient.NewRecorder(), emulator.Stub("Athena", "GetQueryExecution", out, nil))
		got := int64(-1)
		_, err := athena.Run(context.Background(), api, "SELECT 1", athena.Options{Table: "db.t", Poll: time.Millisecond, Billed: func(n int64) { got = n }})
		if err == nil || got != want {
			t.Errorf("%s: billed %d, want %d (-1: none); error %v", state, got, want, err)
		}
	}
}
