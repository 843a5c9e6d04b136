package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena/athenatest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// customerAccount is the emulated customer of the engine parity test.
const customerAccount = "222222222222"

// TestParityCostEngine: `costs engine [set]` and GET/PUT .../costs/engine
// show and set the same engine and refuse the same input; then, with
// Athena set, `costs --json` and GET .../costs give the same answer from
// Athena through the connection's role, as do the commitments use cases
// (utilization; renewals, Marketplace sales and the comparison with Cost
// Explorer, with what they cost). moto's Athena executes no SQL: the
// answer is queued for the customer's account (that the SQL computes the
// local engine's answer is TestEngineAthenaThroughTheRole's, with
// DuckDB), or, for renewals, sales and compare, computed by DuckDB over a
// CUR export from the statement crossbill sends (athenatest.Front). Not
// parallel: it sets the hub's credentials in the environment.
func TestParityCostEngine(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	setHubEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	conn := func() store.Connection {
		st, err := store.Open(ctx, dir)
		mustNoErr(t, err)
		defer st.Close()
		tn, err := st.TenantByName(ctx, "acme")
		mustNoErr(t, err)
		c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-test-engine-connection-0123456789",
			HubPrincipal: "arn:aws:iam::123456789012:user/crossbill-hub", Modules: []manifest.Module{manifest.ModuleCUR}})
		mustNoErr(t, err)
		c, err = storetest.Bind(ctx, st, c.ID, crossbill.RoleARN("arn:aws:iam::"+customerAccount+":role/CrossbillAccess"))
		mustNoErr(t, err)
		return c
	}()
	// The customer's administrator creates the CUR stack's workgroup
	// (set-up, not crossbill's call).
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + customerAccount + ":role/admin"), RoleSessionName: aws.String("setup")})
	mustNoErr(t, err)
	admin := root.Copy()
	admin.Region = "us-east-1"
	admin.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	_, err = athena.NewFromConfig(admin).CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String(manifest.AthenaWorkGroup)})
	mustNoErr(t, err)

	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	cs, err := costs.Open(ctx, dir)
	mustNoErr(t, err)
	defer cs.Close()
	hub, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: srv.URL})
	mustNoErr(t, err)
	_, tok, err := st.CreateToken(ctx, "", "parity", store.ScopeAdmin)
	mustNoErr(t, err)
	// The server's clock: now, or an hour later (Athena's answers are
	// cached for the hour).
	var shift atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	api := &apiClient{srv: newServer(t, server.Config{Store: st, Costs: cs, AWS: awsclient.MustFactory(hub), RatePerSecond: -1, Now: now}), token: tok}

	same := func(what, cli string, status int, body []byte) store.CostEngine {
		t.Helper()
		var c, a store.CostEngine
		if status != http.StatusOK || json.Unmarshal([]byte(cli), &c) != nil || json.Unmarshal(body, &a) != nil {
			t.Fatalf("%s: CLI %s; API %d %s", what, cli, status, body)
		}
		c.UpdatedAt, a.UpdatedAt = nil, nil
		if (c.AthenaSpend == nil) != (a.AthenaSpend == nil) || (c.AthenaSpend != nil && *c.AthenaSpend != *a.AthenaSpend) {
			t.Fatalf("%s: Athena spend: CLI %+v, API %+v", what, c.AthenaSpend, a.AthenaSpend)
		}
		c.AthenaSpend, a.AthenaSpend = nil, nil
		if c != a {
			t.Fatalf("%s: CLI %+v, API %+v", what, c, a)
		}
		return c
	}
	cli, stderr, code := runCLI(t, dir, "costs", "engine", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/engine", nil)
	if e := same("show", cli, status, body); e.Engine != store.EngineLocal {
		t.Fatalf("default engine %+v", e)
	}
	// Refusals: the same message, exit 2 and 400.
	for _, args := range [][]string{{"presto"}, {"athena"}} {
		_, cliErr, code := runCLI(t, dir, append([]string{"costs", "engine", "set", "--tenant", "acme"}, args...)...)
		status, body := api.do(t, "PUT", "/api/v1/tenants/acme/costs/engine", map[string]string{"engine": args[0]})
		if code != 2 || status != http.StatusBadRequest || !strings.Contains(cliErr, firstLine(errorText(t, body))) {
			t.Errorf("set %v: CLI %d %s; API %d %s", args, code, cliErr, status, body)
		}
	}
	cli, stderr, code = runCLI(t, dir, "costs", "engine", "set", "athena", "--tenant", "acme", "--connection", string(conn.ID), "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	status, body = api.do(t, "PUT", "/api/v1/tenants/acme/costs/engine", map[string]string{"engine": "athena", "connection_id": string(conn.ID)})
	if e := same("set athena", cli, status, body); e.Engine != store.EngineAthena || e.ConnectionID != conn.ID || e.Table != "crossbill_cur.cur2" {
		t.Fatalf("athena engine %+v", e)
	}

	answer := emulator.AthenaResult{Columns: [][2]string{{"period", "timestamp"}, {"grp", "varchar"}, {"value", "double"}}, Rows: [][]string{
		{"period", "grp", "value"},
		{"2026-01-01 00:00:00.000", "AmazonEC2", "120.5"}, {"2026-01-01 00:00:00.000", "AmazonS3", "30.25"}, {"2026-02-01 00:00:00.000", "AmazonEC2", "99"}}}
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", answer, answer)) // one for each side
	cli, stderr, code = runCLI(t, dir, "costs", "--tenant", "acme", "--group-by", "service", "--granularity", "monthly", "--from", "2026-01", "--to", "2026-03",
		"--endpoint-url", srv.URL, "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/costs?group_by=service&granularity=monthly&from=2026-01&to=2026-03", nil)
	var c, a costs.Result
	if status != http.StatusOK || json.Unmarshal([]byte(cli), &c) != nil || json.Unmarshal(body, &a) != nil {
		t.Fatalf("Athena query: CLI %s; API %d %s", cli, status, body)
	}
	cj, _ := json.Marshal(c)
	aj, _ := json.Marshal(a)
	if string(cj) != string(aj) || c.Source != "athena" || c.Total != 249.75 || len(c.Rows) != 3 || c.Athena == nil || c.Athena.Queries != 1 || c.Athena.BilledBytes != 10<<20 {
		t.Fatalf("Athena query: CLI %s\nAPI %s", cj, aj)
	}

	// The forecast: the latest day, then the days (a complete February
	// of $10 a day), asked of Athena on each side.
	latest := emulator.AthenaResult{Columns: [][2]string{{"latest", "timestamp"}}, Rows: [][]string{{"latest"}, {"2026-02-28 00:00:00.000"}}}
	days := emulator.AthenaResult{Columns: answer.Columns, Rows: [][]string{{"period", "grp", "value"}}}
	for d := 1; d <= 28; d++ {
		days.Rows = append(days.Rows, []string{fmt.Sprintf("2026-02-%02d 00:00:00.000", d), "", "10"})
	}
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", latest, days, latest, days))
	cli, stderr, code = runCLI(t, dir, "costs", "forecast", "--tenant", "acme", "--month", "2026-02", "--endpoint-url", srv.URL, "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/costs/forecast?month=2026-02", nil)
	var cf, af costs.Forecast
	if status != http.StatusOK || json.Unmarshal([]byte(cli), &cf) != nil || json.Unmarshal(body, &af) != nil {
		t.Fatalf("Athena forecast: CLI %s; API %d %s", cli, status, body)
	}
	cj, _ = json.Marshal(cf)
	aj, _ = json.Marshal(af)
	if string(cj) != string(aj) || cf.Forecast != 280 || cf.DaysActual != 28 || cf.Athena == nil || cf.Athena.Queries != 2 {
		t.Fatalf("Athena forecast: CLI %s\nAPI %s", cj, aj)
	}

	// The CSV export: `costs --format csv` and GET .../costs/export.
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", answer, answer))
	query := []string{"--group-by", "service", "--granularity", "monthly", "--from", "2026-01", "--to", "2026-03"}
	cli, stderr, code = runCLI(t, dir, append([]string{"costs", "--tenant", "acme", "--format", "csv", "--endpoint-url", srv.URL}, query...)...)
	if code != 0 {
		t.Fatal(stderr)
	}
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/costs/export?group_by=service&granularity=monthly&from=2026-01&to=2026-03", nil)
	if status != http.StatusOK || cli != string(body) || !strings.Contains(cli, "2026-02,AmazonEC2,99") {
		t.Fatalf("Athena export: CLI %s\nAPI %d %s", cli, status, body)
	}

	// Commitments analyses run in Athena too: utilization asks Athena
	// for the last hour of data first; with none in the recent billing
	// periods (an empty answer queued for each side), the CLI and the API
	// say so alike, and the API's answer names its source in a header.
	none := emulator.AthenaResult{Columns: [][2]string{{"_col0", "timestamp"}, {"_col1", "timestamp"}}, Rows: [][]string{{"_col0", "_col1"}, {"", ""}}}
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", none, none))
	_, cliErr, code := runCLI(t, dir, "commitments", "utilization", "--tenant", "acme", "--endpoint-url", srv.URL)
	req := httptest.NewRequest("GET", "/api/v1/tenants/acme/commitments/utilization", nil)
	req.Header.Set("Authorization", "Bearer "+string(api.token))
	rw := httptest.NewRecorder()
	api.srv.ServeHTTP(rw, req)
	body = rw.Body.Bytes()
	if code == 0 || rw.Code != http.StatusNotFound || !strings.Contains(errorText(t, body), "Athena's table crossbill_cur.cur2 has no line items in the billing periods") ||
		!strings.Contains(cliErr, firstLine(errorText(t, body))) || strings.Contains(cliErr, "note:") || !strings.HasPrefix(rw.Header().Get("Crossbill-Cost-Source"), "athena; the tenant's cost engine is athena: these commitments analyses run in Amazon Athena") {
		t.Fatalf("commitments utilization of an Athena tenant: CLI %d %s\nAPI %d %q %s", code, cliErr, rw.Code, rw.Header().Get("Crossbill-Cost-Source"), body)
	}

	// Renewals, Marketplace sales and the comparison with Cost Explorer
	// run in Athena too, crossbill's local store still empty: the same
	// answer from the CLI and the API, with what it cost (3 statements
	// each: the last hour of data, then the commitments and their
	// utilization, or utilization and coverage). Their statements are run
	// by DuckDB over a CUR export (athenatest.Front, in front of moto, for
	// the CLI's --endpoint-url and the API's hub alike); Cost Explorer's
	// figures are stubbed (awsPriceServer: moto does not serve them).
	front := athenatest.New(t, srv, customerAccount, commitmentstest.RecentExport(t, t.TempDir(), time.Now()))
	front.CostExplorer = &awsPriceServer{}
	frontHub, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: front.URL})
	mustNoErr(t, err)
	frontAPI := &apiClient{srv: newServer(t, server.Config{Store: st, Costs: cs, AWS: awsclient.MustFactory(frontHub), RatePerSecond: -1, Now: now}), token: tok}
	ceConn := costConnection(t, dir, "acme", "arn:aws:iam::"+customerAccount+":role/CrossbillCostExplorer")
	today := time.Now().UTC().Format(time.DateOnly)
	for _, uc := range []struct {
		what, method, path string
		args               []string
		check              func(answer map[string]any) bool
	}{
		{"renewals", "GET", "/api/v1/tenants/acme/commitments/renewals?as_of=" + today, []string{"commitments", "renewals", "--as-of", today},
			func(a map[string]any) bool {
				var rep purchase.RenewalsReport
				mustNoErr(t, json.Unmarshal([]byte(mustJSON(t, a)), &rep))
				return len(rep.Renewals) == 1 && rep.Renewals[0].Commitment.ARN == commitmentstest.RecentSPARN && rep.Renewals[0].Alert == 30 &&
					rep.Renewals[0].DaysLeft == commitmentstest.RecentSPDays
			}},
		{"sales", "GET", "/api/v1/tenants/acme/commitments/sales", []string{"commitments", "sell"},
			func(a map[string]any) bool {
				var rep purchase.SalesReport
				mustNoErr(t, json.Unmarshal([]byte(mustJSON(t, a)), &rep))
				return len(rep.Sales) == 0 && len(rep.Skipped) == 1 && strings.Contains(rep.Skipped[0], "ri-recent-low was bought without upfront payment")
			}},
		{"compare", "POST", "/api/v1/tenants/acme/connections/" + string(ceConn.ID) + "/commitments/compare", []string{"commitments", "compare", "--connection", string(ceConn.ID)},
			func(a map[string]any) bool {
				var rep commitments.FiguresReport
				mustNoErr(t, json.Unmarshal([]byte(mustJSON(t, a)), &rep))
				for _, p := range rep.Plans {
					if p.ARN == commitmentstest.RecentSPARN {
						return p.Crossbill != nil && math.Abs(*p.Crossbill-0.75) < 1e-9 && len(rep.Figures) == 4 && rep.Figures[0].AWS != nil && *rep.Figures[0].AWS == 0.8
					}
				}
				return false
			}},
	} {
		before := len(front.Statements())
		cli, stderr, code := runCLI(t, dir, append(uc.args, "--tenant", "acme", "--endpoint-url", front.URL, "--json")...)
		if code != 0 {
			t.Fatalf("%s of an Athena tenant: CLI %d %s (DuckDB: %v)", uc.what, code, stderr, front.Err())
		}
		req := httptest.NewRequest(uc.method, uc.path, nil)
		req.Header.Set("Authorization", "Bearer "+string(frontAPI.token))
		rw := httptest.NewRecorder()
		frontAPI.srv.ServeHTTP(rw, req)
		var c, a map[string]any
		if rw.Code != http.StatusOK || json.Unmarshal([]byte(cli), &c) != nil || json.Unmarshal(rw.Body.Bytes(), &a) != nil {
			t.Fatalf("%s of an Athena tenant: CLI %s\nAPI %d %s", uc.what, cli, rw.Code, rw.Body)
		}
		cj, aj := mustJSON(t, c), mustJSON(t, a)
		if cj != aj || !uc.check(c) || !strings.HasPrefix(rw.Header().Get("Crossbill-Cost-Source"), "athena; the tenant's cost engine is athena") {
			t.Fatalf("%s of an Athena tenant: CLI %s\nAPI %q %s", uc.what, cj, rw.Header().Get("Crossbill-Cost-Source"), aj)
		}
		if ath, _ := c["athena"].(map[string]any); ath == nil || ath["queries"] != 3.0 || len(front.Statements())-before != 6 || front.Err() != nil {
			t.Fatalf("%s of an Athena tenant: Athena cost %v, %d statements (want 3 each side), DuckDB: %v", uc.what, c["athena"], len(front.Statements())-before, front.Err())
		}
	}
	if ps, err := cs.Periods(ctx, conn.TenantID); err != nil || len(ps) != 0 {
		t.Fatalf("crossbill's local store holds %+v (%v): the test would prove little", ps, err)
	}

	// This month's spend: 28 queries so far (costs, forecast, export,
	// commitments utilization, renewals, sales, compare; each side), 10 MB billed each (moto reports 0 bytes scanned: the
	// minimum), shown alike by `costs engine` and GET .../costs/engine.
	spend := func(what string, queries int64) {
		t.Helper()
		cli, stderr, code := runCLI(t, dir, "costs", "engine", "--tenant", "acme", "--json")
		if code != 0 {
			t.Fatal(stderr)
		}
		status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/engine", nil)
		var a store.CostEngine
		mustNoErr(t, json.Unmarshal(body, &a))
		if shift.Load() == 0 {
			same(what, cli, status, body)
		}
		if sp := a.AthenaSpend; sp == nil || sp.Queries != queries || sp.BilledBytes != queries*10<<20 || sp.CostUSD != costs.AthenaCostUSD(queries*10<<20) {
			t.Fatalf("%s: spend %+v, want %d queries", what, a.AthenaSpend, queries)
		}
	}
	spend("spend", 28)
	// Repeats within the hour cost nothing: the server's cache answers.
	for _, path := range []string{"/api/v1/tenants/acme/costs?group_by=service&granularity=monthly&from=2026-01&to=2026-03",
		"/api/v1/tenants/acme/costs/forecast?month=2026-02", "/api/v1/tenants/acme/costs/export?group_by=service&granularity=monthly&from=2026-01&to=2026-03"} {
		if status, body := api.do(t, "GET", path, nil); status != http.StatusOK {
			t.Fatalf("repeat %s: %d %s", path, status, body)
		}
	}
	spend("after repeats", 28)
	// An hour later the answer is asked of Athena again.
	shift.Store(int64(time.Hour))
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", answer))
	if status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs?group_by=service&granularity=monthly&from=2026-01&to=2026-03", nil); status != http.StatusOK {
		t.Fatalf("an hour later: %d %s", status, body)
	}
	if sp, err := st.AthenaSpendOf(ctx, conn.TenantID, now().UTC().Format("2006-01")); err != nil || sp.Queries == 0 {
		t.Fatalf("an hour later: %+v, %v", sp, err)
	} else if sp.Queries != 29 && now().UTC().Format("2006-01") == time.Now().UTC().Format("2006-01") {
		t.Fatalf("an hour later: %d queries this month, want 29", sp.Queries)
	}
}
