// Package loadtest drives an HTTP API with many concurrent clients for a
// fixed time and reports latency percentiles and errors.
package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
)

// Options describe a load run.
type Options struct {
	BaseURL string
	// BaseURLs, when set, are several replicas behind no load balancer:
	// client i starts on BaseURLs[i%n] and, as a load balancer would take
	// a dead backend out, moves to the next one after a transport error.
	BaseURLs []string
	Tokens   []string // one per client, reused round-robin when fewer
	Paths    []string // requested round-robin by each client
	Clients  int
	Duration time.Duration
}

// Result summarizes a run.
type Result struct {
	Clients      int            `json:"clients"`
	Seconds      float64        `json:"seconds"`
	Requests     int            `json:"requests"`
	Errors       int            `json:"errors"`
	ErrorsByCode map[string]int `json:"errors_by_status,omitempty"`
	PerSecond    float64        `json:"requests_per_second"`
	P50ms        float64        `json:"p50_ms"`
	P95ms        float64        `json:"p95_ms"`
	P99ms        float64        `json:"p99_ms"`
	Maxms        float64        `json:"max_ms"`
}

func (r Result) String() string {
	return fmt.Sprintf("%d clients, %.0fs: %d requests (%.0f/s), %d errors; latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms",
		r.Clients, r.Seconds, r.Requests, r.PerSecond, r.Errors, r.P50ms, r.P95ms, r.P99ms, r.Maxms)
}

// Run sends requests until Duration has passed or ctx ends.
func Run(ctx context.Context, o Options) (Result, error) {
	if len(o.BaseURLs) == 0 {
		o.BaseURLs = []string{o.BaseURL}
	}
	if o.Clients <= 0 || len(o.Paths) == 0 || len(o.Tokens) == 0 || o.Duration <= 0 {
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, "load test", "need clients, paths, tokens and a duration")
	}
	transport := &http.Transport{MaxIdleConns: o.Clients * 2, MaxIdleConnsPerHost: o.Clients * 2, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for c := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := o.Tokens[c%len(o.Tokens)]
			backend := c % len(o.BaseURLs)
			var mine []time.Duration
			mineErr := map[string]int{}
			for i := c; ctx.Err() == nil; i++ {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.BaseURLs[backend]+o.Paths[i%len(o.Paths)], nil)
				if err != nil {
					mineErr["request"]++
					break
				}
				req.Header.Set("Authorization", "Bearer "+tok)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						mineErr["transport"]++
						backend = (backend + 1) % len(o.BaseURLs)
					}
					continue
				}
				_, cerr := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				switch {
				case resp.StatusCode != http.StatusOK:
					mineErr[fmt.Sprint(resp.StatusCode)]++
				case cerr != nil:
					if ctx.Err() == nil {
						mineErr["body"]++
					}
				default:
					mine = append(mine, d)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, v := range mineErr {
				errs[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := Result{Clients: o.Clients, Seconds: elapsed.Seconds(), Requests: len(lat), ErrorsByCode: errs}
	for _, v := range errs {
		r.Errors += v
	}
	r.Requests += r.Errors
	r.PerSecond = float64(r.Requests) / elapsed.Seconds()
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	r.P50ms, r.P95ms, r.P99ms, r.Maxms = pct(.50), pct(.95), pct(.99), pct(1)
	return r, nil
}
