package athena_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

const customer = "222222222222"

// engineWorld: a tenant whose CUR (generated, two months) is loaded in the
// local cost store, and a verified cur connection to a role in the
// customer's account, whose Athena has the CUR stack's workgroup.
type engineWorld struct {
	st     *store.Store
	cs     *costs.Store
	srv    *emulator.Server
	hub    *awsclient.Factory
	rec    *awsclient.Recorder
	tenant store.Tenant
	conn   store.Connection
	export string
	admin  aws.Config // the customer's administrator, for set-up and checks
}

func newEngineWorld(t *testing.T, apiOptions ...func(*middleware.Stack) error) engineWorld {
	t.Helper()
	ctx := context.Background()
	srv := emulator.Shared(t)
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hubCfg := root.Copy()
	rec := awsclient.NewRecorder()
	rec.Attach(&hubCfg)
	hubCfg.APIOptions = append(hubCfg.APIOptions, apiOptions...)
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs, err := costs.OpenWith(ctx, dir, costs.Options{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	tenant, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test-athena-engine-0123456789",
		HubPrincipal: "arn:aws:iam::" + emulator.DefaultAccount + ":root", Modules: []manifest.Module{manifest.ModuleCUR}})
	if err != nil {
		t.Fatal(err)
	}
	if conn, err = storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+customer+":role/CrossbillAccess")); err != nil {
		t.Fatal(err)
	}
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 11, Accounts: 2, Months: 2, ResourcesPerAccount: 4,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(gen.Dir, gen.Prefix, gen.Export)
	if _, err := ingest.Ingest(ctx, cs, ingest.Options{Source: export, Tenant: tenant.ID}); err != nil {
		t.Fatal(err)
	}
	// The customer's administrator (set-up, not crossbill's calls: no
	// recorder): moto hands out credentials in the customer's account to
	// root assuming a role there. It creates the CUR stack's workgroup,
	// which moto's Athena needs to exist.
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + customer + ":role/admin"), RoleSessionName: aws.String("setup")})
	if err != nil {
		t.Fatal(err)
	}
	admin := root.Copy()
	admin.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	admin.Region = athena.Region
	if _, err := sdk.NewFromConfig(admin).CreateWorkGroup(ctx, &sdk.CreateWorkGroupInput{Name: aws.String(manifest.AthenaWorkGroup)}); err != nil {
		t.Logf("workgroup: %v (another test made it)", err)
	}
	return engineWorld{st: st, cs: cs, srv: srv, hub: awsclient.MustFactory(hubCfg), rec: rec, tenant: tenant, conn: conn, export: export, admin: admin}
}

