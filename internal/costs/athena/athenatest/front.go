// Package athenatest stands in for Athena's query engine in the tests of
// the API and the CLI, which reach AWS only through an endpoint URL: moto
// serves Athena's API but executes no SQL.
package athenatest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver

	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
)

// Front is an AWS endpoint in front of moto_server: every call goes on to
// moto, but each Athena query crossbill starts is first run by DuckDB over
// a CUR export's Parquet (laid out as the CUR stack's Glue table sees
// them, crossbill_cur.cur2 partitioned by billing_period) and its rows
// queued in moto's Athena for the customer's account, so that the query's
// answer is what the statement computes and reaches crossbill only through
// the connection's role. Cost Explorer's calls (which moto does not serve)
// go to CostExplorer when set. Statements are kept in order.
type Front struct {
	URL string
	// CostExplorer answers the Cost Explorer operations
	// (AWSInsightsIndexService.*); nil: moto does.
	CostExplorer http.Handler

	moto    *emulator.Server
	account string
	proxy   *httputil.ReverseProxy
	db      *sql.DB

	mu    sync.Mutex
	stmts []string
	err   error
}

// New starts a front for account's Athena over the CUR 2.0 export in
// export (the directory holding data/BILLING_PERIOD=.../*.parquet); it
// stops at the test's end.
func New(tb testing.TB, moto *emulator.Server, account, export string) *Front {
	tb.Helper()
	ctx := context.Background()
	target, err := url.Parse(moto.URL)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	glob := strings.ReplaceAll(filepath.Join(export, "data", "*", "*.parquet"), "'", "''")
	for _, q := range []string{`SET memory_limit = '256MB'`, `SET threads = 1`,
		`CREATE SCHEMA IF NOT EXISTS ` + manifest.AthenaDatabase,
		`CREATE OR REPLACE VIEW ` + manifest.AthenaDatabase + `.` + manifest.AthenaTable + ` AS SELECT * FROM read_parquet('` + glob +
			`', hive_partitioning = true, hive_types = {'BILLING_PERIOD': VARCHAR}, union_by_name = true)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%v\n%s", err, q)
		}
	}
	f := &Front{moto: moto, account: account, proxy: httputil.NewSingleHostReverseProxy(target), db: db}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Statements are the Athena statements started so far, in order.
func (f *Front) Statements() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stmts...)
}

// Err is the first statement DuckDB could not run, if any.
func (f *Front) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := r.Header.Get("X-Amz-Target")
	switch {
	case f.CostExplorer != nil && strings.HasPrefix(op, "AWSInsightsIndexService."):
		f.CostExplorer.ServeHTTP(w, r)
		return
	case op == "AmazonAthena.StartQueryExecution":
		var in struct{ QueryString string }
		err := json.Unmarshal(body, &in)
		if err == nil {
			err = f.queue(r.Context(), in.QueryString)
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			b, _ := json.Marshal(map[string]string{"__type": "InvalidRequestException", "Message": "athenatest: " + err.Error()})
			w.Write(b) //nolint:errcheck // test server
			return
		}
	}
	f.proxy.ServeHTTP(w, r)
}

// queue runs stmt in DuckDB and queues its rows in moto.
func (f *Front) queue(ctx context.Context, stmt string) error {
	res, err := Rows(ctx, f.db, stmt)
	if err == nil {
		err = f.moto.QueueAthenaResults(ctx, f.account, athena.Region, res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stmts = append(f.stmts, stmt)
	if err != nil {
		err = fmt.Errorf("%w\n%s", err, stmt)
		if f.err == nil {
			f.err = err
		}
	}
	return err
}

// Rows runs stmt in db (DuckDB playing Athena's engine) and spells its rows
// as Athena's GetQueryResults does: the column names first, every value a
// string, timestamps with milliseconds, NULL as no value.
func Rows(ctx context.Context, db *sql.DB, stmt string) (emulator.AthenaResult, error) {
	rs, err := db.QueryContext(ctx, stmt)
	if err != nil {
		return emulator.AthenaResult{}, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return emulator.AthenaResult{}, err
	}
	res := emulator.AthenaResult{Rows: [][]string{cols}}
	for _, c := range cols {
		res.Columns = append(res.Columns, [2]string{c, "varchar"})
	}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return emulator.AthenaResult{}, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
			case time.Time:
				row[i] = v.UTC().Format("2006-01-02 15:04:05.000")
			case float64:
				row[i] = strconv.FormatFloat(v, 'g', -1, 64)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rs.Err()
}

// WorkGroup creates the CUR stack's Athena workgroup in account, as the
// customer's administrator would (set-up, not crossbill's call): moto's
// Athena needs it to exist. A workgroup another test made is kept.
func WorkGroup(tb testing.TB, moto *emulator.Server, account string) {
	tb.Helper()
	ctx := context.Background()
	root, err := moto.RootConfig(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/admin"), RoleSessionName: aws.String("setup")})
	if err != nil {
		tb.Fatal(err)
	}
	admin := root.Copy()
	admin.Region = athena.Region
	admin.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	api := sdk.NewFromConfig(admin)
	if _, err := api.CreateWorkGroup(ctx, &sdk.CreateWorkGroupInput{Name: aws.String(manifest.AthenaWorkGroup)}); err != nil {
		if _, gerr := api.GetWorkGroup(ctx, &sdk.GetWorkGroupInput{WorkGroup: aws.String(manifest.AthenaWorkGroup)}); gerr != nil {
			tb.Fatalf("workgroup: %v", err)
		}
	}
}
