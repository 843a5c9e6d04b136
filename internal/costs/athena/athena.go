// Package athena runs crossbill's cost queries in Amazon Athena over a
// customer's CUR 2.0 export in place: the query engine option for
// organizations whose bill is too large for one node's cost store. The SQL
// is costs.AthenaSQL's; this package starts it, polls it, pages through
// its results and stops it when the caller gives up.
package athena

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

// API is what the package calls of an Athena client (*athena.Client).
type API interface {
	StartQueryExecution(ctx context.Context, in *sdk.StartQueryExecutionInput, opts ...func(*sdk.Options)) (*sdk.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *sdk.GetQueryExecutionInput, opts ...func(*sdk.Options)) (*sdk.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *sdk.GetQueryResultsInput, opts ...func(*sdk.Options)) (*sdk.GetQueryResultsOutput, error)
	StopQueryExecution(ctx context.Context, in *sdk.StopQueryExecutionInput, opts ...func(*sdk.Options)) (*sdk.StopQueryExecutionOutput, error)
}

// Options says where the query runs.
type Options struct {
	Table          string        // DATABASE.TABLE: the CUR stack's Glue table
	WorkGroup      string        // default "primary"
	OutputLocation string        // s3://... for results; "": the workgroup's
	Poll           time.Duration // between status checks, default 1 s
	// Billed, when set, is told the bytes each query Athena bills
	// scanned (GetQueryExecution's statistics): the queries that
	// succeeded and those cancelled in Athena. A query crossbill stops
	// because its caller gave up is billed for what it scanned until then,
	// which Athena reports after the stop and crossbill does not wait for.
	Billed func(scanned int64)
}

// Query answers q in Athena: the same answer as costs.Store.Query on the
// same export.
func Query(ctx context.Context, api API, q costs.Query, opt Options) (costs.Result, error) {
	const op = "athena query"
	stmt, err := costs.AthenaSQL(q, opt.Table)
	if err != nil {
		return costs.Result{}, err
	}
	var spent costs.EngineCost
	billed := opt.Billed
	opt.Billed = func(n int64) {
		spent.Add(n)
		if billed != nil {
			billed(n)
		}
	}
	records, err := Run(ctx, api, stmt, opt)
	if err != nil {
		return costs.Result{}, err
	}
	rows := make([]costs.Row, 0, len(records))
	for _, rec := range records {
		if len(rec) != 3 {
			return costs.Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "a result row has %d columns, want 3", len(rec))
		}
		period, err := athenaTime(rec[0])
		if err != nil {
			return costs.Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "period %q: %w", rec[0], err)
		}
		value, err := strconv.ParseFloat(rec[2], 64)
		if err != nil && rec[2] != "" {
			return costs.Result{}, crossbill.Errorf(crossbill.CodeInternal, op, "value %q: %w", rec[2], err)
		}
		rows = append(rows, costs.Row{Period: period, Group: rec[1], Value: value})
	}
	if q.Metric == "" {
		q.Metric = costs.MetricAmortized
	}
	if q.Granularity == "" {
		q.Granularity = costs.Daily
	}
	res := costs.ResultOf(q, "athena", rows)
	if err := costs.CheckRows(q, len(res.Rows)); err != nil {
		return costs.Result{}, err
	}
	res.Sources = []costs.DataSource{{Source: "athena", Label: "CUR 2.0 read in place by Amazon Athena (" + opt.Table + ")",
		From: res.From, To: q.To.AddDate(0, 0, -1).Format("2006-01-02"), Included: true}}
	res.Athena = &spent
	return res, nil
}

