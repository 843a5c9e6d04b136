package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/demo"
	"github.com/crossbill/crossbill/internal/loadtest"
	"github.com/crossbill/crossbill/internal/store"
)

// memoryTargetMiB is the most a server may grow above idle under any mix
// of queries (issue: a read token could take it from 0.2 to 1.7 GB).
const memoryTargetMiB = 300

func newBenchMemoryCmd(app *App) *cobra.Command {
	var queries, concurrency, tenants int
	var serverBin string
	var serveArgs []string
	cmd := &cobra.Command{
		Use:   "memory",
		Short: "Memory test: many distinct heavy queries against a server process; prints its idle and peak RSS",
		Long: `Prepare the demo organization (in --data, else a temporary directory), start
` + "`crossbill serve`" + ` as a separate process on a free loopback port, and send --queries
distinct heavy queries of --tenants tenants (each loaded with the demo's
costs), --concurrency at a time: costs by usage type, operation,
account... mostly hourly, over random date ranges (up to all the data), with and without top N,
filters and metrics, plus commitment recommendations over random lookbacks.
Every answer is read whole. The server's resident memory is sampled from
/proc/PID/status (VmRSS, and VmHWM reset before the run) together with its
answer-cache size from /metrics. Reports idle and peak RSS, the growth, and
the cache bytes against its cap. The target: peak under idle + 300 MiB, the
cache within its cap. Linux only.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if serverBin == "" {
				exe, err := os.Executable()
				if err != nil {
					return crossbill.Errorf(crossbill.CodeInternal, "bench memory", "finding this program: %w", err)
				}
				serverBin = exe
			}
			if tenants < 1 {
				return crossbill.Errorf(crossbill.CodeInvalid, "bench memory", "--tenants must be 1 or more")
			}
			dir, tenant, tokens, cleanup, err := benchData(cmd, app, "", 1)
			if err != nil {
				return err
			}
			defer cleanup()
			ts, err := moreTenants(ctx, app, dir, tenants-1)
			if err != nil {
				return err
			}
			ts = append([]benchTenant{{name: tenant, token: tokens[0]}}, ts...)
			srv, err := startServerProcess(ctx, serverBin, dir, serveArgs)
			if err != nil {
				return err
			}
			defer srv.stop()
			var reqs []loadtest.Request
			for i, t := range ts {
				n := queries / len(ts)
				if i < queries%len(ts) {
					n++
				}
				paths, err := heavyQueries(ctx, srv.url, t.name, t.token, n)
				if err != nil {
					return err
				}
				for _, p := range paths {
					reqs = append(reqs, loadtest.Request{Path: p, Token: t.token})
				}
			}
			// Tenants interleaved, as when they share a server.
			rand.New(rand.NewPCG(3, 4)).Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
			time.Sleep(time.Second) // let start-up settle before "idle"
			app.Progress("bench: %d distinct heavy queries of %d tenants, %d at a time, against %s (pid %d)", len(reqs), len(ts), concurrency, srv.url, srv.cmd.Process.Pid)
			res, err := loadtest.Memory(ctx, loadtest.MemoryOptions{BaseURL: srv.url, Requests: reqs, Concurrency: concurrency,
				PID: srv.cmd.Process.Pid, Metrics: []string{"crossbill_cache_bytes", "crossbill_cache_max_bytes", "crossbill_cache_tenant_max_bytes", "crossbill_cache_evictions_total", "go_memstats_heap_inuse_bytes", "go_memstats_sys_bytes", "crossbill_duckdb_memory_bytes"}})
			if err != nil {
				return err
			}
			out := memoryReport{MemoryResult: res, TargetMiB: memoryTargetMiB}
			cacheBytes, cacheMax := res.MaxMetrics["crossbill_cache_bytes"], res.MaxMetrics["crossbill_cache_max_bytes"]
			out.CacheWithinCap = cacheMax > 0 && cacheBytes <= cacheMax
			out.WithinTarget = res.DeltaMiB < memoryTargetMiB && out.CacheWithinCap
			return app.Print(out, func(w io.Writer) error {
				verdict := "within"
				if !out.WithinTarget {
					verdict = "NOT within"
				}
				_, err := fmt.Fprintf(w, "%s\ncache: max %.1f MiB of its %.0f MiB cap, %.0f evictions; max Go heap in use %.0f MiB, Go runtime total %.0f MiB, DuckDB buffer manager %.0f MiB\n%s the target (peak < idle + %d MiB, cache within its cap)\n",
					res, cacheBytes/(1<<20), cacheMax/(1<<20), res.MaxMetrics["crossbill_cache_evictions_total"], res.MaxMetrics["go_memstats_heap_inuse_bytes"]/(1<<20),
					res.MaxMetrics["go_memstats_sys_bytes"]/(1<<20), res.MaxMetrics["crossbill_duckdb_memory_bytes"]/(1<<20), verdict, memoryTargetMiB)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&queries, "queries", 300, "distinct heavy queries to send")
	cmd.Flags().IntVar(&concurrency, "concurrency", 8, "queries in flight at once")
	cmd.Flags().IntVar(&tenants, "tenants", 5, "tenants sharing the server, each with the demo's costs")
	cmd.Flags().StringVar(&serverBin, "server", "", "crossbill binary to serve with (default: this one), e.g. an older build to compare")
	cmd.Flags().StringArrayVar(&serveArgs, "serve-arg", nil, "extra flag for the server, e.g. --serve-arg=--cache-mb=32 (repeatable)")
	return cmd
}

// benchTenant is a tenant the memory test queries, with its read token.
type benchTenant struct{ name, token string }

// moreTenants loads the demo's export into n more tenants (bench-2, ...),
// each with a read token. Run again on the same data, the loads are
// unchanged and skipped.
func moreTenants(ctx context.Context, app *App, dir string, n int) ([]benchTenant, error) {
	if n == 0 {
		return nil, nil
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cs, err := costs.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	var out []benchTenant
	for i := range n {
		name := fmt.Sprintf("bench-%d", i+2)
		t, err := st.TenantByName(ctx, name)
		if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
			t, err = st.CreateTenant(ctx, name)
		}
		if err != nil {
			return nil, err
		}
		app.Progress("bench: loading the demo's costs into tenant %s", name)
		if _, err := ingest.Ingest(ctx, cs, ingest.Options{Source: demo.CURSource(dir), Tenant: t.ID}); err != nil {
			return nil, err
		}
		_, secret, err := st.CreateToken(ctx, t.ID, "bench-memory", store.ScopeRead)
		if err != nil {
			return nil, err
		}
		out = append(out, benchTenant{name: name, token: string(secret)})
	}
	return out, nil
}

type memoryReport struct {
	loadtest.MemoryResult
	TargetMiB      int  `json:"target_mib"`
	CacheWithinCap bool `json:"cache_within_cap"`
	WithinTarget   bool `json:"within_target"`
}

// serverProcess is `crossbill serve` running as a child process.
type serverProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startServerProcess starts bin serve on a free loopback port, without the
// per-token rate limit (the test sends as fast as the server answers), and
// reads its URL from the JSON banner. Its log goes to server.log in dir.
func startServerProcess(ctx context.Context, bin, dir string, extra []string) (*serverProcess, error) {
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--data", dir, "--json", "serve", "--addr", "127.0.0.1:0", "--rate", "-1"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, crossbill.Errorf(crossbill.CodeInternal, "bench memory", "starting %s: %w", bin, err)
	}
	p := &serverProcess{cmd: cmd, done: make(chan struct{})}
	banner := make(chan error, 1)
	go func() {
		var b struct{ URL string }
		err := json.NewDecoder(stdout).Decode(&b)
		p.url = b.URL
		banner <- err
		io.Copy(io.Discard, stdout) //nolint:errcheck // drained until the process ends
	}()
	go func() {
		cmd.Wait() //nolint:errcheck // a stopped server's status is not news
		logFile.Close()
		close(p.done)
	}()
	select {
	case err := <-banner:
		if err == nil && p.url != "" {
			return p, nil
		}
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	p.stop()
	return nil, crossbill.Errorf(crossbill.CodeUnavailable, "bench memory", "the server did not start; see %s", logPath)
}

// stop interrupts the server (it finishes requests in flight) and kills it
// if it has not ended within 15 seconds.
func (p *serverProcess) stop() {
	p.cmd.Process.Signal(os.Interrupt) //nolint:errcheck // it may have ended
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill() //nolint:errcheck // it may have ended
		<-p.done
	}
}

// heavyQueries makes n distinct heavy queries over the tenant's data:
// mostly hourly costs by usage type or operation over random ranges.
func heavyQueries(ctx context.Context, base, tenant, token string, n int) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/tenants/"+url.PathEscape(tenant)+"/costs/dimensions", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "bench memory", "asking the server for the data's range: %w", err)
	}
	defer resp.Body.Close()
	var meta struct {
		From string `json:"default_from"`
		To   string `json:"default_to"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != http.StatusOK {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "bench memory", "reading the data's range: status %d, %v", resp.StatusCode, err)
	}
	from, err1 := time.Parse(time.DateOnly, meta.From)
	to, err2 := time.Parse(time.DateOnly, meta.To)
	if err1 != nil || err2 != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "bench memory", "the tenant has no cost data (range %q to %q)", meta.From, meta.To)
	}
	days := int(to.Sub(from).Hours() / 24)
	tenantPath := "/api/v1/tenants/" + url.PathEscape(tenant)
	rng := rand.New(rand.NewPCG(1, 2)) // the same mix every run
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	seen := map[string]bool{}
	var paths []string
	for len(paths) < n {
		var p string
		if rng.IntN(10) == 0 {
			v := url.Values{"lookback_days": {strconv.Itoa(7 + rng.IntN(120))}, "terms": {pick("1", "3", "1,3")}}
			p = tenantPath + "/commitments/recommendations?" + v.Encode()
		} else {
			start := rng.IntN(days)
			length := 1 + rng.IntN(days-start)
			v := url.Values{
				"from":        {from.AddDate(0, 0, start).Format(time.DateOnly)},
				"to":          {from.AddDate(0, 0, start+length).Format(time.DateOnly)},
				"granularity": {pick("hourly", "hourly", "hourly", "hourly", "daily")},
				"group_by":    {pick("usage-type", "usage-type", "usage-type", "operation", "account", "region", "service")},
				"metric":      {pick("amortized", "unblended", "net", "list", "usage")},
			}
			if rng.IntN(2) == 0 {
				v.Set("top", strconv.Itoa(5+rng.IntN(46)))
			}
			if rng.IntN(3) == 0 {
				v.Set("filter", pick("region=us-east-1", "charge-type=Usage", "service=AmazonEC2,AmazonRDS"))
			}
			p = tenantPath + "/costs?" + v.Encode()
		}
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	return paths, nil
}
