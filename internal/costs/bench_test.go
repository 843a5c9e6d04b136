package costs_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// BenchmarkStore measures the cost store on a generated export (10 million
// line items by default: 21 accounts x 12 months): ingest throughput and
// its ratio to DuckDB scanning the same Parquet files raw, p50/p95 of a
// month's daily-by-service query and of a by-tag query, the peak memory of
// the ingest and queries (peak-MB; raw-peak-MB is the raw scan's) and the
// store's size on disk (store-MB: its copy of the Parquet files and the
// DuckDB database).
//
//	go test ./internal/costs -run '^$' -bench BenchmarkStore -benchtime 1x -timeout 60m
//
// CROSSBILL_BENCH_EXPORT points at an existing export (the folder holding
// data/ and metadata/); otherwise one is generated once into
// $TMPDIR/crossbill-bench-<accounts>x<months> (CROSSBILL_BENCH_ACCOUNTS,
// CROSSBILL_BENCH_MONTHS; defaults 20 and 12) and reused.
// CROSSBILL_BENCH_DUCKDB_MEMORY sets the store's DuckDB memory_limit (as
// serve --duckdb-memory does; default that of costs.Open).
// CROSSBILL_BENCH_COMMIT_ROWS sets the ingest's CommitRows, and
// CROSSBILL_BENCH_STAGES=1 prints the CPU time spent between each pair of
// load stages (see costs.SetStageHook), summed over the periods;
// CROSSBILL_BENCH_RSS=1 prints the resident memory every 2 s of the ingest
// and queries (and, with STAGES, at each load stage): where the peak is.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	export := benchExport(b)
	files, err := filepath.Glob(filepath.Join(export, "data", "BILLING_PERIOD=*", "*.parquet"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no Parquet files under %s: %v", export, err)
	}
	sort.Strings(files)

	// Raw: DuckDB alone, same settings as the store, reading every column
	// of every file once (hashing each whole row forces every value to be decoded).
	// It runs in this process too, so it is closed before the ingest and
	// the peak is reset: peak-MB is the store's (ingest and queries) alone.
	raw := openRaw(b)
	scan := "read_parquet([" + quoteList(files) + "], union_by_name = true)"
	var rows int64
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM `+scan).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	// The machine is shared, so the scan runs before and after the ingest
	// and the ratio uses the mean.
	// Each scan returns its wall time and the process's CPU time (DuckDB's
	// threads included), which other users of the machine disturb less.
	rawScan := func(raw *sql.DB) (wall, cpu float64) {
		start, cpu0 := time.Now(), cpuSeconds(b)
		var sink string
		if err := raw.QueryRowContext(ctx, `SELECT bit_xor(hash(t))::VARCHAR FROM `+scan+` t`).Scan(&sink); err != nil {
			b.Fatal(err)
		}
		return time.Since(start).Seconds(), cpuSeconds(b) - cpu0
	}
	rawBefore, rawBeforeCPU := rawScan(raw)
	// The month's daily-by-service query straight from Parquet, for reference.
	lastMonth := files[len(files)-1]
	rawQuery := percentiles(b, 5, func() {
		r, err := raw.QueryContext(ctx, `SELECT line_item_usage_start_date::DATE, line_item_product_code, sum(line_item_unblended_cost)
			FROM read_parquet('`+lastMonth+`') GROUP BY ALL`)
		if err != nil {
			b.Fatal(err)
		}
		drain(b, r)
	})
	rawPeak := peakMemoryMB(b)
	if err := raw.Close(); err != nil {
		b.Fatal(err)
	}
	resetPeakMemory(b)
	b.Logf("resident after the raw scan closed: %.0f MB", residentMB(b, "VmRSS:"))
	if os.Getenv("CROSSBILL_BENCH_RSS") != "" {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			t := time.NewTicker(2 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					rss, _ := statusMB("VmRSS:")
					hwm, _ := statusMB("VmHWM:")
					fmt.Fprintf(os.Stderr, "RSS %s rss=%.0f hwm=%.0f\n", time.Now().Format("15:04:05"), rss, hwm)
				}
			}
		}()
	}

	// Ingest into a fresh store.
	dataDir := b.TempDir()
	s, err := costs.OpenWith(ctx, dataDir, costs.Options{MemoryLimit: os.Getenv("CROSSBILL_BENCH_DUCKDB_MEMORY")})
	if err != nil {
		b.Fatal(err)
	}
	stageCPU := map[string]float64{}
	last, lastCPU := "", 0.0
	if os.Getenv("CROSSBILL_BENCH_STAGES") != "" {
		costs.SetStageHook(s, func(stage string) {
			if os.Getenv("CROSSBILL_BENCH_RSS") != "" {
				fmt.Fprintf(os.Stderr, "STAGE %s rss=%.0f hwm=%.0f\n", stage, residentMB(b, "VmRSS:"), residentMB(b, "VmHWM:"))
			}
			c := cpuSeconds(b)
			if last != "" {
				stageCPU[last+"->"+stage] += c - lastCPU
			}
			last, lastCPU = stage, c
		})
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuSeconds(b)
	commitRows, _ := strconv.ParseInt(os.Getenv("CROSSBILL_BENCH_COMMIT_ROWS"), 10, 64)
	res, err := ingest.Ingest(ctx, s, ingest.Options{Source: export, Tenant: "bench", CommitRows: commitRows,
		Progress: func(f string, a ...any) { b.Logf("%6.2fs "+f, append([]any{time.Since(start).Seconds()}, a...)...) }})
	if err != nil {
		b.Fatal(err)
	}
	ingestSeconds, ingestCPU := time.Since(start).Seconds(), cpuSeconds(b)-cpu0
	for k, v := range stageCPU {
		fmt.Fprintf(os.Stderr, "STAGECPU %-30s %.3f\n", k, v)
	}
	fmt.Fprintf(os.Stderr, "STAGECPU after-done %.3f\n", cpuSeconds(b)-lastCPU)
	b.StopTimer()
	var loaded int64
	for _, p := range res.Periods {
		loaded += p.Rows
	}
	if loaded != rows {
		b.Fatalf("loaded %d rows, the files hold %d", loaded, rows)
	}

	// Queries on the last month, as a user would ask them.
	month := res.Periods[len(res.Periods)-1].Period
	from, err := costs.ParseDate(month)
	if err != nil {
		b.Fatal(err)
	}
	byService := costs.Query{Tenant: "bench", Metric: costs.MetricAmortized, GroupBy: costs.Dim{Kind: costs.DimService},
		Granularity: costs.Daily, From: from, To: from.AddDate(0, 1, 0)}
	byTag := byService
	byTag.GroupBy = costs.Dim{Kind: costs.DimTag, Key: "team"}
	measure := func(q costs.Query) []float64 {
		return percentiles(b, 100, func() {
			if _, err := s.Query(ctx, q); err != nil {
				b.Fatal(err)
			}
		})
	}
	svc, tag := measure(byService), measure(byTag)
	hwm := peakMemoryMB(b)
	storeMB := dirMB(b, filepath.Join(dataDir, "costs"))
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	raw = openRaw(b)
	rawAfter, rawAfterCPU := rawScan(raw)
	rawSeconds, rawCPU := (rawBefore+rawAfter)/2, (rawBeforeCPU+rawAfterCPU)/2
	if err := raw.Close(); err != nil {
		b.Fatal(err)
	}

	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(rawBefore, "raw-scan-before-s")
	b.ReportMetric(rawSeconds, "raw-scan-mean-s")
	b.ReportMetric(ingestSeconds, "ingest-s")
	b.ReportMetric(float64(rows)/ingestSeconds, "ingest-rows/s")
	b.ReportMetric(ingestSeconds/rawSeconds, "ingest/raw-mean")
	b.ReportMetric(rawCPU, "raw-scan-cpu-s")
	b.ReportMetric(ingestCPU, "ingest-cpu-s")
	b.ReportMetric(ingestCPU/rawCPU, "ingest/raw-cpu")
	b.ReportMetric(rawQuery[0]*1000, "raw-parquet-month-query-p50-ms")
	b.ReportMetric(svc[0]*1000, "by-service-p50-ms")
	b.ReportMetric(svc[1]*1000, "by-service-p95-ms")
	b.ReportMetric(tag[0]*1000, "by-tag-p50-ms")
	b.ReportMetric(tag[1]*1000, "by-tag-p95-ms")
	b.ReportMetric(hwm, "peak-MB")
	b.ReportMetric(rawPeak, "raw-peak-MB")
	b.ReportMetric(storeMB, "store-MB")
}

// benchExport finds or generates the export to measure.
func benchExport(b *testing.B) string {
	b.Helper()
	if e := os.Getenv("CROSSBILL_BENCH_EXPORT"); e != "" {
		return e
	}
	accounts, months := envInt(b, "CROSSBILL_BENCH_ACCOUNTS", 20), envInt(b, "CROSSBILL_BENCH_MONTHS", 12)
	dir := filepath.Join(os.TempDir(), "crossbill-bench-"+strconv.Itoa(accounts)+"x"+strconv.Itoa(months))
	export := filepath.Join(dir, "cur", "crossbill-cur2")
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return export
	}
	b.Logf("generating %d accounts x %d months into %s (once)", accounts, months, dir)
	if _, err := cur.Generate(context.Background(), cur.GenerateOptions{Dir: dir, Seed: 42, Accounts: accounts, Months: months,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return export
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// openRaw opens an in-memory DuckDB tuned like the store, with the
// store's former memory_limit (1 GB, more room than the store's now).
func openRaw(b *testing.B) *sql.DB {
	b.Helper()
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	for _, q := range []string{"SET memory_limit = '1GB'", "SET threads = 2", "SET preserve_insertion_order = false"} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func quoteList(files []string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

func drain(b *testing.B, r *sql.Rows) {
	b.Helper()
	defer r.Close()
	for r.Next() {
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
}

// percentiles runs f n times and returns the p50 and p95 durations in seconds.
func percentiles(b *testing.B, n int, f func()) []float64 {
	b.Helper()
	d := make([]float64, n)
	for i := range d {
		start := time.Now()
		f()
		d[i] = time.Since(start).Seconds()
	}
	sort.Float64s(d)
	return []float64{d[n/2], d[(n*95+99)/100-1]}
}

// peakMemoryMB is the process's peak resident set (VmHWM): Go and DuckDB.
func peakMemoryMB(b *testing.B) float64 {
	b.Helper()
	return residentMB(b, "VmHWM:")
}

// residentMB reads one of /proc/self/status's kB fields, in MB.
func residentMB(b *testing.B, field string) float64 {
	b.Helper()
	mb, err := statusMB(field)
	if err != nil {
		b.Skipf("no memory figures: %v", err)
	}
	return mb
}

// statusMB reads one of /proc/self/status's kB fields, in MB; it does not
// stop the benchmark, so that the sampling goroutine can call it.
func statusMB(field string) (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("%s not found in /proc/self/status", field)
}

// cpuSeconds is the CPU time (user and system) the process used so far.
func cpuSeconds(b *testing.B) float64 {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// resetPeakMemory starts the peak resident set (VmHWM) again from the
// current one (Linux 4.0 and later), after a runtime.GC returned what it can.
func resetPeakMemory(b *testing.B) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak memory (/proc/self/clear_refs): %v", err)
	}
}

// dirMB is the size of the files under dir.
func dirMB(b *testing.B, dir string) float64 {
	b.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return float64(total) / 1e6
}
