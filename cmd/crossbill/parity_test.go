package main

// Parity tests: each use case the CLI and the API both expose runs through
// both on the same input, and the answers must agree (IDs, external IDs
// and times differ by nature and are normalized). Both sides share one
// data directory, as `crossbill serve` and the CLI do on one machine.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// apiClient is the HTTP API over dir's store, with an operator token.
type apiClient struct {
	srv   *server.Server
	token store.Secret
}

func newAPI(t *testing.T, dir string, hub *awsclient.Factory, templateURLBase string) *apiClient {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { st.Close() })
	_, op, err := st.CreateToken(ctx, "", "parity", store.ScopeAdmin)
	mustNoErr(t, err)
	return &apiClient{srv: newServer(t, server.Config{Store: st, AWS: hub, RatePerSecond: -1, TemplateURLBase: templateURLBase}), token: op}
}

// newServer is server.New whose background writes (token use) end before
// the test's store closes and its data directory is removed.
func newServer(t *testing.T, cfg server.Config) *server.Server {
	srv := server.New(cfg)
	t.Cleanup(srv.Wait)
	return srv
}

// do sends body as JSON and answers the status and the raw response.
func (a *apiClient) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	if raw, isRaw := body.([]byte); isRaw {
		b = raw // sent as is (an upload)
	} else if body != nil {
		var err error
		b, err = json.Marshal(body)
		mustNoErr(t, err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+string(a.token))
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

type stackOut struct {
	Kind      string `json:"kind"`
	File      string `json:"file"`
	StackName string `json:"stack_name"`
	Region    string `json:"region"`
	Link      string `json:"link"`
	Download  string `json:"download"`
}

// TestParityConnectInit: `connect init` and POST .../connections make the
// same connection (modules, templates, stacks, links, template bodies)
// and refuse the same input with the same message and no connection.
func TestParityConnectInit(t *testing.T) {
	t.Parallel()
	const urlBase = "https://crossbill-templates.s3.amazonaws.com/acme"
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	api := newAPI(t, dir, nil, urlBase)

	cases := []struct {
		name       string
		modules    []string
		evaluation bool
		region     string
		format     string
	}{
		{name: "defaults", region: "us-east-1", format: "yaml"},
		{name: "modules in another region", modules: []string{"cost", "org", "inventory"}, region: "eu-west-1", format: "json"},
		{name: "evaluation", evaluation: true, region: "us-west-2", format: "yaml"},
	}
	for _, tc := range cases {
		args := []string{"connect", "init", "--tenant", "acme", "--principal", hub, "--region", tc.region, "--format", tc.format,
			"--template-url-base", urlBase, "--out", t.TempDir(), "--json"}
		if tc.modules != nil {
			args = append(args, "--modules", strings.Join(tc.modules, ","))
		}
		if tc.evaluation {
			args = append(args, "--evaluation")
		}
		stdout, stderr, code := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("%s: CLI exit %d: %s", tc.name, code, stderr)
		}
		var cli struct {
			initOut
			Stacks []stackOut `json:"stacks"`
		}
		mustNoErr(t, json.Unmarshal([]byte(stdout), &cli))

		status, body := api.do(t, "POST", "/api/v1/tenants/acme/connections", map[string]any{
			"hub_principal": hub, "modules": tc.modules, "evaluation": tc.evaluation, "region": tc.region, "format": tc.format})
		if status != http.StatusCreated {
			t.Fatalf("%s: API %d %s", tc.name, status, body)
		}
		var apiRes struct {
			Connection struct {
				ID      string   `json:"id"`
				Status  string   `json:"status"`
				Modules []string `json:"modules"`
			} `json:"connection"`
			ExternalID string            `json:"external_id"`
			Templates  []stackOut        `json:"templates"`
			Links      map[string]string `json:"links"`
		}
		mustNoErr(t, json.Unmarshal(body, &apiRes))

		if !slices.Equal(cli.Modules, apiRes.Connection.Modules) || apiRes.Connection.Status != "pending" {
			t.Errorf("%s: modules CLI %v, API %v (status %s)", tc.name, cli.Modules, apiRes.Connection.Modules, apiRes.Connection.Status)
		}
		if len(cli.Stacks) != len(apiRes.Templates) || len(cli.Stacks) == 0 {
			t.Fatalf("%s: CLI stacks %+v, API templates %+v", tc.name, cli.Stacks, apiRes.Templates)
		}
		// The external IDs differ (each run makes a new one): everything
		// else must be the same once they are set aside.
		norm := func(s, ext string) string { return strings.ReplaceAll(s, ext, "EXTERNAL-ID") }
		for i, c := range cli.Stacks {
			a := apiRes.Templates[i]
			if c.Kind != a.Kind || c.File != a.File || c.StackName != a.StackName || c.Region != a.Region ||
				norm(c.Link, cli.ExternalID) != norm(a.Link, apiRes.ExternalID) || c.Link == "" {
				t.Errorf("%s: stack %d: CLI %+v, API %+v", tc.name, i, c, a)
			}
			if norm(cli.Links[c.Kind], cli.ExternalID) != norm(apiRes.Links[a.Kind], apiRes.ExternalID) {
				t.Errorf("%s: %s link: CLI %q, API %q", tc.name, c.Kind, cli.Links[c.Kind], apiRes.Links[a.Kind])
			}
			cliBody, err := os.ReadFile(cli.Templates[i])
			mustNoErr(t, err)
			status, apiBody := api.do(t, "GET", a.Download+"?region="+tc.region, nil)
			if status != http.StatusOK || norm(string(cliBody), cli.ExternalID) != norm(string(apiBody), apiRes.ExternalID) {
				t.Errorf("%s: %s: the CLI's template and the API's download differ (API status %d)", tc.name, filepath.Base(cli.Templates[i]), status)
			}
		}
	}

	// Refusals: the same code and message, and nothing stored by either.
	before := connectionCount(t, dir)
	refusals := []struct {
		name string
		args []string
		body map[string]any
	}{
		{"evaluation with modules", []string{"--evaluation", "--modules", "org"}, map[string]any{"evaluation": true, "modules": []string{"org"}}},
		{"unknown module", []string{"--modules", "nosuch"}, map[string]any{"modules": []string{"nosuch"}}},
		{"bad format", []string{"--format", "xml"}, map[string]any{"format": "xml"}},
		{"bad region", []string{"--region", "mars-1"}, map[string]any{"region": "mars-1"}},
	}
	for _, r := range refusals {
		_, stderr, code := runCLI(t, dir, append([]string{"connect", "init", "--tenant", "acme", "--principal", hub, "--out", t.TempDir(), "--json"}, r.args...)...)
		r.body["hub_principal"] = hub
		status, body := api.do(t, "POST", "/api/v1/tenants/acme/connections", r.body)
		var cliErr, apiErr struct{ Error, Code string }
		mustNoErr(t, json.Unmarshal([]byte(stderr), &cliErr))
		mustNoErr(t, json.Unmarshal(body, &apiErr))
		if code != 2 || status != http.StatusBadRequest || cliErr.Error != apiErr.Error || cliErr.Code != apiErr.Code {
			t.Errorf("%s: CLI exit %d %+v; API %d %+v: want exit 2 and 400 with the same error", r.name, code, cliErr, status, apiErr)
		}
	}
	if after := connectionCount(t, dir); after != before {
		t.Errorf("refused requests stored %d connection(s)", after-before)
	}
}

