package emulator

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// shared is the one server of a test package, started on first use.
var shared struct {
	sync.Mutex
	srv *Server
	err error
}

// RunTests runs a package's tests, stops the shared server afterwards and,
// when the tests passed, fails the package if goroutines were left
// running (a job, a scheduler or a server not stopped).
// Use it from TestMain: os.Exit(emulator.RunTests(m, pgtest.Stop...)).
func RunTests(m *testing.M, stops ...func()) int {
	code := m.Run()
	shared.Lock()
	if shared.srv != nil {
		shared.srv.Close()
	}
	shared.Unlock()
	// Other servers the package started (PostgreSQL...) stop before the
	// leak check, which would otherwise count their goroutines.
	for _, stop := range stops {
		stop()
	}
	if code == 0 {
		if err := goleak.Find(LeakIgnores()...); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines left running after the tests: %v\n", err)
			return 1
		}
	}
	return code
}

// LeakIgnores are the long-lived goroutines of libraries, not crossbill's:
// the HTTP keep-alive connections of AWS SDK clients, which
// idle out on their own.
func LeakIgnores() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	}
}

// Shared returns the package's server with IAM unenforced, starting it on
// first use. A missing moto fails the test loudly: the emulator tests are
// part of the default test run.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = Start(context.Background(), Options{})
	}
	if shared.err != nil {
		tb.Fatalf("emulator: %v", shared.err)
	}
	return shared.srv
}

// Own starts a server just for this test (for example with IAM enforced)
// and stops it when the test ends.
func Own(tb testing.TB, opts Options) *Server {
	tb.Helper()
	srv, err := Start(context.Background(), opts)
	if err != nil {
		tb.Fatalf("emulator: %v", err)
	}
	tb.Cleanup(srv.Close)
	return srv
}

// Available reports whether moto can be started here; tools like the demo
// use it to explain what to install.
func Available() error {
	py := os.Getenv("CROSSBILL_PYTHON")
	if py == "" {
		py = "python3"
	}
	srv, err := Start(context.Background(), Options{Python: py})
	if err != nil {
		return fmt.Errorf("emulator unavailable: %w", err)
	}
	srv.Close()
	return nil
}
