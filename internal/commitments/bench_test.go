package commitments_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
)

// benchCUR fills a cur table with 60 days of hourly on-demand usage for
// the given number of accounts: per account two EC2 instance types (of 32
// types in 8 families, 4 regions), one RDS class, Fargate and Lambda, each
// with its own daily shape.
func benchCUR(b *testing.B, accounts int) *sql.DB {
	b.Helper()
	// As in the cost store: cur is a view over the export's Parquet files.
	dir := b.TempDir()
	db, err := sql.Open("duckdb", filepath.Join(dir, "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	q := fmt.Sprintf(`
	CREATE TABLE src (%s);
	INSERT INTO src (line_item_usage_start_date, line_item_usage_account_id, line_item_line_item_type, line_item_product_code,
	    line_item_usage_type, line_item_usage_amount, line_item_unblended_cost, product_instance_type, product_region_code, tenant, source, billing_period)
	WITH a AS (SELECT range AS a, lpad(CAST(100000000000 + range AS VARCHAR), 12, '0') AS id FROM range(%d)),
	  h AS (SELECT ts, hour(ts) AS hod FROM generate_series(TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01' + INTERVAL 1439 HOUR, INTERVAL 1 HOUR) g(ts)),
	  t AS (SELECT * FROM (VALUES
	    (0, 'AmazonEC2', 'BoxUsage:', ['m5','c5','r5','m6i','c6g','r6g','t3','m7g'][1 + (0)], 0.1),
	    (1, 'AmazonEC2', 'BoxUsage:', 'x', 0.2),
	    (2, 'AmazonRDS', 'InstanceUsage:', 'db.r6g.large', 0.25),
	    (3, 'AmazonECS', 'Fargate-vCPU-Hours:perCPU', '', 0.04),
	    (4, 'AWSLambda', 'Lambda-GB-Second', '', 0.0000166667)) v(k, code, ut, it, rate))
	SELECT h.ts, a.id, 'Usage', t.code,
	    CASE WHEN t.k < 3 THEN t.ut || itype ELSE t.ut END,
	    n, n * t.rate * (1 + (a.a %% 4) * 0.05),
	    CASE WHEN t.k < 3 THEN itype ELSE '' END,
	    ['us-east-1','eu-west-1','us-west-2','ap-southeast-2'][1 + (a.a + t.k) %% 4], 'default', 'bench', '2026-01'
	FROM a, h, t,
	  LATERAL (SELECT CASE t.k
	      WHEN 0 THEN ['m5','c5','r5','m6i','c6g','r6g','t3','m7g'][1 + a.a %% 8] || ['.large','.xlarge','.2xlarge','.4xlarge'][1 + a.a %% 4]
	      WHEN 1 THEN ['m5','c5','r5','m6i','c6g','r6g','t3','m7g'][1 + (a.a * 7) %% 8] || '.xlarge'
	      WHEN 2 THEN 'db.r6g.large' ELSE '' END AS itype,
	    greatest(0, round(CASE t.k WHEN 4 THEN 20000 ELSE 3 END * (2 + sin(2 * pi() * (hod + a.a %% 24) / 24) + (a.a %% 3)))) AS n)`,
		commitmentstest.Columns, accounts)
	file := filepath.Join(dir, "cur.parquet")
	for _, stmt := range []string{q, "COPY src TO '" + file + "' (FORMAT parquet)", "DROP TABLE src",
		"CREATE VIEW cur AS SELECT * FROM read_parquet('" + file + "')"} {
		if _, err := db.ExecContext(context.Background(), stmt); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkRecommend1000Accounts is the target: 60 days of hourly
// data for 1,000 accounts, every type, term and payment option.
func BenchmarkRecommend1000Accounts(b *testing.B) {
	db := benchCUR(b, 1000)
	var rows int
	if err := db.QueryRow("SELECT count(*) FROM cur").Scan(&rows); err != nil {
		b.Fatal(err)
	}
	rates, err := commitments.DefaultRates()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := commitments.Window{Tenant: "default", Start: start, End: start.Add(60 * 24 * time.Hour)}
	b.ReportMetric(float64(rows), "cur-rows")
	defer reportCPU(b)()
	for b.Loop() {
		recs, err := commitments.RecommendWith(context.Background(), commitments.DB(db), w, rates, commitments.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) == 0 {
			b.Fatal("no recommendations")
		}
	}
}

// BenchmarkEligibleUsage1000Accounts is the query part of the above.
func BenchmarkEligibleUsage1000Accounts(b *testing.B) {
	db := benchCUR(b, 1000)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := commitments.Window{Tenant: "default", Start: start, End: start.Add(60 * 24 * time.Hour)}
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := commitments.EligibleUsage(context.Background(), commitments.DB(db), w); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU adds the process's CPU seconds per iteration (all threads,
// DuckDB's included) to the benchmark's output: on a shared machine wall
// time measures the neighbours as much as the code.
func reportCPU(b *testing.B) func() {
	cpu := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	start := cpu()
	return func() { b.ReportMetric((cpu()-start)/float64(b.N), "cpu-s/op") }
}