func connectionCount(t *testing.T, dir string) int {
	t.Helper()
	stdout, stderr, code := runCLI(t, dir, "connect", "list", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var cs []json.RawMessage
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cs))
	return len(cs)
}

// TestParityVerifyAndMembers: `connect verify` and POST .../verify give the
// same checks for the same connection and role; `connect members` and POST
// .../members the same organization, summary and member statuses, listing
// and verifying, against moto.
func TestParityVerifyAndMembers(t *testing.T) {
	ctx := context.Background()
	f := newOrgFixture(t)
	srv, admin, prodAdmin, members, hubUser := f.srv, f.admin, f.prodAdmin, f.members, f.hub

	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hubUser.ARN, "--modules", "inventory,org", "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	var init initOut
	mustNoErr(t, json.Unmarshal([]byte(stdout), &init))
	modules := []manifest.Module{manifest.ModuleInventory, manifest.ModuleOrg}
	deploy := func(cfg aws.Config, modules []manifest.Module) string {
		t.Helper()
		body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(init.ExternalID), HubPrincipal: hubUser.ARN, Modules: modules})
		mustNoErr(t, err)
		outputs, err := emulator.CreateStack(ctx, cfg, "crossbill", body, nil)
		mustNoErr(t, err)
		return outputs["RoleArn"]
	}
	role := deploy(admin, modules)
	deploy(prodAdmin, onboarding.MemberModules(modules)) // sandbox has no member role: one member fails

	hubCfg, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: srv.URL})
	mustNoErr(t, err)
	api := newAPI(t, dir, awsclient.MustFactory(hubCfg), "")
	connPath := "/api/v1/tenants/acme/connections/" + init.ConnectionID

	// verify: the CLI first (it binds the role), then the API on the same
	// connection and role.
	stdout, stderr, code = runCLI(t, dir, "connect", "verify", "--tenant", "acme", "--role-arn", role, "--connection", init.ConnectionID,
		"--endpoint-url", srv.URL, "--wait", "2s", "--json")
	if code != 0 {
		t.Fatalf("CLI verify: %d %s", code, stderr)
	}
	status, body := api.do(t, "POST", connPath+"/verify", map[string]any{"role_arn": role})
	if status != http.StatusOK {
		t.Fatalf("API verify: %d %s", status, body)
	}
	checks := func(raw []byte) string {
		t.Helper()
		var v struct {
			Status       string   `json:"status"`
			ConnectionID string   `json:"connection_id"`
			RoleARN      string   `json:"role_arn"`
			AccountID    string   `json:"account_id"`
			Tenant       string   `json:"tenant"`
			Modules      []string `json:"modules"`
			Checks       []struct{ Name, Module, Status, Class, Advice string }
		}
		mustNoErr(t, json.Unmarshal(raw, &v))
		b, err := json.Marshal(v)
		mustNoErr(t, err)
		return string(b)
	}
	if cli, api := checks([]byte(stdout)), checks(body); cli != api || !strings.Contains(cli, `"status":"verified"`) {
		t.Errorf("verify answers differ:\nCLI %s\nAPI %s", cli, api)
	}

	// members: list only, then verify every member.
	membersOf := func(raw []byte) string {
		t.Helper()
		var m struct {
			Tenant            string          `json:"tenant"`
			ConnectionID      string          `json:"connection_id"`
			OrganizationID    string          `json:"organization_id"`
			ManagementAccount string          `json:"management_account"`
			RoleName          string          `json:"role_name"`
			Verified          bool            `json:"verified"`
			Summary           json.RawMessage `json:"summary"`
			Members           []struct {
				AccountID string `json:"account_id"`
				Name      string `json:"name"`
				State     string `json:"state"`
				Status    string `json:"status"`
				Class     string `json:"class"`
				Fix       string `json:"fix"`
			} `json:"members"`
		}
		mustNoErr(t, json.Unmarshal(raw, &m))
		b, err := json.Marshal(m)
		mustNoErr(t, err)
		return string(b)
	}
	for _, verifyMembers := range []bool{false, true} {
		args := []string{"connect", "members", "--tenant", "acme", "--connection", init.ConnectionID, "--endpoint-url", srv.URL, "--json"}
		if verifyMembers {
			args = append(args, "--verify")
		}
		stdout, stderr, code := runCLI(t, dir, args...)
		if want := map[bool]int{false: 0, true: 5}[verifyMembers]; code != want {
			t.Fatalf("CLI members (verify %v): exit %d, want %d: %s", verifyMembers, code, want, stderr)
		}
		status, body := api.do(t, "POST", connPath+"/members", map[string]any{"verify": verifyMembers})
		if status != http.StatusOK {
			t.Fatalf("API members (verify %v): %d %s", verifyMembers, status, body)
		}
		cli, api := membersOf([]byte(stdout)), membersOf(body)
		if cli != api || !strings.Contains(cli, members[1]) {
			t.Errorf("members (verify %v) answers differ:\nCLI %s\nAPI %s", verifyMembers, cli, api)
		}
	}
}

