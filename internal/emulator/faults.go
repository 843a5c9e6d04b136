package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Fault is what the fault proxy does to one request instead of (or on the
// way to) the emulator.
type Fault string

// Faults the proxy can inject.
const (
	// FaultThrottle answers the protocol's throttling error (400, or 503
	// SlowDown for S3, RequestLimitExceeded for EC2) without forwarding.
	FaultThrottle Fault = "throttle"
	// Fault500 and Fault503 answer an internal error / service unavailable
	// without forwarding.
	Fault500 Fault = "500"
	Fault503 Fault = "503"
	// FaultDelay forwards after Rule.Delay.
	FaultDelay Fault = "delay"
	// FaultHang never answers: it holds the request until the client gives
	// up or the proxy closes.
	FaultHang Fault = "hang"
	// FaultCut forwards, then sends the headers (with the full
	// Content-Length) and half of the body and drops the connection: the
	// client reads "unexpected EOF" after the emulator did the work.
	FaultCut Fault = "cut"
	// FaultReset drops the connection without answering (connection reset
	// or EOF before any response), without forwarding.
	FaultReset Fault = "reset"
)

// Rule injects Fault into requests to Service (the SigV4 signing name:
// "sts", "organizations", "s3", "iam", "ce"...; empty: any) and Operation
// ("AssumeRole", "ListAccounts", "GetObject"...; empty: any).
type Rule struct {
	Service   string
	Operation string
	Fault     Fault
	// Rate is the probability that a matching request gets the fault
	// (drawn from the proxy's seeded generator); 0 means always.
	Rate float64
	// Times, when > 0, limits the rule to that many injected faults.
	Times int
	// Delay is FaultDelay's wait.
	Delay time.Duration
}

func (r Rule) matches(service, operation string) bool {
	return (r.Service == "" || strings.EqualFold(r.Service, service)) && (r.Operation == "" || r.Operation == operation)
}

// FaultProxy is an HTTP reverse proxy in front of an emulator that injects
// faults by rule. Point crossbill's --endpoint-url (HubOptions.EndpointURL)
// at URL. With one seed and serial calls the same requests get the same
// faults on every run.
type FaultProxy struct {
	URL string

	ln       net.Listener
	srv      *http.Server
	upstream *url.URL
	proxy    *httputil.ReverseProxy
	closed   chan struct{}
	once     sync.Once

	mu       sync.Mutex
	rules    []Rule
	used     []int // faults injected per rule
	rng      *rand.Rand
	requests map[string]int // "service:Operation" -> requests seen
	injected map[string]int // "service:Operation:fault" -> faults injected
}

// StartFaultProxy starts a proxy in front of upstream (an emulator's URL)
// on a free loopback port, with rules drawn from seed.
func StartFaultProxy(upstream string, seed uint64, rules ...Rule) (*FaultProxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{URL: "http://" + ln.Addr().String(), ln: ln, upstream: u, closed: make(chan struct{}),
		requests: map[string]int{}, injected: map[string]int{}}
	p.SetRules(seed, rules...)
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// SigV4 signs the Host header: the emulator must see the one
			// the client signed.
			pr.Out.Host = pr.In.Host
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go p.srv.Serve(ln) //nolint:errcheck // ends with Close
	return p, nil
}

// SetRules replaces the rules and reseeds the generator; the counts start
// again from zero.
func (p *FaultProxy) SetRules(seed uint64, rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append([]Rule(nil), rules...)
	p.used = make([]int, len(rules))
	p.rng = rand.New(rand.NewPCG(seed, 0x5eed))
	p.requests, p.injected = map[string]int{}, map[string]int{}
}

// Requests is how many requests the proxy saw per "service:Operation".
func (p *FaultProxy) Requests() map[string]int { return p.snapshot(p.requests) }

// Injected is how many faults the proxy injected per
// "service:Operation:fault".
func (p *FaultProxy) Injected() map[string]int { return p.snapshot(p.injected) }

// InjectedTotal is how many faults the proxy injected in all.
func (p *FaultProxy) InjectedTotal() int {
	n := 0
	for _, v := range p.Injected() {
		n += v
	}
	return n
}

func (p *FaultProxy) snapshot(m map[string]int) map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Close stops the proxy and releases hanging requests.
func (p *FaultProxy) Close() {
	p.once.Do(func() {
		close(p.closed)
		p.srv.Close() //nolint:errcheck // closing
	})
}

// pick returns the fault for a request, if any.
func (p *FaultProxy) pick(service, operation string) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := service + ":" + operation
	p.requests[key]++
	for i, r := range p.rules {
		if !r.matches(service, operation) || (r.Times > 0 && p.used[i] >= r.Times) {
			continue
		}
		if r.Rate > 0 && p.rng.Float64() >= r.Rate {
			continue
		}
		p.used[i]++
		p.injected[key+":"+string(r.Fault)]++
		return r, true
	}
	return Rule{}, false
}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	service, operation, err := identify(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rule, ok := p.pick(service, operation)
	if !ok {
		p.proxy.ServeHTTP(w, r)
		return
	}
	switch rule.Fault {
	case FaultThrottle, Fault500, Fault503:
		writeFault(w, r, service, rule.Fault)
	case FaultDelay:
		select {
		case <-time.After(rule.Delay):
		case <-r.Context().Done():
			return
		case <-p.closed:
			return
		}
		p.proxy.ServeHTTP(w, r)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-p.closed:
		}
		panic(http.ErrAbortHandler)
	case FaultReset:
		panic(http.ErrAbortHandler) // the server closes the connection unanswered
	case FaultCut:
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		p.proxy.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		body := rec.body.Bytes()
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Header().Del("Content-Md5")
		w.WriteHeader(rec.status)
		w.Write(body[:len(body)/2]) //nolint:errcheck // the connection is dropped next
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	default:
		http.Error(w, "fault proxy: unknown fault "+string(rule.Fault), http.StatusInternalServerError)
	}
}

