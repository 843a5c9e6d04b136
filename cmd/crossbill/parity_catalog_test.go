package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	cbathena "github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestParityCatalogLocal: `costs periods --json` lists what GET
// .../costs/dimensions calls loaded, and `costs dimensions --values
// DIM --json` answers as GET .../costs/dimensions?values=DIM (both call
// athena.Engines; the local engine answers here).
func TestParityCatalogLocal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "bucket")
	for _, args := range [][]string{{"tenant", "create", "acme"},
		{"cur", "generate", "--out", out, "--seed", "11", "--accounts", "2", "--months", "2", "--start", "2026-01", "--resources", "4"},
		{"cur", "ingest", "--tenant", "acme", "--source", out}} {
		if _, stderr, code := runCLI(t, dir, args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	periods, stderr, code := runCLI(t, dir, "costs", "periods", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	listings := map[string]string{}
	for _, v := range []string{"", "service", "tag", "tag:team"} {
		args := []string{"costs", "dimensions", "--tenant", "acme", "--json"}
		if v != "" {
			args = append(args, "--values", v)
		}
		out, stderr, code := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("dimensions %q: %s", v, stderr)
		}
		listings[v] = out
	}
	_, badCLI, badCode := runCLI(t, dir, "costs", "dimensions", "--tenant", "acme", "--values", "colour")

	api := newCostAPI(t, dir)
	for v, cli := range listings {
		status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/dimensions?values="+v, nil)
		var c, a cbathena.Catalog
		if status != http.StatusOK || json.Unmarshal([]byte(cli), &c) != nil || json.Unmarshal(body, &a) != nil {
			t.Fatalf("dimensions %q: CLI %s\nAPI %d %s", v, cli, status, body)
		}
		cj, _ := json.Marshal(c)
		aj, _ := json.Marshal(a)
		if string(cj) != string(aj) || c.Engine != store.EngineLocal || len(c.Periods) != 2 || (v != "") != (c.Values != nil) || (v != "" && len(c.Values.Values) == 0) {
			t.Fatalf("dimensions %q: CLI %s\nAPI %s", v, cj, aj)
		}
		if v == "" {
			var ps []costs.Period
			if json.Unmarshal([]byte(periods), &ps) != nil || len(ps) != 2 {
				t.Fatalf("periods: %s", periods)
			}
			pj, _ := json.Marshal(ps)
			lj, _ := json.Marshal(a.Loaded)
			if string(pj) != string(lj) {
				t.Fatalf("periods: CLI %s\nAPI loaded %s", pj, lj)
			}
		}
	}
	status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/dimensions?values=colour", nil)
	if badCode != 2 || status != http.StatusBadRequest || !strings.Contains(badCLI, firstLine(errorText(t, body))) {
		t.Fatalf("an unknown dimension: CLI %d %s; API %d %s", badCode, badCLI, status, body)
	}
}

// TestParityCatalogAthena: for an Athena tenant `costs periods --json`
// and `costs dimensions --values service --json` answer from Athena
// through the connection's role as GET .../costs/dimensions does, with
// what it cost; the server's answer is cached for the hour (a repeat
// costs nothing). moto's Athena executes no SQL: the rows are queued for
// the customer's account (that the SQL computes the local engine's
// answer is TestCatalogMatchesLocal's, with DuckDB). Not parallel: it
// sets the hub's credentials in the environment.
func TestParityCatalogAthena(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	setHubEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	tn, err := st.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-test-catalog-connection-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/crossbill-hub", Modules: []manifest.Module{manifest.ModuleCUR}})
	mustNoErr(t, err)
	conn, err = storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+customerAccount+":role/CrossbillAccess"))
	mustNoErr(t, err)
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
	_, err = cbathena.SetEngine(ctx, st, cbathena.EngineRequest{Tenant: tn.ID, Connection: conn.ID, Engine: store.EngineAthena})
	mustNoErr(t, err)

	cs, err := costs.Open(ctx, dir)
	mustNoErr(t, err)
	defer cs.Close()
	hub, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: srv.URL})
	mustNoErr(t, err)
	_, tok, err := st.CreateToken(ctx, "", "parity", store.ScopeAdmin)
	mustNoErr(t, err)
	api := &apiClient{srv: newServer(t, server.Config{Store: st, Costs: cs, AWS: awsclient.MustFactory(hub), RatePerSecond: -1}), token: tok}

	periods := emulator.AthenaResult{Columns: [][2]string{{"billing_period", "varchar"}, {"line_items", "bigint"}},
		Rows: [][]string{{"billing_period", "line_items"}, {"2026-01", "1200"}, {"2026-02", "1100"}}}
	values := emulator.AthenaResult{Columns: [][2]string{{"value", "varchar"}}, Rows: [][]string{{"value"}, {"AmazonEC2"}, {"AmazonS3"}}}
	// The periods: `costs periods` and the listing's loaded.
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", periods, periods))
	cli, stderr, code := runCLI(t, dir, "costs", "periods", "--tenant", "acme", "--endpoint-url", srv.URL, "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	if !strings.Contains(stderr, "athena: 1 queries") {
		t.Fatalf("periods: what Athena charged is not on stderr: %q", stderr)
	}
	status, body := api.do(t, "GET", "/api/v1/tenants/acme/costs/dimensions", nil)
	var ps []costs.Period
	var a cbathena.Catalog
	if status != http.StatusOK || json.Unmarshal([]byte(cli), &ps) != nil || json.Unmarshal(body, &a) != nil {
		t.Fatalf("periods: CLI %s; API %d %s", cli, status, body)
	}
	pj, _ := json.Marshal(ps)
	lj, _ := json.Marshal(a.Loaded)
	if string(pj) != string(lj) || len(ps) != 2 || ps[1].Period != "2026-02" || ps[1].Rows != 1100 || ps[0].Source != "athena:crossbill_cur.cur2" ||
		a.Engine != store.EngineAthena || a.DefaultFrom != "2026-01-01" || a.DefaultTo != "2026-03-01" || a.Athena == nil || a.Athena.Queries != 1 {
		t.Fatalf("periods: CLI %s\nAPI %s", pj, body)
	}

	// A dimension's values: the periods, then the values, on each side.
	mustNoErr(t, srv.QueueAthenaResults(ctx, customerAccount, "us-east-1", periods, values, periods, values))
	cli, stderr, code = runCLI(t, dir, "costs", "dimensions", "--tenant", "acme", "--values", "service", "--endpoint-url", srv.URL, "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/costs/dimensions?values=service", nil)
	var c cbathena.Catalog
	if status != http.StatusOK || json.Unmarshal([]byte(cli), &c) != nil || json.Unmarshal(body, &a) != nil {
		t.Fatalf("values: CLI %s; API %d %s", cli, status, body)
	}
	cj, _ := json.Marshal(c)
	aj, _ := json.Marshal(a)
	if string(cj) != string(aj) || c.Values == nil || strings.Join(c.Values.Values, ",") != "AmazonEC2,AmazonS3" || c.Athena == nil || c.Athena.Queries != 2 ||
		c.Athena.BilledBytes != 20<<20 {
		t.Fatalf("values: CLI %s\nAPI %s", cj, aj)
	}

	// Repeats within the hour cost nothing: the server's cache answers.
	spent := func() int64 {
		sp, err := st.AthenaSpendOf(ctx, tn.ID, time.Now().UTC().Format("2006-01"))
		mustNoErr(t, err)
		return sp.Queries
	}
	before := spent()
	for _, path := range []string{"/api/v1/tenants/acme/costs/dimensions", "/api/v1/tenants/acme/costs/dimensions?values=service"} {
		if status, body := api.do(t, "GET", path, nil); status != http.StatusOK {
			t.Fatalf("repeat %s: %d %s", path, status, body)
		}
	}
	if after := spent(); before != 6 || after != before {
		t.Fatalf("Athena queries: %d before the repeats (want 6), %d after", before, after)
	}
}
