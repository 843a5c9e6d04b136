package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/costs/athena/athenatest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// The renewals, Marketplace sale and Cost Explorer comparison use cases
// of a tenant whose cost engine is Athena run in Athena, through the
// connection's role, with crossbill's local cost store empty. moto's
// Athena executes no SQL: each statement crossbill sends is run by DuckDB
// over the CUR export's Parquet (athenatest.Front) and its rows queued in
// moto for the customer's account only. These tests are not parallel:
// they share moto's Athena results queue of the customer's account.

// athenaCustomer is the customer's account, whose Athena answers.
const athenaCustomer = "222222222222"

// costExplorerStub answers the Cost Explorer figures of the comparison
// (STUBBED: moto 5.2.1 does not serve them): Savings Plans used 80%,
// reservations 50%, Savings Plans coverage 20%, reservation coverage 25%,
// and the expiring plan 90% used.
func costExplorerStub(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch r.Header.Get("X-Amz-Target") {
	case "AWSInsightsIndexService.GetSavingsPlansUtilization":
		fmt.Fprint(w, `{"Total":{"Utilization":{"TotalCommitment":"100","UsedCommitment":"80","UnusedCommitment":"20","UtilizationPercentage":"80"}},"SavingsPlansUtilizationsByTime":[]}`)
	case "AWSInsightsIndexService.GetReservationUtilization":
		fmt.Fprint(w, `{"Total":{"UtilizationPercentage":"50"},"UtilizationsByTime":[]}`)
	case "AWSInsightsIndexService.GetSavingsPlansCoverage":
		fmt.Fprint(w, `{"SavingsPlansCoverages":[{"Coverage":{"SpendCoveredBySavingsPlans":"20","OnDemandCost":"80"}}]}`)
	case "AWSInsightsIndexService.GetReservationCoverage":
		fmt.Fprint(w, `{"Total":{"CoverageHours":{"CoverageHoursPercentage":"25"}},"CoveragesByTime":[]}`)
	case "AWSInsightsIndexService.GetSavingsPlansUtilizationDetails":
		fmt.Fprint(w, `{"SavingsPlansUtilizationDetails":[{"SavingsPlanArn":"`+commitmentstest.RecentSPARN+`","Attributes":{"AccountId":"111111111111"},"Utilization":{"TotalCommitment":"336","UsedCommitment":"302.4","UnusedCommitment":"33.6","UtilizationPercentage":"90"}}]}`)
	default:
		http.Error(w, "not stubbed", http.StatusNotFound)
	}
}

// athenaWorld is a server whose hub reaches moto through an
// athenatest.Front over commitmentstest.RecentExport (a Savings Plan
// whose 30-day renewal alert is due, a reservation used 25%), and tenant acme whose cost
// engine is Athena through a verified connection (cur, cost and
// commitments modules) to the customer's role; nothing is in crossbill's
// local cost store.
type athenaWorld struct {
	ts     *testServer
	front  *athenatest.Front
	tenant crossbill.TenantID
	admin  string
	conn   store.Connection
}

func newAthenaWorld(t *testing.T, tweak func(*server.Main)) athenaWorld {
	t.Helper()
	ctx := context.Background()
	moto := emulator.Shared(t)
	athenatest.WorkGroup(t, moto, athenaCustomer)
	front := athenatest.New(t, moto, athenaCustomer, commitmentstest.RecentExport(t, t.TempDir(), time.Now()))
	front.CostExplorer = http.HandlerFunc(costExplorerStub)
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: front.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
		if tweak != nil {
			tweak(m)
		}
	})
	tn, _, admin := ts.tenantWithTokens(t, "acme")
	tenant := crossbill.TenantID(tn.ID)
	c, err := ts.Store().CreateConnection(ctx, store.NewConnection{TenantID: tenant, ExternalID: "cb-test-athena-lifecycle-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleCUR, manifest.ModuleCost, manifest.ModuleCommitments}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = storetest.Bind(ctx, ts.Store(), c.ID, crossbill.RoleARN("arn:aws:iam::"+athenaCustomer+":role/CrossbillAccess")); err != nil {
		t.Fatal(err)
	}
	if _, err := athena.SetEngine(ctx, ts.Store(), athena.EngineRequest{Tenant: tenant, Connection: c.ID, Engine: store.EngineAthena}); err != nil {
		t.Fatal(err)
	}
	return athenaWorld{ts: ts, front: front, tenant: tenant, admin: admin, conn: c}
}

// call calls the API and returns the status, the cost source header and
// the body.
func (w athenaWorld) call(t *testing.T, method, path string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.ts.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Crossbill-Cost-Source"), body
}

// fromAthena checks that an answer came from Athena: the header, the
// statements DuckDB ran for moto, the answer's cost, and crossbill's
// local store still empty.
func (w athenaWorld) fromAthena(t *testing.T, what, source string, cost *costs.EngineCost, statements int) {
	t.Helper()
	if err := w.front.Err(); err != nil {
		t.Fatalf("%s: DuckDB: %v", what, err)
	}
	if !strings.HasPrefix(source, "athena; the tenant's cost engine is athena") {
		t.Errorf("%s: Crossbill-Cost-Source %q", what, source)
	}
	if n := len(w.front.Statements()); n != statements {
		t.Errorf("%s: %d statements sent to Athena, want %d:\n%s", what, n, statements, strings.Join(w.front.Statements(), "\n\n"))
	}
	if cost == nil || cost.Queries != statements || cost.BilledBytes != int64(statements)*10<<20 {
		t.Errorf("%s: the answer's Athena cost %+v, want %d queries", what, cost, statements)
	}
	if ps, err := w.ts.Costs().Periods(context.Background(), w.tenant); err != nil || len(ps) != 0 {
		t.Errorf("%s: crossbill's local store holds %+v (%v): the test would prove little", what, ps, err)
	}
}

