package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/store"
)

// TestParityJIT: the JIT commands with --json and the JIT routes give the
// same answers (one use case each). The lease is stored by hand: requests
// reach AWS, which internal/jit's tests cover against moto.
func TestParityJIT(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	tn, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	now := time.Now().UTC()
	mustNoErr(t, st.CreateJITLease(ctx, store.JITLease{ID: "lease_parity", TenantID: tn.ID, ConnectionID: "c", Policy: "oncall", Requester: "ann@example.com", Actor: "cli",
		PrincipalType: jit.PrincipalIAMUser, PrincipalID: "ann", PrincipalName: "ann", TargetKey: "group:111122223333:db", Target: []byte(`{"kind":"iam-group","account":"111122223333","group":"db"}`),
		Reason: "incident", DurationS: 3600, State: jit.StateRequested, RequestedAt: now, DecideBy: now.Add(time.Hour)}, store.AuditEntry{Actor: "cli", Action: store.AuditJITRequest}, nil))
	st.Close()
	policy := filepath.Join(dir, "policy.json")
	mustNoErr(t, os.WriteFile(policy, []byte(`{"name":"oncall","people":["ann@example.com"],"targets":[{"group":"db","account":"111122223333"}],"max_duration":"4h","two_person":true}`), 0o600))
	if _, stderr, code := runCLI(t, dir, "access", "policy", "set", policy, "--tenant", "acme"); code != 0 {
		t.Fatalf("policy set: %d %s", code, stderr)
	}
	// A policy's mistakes exit 2 with the reason.
	mustNoErr(t, os.WriteFile(policy, []byte(`{"name":"bad","people":["ann@example.com"],"targets":[{"group":"db","account":"111122223333"}],"max_duration":"400h"}`), 0o600))
	if _, stderr, code := runCLI(t, dir, "access", "policy", "set", policy, "--tenant", "acme", "--json"); code != 2 || !json.Valid([]byte(stderr)) {
		t.Fatalf("bad policy: %d %s", code, stderr)
	}
	base := "/api/v1/tenants/acme/access/"
	cases := []struct {
		cli  []string
		api  string
		into func() any
	}{
		{[]string{"policy", "list"}, "policies", func() any { return &jit.PolicyList{} }},
		{[]string{"leases", "--state", "requested"}, "leases?state=requested", func() any { return &jit.LeaseList{} }},
		{[]string{"leases", "--trail", "lease_parity"}, "audit?lease=lease_parity", func() any { return &jit.AuditTrail{} }},
	}
	var cli []string
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, dir, append(append([]string{"access"}, c.cli...), "--tenant", "acme", "--json")...)
		if code != 0 {
			t.Fatalf("CLI %v: %d %s", c.cli, code, stderr)
		}
		v := c.into()
		mustNoErr(t, json.Unmarshal([]byte(stdout), v))
		b, _ := json.Marshal(v)
		cli = append(cli, string(b))
	}
	api := newAPI(t, dir, nil, "")
	for i, c := range cases {
		status, body := api.do(t, "GET", base+c.api, nil)
		if status != http.StatusOK {
			t.Fatalf("API %s: %d %s", c.api, status, body)
		}
		v := c.into()
		mustNoErr(t, json.Unmarshal(body, v))
		b, _ := json.Marshal(v)
		if string(b) != cli[i] || len(b) < 60 {
			t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", c.cli, cli[i], b)
		}
	}
}

// TestAccessRequestRefused: a request naming an unknown policy exits 3
// with the error as JSON on stderr, before any AWS call; one without the
// person acting is refused by the flag check.
func TestAccessRequestRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant: %s", stderr)
	}
	_, stderr, code := runCLI(t, dir, "access", "request", "--tenant", "acme", "--as", "ann@example.com", "--policy", "nope", "--group", "db", "--account", "111122223333",
		"--reason", "incident", "--json", "--endpoint-url", "http://127.0.0.1:1")
	var e struct{ Error, Code string }
	if code != 3 || json.Unmarshal([]byte(stderr), &e) != nil || e.Code != "not_found" {
		t.Fatalf("unknown policy: exit %d, %s", code, stderr)
	}
	if _, _, code := runCLI(t, dir, "access", "request", "--tenant", "acme", "--policy", "nope", "--group", "db", "--account", "111122223333", "--reason", "x"); code != 2 {
		t.Fatalf("no --as: exit %d", code)
	}
}
