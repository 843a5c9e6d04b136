package emulator_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/emulator"
)

// TestFaultProxyRules: the proxy names each request's service and
// operation the way AWS protocols carry them, applies the first matching
// rule (Times and Rate from the seeded generator, the same sequence for the
// same seed) and forwards the rest unchanged. The upstream is a plain HTTP
// server: this is about the proxy, not the emulator.
func TestFaultProxyRules(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.Host) //nolint:errcheck // test server
	}))
	defer upstream.Close()
	sign := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/" + service + "/aws4_request, SignedHeaders=host, Signature=x"
	}
	send := func(p *emulator.FaultProxy, method, path, service, target, form string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, p.URL+path, strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", sign(service))
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		if form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	p, err := emulator.StartFaultProxy(upstream.URL, 1,
		emulator.Rule{Service: "sts", Operation: "AssumeRole", Fault: emulator.FaultThrottle, Times: 2},
		emulator.Rule{Service: "organizations", Operation: "ListAccounts", Fault: emulator.Fault503},
		emulator.Rule{Service: "s3", Operation: "GetObject", Fault: emulator.Fault500})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i, want := range []int{400, 400, 200} {
		if code, body := send(p, "POST", "/", "sts", "", "Action=AssumeRole&Version=2011-06-15"); code != want {
			t.Fatalf("AssumeRole %d: %d %s, want %d", i+1, code, body, want)
		} else if want == 400 && !strings.Contains(body, "<Code>Throttling</Code>") {
			t.Fatalf("query protocol throttling body: %s", body)
		}
	}
	if code, body := send(p, "POST", "/", "organizations", "AWSOrganizationsV20161128.ListAccounts", ""); code != 503 || !strings.Contains(body, `"__type":"ServiceUnavailable"`) {
		t.Fatalf("ListAccounts: %d %s", code, body)
	}
	if code, body := send(p, "GET", "/bills/cur/data/x.parquet", "s3", "", ""); code != 500 || !strings.Contains(body, "<Code>InternalError</Code>") {
		t.Fatalf("GetObject: %d %s", code, body)
	}
	// The host the client signed reaches the upstream.
	if code, body := send(p, "GET", "/bills?list-type=2", "s3", "", ""); code != 200 || body != "ok "+strings.TrimPrefix(p.URL, "http://") {
		t.Fatalf("ListObjectsV2 forwarded: %d %q", code, body)
	}
	want := map[string]int{"sts:AssumeRole": 3, "organizations:ListAccounts": 1, "s3:GetObject": 1, "s3:ListObjectsV2": 1}
	for k, n := range want {
		if got := p.Requests()[k]; got != n {
			t.Errorf("requests %s = %d, want %d (%v)", k, got, n, p.Requests())
		}
	}
	if p.InjectedTotal() != 4 {
		t.Errorf("injected %v", p.Injected())
	}

	// A rate draws from the seed: two proxies with one seed agree.
	pattern := func(seed uint64) string {
		q, err := emulator.StartFaultProxy(upstream.URL, seed, emulator.Rule{Fault: emulator.Fault500, Rate: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		var b strings.Builder
		for range 32 {
			code, _ := send(q, "POST", "/", "sts", "", "Action=GetCallerIdentity")
			b.WriteString(map[int]string{200: ".", 500: "x"}[code])
		}
		return b.String()
	}
	a, b := pattern(42), pattern(42)
	if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Fatalf("seeded patterns %q and %q", a, b)
	}
}