// TestRenewalsAthenaTenant: GET .../commitments/renewals of an Athena
// tenant reads Athena's table (the last hour of data, the commitments,
// their utilization: 3 statements) and answers the expiring plan's
// 30-day alert with its renewal sized on the used part ($1.50/h).
func TestRenewalsAthenaTenant(t *testing.T) {
	w := newAthenaWorld(t, nil)
	today := time.Now().UTC().Format(time.DateOnly)
	status, source, body := w.call(t, "GET", "/api/v1/tenants/acme/commitments/renewals?as_of="+today)
	var rep struct {
		purchase.RenewalsReport
		Athena *costs.EngineCost `json:"athena"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("renewals: %d %s", status, body)
	}
	if len(rep.Renewals) != 1 {
		t.Fatalf("renewals: %s, want the expiring Savings Plan", body)
	}
	r := rep.Renewals[0]
	if r.Commitment.ARN != commitmentstest.RecentSPARN || r.DaysLeft != commitmentstest.RecentSPDays || r.Alert != 30 || math.Abs(r.Utilization-0.75) > 1e-9 ||
		r.Plan == nil || math.Abs(r.Plan.HourlyCommitment-1.5) > 1e-9 {
		t.Fatalf("the renewal: %s", body)
	}
	w.fromAthena(t, "renewals", source, rep.Athena, 3)
}

// TestSalesAthenaTenant: GET .../commitments/sales of an Athena tenant
// finds the reservation used 25% of the time in Athena's table; the CUR
// shows no upfront payment, so it is not listable, and says why.
func TestSalesAthenaTenant(t *testing.T) {
	w := newAthenaWorld(t, nil)
	status, source, body := w.call(t, "GET", "/api/v1/tenants/acme/commitments/sales")
	var rep struct {
		purchase.SalesReport
		Athena *costs.EngineCost `json:"athena"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("sales: %d %s", status, body)
	}
	if len(rep.Sales) != 0 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "reservation ri-recent-low was bought without upfront payment") {
		t.Fatalf("sales: %s, want the low-use reservation skipped", body)
	}
	w.fromAthena(t, "sales", source, rep.Athena, 3)
}

// TestCompareAthenaTenant: POST .../commitments/compare of an Athena
// tenant puts Cost Explorer's figures (through the role) beside
// crossbill's read in Athena (the last hour, utilization, coverage).
func TestCompareAthenaTenant(t *testing.T) {
	w := newAthenaWorld(t, nil)
	status, source, body := w.call(t, "POST", "/api/v1/tenants/acme/connections/"+string(w.conn.ID)+"/commitments/compare?lookback_days=14")
	var rep struct {
		commitments.FiguresReport
		Athena *costs.EngineCost `json:"athena"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("compare: %d %s", status, body)
	}
	figure := map[string]commitments.Figure{}
	for _, f := range rep.Figures {
		figure[f.Name] = f
	}
	sp, ri := figure["savings plans utilization"], figure["reservation utilization"]
	if sp.Crossbill == nil || math.Abs(*sp.Crossbill-0.75) > 1e-9 || sp.AWS == nil || *sp.AWS != 0.8 ||
		ri.Crossbill == nil || math.Abs(*ri.Crossbill-0.25) > 1e-9 || ri.AWS == nil || *ri.AWS != 0.5 {
		t.Fatalf("figures: %s", body)
	}
	if len(rep.Plans) != 1 || rep.Plans[0].ARN != commitmentstest.RecentSPARN || rep.Plans[0].Crossbill == nil || math.Abs(*rep.Plans[0].Crossbill-0.75) > 1e-9 ||
		rep.Plans[0].AWS == nil || *rep.Plans[0].AWS != 0.9 {
		t.Fatalf("per plan: %s", body)
	}
	w.fromAthena(t, "compare", source, rep.Athena, 3)
}

// TestRenewalsJobAthenaTenant: the daily renewals job of an Athena tenant
// reads its renewals in Athena (its local store is empty) and queues the
// expiring plan's 30-day alert to the tenant's channel.
func TestRenewalsJobAthenaTenant(t *testing.T) {
	ctx := context.Background()
	w := newAthenaWorld(t, func(m *server.Main) { m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond} })
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })) //nolint:errcheck // a sink
	defer hook.Close()
	st := w.ts.Store()
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: w.tenant, Name: "finops", Kind: "webhook", URL: hook.URL, Topics: []string{"commitments.*"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: w.tenant, Kind: server.JobRenewals, Interval: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		jobs, err := st.Jobs(ctx, w.tenant, store.JobFilter{Kind: server.JobRenewals})
		if err != nil {
			t.Fatal(err)
		}
		done := false
		for _, j := range jobs {
			if j.Status == store.JobFailed {
				t.Fatalf("the renewals job failed: %+v", j)
			}
			done = done || j.Status == store.JobSucceeded
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("renewals jobs %+v, want one succeeded", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, err := st.NotificationLog(ctx, w.tenant, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Topic != purchase.TopicRenewal || !strings.Contains(log[0].Text, "sp-recent-expiring") {
		t.Fatalf("outbox: %+v, want the expiring plan's 30-day alert", log)
	}
	if err := w.front.Err(); err != nil {
		t.Fatalf("DuckDB: %v", err)
	}
	if n := len(w.front.Statements()); n != 3 {
		t.Errorf("%d statements sent to Athena, want 3 (last hour, commitments, utilization)", n)
	}
	e, err := athena.Engine(ctx, st, w.tenant, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sp := e.AthenaSpend; sp == nil || sp.Queries != 3 {
		t.Errorf("the month's Athena spend: %+v, want the job's 3 queries", e.AthenaSpend)
	}
}
