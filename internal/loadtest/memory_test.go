package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestMemory runs the memory test against a small server in this process:
// every request is sent once with its token, answers are read whole, the
// named metric's largest value is kept, and the process's RSS is read.
func TestMemory(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			fmt.Fprintln(w, "# HELP x_bytes test\nx_bytes 1234\nx_other{label=\"a\"} 9")
			return
		}
		seen[r.URL.Path] = r.Header.Get("Authorization")
		if r.URL.Path == "/big" {
			w.Write([]byte(strings.Repeat("x", 1<<20))) //nolint:errcheck // test server
			return
		}
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer srv.Close()
	res, err := Memory(context.Background(), MemoryOptions{BaseURL: srv.URL, Concurrency: 1, PID: os.Getpid(),
		Requests: []Request{{"/big", "t1"}, {"/small", "t2"}}, Metrics: []string{"x_bytes"}})
	if err != nil {
		t.Fatal(err)
	}
	if seen["/big"] != "Bearer t1" || seen["/small"] != "Bearer t2" {
		t.Errorf("tokens sent: %v", seen)
	}
	if res.Statuses["200"] != 1 || res.Statuses["400"] != 1 || res.LargestMiB != 1 {
		t.Errorf("statuses %v, largest %.2f MiB", res.Statuses, res.LargestMiB)
	}
	if res.MaxMetrics["x_bytes"] != 1234 {
		t.Errorf("metrics %v", res.MaxMetrics)
	}
	if res.IdleRSSMiB <= 0 || res.PeakRSSMiB < res.IdleRSSMiB || res.DeltaMiB != res.PeakRSSMiB-res.IdleRSSMiB {
		t.Errorf("memory figures %+v", res)
	}
	if _, err := Memory(context.Background(), MemoryOptions{BaseURL: srv.URL, Concurrency: 1, PID: 0, Requests: []Request{{"/", ""}}}); err == nil {
		t.Error("no PID accepted")
	}
}
