package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossbill/crossbill"
)

// MemoryOptions describe a memory run: every path is requested once, by
// Concurrency clients, while the server process's resident memory and
// some of its /metrics are sampled.
type MemoryOptions struct {
	BaseURL     string
	Requests    []Request
	Concurrency int
	// PID is the server process; its /proc/PID/status gives the resident
	// set (VmRSS) and its high-water mark (VmHWM).
	PID      int
	Interval time.Duration // sampling interval; default 20ms
	// Metrics are /metrics gauges whose largest value during the run is
	// reported (e.g. crossbill_cache_bytes).
	Metrics []string
}

// Request is one GET with its bearer token.
type Request struct{ Path, Token string }

// MemoryResult is what a memory run saw. Sizes are MiB.
type MemoryResult struct {
	Queries     int                `json:"queries"`
	Concurrency int                `json:"concurrency"`
	Seconds     float64            `json:"seconds"`
	Statuses    map[string]int     `json:"statuses"` // HTTP status (or "error") -> count
	ReceivedMiB float64            `json:"received_mib"`
	LargestMiB  float64            `json:"largest_answer_mib"`
	IdleRSSMiB  float64            `json:"idle_rss_mib"`
	PeakRSSMiB  float64            `json:"peak_rss_mib"` // VmHWM, reset before the run when the kernel allows
	FinalRSSMiB float64            `json:"final_rss_mib"`
	DeltaMiB    float64            `json:"peak_above_idle_mib"`
	PeakIsHWM   bool               `json:"peak_is_high_water_mark"` // false: the largest sample (the reset failed)
	MaxMetrics  map[string]float64 `json:"max_metrics"`
}

func (r MemoryResult) String() string {
	var st []string
	for code, n := range r.Statuses {
		st = append(st, fmt.Sprintf("%s: %d", code, n))
	}
	sort.Strings(st)
	return fmt.Sprintf("%d distinct queries, %d at a time, %.0fs (%s); %.0f MiB received, largest answer %.1f MiB\n"+
		"server RSS: idle %.0f MiB, peak %.0f MiB (+%.0f MiB), after %.0f MiB",
		r.Queries, r.Concurrency, r.Seconds, strings.Join(st, ", "), r.ReceivedMiB, r.LargestMiB,
		r.IdleRSSMiB, r.PeakRSSMiB, r.DeltaMiB, r.FinalRSSMiB)
}

// Memory runs o: it reads the server's idle memory, resets its high-water
// mark, sends every path once and reports the peak.
func Memory(ctx context.Context, o MemoryOptions) (MemoryResult, error) {
	if o.Concurrency <= 0 || len(o.Requests) == 0 || o.PID <= 0 {
		return MemoryResult{}, crossbill.Errorf(crossbill.CodeInvalid, "memory test", "need requests, a concurrency and the server's process ID")
	}
	if o.Interval <= 0 {
		o.Interval = 20 * time.Millisecond
	}
	res := MemoryResult{Queries: len(o.Requests), Concurrency: o.Concurrency, Statuses: map[string]int{}, MaxMetrics: map[string]float64{}}
	idle, _, err := procMemory(o.PID)
	if err != nil {
		return res, err
	}
	res.IdleRSSMiB = idle
	// "5" resets the peak resident set (VmHWM) to the current one.
	res.PeakIsHWM = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", o.PID), []byte("5"), 0) == nil
	client := &http.Client{Timeout: time.Minute}

	var mu sync.Mutex
	sampled := idle
	stop := make(chan struct{})
	sampler := make(chan struct{})
	go func() {
		defer close(sampler)
		tick := time.NewTicker(o.Interval)
		defer tick.Stop()
		lastMetrics := time.Time{}
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if rss, _, err := procMemory(o.PID); err == nil {
				mu.Lock()
				sampled = max(sampled, rss)
				mu.Unlock()
			}
			if len(o.Metrics) > 0 && time.Since(lastMetrics) > 250*time.Millisecond {
				lastMetrics = time.Now()
				vals := scrape(ctx, client, o.BaseURL, o.Metrics)
				mu.Lock()
				for k, v := range vals {
					res.MaxMetrics[k] = max(res.MaxMetrics[k], v)
				}
				mu.Unlock()
			}
		}
	}()

	start := time.Now()
	reqs := make(chan Request)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for r := range reqs {
				status, n := get(ctx, client, o.BaseURL+r.Path, r.Token)
				mu.Lock()
				res.Statuses[status]++
				res.ReceivedMiB += float64(n) / (1 << 20)
				res.LargestMiB = max(res.LargestMiB, float64(n)/(1<<20))
				mu.Unlock()
			}
		})
	}
	for _, r := range o.Requests {
		select {
		case reqs <- r:
		case <-ctx.Done():
		}
	}
	close(reqs)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	time.Sleep(3 * o.Interval) // a last sample or two
	close(stop)
	<-sampler
	for k, v := range scrape(ctx, client, o.BaseURL, o.Metrics) {
		res.MaxMetrics[k] = max(res.MaxMetrics[k], v)
	}
	final, hwm, err := procMemory(o.PID)
	if err != nil {
		return res, err
	}
	res.FinalRSSMiB = final
	res.PeakRSSMiB = max(sampled, final)
	if res.PeakIsHWM {
		res.PeakRSSMiB = max(res.PeakRSSMiB, hwm)
	}
	res.DeltaMiB = res.PeakRSSMiB - res.IdleRSSMiB
	return res, ctx.Err()
}

// get requests one path and reads the whole answer.
func get(ctx context.Context, client *http.Client, url, token string) (status string, n int64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "error", 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return "error", 0
	}
	defer resp.Body.Close()
	n, _ = io.Copy(io.Discard, resp.Body)
	return strconv.Itoa(resp.StatusCode), n
}

var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$`)

// scrape reads the named unlabelled metrics from /metrics.
func scrape(ctx context.Context, client *http.Client, base string, names []string) map[string]float64 {
	out := map[string]float64{}
	if len(names) == 0 {
		return out
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return out
	}
	resp, err := client.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := metricLine.FindStringSubmatch(sc.Text()); m != nil && want[m[1]] {
			if v, err := strconv.ParseFloat(m[2], 64); err == nil {
				out[m[1]] = v
			}
		}
	}
	return out
}

// procMemory reads a process's resident set and its high-water mark, MiB.
func procMemory(pid int) (rss, hwm float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, crossbill.Errorf(crossbill.CodeUnavailable, "memory test", "reading the server's memory (Linux /proc only): %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	return rss, hwm, nil
}