// recorder buffers the emulator's whole answer for FaultCut.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

var scopeService = regexp.MustCompile(`Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request`)

// identify names a request's service (from the SigV4 credential scope) and
// operation (X-Amz-Target for JSON protocols, the Action parameter for query
// protocols, method and path for S3).
func identify(r *http.Request) (service, operation string, err error) {
	if m := scopeService.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return service, t[strings.LastIndex(t, ".")+1:], nil
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return service, a, nil
	}
	if service == "s3" {
		return service, s3Operation(r), nil
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return "", "", err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", "", errors.New("fault proxy: unreadable form body")
		}
		return service, form.Get("Action"), nil
	}
	return service, r.Method + " " + r.URL.Path, nil
}

// s3Operation names the S3 REST operations crossbill and its tests send
// (path-style addressing).
func s3Operation(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	hasKey := strings.Contains(path, "/") && !strings.HasSuffix(path, "/")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && hasKey:
		return "GetObject"
	case r.Method == http.MethodHead && hasKey:
		return "HeadObject"
	case r.Method == http.MethodPut && hasKey:
		return "PutObject"
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet:
		return "ListObjects"
	case r.Method == http.MethodPut:
		return "CreateBucket"
	}
	return r.Method + "Bucket"
}

// writeFault answers the error AWS sends for fault in the service's
// protocol, so that the SDK parses it as it would AWS's.
func writeFault(w http.ResponseWriter, r *http.Request, service string, fault Fault) {
	status := map[Fault]int{FaultThrottle: http.StatusBadRequest, Fault500: http.StatusInternalServerError, Fault503: http.StatusServiceUnavailable}[fault]
	code := map[Fault]string{FaultThrottle: "Throttling", Fault500: "InternalFailure", Fault503: "ServiceUnavailable"}[fault]
	msg := map[Fault]string{FaultThrottle: "Rate exceeded", Fault500: "We encountered an internal error. Please try again.", Fault503: "Service is unavailable. Please try again."}[fault]
	const requestID = "f4a7c1e0-fau1-7000-8000-000000000000"
	w.Header().Set("X-Amzn-Requestid", requestID)
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		if fault == FaultThrottle {
			code = "ThrottlingException"
			switch service {
			case "organizations":
				code = "TooManyRequestsException"
			case "ce":
				code = "LimitExceededException"
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
	case service == "s3":
		switch fault {
		case FaultThrottle:
			status, code, msg = http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."
		case Fault500:
			code = "InternalError"
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>`, code, msg, requestID)
	case service == "ec2":
		if fault == FaultThrottle {
			status, code = http.StatusServiceUnavailable, "RequestLimitExceeded"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`, code, msg, requestID)
	default: // query protocol: STS, IAM, CloudFormation...
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		typ := "Receiver"
		if fault == FaultThrottle {
			typ = "Sender"
		}
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, typ, code, msg, requestID)
	}
}
