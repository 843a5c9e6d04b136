package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestConnectBill sets a connection's bill source by hand: bad input is
// exit 2, an unknown connection 3, a connection without an account yet 2
// with the fix, and a bound one gets the source the store then holds.
func TestConnectBill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	acme, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	newConn := func(ext string) store.Connection {
		c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: crossbill.ExternalID(ext),
			HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: []manifest.Module{manifest.ModuleCUR}})
		mustNoErr(t, err)
		return c
	}
	bound, pending := newConn("cb-bound"), newConn("cb-pending")
	_, err = storetest.Bind(ctx, st, bound.ID, "arn:aws:iam::222222222222:role/CrossbillAccess")
	mustNoErr(t, err)
	mustNoErr(t, st.Close())

	for _, tt := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing source", []string{"--connection", string(bound.ID)}, 2, "required flag"},
		{"not s3", []string{"--connection", string(bound.ID), "--source", "/tmp/export"}, 2, "s3://BUCKET/PREFIX/EXPORT"},
		{"no export", []string{"--connection", string(bound.ID), "--source", "s3://bills"}, 2, "s3://BUCKET/PREFIX/EXPORT"},
		{"bad bucket", []string{"--connection", string(bound.ID), "--source", "s3://Bad_Bucket/p/e"}, 2, "bucket"},
		{"unknown connection", []string{"--connection", "conn_nope", "--source", "s3://bills/p/e"}, 3, ""},
		{"no account yet", []string{"--connection", string(pending.ID), "--source", "s3://bills/p/e"}, 2, "connect verify"},
	} {
		_, stderr, code := runCLI(t, dir, append([]string{"connect", "bill"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%s: code %d, stderr %q; want %d mentioning %q", tt.name, code, stderr, tt.code, tt.msg)
		}
	}
	stdout, stderr, code := runCLI(t, dir, "connect", "bill", "--connection", string(bound.ID), "--source", "s3://bills/cur/crossbill-cur2/", "--json")
	var got store.BillSource
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.Bucket != "bills" || got.Path != "cur/crossbill-cur2" || got.AccountID != "222222222222" {
		t.Fatalf("connect bill: code %d, %s %s", code, stdout, stderr)
	}
	st, err = store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	if b, err := st.BillSource(ctx, acme.ID, bound.ID); err != nil || b.Path != "cur/crossbill-cur2" {
		t.Fatalf("stored bill source: %+v, %v", b, err)
	}
	// The ingest is queued in the store, due now: a running server's
	// scheduler, which looks for due jobs every second, runs it without a
	// restart (issue 11).
	jobs, err := st.Jobs(ctx, acme.ID, store.JobFilter{ConnectionID: bound.ID, Kind: verify.IngestJob})
	if err != nil || len(jobs) != 1 || jobs[0].Status != store.JobQueued || jobs[0].NextRunAt.After(time.Now()) {
		t.Fatalf("ingest jobs after connect bill: %+v, %v; want one queued, due now", jobs, err)
	}
	if jobs, _ := st.Jobs(ctx, acme.ID, store.JobFilter{ConnectionID: pending.ID}); len(jobs) != 0 {
		t.Fatalf("a connection with no verified role got jobs: %+v", jobs)
	}
}
