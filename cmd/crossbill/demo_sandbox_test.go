package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/emulator"
)

// lockedBuffer is a bytes.Buffer the demo writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// TestDemoConnectsTheSandbox: the demo's landing page, Connections, shows
// the sandbox organization's connection, verified, and its member accounts
// (issue 11): the demo starts the sandbox and connects it in the
// background, through the same use cases as the CLI and the API.
func TestDemoConnectsTheSandbox(t *testing.T) {
	if err := emulator.Available(); err != nil {
		t.Skip(err)
	}
	t.Setenv("AWS_PROFILE", "")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--data", t.TempDir(), "demo", "--addr", "127.0.0.1:0", "--json", "--quiet"}, &out, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 && code != 130 {
			t.Errorf("demo exited %d: %s", code, errb.Bytes())
		}
	}()
	var banner struct{ URL, Token string }
	deadline := time.Now().Add(3 * time.Minute)
	for json.Unmarshal(out.Bytes(), &banner) != nil || banner.Token == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no banner: %s", errb.Bytes())
		}
		time.Sleep(100 * time.Millisecond)
	}
	get := func(path string, v any) {
		req, _ := http.NewRequest(http.MethodGet, banner.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+banner.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		mustNoErr(t, json.NewDecoder(resp.Body).Decode(v))
	}
	var conns []struct {
		ID, Status string
	}
	// The job verifies the connection, then lists and checks the members.
	for done := false; !done; {
		var jobs []struct {
			Kind, Status string
			LastError    string `json:"last_error"`
		}
		get("/api/v1/tenants/demo/jobs?kind="+demoSandboxJob, &jobs)
		if time.Now().After(deadline) || len(jobs) > 0 && jobs[0].Status == "failed" {
			ms, _ := filepath.Glob(os.TempDir() + "/crossbill-moto-*/moto.log")
			for _, m := range ms {
				b, _ := os.ReadFile(m)
				if i := bytes.Index(b, []byte("Traceback")); i >= 0 {
					t.Logf("%s", b[i:min(len(b), i+6000)])
				}
			}
			t.Fatalf("no verified connection on the landing page: %+v; jobs %+v", conns, jobs)
		}
		done = len(jobs) > 0 && jobs[0].Status == "succeeded"
		time.Sleep(200 * time.Millisecond)
	}
	get("/api/v1/tenants/demo/connections", &conns)
	if len(conns) != 1 || conns[0].Status != "verified" {
		t.Fatalf("the landing page's connections: %+v; want the sandbox's, verified", conns)
	}
	var members struct {
		Summary struct{ Members, Verified int } `json:"summary"`
		Members []struct {
			AccountID string `json:"account_id"`
			Status    string `json:"status"`
			Message   string `json:"message"`
		} `json:"members"`
	}
	get("/api/v1/tenants/demo/connections/"+conns[0].ID+"/members", &members)
	if members.Summary.Members != 2 || members.Summary.Verified != 1 {
		t.Fatalf("members of the sandbox organization: %+v %+v; want 2, the one the members stack reached verified", members.Summary, members.Members)
	}

	// The Access page is populated: the job synced the organization's
	// identities; the customer's administrator is admin-equivalent, a
	// finding, and one of those who may pass roles.
	access := "/api/v1/tenants/demo/connections/" + conns[0].ID + "/access/"
	var principals struct {
		Principals []struct{ Name, Kind string } `json:"principals"`
	}
	get(access+"principals?kind=iam-user", &principals)
	names := map[string]bool{}
	for _, p := range principals.Principals {
		names[p.Name] = true
	}
	if !names["customer-admin"] {
		t.Fatalf("the sandbox's IAM users %+v; want its administrator, customer-admin", principals.Principals)
	}
	var findings struct {
		Findings []struct{ ID, Name string } `json:"findings"`
	}
	get(access+"findings", &findings)
	if !slices.ContainsFunc(findings.Findings, func(f struct{ ID, Name string }) bool {
		return f.ID == "admin-equivalent" && f.Name == "customer-admin"
	}) {
		t.Fatalf("findings %+v; want admin-equivalent for customer-admin", findings.Findings)
	}
	var who struct {
		Answers []struct{ Name string } `json:"answers"`
	}
	get(access+"who-can?action=iam:PassRole", &who)
	if !slices.ContainsFunc(who.Answers, func(a struct{ Name string }) bool { return a.Name == "customer-admin" }) {
		t.Fatalf("who can iam:PassRole: %+v; want customer-admin among them", who.Answers)
	}
}
