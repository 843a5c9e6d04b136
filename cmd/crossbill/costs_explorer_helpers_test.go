package main

import (
	"context"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// costConnection adds to dir's store a connection of tenant with the cost
// module, verified and bound to role.
func costConnection(t *testing.T, dir, tenant, role string) store.Connection {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	tn, err := st.TenantByName(ctx, tenant)
	mustNoErr(t, err)
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-test-cost-connection-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/crossbill-hub", Modules: []manifest.Module{manifest.ModuleCost}})
	mustNoErr(t, err)
	_, err = storetest.Bind(ctx, st, c.ID, crossbill.RoleARN(role))
	mustNoErr(t, err)
	c, err = st.TenantConnection(ctx, tn.ID, c.ID)
	mustNoErr(t, err)
	return c
}

// costExplorerRequests is the connection's Cost Explorer requests this
// month, per operation.
func costExplorerRequests(t *testing.T, dir string, c store.Connection) map[string]int {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	n, err := st.CostExplorerRequests(ctx, c.TenantID, c.ID, time.Now().UTC().Format("2006-01"))
	mustNoErr(t, err)
	return n
}
