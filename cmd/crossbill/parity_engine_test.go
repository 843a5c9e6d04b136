package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// customerAccount is the emulated customer of the engine parity test.
const customerAccount = "222222222222"

// TestParityCostEngine: `costs engine [set]` and GET/PUT .../costs/engine
// show and set the same engine and refuse the same input; then, with
// Athena set, `costs --json` and GET .../costs give the same answer from
// Athena through the connection's role. moto's Athena executes no SQL:
// the answer is queued for the customer's account (that the SQL computes
// the local engine's answer is TestEngineAthenaThroughTheRole's, with
// DuckDB). Not parallel: it sets the hub's credentials in the environment.
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
	api := &apiClient{srv: server.New(server.Config{Store: st, Costs: cs, AWS: awsclient.MustFactory(hub), RatePerSecond: -1}), token: tok}

	same := func(what, cli string, status int, body []byte) store.CostEngine {
		t.Helper()
		var c, a store.CostEngine
		if status != http.StatusOK || json.Unmarshal([]byte(cli), &c) != nil || json.Unmarshal(body, &a) != nil {
			t.Fatalf("%s: CLI %s; API %d %s", what, cli, status, body)
		}
		c.UpdatedAt, a.UpdatedAt = nil, nil
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
	if string(cj) != string(aj) || c.Source != "athena" || c.Total != 249.75 || len(c.Rows) != 3 {
		t.Fatalf("Athena query: CLI %s\nAPI %s", cj, aj)
	}
}
