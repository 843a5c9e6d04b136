package athena

import (
	"context"
	"slices"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Region is where the CUR stack creates its Glue table and workgroup (the
// manifest's Athena permissions are scoped to it): the region of the
// billing services.
const Region = "us-east-1"

// Store is what the engine choice needs of the metadata store
// (*store.Store).
type Store interface {
	costs.AccountNamer
	TenantByID(ctx context.Context, id crossbill.TenantID) (store.Tenant, error)
	TenantConnection(ctx context.Context, tenant crossbill.TenantID, id crossbill.ConnectionID) (store.Connection, error)
	CostEngine(ctx context.Context, tenant crossbill.TenantID) (store.CostEngine, error)
	SetCostEngine(ctx context.Context, e store.CostEngine) (store.CostEngine, error)
}

// EngineRequest sets a tenant's cost query engine: store.EngineAthena
// through Connection's role, or store.EngineLocal.
type EngineRequest struct {
	Tenant     crossbill.TenantID
	Connection crossbill.ConnectionID // required for Athena
	Engine     string
}

// SetEngine is the use case behind `crossbill costs engine set` and PUT
// .../costs/engine. Athena needs a verified connection with the cur
// module whose CUR stack was deployed with EnableAthena=true (its Glue
// table and workgroup are the manifest's names; the next verification
// probes them).
func SetEngine(ctx context.Context, st Store, req EngineRequest) (store.CostEngine, error) {
	const op = "cost engine"
	e := store.CostEngine{TenantID: req.Tenant, Engine: req.Engine, ConnectionID: req.Connection}
	switch req.Engine {
	case store.EngineLocal:
		return st.SetCostEngine(ctx, e)
	case store.EngineAthena:
	default:
		return store.CostEngine{}, crossbill.Errorf(crossbill.CodeInvalid, op, "engine %q: use %s (crossbill's cost store, the default) or %s (Amazon Athena over the CUR in place)",
			req.Engine, store.EngineLocal, store.EngineAthena)
	}
	if req.Connection == "" {
		return store.CostEngine{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the Athena engine runs through a connection's role: give the connection (--connection ID)")
	}
	c, err := st.TenantConnection(ctx, req.Tenant, req.Connection)
	if err != nil {
		return store.CostEngine{}, err
	}
	if !slices.Contains(c.Modules, manifest.ModuleCUR) {
		return store.CostEngine{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no cur module: Athena runs over the CUR stack's Glue table (connect init --modules cur,..., deploy the CUR stack with EnableAthena=true)", c.ID)
	}
	if c.Status != store.StatusVerified || c.RoleARN == "" {
		return store.CostEngine{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s is %s: verify it first with `crossbill connect verify`", c.ID, c.Status)
	}
	e.Table = manifest.AthenaDatabase + "." + manifest.AthenaTable
	e.WorkGroup = manifest.AthenaWorkGroup
	return st.SetCostEngine(ctx, e)
}

// Engines answers cost queries in the engine each tenant chose.
type Engines struct {
	Store Store
	// AWS is the process's one factory of customer-role credentials, or
	// nil and OpenAWS loads it when a query first needs it (the CLI: a
	// local query never reads the AWS configuration).
	AWS     *awsclient.Factory
	OpenAWS func(context.Context) (*awsclient.Factory, error)
	// Poll is the wait between Athena status checks (default 1 s).
	Poll time.Duration
	// Now is the clock of Athena's default range (nil: time.Now).
	Now func() time.Time
}

// Query is the cost query use case of the CLI and the API: the tenant's
// local cost store (opened with local, which returns what to call after)
// answers unless the tenant chose Athena; then Athena answers through the
// connection's role, shaped like the local answer (source "athena"),
// accounts named alike.
func (e Engines) Query(ctx context.Context, q costs.Query, local func(context.Context) (*costs.Store, func(), error)) (costs.Result, error) {
	eng, err := e.Store.CostEngine(ctx, q.Tenant)
	if err != nil {
		return costs.Result{}, err
	}
	if eng.Engine != store.EngineAthena {
		cs, release, err := local(ctx)
		if err != nil {
			return costs.Result{}, err
		}
		defer release()
		return cs.QueryNamed(ctx, q, e.Store)
	}
	api, err := e.client(ctx, eng)
	if err != nil {
		return costs.Result{}, err
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	q = DefaultRange(q, now())
	res, err := Query(ctx, api, q, Options{Table: eng.Table, WorkGroup: eng.WorkGroup, Poll: e.Poll})
	if err != nil {
		return costs.Result{}, err
	}
	return costs.NameAccounts(ctx, res, q, e.Store)
}

// client is Athena through the engine's connection's role.
func (e Engines) client(ctx context.Context, eng store.CostEngine) (*sdk.Client, error) {
	const op = "athena query"
	f := e.AWS
	if f == nil && e.OpenAWS != nil {
		var err error
		if f, err = e.OpenAWS(ctx); err != nil {
			return nil, err
		}
	}
	if f == nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "no AWS client factory given")
	}
	c, err := e.Store.TenantConnection(ctx, eng.TenantID, eng.ConnectionID)
	if err != nil {
		return nil, err
	}
	if c.RoleARN == "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no role: verify it with `crossbill connect verify`, or set the engine back with `crossbill costs engine set local`", c.ID)
	}
	t, err := e.Store.TenantByID(ctx, eng.TenantID)
	if err != nil {
		return nil, err
	}
	cfg := f.Config(awsclient.Target{Tenant: t.Name, Connection: c.ID, RoleARN: c.RoleARN, ExternalID: c.ExternalID}, Region)
	return sdk.NewFromConfig(cfg), nil
}

// DefaultRange fills the range Athena needs where q leaves it open: the
// local engine defaults to the latest month loaded, but Athena reads the
// CUR in place, with no store to look in, so: the billing periods of a
// billing-period filter, else the current month (UTC) of now.
func DefaultRange(q costs.Query, now time.Time) costs.Query {
	if !q.From.IsZero() && !q.To.IsZero() {
		return q
	}
	month := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
	from, to := month(now.UTC()), month(now.UTC()).AddDate(0, 1, 0)
	seen := false
	for _, f := range q.Filters {
		if f.Dim.Kind != costs.DimBillingPeriod {
			continue
		}
		for _, v := range f.Values {
			p, err := time.Parse("2006-01", v)
			if err != nil {
				continue
			}
			if !seen || p.Before(from) {
				from = p
			}
			if !seen || p.AddDate(0, 1, 0).After(to) {
				to = p.AddDate(0, 1, 0)
			}
			seen = true
		}
	}
	switch {
	case q.From.IsZero() && q.To.IsZero():
		q.From, q.To = from, to
	case q.From.IsZero():
		q.From = month(q.To.Add(-time.Nanosecond))
	default:
		q.To = month(q.From).AddDate(0, 1, 0)
		if t := month(now.UTC()).AddDate(0, 1, 0); t.After(q.To) {
			q.To = t
		}
	}
	return q
}
