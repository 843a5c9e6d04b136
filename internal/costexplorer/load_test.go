package costexplorer_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costexplorer/cetest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"

	cex "github.com/crossbill/crossbill/internal/costexplorer"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

const customer = "222222222222"

type fixture struct {
	st    *store.Store
	cs    *costs.Store
	hub   *awsclient.Factory
	rec   *awsclient.Recorder
	srv   *emulator.Server
	conn  store.Connection
	other store.Tenant
}

// newFixture: tenant acme with a verified cost connection to a role in the
// customer's account, a hub whose GetTags, GetDimensionValues and
// GetCostForecast are stubbed (moto 5.2.1 serves none of them, and its
// /moto-api/ static results queue GetCostAndUsage answers only): the stubs
// answer tag key "team", account 111111111111 named "prod" (and a name
// with a control character, left out), and a forecast of this month's
// remaining days and the next 3 months. Everything else goes to moto.
func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	hubCfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hubCfg.APIOptions = append(hubCfg.APIOptions, emulator.Stub("Cost Explorer", "GetTags", &costexplorer.GetTagsOutput{Tags: []string{"team"}}, nil),
		emulator.Stub("Cost Explorer", "GetDimensionValues", &costexplorer.GetDimensionValuesOutput{DimensionValues: []cetypes.DimensionValuesWithAttributes{
			{Value: aws.String("111111111111"), Attributes: map[string]string{"description": "prod"}},
			{Value: aws.String("333333333333"), Attributes: map[string]string{"description": "bad\x07name"}},
		}}, nil),
		emulator.Stub("Cost Explorer", "GetCostForecast", &costexplorer.GetCostForecastOutput{ForecastResultsByTime: []cetypes.ForecastResult{
			forecastMonth("2026-06-15", "2026-07-01", "100"), forecastMonth("2026-07-01", "2026-08-01", "200"),
			forecastMonth("2026-08-01", "2026-09-01", "210"), forecastMonth("2026-09-01", "2026-10-01", "220"),
		}}, nil))
	rec := awsclient.NewRecorder()
	rec.Attach(&hubCfg)
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
	acme, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-test-costexplorer-0123456789",
		HubPrincipal: "arn:aws:iam::" + emulator.DefaultAccount + ":user/hub", Modules: []manifest.Module{manifest.ModuleCost}})
	if err != nil {
		t.Fatal(err)
	}
	role := crossbill.RoleARN("arn:aws:iam::" + customer + ":role/CrossbillAccess")
	if _, err := storetest.Bind(ctx, st, conn.ID, role); err != nil {
		t.Fatal(err)
	}
	conn, err = st.TenantConnection(ctx, acme.ID, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{st: st, cs: cs, hub: awsclient.MustFactory(hubCfg), rec: rec, srv: srv, conn: conn, other: other}
}

func forecastMonth(from, to, mean string) cetypes.ForecastResult {
	return cetypes.ForecastResult{TimePeriod: &cetypes.DateInterval{Start: aws.String(from), End: aws.String(to)},
		MeanValue: aws.String(mean), PredictionIntervalLowerBound: aws.String("50"), PredictionIntervalUpperBound: aws.String(mean + "0")}
}

