package costexplorer_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/costexplorer"

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
// customer's account, a hub whose GetTags is stubbed (moto 5.2.1 does not
// serve it: the stub answers tag key "team"), everything else sent to moto.
func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	hubCfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hubCfg.APIOptions = append(hubCfg.APIOptions, emulator.Stub("Cost Explorer", "GetTags", &costexplorer.GetTagsOutput{Tags: []string{"team"}}, nil))
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
	// 2 pages + 2 groupings + GetTags + 1 tag key.
	if rep.Status != cex.StatusLoaded || rep.Requests != 6 || rep.From != "2025-07-01" || rep.To != "2026-06-14" || rep.Usage.Requests != 6 {
		t.Fatalf("first load: %+v", rep)
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
	// The next day: the last 3 days again plus the new one, 5 requests
	// (moto's empty answer for the unqueued bodies keeps their days empty).
	rep = f.load(t, now.AddDate(0, 0, 1), false)
	if rep.Status != cex.StatusLoaded || rep.From != "2026-06-12" || rep.To != "2026-06-15" || rep.Requests != cex.RequestsPerLoad(1) {
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
	if err != nil || u.Status != cex.StatusBudgetReached || u.SpentUSD != 0.14 {
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
