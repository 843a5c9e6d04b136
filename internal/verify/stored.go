package verify

import (
	"context"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// Request names the connection to verify the way the CLI and the API do.
type Request struct {
	Tenant  string // tenant name
	RoleARN string // the stack's RoleArn output
	// Connection picks one connection when the tenant has several pending;
	// empty means the one bound to RoleARN, else the tenant's newest pending one.
	Connection crossbill.ConnectionID
}

// Connection checks req against the store, binds the role to the tenant's
// connection, verifies it against AWS and stores the result, which also
// sets the connection's status. Bad input (unknown tenant, malformed ARN,
// role of another partition or tenant, account mismatch) is refused before
// anything is written or sent.
func Connection(ctx context.Context, st *store.Store, req Request, opts Options) (Result, error) {
	const op = "connect verify"
	tenant, err := st.TenantByName(ctx, req.Tenant)
	if err != nil {
		return Result{}, err
	}
	partition := awsarn.PartitionOf(opts.Hub.Region)
	role, err := awsarn.ParseRole(req.RoleARN, partition)
	if err != nil {
		return Result{}, err
	}
	arn := role.ARN()
	conn, err := pickConnection(ctx, st, tenant, arn, req.Connection)
	if err != nil {
		return Result{}, err
	}
	if conn.AccountID != "" && conn.AccountID != role.Account {
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s is for account %s, but role %s is in account %s: give the role of account %s, or run `crossbill connect init` for the other account",
			conn.ID, conn.AccountID, arn, role.Account, conn.AccountID)
	}
	if conn.RoleARN == "" {
		if conn, err = st.BindRole(ctx, conn.ID, arn); err != nil {
			return Result{}, err
		}
	}
	// Without hub credentials every check would fail for the hub's own
	// problem: say so once, and record no verification against the
	// customer's connection.
	if err := awsclient.CheckHub(ctx, opts.Hub); err != nil {
		return Result{}, err
	}
	opts.Tenant = tenant.Name
	res, err := Run(ctx, conn, opts)
	if err != nil {
		return Result{}, err
	}
	saved, err := st.SaveVerification(ctx, store.Verification{
		ConnectionID: conn.ID, RoleARN: arn, Status: res.Status,
		StartedAt: res.StartedAt, FinishedAt: res.FinishedAt, Checks: res.Checks,
	})
	if err != nil {
		return Result{}, err
	}
	res.VerificationID = saved.ID
	return res, nil
}

// pickConnection finds the connection the role belongs to, refusing a role
// that another tenant already connected.
func pickConnection(ctx context.Context, st *store.Store, tenant store.Tenant, arn crossbill.RoleARN, id crossbill.ConnectionID) (store.Connection, error) {
	const op = "connect verify"
	bound, err := st.ConnectionByRoleARN(ctx, arn)
	switch {
	case err == nil && bound.TenantID != tenant.ID:
		return store.Connection{}, crossbill.Errorf(crossbill.CodeConflict, op, "role %s is already connected for another tenant: a role (and its account) belongs to one tenant only", arn)
	case err == nil && id != "" && bound.ID != id:
		return store.Connection{}, crossbill.Errorf(crossbill.CodeConflict, op, "role %s is bound to connection %s, not %s", arn, bound.ID, id)
	case err == nil:
		return bound, nil
	case crossbill.ErrorCode(err) != crossbill.CodeNotFound:
		return store.Connection{}, err
	}
	if id != "" {
		c, err := st.ConnectionByID(ctx, id)
		if err != nil {
			return store.Connection{}, err
		}
		if c.TenantID != tenant.ID {
			return store.Connection{}, crossbill.Errorf(crossbill.CodeNotFound, op, "tenant %s has no connection %s: see `crossbill connect list --tenant %s`", tenant.Name, id, tenant.Name)
		}
		if c.RoleARN != "" && c.RoleARN != arn {
			return store.Connection{}, crossbill.Errorf(crossbill.CodeConflict, op, "connection %s is bound to role %s, not %s", id, c.RoleARN, arn)
		}
		return c, nil
	}
	c, err := st.PendingConnectionForTenant(ctx, tenant.ID)
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		return store.Connection{}, crossbill.Errorf(crossbill.CodeNotFound, op, "tenant %s has no connection waiting for a role: run `crossbill connect init --tenant %s` and deploy its templates first", tenant.Name, tenant.Name)
	}
	return c, err
}