func (f fixture) load(t *testing.T, now time.Time, force bool) cex.Report {
	t.Helper()
	rep, err := cex.Load(context.Background(), cex.Request{Tenant: f.conn.TenantID, Connection: f.conn.ID, Force: force},
		cex.Options{Store: f.st, Costs: f.cs, AWS: f.hub, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestLoadTwelveMonths: moto's Cost Explorer answers queued results only,
// queued here for the customer's account alone, so the costs appear only
// if the calls went through the connection's role. The first load asks for
// 12 months of daily cost (the account+service answer in two pages, the
// second asked with the first's NextPageToken), a second load the same day
// sends nothing, the next day's load asks only for the unsettled days, and
// the monthly budget stops a load with a status, not an error.
func TestLoadTwelveMonths(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
	from, to := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	mid := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := f.srv.QueueCostAndUsage(ctx, customer,
		cetest.Daily(from, mid, "p2", cetest.Group{Keys: [2]string{"111111111111", "Amazon Elastic Compute Cloud - Compute"}, Cost: 2}),
		cetest.Daily(mid, to, "", cetest.Group{Keys: [2]string{"111111111111", "Amazon Elastic Compute Cloud - Compute"}, Cost: 2}),
		cetest.Daily(from, to, "", cetest.Group{Keys: [2]string{"111111111111", "us-east-1"}, Cost: 2}),
		cetest.Daily(from, to, "", cetest.Group{Keys: [2]string{"Amazon Elastic Compute Cloud - Compute", "USE1-BoxUsage:m5.large"}, Cost: 2}),
		cetest.Daily(from, to, "", cetest.Group{Keys: [2]string{"team$web", "Amazon Elastic Compute Cloud - Compute"}, Cost: 1.5},
			cetest.Group{Keys: [2]string{"team$", "Amazon Elastic Compute Cloud - Compute"}, Cost: 0.5}),
	); err != nil {
		t.Fatal(err)
	}
	rep := f.load(t, now, false)
	days := int(to.Sub(from).Hours() / 24)
	// 2 pages + 2 groupings + GetTags + 1 tag key + GetDimensionValues +
	// GetCostForecast.
	if rep.Status != cex.StatusLoaded || rep.Requests != 8 || rep.From != "2025-07-01" || rep.To != "2026-06-14" || rep.Usage.Requests != 8 ||
		rep.AccountNames != 1 || rep.ForecastMonths != 4 {
		t.Fatalf("first load: %+v", rep)
	}
	for _, op := range []string{"ce:GetDimensionValues", "ce:GetCostForecast"} {
		if n := f.rec.Count(op); n != 1 || rep.Usage.ByOperation[op] != 1 {
			t.Errorf("%s sent %d times, counted %d; want 1", op, n, rep.Usage.ByOperation[op])
		}
	}
	// Group by account names the account Cost Explorer named.
	if res := query(t, f.cs, f.conn.TenantID, "account"); res.Names["111111111111"] != "prod" || len(res.Names) != 1 {
		t.Errorf("account names: %v", res.Names)
	}
	// Cost Explorer's forecast beside crossbill's: $2 a day of June 1-14
	// held, plus Cost Explorer's 100 for June 15-30.
	fc, err := f.cs.ForecastMonth(ctx, f.conn.TenantID, costs.MetricUnblended, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ce := fc.CostExplorer; ce == nil || ce.ActualBefore != 28 || ce.Forecast != 128 || ce.Low != 78 || ce.High != 1028 ||
		ce.From != "2026-06-15" || len(ce.Later) != 3 || ce.Later[0].Month != "2026-07" || ce.Later[0].Mean != 200 {
		t.Errorf("Cost Explorer's forecast beside crossbill's: %+v", fc.CostExplorer)
	}
	if n := f.rec.Count("ce:GetCostAndUsage"); n != 5 {
		t.Errorf("GetCostAndUsage sent %d times, want 5", n)
	}
	sp, err := f.cs.ExplorerSpan(ctx, f.conn.TenantID)
	if err != nil || sp.Days != days || len(sp.Periods) != 12 {
		t.Fatalf("span after the first load: %+v, %v; want %d days over 12 periods", sp, err, days)
	}
	res := query(t, f.cs, f.conn.TenantID, "tag:team")
	if res.Total != float64(2*days) || len(res.Totals) != 2 || res.Totals[0].Group != "web" {
		t.Errorf("by tag: total %v, %+v", res.Total, res.Totals)
	}

	// The same day: cached, nothing sent.
	if rep := f.load(t, now.Add(time.Hour), false); rep.Status != cex.StatusUpToDate || rep.Requests != 0 {
		t.Errorf("second load the same day: %+v", rep)
	}
	// The next day: the last 3 days again plus the new one, 6 requests
	// (moto's empty answer for the unqueued bodies keeps their days empty);
	// every account is named already, so no GetDimensionValues.
	rep = f.load(t, now.AddDate(0, 0, 1), false)
	if rep.Status != cex.StatusLoaded || rep.From != "2026-06-12" || rep.To != "2026-06-15" || rep.Requests != cex.RequestsPerLoad(1, false) || f.rec.Count("ce:GetDimensionValues") != 1 {
		t.Errorf("incremental load: %+v", rep)
	}

	// Budget: 3 more requests this month, then a forced load stops.
	if _, err := cex.Status(ctx, f.st, f.conn.TenantID, f.conn.ID, rep.Usage.Requests+3, now); err != nil {
		t.Fatal(err)
	}
	before := f.rec.Count("ce:GetCostAndUsage") + f.rec.Count("ce:GetTags")
	rep = f.load(t, now.AddDate(0, 0, 2), true)
	if rep.Status != cex.StatusBudgetReached || rep.Requests != 3 || rep.Usage.Requests != rep.Usage.Budget || !strings.Contains(rep.Message, "budget") {
		t.Errorf("load over the budget: %+v", rep)
	}
	if sent := f.rec.Count("ce:GetCostAndUsage") + f.rec.Count("ce:GetTags") - before; sent != 3 {
		t.Errorf("%d requests reached AWS past the budget's 3", sent)
	}
	u, err := cex.Status(ctx, f.st, f.conn.TenantID, f.conn.ID, -1, now)
	if err != nil || u.Status != cex.StatusBudgetReached || u.SpentUSD != 0.17 {
		t.Errorf("status: %+v, %v", u, err)
	}
	if _, err := cex.Status(ctx, f.st, f.other.ID, f.conn.ID, -1, now); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("another tenant's status: %v", err)
	}
}

func query(t *testing.T, cs *costs.Store, tenant crossbill.TenantID, by string) costs.Result {
	t.Helper()
	q, err := costs.ParseQuery(tenant, costs.QueryInput{GroupBy: by, From: "2025-01-01", To: "2027-01-01", Granularity: "monthly", Metric: "unblended"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cs.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
