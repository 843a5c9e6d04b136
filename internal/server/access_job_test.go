package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestAccessJobScheduledDaily: a verified connection with access-read gets
// a daily access sync when the server starts; one without it does not.
func TestAccessJobScheduledDaily(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]store.Connection{}
	for name, mods := range map[string][]manifest.Module{"with": {manifest.ModuleOrg, manifest.ModuleAccessRead}, "without": {manifest.ModuleCost}} {
		c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: crossbill.ExternalID("cb-external-id-" + name + "-0123456789"), HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: mods})
		if err != nil {
			t.Fatal(err)
		}
		role := map[string]crossbill.RoleARN{"with": "arn:aws:iam::111111111111:role/CrossbillAccess", "without": "arn:aws:iam::222222222222:role/CrossbillAccess"}[name]
		if conns[name], err = storetest.Bind(ctx, st, c.ID, role); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	ts := startServer(t, func(m *server.Main) { m.DataDir = dir })
	for name, c := range conns {
		jobs, err := ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: c.ID, Kind: server.JobAccess})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"with": 1, "without": 0}[name]
		if len(jobs) != want {
			t.Fatalf("connection %s: %d access job(s), want %d", name, len(jobs), want)
		}
		if want == 1 && jobs[0].Interval != 24*time.Hour {
			t.Errorf("access job interval %s, want 24h", jobs[0].Interval)
		}
	}
}
