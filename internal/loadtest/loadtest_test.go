package loadtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRunMovesOffADeadReplica: a client whose replica is down moves to the
// next one, as behind a load balancer, so a dead replica costs each of its
// clients one failed request, not every request until the end.
func TestRunMovesOffADeadReplica(t *testing.T) {
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("{}")) }))
	defer live.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	const clients = 4
	res, err := Run(context.Background(), Options{BaseURLs: []string{dead, live.URL}, Tokens: []string{"t"}, Paths: []string{"/x"}, Clients: clients, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorsByCode["transport"] > clients/2 || res.Requests <= res.Errors {
		t.Fatalf("%d transport errors for %d clients on the dead replica; %d requests", res.ErrorsByCode["transport"], clients/2, res.Requests)
	}
}