// athenaRows runs the SQL crossbill sends Athena in DuckDB over the same
// Parquet files laid out as the CUR stack's Glue table sees them, and
// spells its rows as Athena's GetQueryResults does (header row first,
// every value a string, timestamps with milliseconds).
func (w engineWorld) athenaRows(t *testing.T, stmt string) [][]string {
	t.Helper()
	ctx := context.Background()
	db := w.cs.DB()
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS ` + manifest.AthenaDatabase,
		`CREATE OR REPLACE VIEW ` + manifest.AthenaDatabase + `.` + manifest.AthenaTable + ` AS SELECT * FROM read_parquet('` +
			filepath.Join(w.export, "data", "*", "*.parquet") + `', hive_partitioning = true, union_by_name = true)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := db.QueryContext(ctx, stmt)
	if err != nil {
		t.Fatalf("%v\n%s", err, stmt)
	}
	defer rs.Close()
	rows := [][]string{{"period", "grp", "value"}}
	for rs.Next() {
		var p time.Time
		var g string
		var v float64
		if err := rs.Scan(&p, &g, &v); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, []string{p.UTC().Format("2006-01-02 15:04:05.000"), g, strconv.FormatFloat(v, 'g', -1, 64)})
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestEngineAthenaThroughTheRole: with the tenant's engine set to Athena,
// the cost query use case answers from Athena through the connection's
// role, shaped like the local engine's answer. moto's Athena does not
// execute SQL: the statement crossbill sends is executed by DuckDB over
// the same Parquet (athenaRows) and its rows are queued in moto for the
// customer's account only (/moto-api/static/athena/query-results), so the
// answer appears only through the role; it must equal the local engine's
// answer to the same query. The statement moto received is read back and
// must be the one DuckDB ran, in the CUR stack's workgroup and database.
func TestEngineAthenaThroughTheRole(t *testing.T) {
	motoMu.Lock()
	defer motoMu.Unlock()
	ctx := context.Background()
	w := newEngineWorld(t)
	progress(t, w.srv, 1)
	engines := athena.Engines{Store: w.st, AWS: w.hub, Poll: 5 * time.Millisecond}
	localOpened := 0
	local := func(context.Context) (*costs.Store, func(), error) { localOpened++; return w.cs, func() {}, nil }

	q, err := costs.ParseQuery(w.tenant.ID, costs.QueryInput{Metric: costs.MetricAmortized, GroupBy: costs.DimService, Granularity: "monthly",
		From: "2026-01", To: "2026-03", Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	want, err := engines.Query(ctx, q, local)
	if err != nil {
		t.Fatal(err)
	}
	if localOpened != 1 || want.Source == "athena" || len(want.Rows) == 0 {
		t.Fatalf("a tenant without a setting is answered locally: opened %d, %+v", localOpened, want)
	}

	e, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Connection: w.conn.ID, Engine: store.EngineAthena})
	if err != nil || e.Table != manifest.AthenaDatabase+"."+manifest.AthenaTable || e.WorkGroup != manifest.AthenaWorkGroup {
		t.Fatalf("set athena: %+v, %v", e, err)
	}
	stmt, err := costs.AthenaSQL(q, e.Table)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.QueueAthenaResults(ctx, customer, athena.Region, emulator.AthenaResult{
		Columns: [][2]string{{"period", "timestamp"}, {"grp", "varchar"}, {"value", "double"}}, Rows: w.athenaRows(t, stmt)}); err != nil {
		t.Fatal(err)
	}
	got, err := engines.Query(ctx, q, local)
	if err != nil {
		t.Fatal(err)
	}
	if localOpened != 1 {
		t.Fatal("the local store was opened for an Athena tenant")
	}
	if got.Source != "athena" || len(got.Sources) != 1 || got.Sources[0].Source != "athena" || got.From != "2026-01-01" || got.To != "2026-03-01" {
		t.Fatalf("Athena's answer: %+v", got)
	}
	if len(got.Rows) != len(want.Rows) || len(got.Totals) != len(want.Totals) || !near(got.Total, want.Total) {
		t.Fatalf("Athena: %d rows, %d groups, total %v; local: %d rows, %d groups, total %v", len(got.Rows), len(got.Totals), got.Total, len(want.Rows), len(want.Totals), want.Total)
	}
	for i, r := range want.Rows {
		g := got.Rows[i]
		if !g.Period.Equal(r.Period) || g.Group != r.Group || !near(g.Value, r.Value) {
			t.Fatalf("row %d: Athena %+v, local %+v", i, g, r)
		}
	}
	for i, r := range want.Totals {
		if got.Totals[i].Group != r.Group || !near(got.Totals[i].Value, r.Value) {
			t.Fatalf("group %d: Athena %+v, local %+v", i, got.Totals[i], r)
		}
	}
	// Through the role: one query started, polled, read, never stopped.
	if rec := w.rec; rec.Count("athena:StartQueryExecution") != 1 || rec.Count("athena:GetQueryResults") != 1 || rec.Count("athena:StopQueryExecution") != 0 || rec.Count("sts:AssumeRole") == 0 {
		t.Fatalf("calls: %+v", rec.Operations())
	}
	if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
		t.Fatalf("calls missing from the permission manifest: %v", undeclared)
	}
	// What moto received, in the customer's account.
	ath := sdk.NewFromConfig(w.admin)
	list, err := ath.ListQueryExecutions(ctx, &sdk.ListQueryExecutionsInput{WorkGroup: aws.String(manifest.AthenaWorkGroup)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, id := range list.QueryExecutionIds {
		x, err := ath.GetQueryExecution(ctx, &sdk.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(x.QueryExecution.Query) == stmt && aws.ToString(x.QueryExecution.QueryExecutionContext.Database) == manifest.AthenaDatabase {
			found = true
		}
	}
	if !found {
		t.Fatalf("no query in the customer's %s workgroup ran the statement:\n%s", manifest.AthenaWorkGroup, stmt)
	}

	// Back to local: the local store answers again.
	if _, err := athena.SetEngine(ctx, w.st, athena.EngineRequest{Tenant: w.tenant.ID, Engine: store.EngineLocal}); err != nil {
		t.Fatal(err)
	}
	if res, err := engines.Query(ctx, q, local); err != nil || localOpened != 2 || res.Source == "athena" {
		t.Fatalf("after set local: opened %d, %v, %v", localOpened, res.Source, err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestSetEngineRefuses: Athena needs the tenant's own verified connection
// with the cur module; unknown engines are refused.
func TestSetEngineRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acme, _ := st.CreateTenant(ctx, "acme")
	beta, _ := st.CreateTenant(ctx, "beta")
	var accounts []crossbill.ConnectionID
	mk := func(tenant crossbill.TenantID, mods []manifest.Module, bind bool) crossbill.ConnectionID {
		c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tenant, ExternalID: crossbill.ExternalID(fmt.Sprintf("cb-test-refuse-%s-%d-%v-0123456789", tenant, len(mods), bind)),
			HubPrincipal: "arn:aws:iam::111111111111:role/hub", Modules: mods})
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, c.ID)
		if bind {
			if _, err := storetest.Bind(ctx, st, c.ID, crossbill.RoleARN(fmt.Sprintf("arn:aws:iam::%012d:role/R", 100+len(accounts)))); err != nil {
				t.Fatal(err)
			}
		}
		return c.ID
	}
	cur := []manifest.Module{manifest.ModuleCUR}
	costOnly := mk(acme.ID, []manifest.Module{manifest.ModuleCost}, true)
	pending := mk(acme.ID, cur, false)
	foreign := mk(beta.ID, cur, true)
	for name, c := range map[string]struct {
		req  athena.EngineRequest
		code crossbill.Code
	}{
		"unknown engine":          {athena.EngineRequest{Tenant: acme.ID, Engine: "presto"}, crossbill.CodeInvalid},
		"athena, no connection":   {athena.EngineRequest{Tenant: acme.ID, Engine: store.EngineAthena}, crossbill.CodeInvalid},
		"no cur module":           {athena.EngineRequest{Tenant: acme.ID, Engine: store.EngineAthena, Connection: costOnly}, crossbill.CodeInvalid},
		"not verified":            {athena.EngineRequest{Tenant: acme.ID, Engine: store.EngineAthena, Connection: pending}, crossbill.CodeInvalid},
		"another tenant's":        {athena.EngineRequest{Tenant: acme.ID, Engine: store.EngineAthena, Connection: foreign}, crossbill.CodeNotFound},
		"local, another tenant's": {athena.EngineRequest{Tenant: acme.ID, Engine: store.EngineLocal, Connection: foreign}, crossbill.CodeNotFound},
	} {
		if _, err := athena.SetEngine(ctx, st, c.req); crossbill.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	if e, _ := st.CostEngine(ctx, acme.ID); e.Engine != store.EngineLocal {
		t.Fatalf("a refused setting was stored: %+v", e)
	}
}

// TestDefaultRange: Athena has no loaded months to default to.
func TestDefaultRange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 17, 10, 0, 0, 0, time.UTC)
	d := func(s string) time.Time { v, _ := costs.ParseDate(s); return v }
	for name, c := range map[string]struct {
		in       costs.Query
		from, to string
	}{
		"nothing":         {costs.Query{}, "2026-05-01", "2026-06-01"},
		"billing periods": {costs.Query{Filters: []costs.Filter{{Dim: costs.Dim{Kind: costs.DimBillingPeriod}, Values: []string{"2026-02", "2026-01"}}}}, "2026-01-01", "2026-03-01"},
		"from only":       {costs.Query{From: d("2026-03-10")}, "2026-03-10", "2026-06-01"},
		"to only":         {costs.Query{To: d("2026-03-10")}, "2026-03-01", "2026-03-10"},
		"both":            {costs.Query{From: d("2025-01-01"), To: d("2025-02-01")}, "2025-01-01", "2025-02-01"},
	} {
		q := athena.DefaultRange(c.in, now)
		if q.From.Format(time.DateOnly) != c.from || q.To.Format(time.DateOnly) != c.to {
			t.Errorf("%s: %s to %s, want %s to %s", name, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), c.from, c.to)
		}
	}
}
