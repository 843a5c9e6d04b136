package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costexplorer/cetest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestCostExplorerJobLoadsDayZero: a verified connection with the cost
// module gets the daily Cost Explorer job when the server starts, and the
// job loads the customer's daily cost through the connection's role: the
// costs API shows it, labelled, before any CUR. moto's Cost Explorer
// answers queued results only (POST /moto-api/static/ce/...), queued here
// for the customer's account alone, so only calls through the role see
// them. moto 5.2.1 does not serve GetTags: the job goes on without tags.
func TestCostExplorerJobLoadsDayZero(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{})
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, 1-today.Day()).AddDate(0, -11, 0)
	g := func(a, b string) cetest.Group { return cetest.Group{Keys: [2]string{a, b}, Cost: 3} }
	if err := moto.QueueCostAndUsage(ctx, "222222222222",
		cetest.Daily(from, today, "", g("111111111111", "Amazon Simple Storage Service")),
		cetest.Daily(from, today, "", g("111111111111", "us-east-1")),
		cetest.Daily(from, today, "", g("Amazon Simple Storage Service", "TimedStorage-ByteHrs"))); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-test-ce-job-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleCost}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, st, c.ID, "arn:aws:iam::222222222222:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	_, tok, err := st.CreateToken(ctx, tn.ID, "read", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	ts := startServer(t, func(m *server.Main) {
		m.DataDir = dir
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	var job store.Job
	for deadline := time.Now().Add(3 * time.Minute); ; {
		jobs, err := ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: c.ID, Kind: server.JobCostExplorer})
		if err != nil {
			t.Fatal(err)
		}
		// A periodic job's run is kept, finished; the next run is queued
		// beside it.
		i := slices.IndexFunc(jobs, func(j store.Job) bool { return j.FinishedAt != nil })
		if i >= 0 {
			job = jobs[i]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Cost Explorer job did not finish: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// 3 groupings + GetTags, GetDimensionValues and GetCostForecast (moto
	// serves none of the last three: said in the message, not a failure).
	if job.LastError != "" || !strings.HasPrefix(job.Message, "loaded: 6 request(s)") || !strings.Contains(job.Message, "forecast not read") || job.IntervalSec != 86400 {
		t.Fatalf("job: %+v", job)
	}
	var res costs.Result
	q := "/api/v1/tenants/acme/costs?granularity=monthly&metric=unblended&group_by=service&from=" + from.Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)
	if code := ts.do(t, "GET", q, string(tok), nil, &res); code != 200 {
		t.Fatalf("costs: %d", code)
	}
	// The UI's date defaults come from the periods: Cost Explorer's count.
	var meta struct {
		Periods     []string `json:"periods"`
		DefaultFrom string   `json:"default_from"`
	}
	if code := ts.do(t, "GET", "/api/v1/tenants/acme/costs/dimensions", string(tok), nil, &meta); code != 200 || len(meta.Periods) != 12 || meta.DefaultFrom != from.Format(time.DateOnly) {
		t.Errorf("dimensions: %d %+v", code, meta)
	}
	days := today.Sub(from).Hours() / 24
	if res.Total != 3*days || len(res.Rows) != 12 || len(res.Sources) != 1 || res.Sources[0].Label != costs.ExplorerLabel {
		t.Errorf("costs after the job: total %v (want %v), %d rows, sources %+v", res.Total, 3*days, len(res.Rows), res.Sources)
	}
}
