package athena

import (
	"context"
	"slices"
	"sync"
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
	CostView(ctx context.Context, tenant crossbill.TenantID, name string) (store.CostView, error)
	AddAthenaSpend(ctx context.Context, tenant crossbill.TenantID, month string, queries, scanned, billed int64) error
	AthenaSpendOf(ctx context.Context, tenant crossbill.TenantID, month string) (store.AthenaSpend, error)
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

// Engines answers cost queries in the engine each tenant chose: one
// entry per use case (Query, MonthOverMonth, Forecast, Anomalies, RunView,
// Export), which the CLI and the API both call, so that no analysis of an
// Athena tenant silently answers from the local store.
type Engines struct {
	Store Store
	// AWS is the process's one factory of customer-role credentials, or
	// nil and OpenAWS loads it when a query first needs it (the CLI: a
	// local query never reads the AWS configuration).
	AWS     *awsclient.Factory
	OpenAWS func(context.Context) (*awsclient.Factory, error)
	// Poll is the wait between Athena status checks (default 1 s).
	Poll time.Duration
	// Now is the clock of Athena's default range and of its latest day
	// (nil: time.Now).
	Now func() time.Time
}

// Local opens the tenant's local cost store and returns what to call
// after: the CLI's data directory or cluster mode's store, the server's
// request store.
type Local func(context.Context) (*costs.Store, func(), error)

// LatestMonths is how many billing periods, up to the current month, the
// Athena engine reads to find the latest day with data (one column of
// those partitions): the default month of month over month, forecast and
// anomalies. Older data is asked for with --from/--to or --month.
const LatestMonths = 3

// open is the tenant's engine for one use case: the local store (ath
// nil), or Athena through the connection's role. release is to be called
// after.
func (e Engines) open(ctx context.Context, tenant crossbill.TenantID, local Local) (src costs.Source, ath *athenaSource, release func(), err error) {
	eng, err := e.Store.CostEngine(ctx, tenant)
	if err != nil {
		return nil, nil, nil, err
	}
	if eng.Engine != store.EngineAthena {
		cs, release, err := local(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		return cs, nil, release, nil
	}
	api, err := e.client(ctx, eng)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	a := &athenaSource{st: e.Store, api: api, eng: eng, now: now().UTC(), poll: e.Poll}
	return a, a, func() {}, nil
}

// Athena is the tenant's Athena engine as a costs.Source (its queries
// recorded in the tenant's spend), or nil for a local tenant: for callers
// that hold the local store already (alert rules).
func (e Engines) Athena(ctx context.Context, tenant crossbill.TenantID) (costs.Source, error) {
	_, ath, _, err := e.open(ctx, tenant, func(context.Context) (*costs.Store, func(), error) { return nil, func() {}, nil })
	if err != nil || ath == nil {
		return nil, err
	}
	return ath, nil
}

// Query is the cost query use case of the CLI and the API: the tenant's
// local cost store (opened with local) answers unless the tenant chose
// Athena; then Athena answers through the connection's role, shaped like
// the local answer (source "athena", Result.Athena what it cost), accounts
// named alike.
func (e Engines) Query(ctx context.Context, q costs.Query, local Local) (costs.Result, error) {
	src, ath, release, err := e.open(ctx, q.Tenant, local)
	if err != nil {
		return costs.Result{}, err
	}
	defer release()
	if ath == nil {
		return src.(*costs.Store).QueryNamed(ctx, q, e.Store)
	}
	res, err := ath.Query(ctx, q)
	if err != nil {
		return costs.Result{}, err
	}
	return costs.NameAccounts(ctx, res, DefaultRange(q, ath.now), e.Store)
}

// MonthOverMonth is `crossbill costs mom`'s use case in the tenant's
// engine (costs.MonthOverMonthIn), accounts named.
func (e Engines) MonthOverMonth(ctx context.Context, q costs.Query, month time.Time, local Local) (costs.MoM, error) {
	src, ath, release, err := e.open(ctx, q.Tenant, local)
	if err != nil {
		return costs.MoM{}, err
	}
	defer release()
	m, err := costs.MonthOverMonthIn(ctx, src, q, month)
	if err != nil {
		return costs.MoM{}, err
	}
	m.Athena = ath.cost()
	return costs.NameMoM(ctx, m, q, e.Store)
}

// Forecast is `crossbill costs forecast`'s and GET .../costs/forecast's
// use case in the tenant's engine (costs.ForecastIn). Cost Explorer's
// forecast beside it is the one the last Cost Explorer load stored in the
// local store, whichever the engine: for an Athena tenant the local store
// is opened for it alone (unblended, no filter: what Cost Explorer
// forecasts).
func (e Engines) Forecast(ctx context.Context, tenant crossbill.TenantID, metric string, month time.Time, filters []costs.Filter, local Local) (costs.Forecast, error) {
	src, ath, release, err := e.open(ctx, tenant, local)
	if err != nil {
		return costs.Forecast{}, err
	}
	defer release()
	var ce costs.ExplorerForecaster
	if cs, ok := src.(*costs.Store); ok {
		ce = cs
	} else if len(filters) == 0 && metric == costs.MetricUnblended {
		cs, releaseLocal, err := local(ctx)
		if err != nil {
			return costs.Forecast{}, err
		}
		defer releaseLocal()
		ce = cs
	}
	f, err := costs.ForecastIn(ctx, src, ce, tenant, metric, month, filters)
	if err != nil {
		return costs.Forecast{}, err
	}
	f.Athena = ath.cost()
	return f, nil
}

// Anomalies is `crossbill costs anomalies`' use case in the tenant's
// engine (costs.AnomaliesIn), accounts named; cost is what Athena
// charged (nil for the local engine).
func (e Engines) Anomalies(ctx context.Context, o costs.AnomalyOptions, local Local) ([]costs.Anomaly, *costs.EngineCost, error) {
	src, ath, release, err := e.open(ctx, o.Tenant, local)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	as, err := costs.AnomaliesIn(ctx, src, o)
	if err != nil {
		return nil, nil, err
	}
	as, err = costs.NameAnomalies(ctx, as, o.Tenant, e.Store)
	return as, ath.cost(), err
}

// ViewQuery is the tenant's saved view name's query, capped at maxRows.
func (e Engines) ViewQuery(ctx context.Context, tenant crossbill.TenantID, name string, maxRows int) (costs.Query, error) {
	v, err := costs.GetView(ctx, e.Store, tenant, name)
	if err != nil {
		return costs.Query{}, err
	}
	in := v.Query.Input()
	in.MaxRows = maxRows
	return costs.ParseQuery(tenant, in)
}

// RunView runs the tenant's saved view in the tenant's engine: `crossbill
// costs --view NAME`.
func (e Engines) RunView(ctx context.Context, tenant crossbill.TenantID, name string, maxRows int, local Local) (costs.Result, error) {
	q, err := e.ViewQuery(ctx, tenant, name, maxRows)
	if err != nil {
		return costs.Result{}, err
	}
	return e.Query(ctx, q, local)
}

// Export is the CSV export of q in the tenant's engine (Result.CSV): GET
// .../costs/export and .../costs/views/{view}/export; `crossbill costs
// --format csv` writes the same rows.
func (e Engines) Export(ctx context.Context, q costs.Query, local Local) ([]byte, error) {
	res, err := e.Query(ctx, q, local)
	if err != nil {
		return nil, err
	}
	return res.CSVBytes()
}

// AthenaSpend is the tenant's Athena spend in now's month (UTC), priced.
func AthenaSpend(ctx context.Context, st Store, tenant crossbill.TenantID, now time.Time) (store.AthenaSpend, error) {
	sp, err := st.AthenaSpendOf(ctx, tenant, now.UTC().Format("2006-01"))
	if err != nil {
		return store.AthenaSpend{}, err
	}
	sp.CostUSD = costs.AthenaCostUSD(sp.BilledBytes)
	return sp, nil
}

// Engine is `crossbill costs engine`'s and GET .../costs/engine's use
// case: where the tenant's cost queries run, and what Athena cost the
// customer this month (UTC) whichever the engine now.
func Engine(ctx context.Context, st Store, tenant crossbill.TenantID, now time.Time) (store.CostEngine, error) {
	e, err := st.CostEngine(ctx, tenant)
	if err != nil {
		return store.CostEngine{}, err
	}
	sp, err := AthenaSpend(ctx, st, tenant, now)
	if err != nil {
		return store.CostEngine{}, err
	}
	e.AthenaSpend = &sp
	return e, nil
}

// athenaSource answers one use case's queries in Athena (costs.Source),
// recording what each query Athena bills scanned, in the tenant's month,
// as it ends.
type athenaSource struct {
	st   Store
	api  *sdk.Client
	eng  store.CostEngine
	now  time.Time
	poll time.Duration

	mu    sync.Mutex
	spent costs.EngineCost
}

func (a *athenaSource) options(ctx context.Context, errs *error) Options {
	return Options{Table: a.eng.Table, WorkGroup: a.eng.WorkGroup, Poll: a.poll, Billed: func(scanned int64) {
		a.mu.Lock()
		a.spent.Add(scanned)
		a.mu.Unlock()
		// Counted even when the caller has given up: Athena billed it.
		if err := a.st.AddAthenaSpend(context.WithoutCancel(ctx), a.eng.TenantID, a.now.Format("2006-01"), 1, scanned, costs.AthenaBilled(scanned)); err != nil {
			*errs = err
		}
	}}
}

// Query answers q in Athena, its open range filled (DefaultRange).
func (a *athenaSource) Query(ctx context.Context, q costs.Query) (costs.Result, error) {
	var recErr error
	res, err := Query(ctx, a.api, DefaultRange(q, a.now), a.options(ctx, &recErr))
	if err == nil {
		err = recErr
	}
	return res, err
}

// LatestDay is the last day with line items in the table's last
// LatestMonths billing periods.
func (a *athenaSource) LatestDay(ctx context.Context, tenant crossbill.TenantID) (time.Time, error) {
	const op = "athena query"
	stmt, err := costs.AthenaLatestDaySQL(a.eng.Table, a.now, LatestMonths)
	if err != nil {
		return time.Time{}, err
	}
	var recErr error
	rows, err := Run(ctx, a.api, stmt, a.options(ctx, &recErr))
	if err == nil {
		err = recErr
	}
	if err != nil {
		return time.Time{}, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] == "" {
		first := a.now.AddDate(0, 1-LatestMonths, 0).Format("2006-01")
		return time.Time{}, crossbill.Errorf(crossbill.CodeNotFound, op, "Athena's table %s has no line items in the billing periods %s to %s: check that the CUR export delivers, or ask for a month (--month, --from/--to)",
			a.eng.Table, first, a.now.Format("2006-01"))
	}
	t, err := athenaTime(rows[0][0])
	if err != nil {
		return time.Time{}, crossbill.Errorf(crossbill.CodeInternal, op, "latest day %q: %w", rows[0][0], err)
	}
	return t, nil
}

// cost is what the use case's queries cost so far (nil for the local
// engine).
func (a *athenaSource) cost() *costs.EngineCost {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.spent
	return &c
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
