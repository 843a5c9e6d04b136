package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
)

// Request names the connection to verify: the CLI, the API and the
// scheduler all verify through Connection with one of these.
type Request struct {
	Tenant  crossbill.TenantID
	RoleARN string // the stack's RoleArn output
	// Connection picks one connection when the tenant has several pending;
	// empty means the one bound to RoleARN, else the tenant's newest pending one.
	Connection crossbill.ConnectionID
	// Actor is who asked (token:ID, cli:USER, scheduler), for the audit
	// line of a refused binding; empty means "crossbill".
	Actor string
}

// Connection checks req against the store, verifies the role against AWS
// with the tenant's connection's external ID and stores the result, which
// sets the connection's status and, when the role was assumed, binds the
// role and its account to the tenant in the same transaction. Bad input
// (unknown tenant, malformed ARN, role of another partition, account
// mismatch with the connection) is refused before anything is written or
// sent.
//
// A role or account that another tenant holds is never bound, and the
// caller cannot tell: the verification runs with an external ID the role
// cannot trust, so it fails exactly as it does for any role that does not
// trust this connection's external ID (same checks, classes, advice and,
// roughly, duration), and the refusal goes to the audit log for the
// operator.
func Connection(ctx context.Context, st *store.Store, req Request, opts Options) (Result, error) {
	const op = "connect verify"
	if opts.AWS == nil {
		return Result{}, errNoFactory(op)
	}
	tenant, err := st.TenantByID(ctx, req.Tenant)
	if err != nil {
		return Result{}, err
	}
	partition := awsarn.PartitionOf(opts.AWS.Hub().Region)
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
	// Without hub credentials every check would fail for the hub's own
	// problem: say so once, and record no verification against the
	// customer's connection.
	if err := awsclient.CheckHub(ctx, opts.AWS.Hub()); err != nil {
		return Result{}, err
	}
	opts.Tenant = tenant.Name
	engine, err := st.CostEngine(ctx, tenant.ID)
	if err != nil {
		return Result{}, err
	}
	opts.Athena = engine.Engine == store.EngineAthena && engine.ConnectionID == conn.ID
	if opts.ExplainDeny == nil {
		opts.ExplainDeny = orgDenials(ctx, st, tenant.ID)
	}
	conn.RoleARN = arn // the role to try; bound only if the save below binds it
	taken, err := st.BoundElsewhere(ctx, tenant.ID, arn)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if taken {
		res, err = refused(ctx, st, conn, req.Actor, opts)
	} else {
		res, err = Run(ctx, conn, opts)
	}
	if err != nil {
		return Result{}, err
	}
	saved, err := st.SaveVerification(ctx, record(conn, res))
	if errors.Is(err, store.ErrNotBindable) {
		// Another tenant bound the role or account while this one verified.
		if res, err = refused(ctx, st, conn, req.Actor, opts); err != nil {
			return Result{}, err
		}
		saved, err = st.SaveVerification(ctx, record(conn, res))
	}
	if err != nil {
		return Result{}, err
	}
	res.VerificationID = saved.ID
	if res.Status == store.VerificationVerified {
		// The bill is found through the role just verified, so that the
		// CLI, the API and the scheduler all register it the same way.
		if res.Bill, err = discoverBill(ctx, st, conn, opts); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

func record(conn store.Connection, res Result) store.Verification {
	return store.Verification{ConnectionID: conn.ID, RoleARN: conn.RoleARN, Status: res.Status,
		StartedAt: res.StartedAt, FinishedAt: res.FinishedAt, Checks: res.Checks}
}

// refused verifies conn's role, which another tenant holds, the way a role
// that does not trust conn's external ID is verified: with a fresh external
// ID that no trust policy names. AWS itself then refuses the AssumeRole,
// with its own words, after the usual propagation retries. The result can
// never bind: should the role trust any external ID (no sts:ExternalId
// condition), its assume-role check is failed by hand, with the same
// class and advice.
func refused(ctx context.Context, st *store.Store, conn store.Connection, actor string, opts Options) (Result, error) {
	if actor == "" {
		actor = "crossbill"
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Actor: actor, Action: store.AuditBindingRefused, TenantID: conn.TenantID, Subject: string(conn.RoleARN)},
		map[string]any{"connection_id": conn.ID, "why": "the role or its account is bound to another tenant; the caller was answered with an ordinary failed verification"}); err != nil {
		return Result{}, err
	}
	decoy, err := onboarding.NewExternalID()
	if err != nil {
		return Result{}, err
	}
	c := conn
	c.ExternalID = decoy
	res, err := Run(ctx, c, opts)
	if err != nil {
		return Result{}, err
	}
	for i, k := range res.Checks {
		switch {
		case k.Name == CheckAssumeRole && k.Status == store.CheckPass:
			res.Checks[i] = store.VerificationCheck{Name: k.Name, Status: store.CheckFail, Class: string(awsclient.ClassRoleTrust),
				Message: fmt.Sprintf("STS AssumeRole: AccessDenied: not authorized to perform: sts:AssumeRole on resource: %s", conn.RoleARN),
				Advice:  awsclient.ClassRoleTrust.Fix(), StartedAt: k.StartedAt, DurationMS: k.DurationMS}
		case k.Name == CheckCallerIdentity || (strings.HasPrefix(k.Name, "probe:") && k.Status != store.CheckSkip):
			res.Checks[i] = store.VerificationCheck{Name: k.Name, Module: k.Module, Status: store.CheckSkip, Message: "the role could not be assumed",
				StartedAt: k.StartedAt}
		}
	}
	res.Status = store.VerificationFailed
	return res, nil
}

// pickConnection finds the tenant's connection the role belongs to: the
// one bound to it, else the one asked for, else the newest pending one.
// Other tenants' connections are not looked at, so the answer never tells
// whether another tenant connected the role.
func pickConnection(ctx context.Context, st *store.Store, tenant store.Tenant, arn crossbill.RoleARN, id crossbill.ConnectionID) (store.Connection, error) {
	const op = "connect verify"
	bound, err := st.ConnectionByRoleARN(ctx, arn)
	switch {
	case err == nil && bound.TenantID != tenant.ID:
		// Another tenant's: verified below like any role of this tenant,
		// and never bound.
	case err == nil && id != "" && bound.ID != id:
		return store.Connection{}, crossbill.Errorf(crossbill.CodeConflict, op, "role %s is bound to connection %s, not %s", arn, bound.ID, id)
	case err == nil:
		return bound, nil
	case crossbill.ErrorCode(err) != crossbill.CodeNotFound:
		return store.Connection{}, err
	}
	if id != "" {
		c, err := st.TenantConnection(ctx, tenant.ID, id)
		if err != nil {
			return store.Connection{}, err
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

// orgDenials explains SCP and RCP denies from the tenant's access syncs:
// any of its connections whose latest sync read the organization's
// policies for the account (the management account's connection reads
// every member's). Nil when no sync has any.
func orgDenials(ctx context.Context, st *store.Store, tenant crossbill.TenantID) func(crossbill.AccountID, string) string {
	conns, err := st.ConnectionsByTenant(ctx, tenant)
	if err != nil {
		return nil
	}
	var models []*access.Model
	for _, c := range conns {
		if m, _, err := access.Load(ctx, st, tenant, c.ID); err == nil && len(m.Snapshot.OrgPolicies) > 0 {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		return nil
	}
	return func(account crossbill.AccountID, action string) string {
		for _, m := range models {
			if d, ok := m.ExplainDeny(account, action, ""); ok {
				return d.Text
			}
		}
		return ""
	}
}