// Run executes one statement and returns its rows (header row dropped),
// each value as Athena renders it. When ctx ends first the query is
// stopped in Athena, so that it does not go on scanning (and billing).
func Run(ctx context.Context, api API, stmt string, opt Options) (rows [][]string, err error) {
	const op = "athena query"
	if opt.WorkGroup == "" {
		opt.WorkGroup = "primary"
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	in := &sdk.StartQueryExecutionInput{QueryString: aws.String(stmt), WorkGroup: aws.String(opt.WorkGroup)}
	if db, _, ok := strings.Cut(opt.Table, "."); ok {
		in.QueryExecutionContext = &types.QueryExecutionContext{Database: aws.String(db)}
	}
	if opt.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(opt.OutputLocation)}
	}
	started, err := api.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "starting the query in workgroup %s: %w", opt.WorkGroup, err)
	}
	id := started.QueryExecutionId
	defer func() {
		if ctx.Err() != nil {
			// The caller's context is over: stop with a short one of our own.
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, serr := api.StopQueryExecution(stopCtx, &sdk.StopQueryExecutionInput{QueryExecutionId: id}); serr != nil {
				err = errors.Join(err, crossbill.Errorf(crossbill.CodeUnavailable, op, "stopping query %s: %w", aws.ToString(id), serr))
			}
		}
	}()
	if err := wait(ctx, api, id, opt); err != nil {
		return nil, err
	}
	pages := sdk.NewGetQueryResultsPaginator(api, &sdk.GetQueryResultsInput{QueryExecutionId: id})
	first := true
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeUnavailable, op, "reading the results of %s: %w", aws.ToString(id), err)
		}
		if page.ResultSet == nil {
			continue
		}
		for i, r := range page.ResultSet.Rows {
			rec := make([]string, len(r.Data))
			for j, d := range r.Data {
				rec[j] = aws.ToString(d.VarCharValue)
			}
			// A SELECT's first row is its column names.
			if first && i == 0 && isHeader(rec, page.ResultSet.ResultSetMetadata) {
				continue
			}
			rows = append(rows, rec)
		}
		first = false
	}
	return rows, nil
}

// wait polls the query until it ends, telling opt.Billed what a billed
// query scanned.
func wait(ctx context.Context, api API, id *string, opt Options) error {
	const op = "athena query"
	for {
		out, err := api.GetQueryExecution(ctx, &sdk.GetQueryExecutionInput{QueryExecutionId: id})
		if err != nil {
			return crossbill.Errorf(crossbill.CodeUnavailable, op, "checking query %s: %w", aws.ToString(id), err)
		}
		var st types.QueryExecutionState
		var status *types.QueryExecutionStatus
		if out.QueryExecution != nil && out.QueryExecution.Status != nil {
			status = out.QueryExecution.Status
			st = status.State
		}
		if (st == types.QueryExecutionStateSucceeded || st == types.QueryExecutionStateCancelled) && opt.Billed != nil {
			var scanned int64
			if out.QueryExecution.Statistics != nil {
				scanned = aws.ToInt64(out.QueryExecution.Statistics.DataScannedInBytes)
			}
			opt.Billed(scanned)
		}
		switch st {
		case types.QueryExecutionStateSucceeded:
			return nil
		case types.QueryExecutionStateFailed:
			return failed(aws.ToString(id), status)
		case types.QueryExecutionStateCancelled:
			return crossbill.Errorf(crossbill.CodeUnavailable, op, "query %s was cancelled in Athena (by another user or a workgroup limit); run it again", aws.ToString(id))
		}
		select {
		case <-ctx.Done():
			return crossbill.Errorf(crossbill.CodeUnavailable, op, "query %s: %w", aws.ToString(id), ctx.Err())
		case <-time.After(opt.Poll):
		}
	}
}

// failed explains a failed query: the customer's set-up (missing table,
// permission, bad output location: invalid input, fix and retry) or
// Athena's own fault (unavailable, retry).
func failed(id string, status *types.QueryExecutionStatus) error {
	const op = "athena query"
	reason := aws.ToString(status.StateChangeReason)
	code := crossbill.CodeUnavailable
	if e := status.AthenaError; e != nil {
		if e.ErrorMessage != nil && reason == "" {
			reason = aws.ToString(e.ErrorMessage)
		}
		// ErrorCategory 2 is a user error: the table, the permissions or
		// the query, which retrying will not fix.
		if aws.ToInt32(e.ErrorCategory) == 2 {
			code = crossbill.CodeInvalid
		}
	}
	if strings.Contains(reason, "AccessDenied") || strings.Contains(reason, "Access denied") {
		code = crossbill.CodeAccessDenied
	}
	return crossbill.Errorf(code, op, "query %s failed in Athena: %s (check the CUR stack's Glue table and the role's Athena permissions)", id, reason)
}

func isHeader(rec []string, meta *types.ResultSetMetadata) bool {
	if meta == nil || len(meta.ColumnInfo) != len(rec) {
		return false
	}
	for i, c := range meta.ColumnInfo {
		if aws.ToString(c.Name) != rec[i] {
			return false
		}
	}
	return true
}

// athenaTime reads a timestamp as Athena writes it: "2026-01-01
// 00:00:00.000" (fractional seconds optional), UTC.
func athenaTime(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	return t.UTC(), err
}