// TestParityAccessSync: `access sync` and POST .../access/sync read the
// same organization through the same use case: same accounts, principals,
// grants and unread parts; the second sync finds nothing changed.
func TestParityAccessSync(t *testing.T) {
	ctx := context.Background()
	f := newOrgFixture(t)
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", f.hub.ARN, "--modules", "org,access-read", "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	var init initOut
	mustNoErr(t, json.Unmarshal([]byte(stdout), &init))
	modules := []manifest.Module{manifest.ModuleOrg, manifest.ModuleAccessRead}
	deploy := func(cfg aws.Config, modules []manifest.Module) string {
		t.Helper()
		body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(init.ExternalID), HubPrincipal: f.hub.ARN, Modules: modules})
		mustNoErr(t, err)
		outputs, err := emulator.CreateStack(ctx, cfg, "crossbill", body, nil)
		mustNoErr(t, err)
		return outputs["RoleArn"]
	}
	role := deploy(f.admin, modules)
	deploy(f.prodAdmin, onboarding.MemberModules(modules))
	if _, stderr, code := runCLI(t, dir, "connect", "verify", "--tenant", "acme", "--role-arn", role, "--connection", init.ConnectionID,
		"--endpoint-url", f.srv.URL, "--wait", "2s", "--json"); code != 0 {
		t.Fatalf("CLI verify: %d %s", code, stderr)
	}
	// One member is not reached by the members stack: both syncs list it unread.
	if _, stderr, code := runCLI(t, dir, "connect", "members", "--tenant", "acme", "--connection", init.ConnectionID, "--endpoint-url", f.srv.URL, "--verify", "--json"); code != 5 {
		t.Fatalf("CLI members: exit %d, want 5: %s", code, stderr)
	}

	hubCfg, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: f.srv.URL})
	mustNoErr(t, err)
	api := newAPI(t, dir, awsclient.MustFactory(hubCfg), "")
	type result struct {
		ConnectionID string `json:"connection_id"`
		Accounts     int    `json:"accounts"`
		Principals   int    `json:"principals"`
		Grants       int    `json:"grants"`
		Errors       []struct {
			Account, Service, Operation string
		} `json:"errors"`
		Changes []json.RawMessage `json:"changes"`
		First   bool              `json:"first"`
	}
	norm := func(raw []byte) result {
		t.Helper()
		var r result
		mustNoErr(t, json.Unmarshal(raw, &r))
		slices.SortFunc(r.Errors, func(a, b struct{ Account, Service, Operation string }) int {
			return strings.Compare(a.Account+a.Service+a.Operation, b.Account+b.Service+b.Operation)
		})
		return r
	}
	stdout, stderr, code = runCLI(t, dir, "access", "sync", "--tenant", "acme", "--endpoint-url", f.srv.URL, "--json")
	if code != 0 {
		t.Fatalf("CLI access sync: %d %s", code, stderr)
	}
	status, body := api.do(t, "POST", "/api/v1/tenants/acme/connections/"+init.ConnectionID+"/access/sync", map[string]any{})
	if status != http.StatusOK {
		t.Fatalf("API access sync: %d %s", status, body)
	}
	cli, srv := norm([]byte(stdout)), norm(body)
	if !cli.First || srv.First || len(srv.Changes) != 0 {
		t.Errorf("first sync CLI (first %v), second API (first %v, %d changes): want the second to compare and find nothing changed", cli.First, srv.First, len(srv.Changes))
	}
	cli.First, srv.First = false, false
	if a, b := fmt.Sprintf("%+v", cli), fmt.Sprintf("%+v", srv); a != b || cli.Accounts != 2 || cli.Principals == 0 {
		t.Errorf("access sync answers differ (or read too little):\nCLI %s\nAPI %s", a, b)
	}
	if !slices.ContainsFunc(cli.Errors, func(e struct{ Account, Service, Operation string }) bool { return e.Account == f.members[1] }) {
		t.Errorf("unread parts %+v: want the member without a role", cli.Errors)
	}
}
