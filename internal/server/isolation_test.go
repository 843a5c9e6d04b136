package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// The adversarial isolation suite: for every operation of the served
// OpenAPI document, tenant A's read and admin tokens go after tenant B's
// data by tenant name and ID, by resource ID, through encoded and
// look-alike variants of each, and through query parameters and body
// fields naming B. No answer may hold anything of B's beyond what the
// request itself said, tenant-owned lookups must refuse with 403 or 404,
// and the 404 for B's resource must be byte for byte the 404 for one that
// does not exist (the requested value aside). An operation without an
// entry in isoCases fails the suite, so a new route cannot skip it.

// isoTenant is one tenant and what it owns.
type isoTenant struct {
	name, id     string
	read, admin  string // token secrets
	tokenTarget  string // the token ID the {token} parameter names
	conn         string
	roleARN      string
	account      string
	job, review  string
	person       string // a person with a role in the tenant
	view         string // a saved view's ID
	channel      string // a notification channel's ID
	rule         string // an alert rule's ID
	remediation  string // a remediation plan's ID
	schedule     string // a remediation schedule's name
	resource     string // an inventory resource's ARN
	approval     string // a pending approval's ID
	plan         string // a purchase plan's ID
	templateFile string
	lease        string // a JIT lease's ID
	policy       string // a JIT policy's name
	rec          string // an optimization recommendation's ID
	handshake    string // a declined invitation into the hub's organization
	invited      string // the account it invited
}

// isoWorld is the server, the two tenants, and B's values that must not
// reach A.
type isoWorld struct {
	ts      *testServer
	client  *http.Client
	a, b    isoTenant
	secrets []string
	own     []string // A's values of the same kinds
	sent    int
	// approvals counts the approvals opened, to name each one.
	approvals int
}

// isoCase says how to attack one operation.
type isoCase struct {
	// public is why a route without a token holds no tenant data; its
	// answers are still checked for B's values.
	public string
	// operator: tenant tokens must get 403, whatever the body names.
	operator bool
	// body is the request body (nil: none).
	body func(w *isoWorld) any
	// control is the status A's admin token gets on A's own resources,
	// and controlHas a piece of that answer: proof that the attacked path
	// reaches the handler, so a 404 is the isolation's and not a typo's.
	control    int
	controlHas string
	// after restores what the control changed (A's own resource), for
	// the cases that follow.
	after func(t *testing.T, w *isoWorld)
	// probes name B through query parameters or body fields on A's own
	// path.
	probes []isoProbe
}

// isoProbe is one request on A's own path that names B elsewhere.
type isoProbe struct {
	name  string
	query func(w *isoWorld) url.Values
	body  func(w *isoWorld) any // nil: the case's body
	want  []int
}

func ownTenant(w *isoWorld) url.Values {
	return url.Values{"tenant": {w.b.name}, "tenant_id": {w.b.id}}
}

// probeTenant names B in query parameters no route takes: refused (400)
// before any handler runs, as every unknown parameter is.
func probeTenant() isoProbe {
	return isoProbe{name: "tenant in the query", query: ownTenant, want: []int{400}}
}

// resourceParams are the path parameters naming something a tenant owns,
// and where each tenant's value comes from.
var resourceParams = map[string]func(t *isoTenant) string{
	"connection":     func(t *isoTenant) string { return t.conn },
	"job":            func(t *isoTenant) string { return t.job },
	"review":         func(t *isoTenant) string { return t.review },
	"token":          func(t *isoTenant) string { return t.tokenTarget },
	"person":         func(t *isoTenant) string { return t.person },
	"view":           func(t *isoTenant) string { return t.view },
	"channel":        func(t *isoTenant) string { return t.channel },
	"alert_rule":     func(t *isoTenant) string { return t.rule },
	"schedule":       func(t *isoTenant) string { return t.schedule },
	"approval":       func(t *isoTenant) string { return t.approval },
	"plan":           func(t *isoTenant) string { return t.plan },
	"handshake":      func(t *isoTenant) string { return t.handshake },
	"remediation":    func(t *isoTenant) string { return t.remediation },
	"recommendation": func(t *isoTenant) string { return t.rec },
	"lease":          func(t *isoTenant) string { return t.lease },
}

// plainParams are path parameters that name nothing a tenant owns: the
// value is A's own and is not attacked.
var plainParams = map[string]string{
	"file":       "template file names are the same for every connection; the {connection} beside it is attacked",
	"account":    "only on operator routes, which refuse every tenant token whatever the account",
	"policy":     "JIT policy names are each tenant's own namespace: B's name on A's path names A's policy (PUT creates it in A, DELETE finds none)",
	"rule":       "optimization rule names are the same for every tenant; each tenant's thresholds are under its own {tenant}",
	"commitment": "a commitment ID from the tenant's own CUR: the route checks the body's connection first (B's is 404, a probe), then looks the ID up among the tenant's own renewals only",
}

var tenantParams = []string{"tenant", "org_id"}

const reviewPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"%s","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`

func isoCases() map[string]isoCase {
	connBody := func(*isoWorld) any { return map[string]any{"modules": []string{"cost"}} }
	tokenBody := func(*isoWorld) any { return map[string]string{"name": "iso-new", "scope": "read"} }
	simulate := func(*isoWorld) any {
		return map[string]any{"type": "COMPUTE_SP", "term_years": 1, "payment_option": "NO_UPFRONT", "hourly_commitment": 1}
	}
	billConnect := func(w *isoWorld) any {
		// Accounts that do not match: refused before any AWS call.
		return map[string]string{"aws_bill_account_id": "111100002222", "aws_bucket_name": "alpha-bills", "aws_bucket_path": "cur/x", "aws_sts_role_arn": "arn:aws:iam::111100003333:role/Bills"}
	}
	return map[string]isoCase{
		"GET /healthz":             {public: "liveness: a fixed answer"},
		"GET /readyz":              {public: "readiness: a fixed answer"},
		"GET /metrics":             {public: "counters labelled by route pattern, never by tenant"},
		"GET /api/v1/openapi.json": {public: "the API's description"},

		"GET /api/v1/me":      {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants": {control: 200, probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants": {operator: true, body: func(w *isoWorld) any {
			return map[string]string{"name": w.b.name} // 403, not a Conflict telling that B exists
		}},
		"GET /api/v1/onboarding/modules": {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/annex":              {control: 200, probes: []isoProbe{probeTenant()}},

		"GET /api/v1/bindings": {operator: true},

		"GET /api/v1/auth/providers":                                 {public: "the names of the installation's identity providers"},
		"GET /api/v1/auth/login":                                     {public: "a redirect to the identity provider (404 without one)"},
		"GET /api/v1/auth/callback":                                  {public: "a redirect to the UI"},
		"POST /api/v1/auth/token":                                    {public: "the token's own session; the token in the body decides", body: func(w *isoWorld) any { return map[string]string{"token": w.a.read} }},
		"POST /api/v1/auth/logout":                                   {control: 400, controlHas: "not a session"},
		"POST /api/v1/auth/logout-everywhere":                        {control: 400, controlHas: "no person"},
		"GET /api/v1/audit/verify":                                   {operator: true},
		"GET /api/v1/tenants/{tenant}/people":                        {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/people/{person}":               {control: 200},
		"POST /api/v1/tenants/{tenant}/reviews/{review}/acknowledge": {control: 200, controlHas: "acknowledged", body: func(*isoWorld) any { return map[string]string{"note": "ok"} }},
		"GET /api/v1/tenants/{tenant}/approvals":                     {control: 200, controlHas: "alpha-a1-approval", probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/approvals/{approval}":          {control: 200, controlHas: "alpha-a1-approval"},
		"POST /api/v1/tenants/{tenant}/approvals/{approval}/approve": {control: 200, controlHas: "approved-by-a", body: func(*isoWorld) any { return map[string]string{"reason": "approved-by-a"} }, after: reopenApproval},
		"POST /api/v1/tenants/{tenant}/approvals/{approval}/deny":    {control: 200, controlHas: "denied-by-a", body: func(*isoWorld) any { return map[string]string{"reason": "denied-by-a"} }, after: reopenApproval},
		"POST /api/v1/bindings/{account}/release": {operator: true, body: func(w *isoWorld) any {
			return map[string]string{"reason": "a tenant token releasing B's account"}
		}},

		"GET /api/v1/tenants/{tenant}":        {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/tokens": {control: 200, probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/tokens": {body: tokenBody, control: 201, probes: []isoProbe{{name: "tenant_id in the body", want: []int{400}, body: func(w *isoWorld) any {
			return map[string]string{"name": "x", "scope": "admin", "tenant_id": w.b.id}
		}}}},
		"DELETE /api/v1/tenants/{tenant}/tokens/{token}": {control: 204},
		"GET /api/v1/tenants/{tenant}/jobs": {control: 200, probes: []isoProbe{
			{name: "B's connection as the filter", want: []int{200}, query: func(w *isoWorld) url.Values { return url.Values{"connection": {w.b.conn}} }},
			{name: "B's connection and kind (and an unknown tenant parameter)", want: []int{400}, query: func(w *isoWorld) url.Values {
				return url.Values{"connection": {w.b.conn}, "kind": {"verify"}, "tenant": {w.b.name}}
			}},
		}},
		"GET /api/v1/tenants/{tenant}/jobs/{job}":       {control: 200},
		"GET /api/v1/tenants/{tenant}/reviews":          {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/reviews/{review}": {control: 200},
		"POST /api/v1/tenants/{tenant}/reviews": {control: 201, body: func(*isoWorld) any { return fmt.Sprintf(reviewPolicy, "AlphaSid", "alpha-bucket") },
			probes: []isoProbe{probeTenant()}},

		"GET /api/v1/tenants/{tenant}/connections": {control: 200, probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/connections": {body: connBody, control: 201, probes: []isoProbe{{name: "tenant_id in the body", want: []int{400}, body: func(w *isoWorld) any {
			return map[string]any{"modules": []string{"cost"}, "tenant_id": w.b.id}
		}}}},
		"GET /api/v1/tenants/{tenant}/connections/{connection}":                  {control: 200},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/templates/{file}": {control: 200, controlHas: "sts:ExternalId"},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/verify": {body: func(*isoWorld) any { return map[string]string{} }, control: 400, controlHas: "role_arn is required",
			// B's role is verified like any role A names (no answer tells
			// that B holds it); this world has no hub, so every role gets
			// the hub's 503. squat_test.go proves the same against moto.
			probes: []isoProbe{{name: "B's role in the body", want: []int{503}, body: func(w *isoWorld) any { return map[string]string{"role_arn": w.b.roleARN} }}}},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/verifications": {control: 200},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/members":       {control: 200},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/members":      {body: func(*isoWorld) any { return map[string]any{"verify": false} }, control: 400, controlHas: "has no role yet"},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/ingest":       {control: 202, controlHas: `"kind": "ingest"`},
		"GET /api/v1/tenants/{tenant}/costs/engine":                           {control: 200, controlHas: `"engine": "local"`, probes: []isoProbe{probeTenant()}},
		// The connection is in the body: B's is a 404 like a missing one,
		// whatever the engine asked for.
		"PUT /api/v1/tenants/{tenant}/costs/engine": {body: func(w *isoWorld) any { return map[string]string{"engine": "local", "connection_id": w.a.conn} },
			control: 200, controlHas: `"engine": "local"`, probes: []isoProbe{
				{name: "B's connection for Athena", want: []int{404}, body: func(w *isoWorld) any { return map[string]string{"engine": "athena", "connection_id": w.b.conn} }},
				{name: "B's connection for local", want: []int{404}, body: func(w *isoWorld) any { return map[string]string{"engine": "local", "connection_id": w.b.conn} }},
			}},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/cost-explorer": {control: 200, controlHas: `"budget_requests": 400`},
		"PUT /api/v1/tenants/{tenant}/connections/{connection}/cost-explorer/budget": {body: func(*isoWorld) any { return map[string]int{"budget_requests": 50} },
			control: 200, controlHas: `"budget_requests": 50`},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/cost-explorer/load": {body: func(*isoWorld) any { return map[string]any{} }, control: 400, controlHas: "cost explorer"},
		"PUT /api/v1/tenants/{tenant}/connections/{connection}/bill":                {body: func(*isoWorld) any { return map[string]string{"source": "s3://alpha-bills/cur/x"} }, control: 400, controlHas: "has no account yet"},
		// A's connection has no access-read module: A is told so (400);
		// B's connection is a 404 like a missing one, before any sync is read.
		"GET /api/v1/tenants/{tenant}/connections/{connection}/access/principals": {control: 400, controlHas: "access-read"},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/access/principal":  {control: 400, controlHas: "id is required"},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/access/who-can":    {control: 400, controlHas: "access-read"},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/access/findings":   {control: 400, controlHas: "access-read"},
		"GET /api/v1/tenants/{tenant}/connections/{connection}/access/changes":    {control: 400, controlHas: "access-read"},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/access/sync":      {body: func(*isoWorld) any { return map[string]any{} }, control: 400, controlHas: "access-read"},
		// Inventory: A lists its own resource; B's, named by ARN, is a 404
		// like a missing one; A's connection lacks the inventory module.
		"GET /api/v1/tenants/{tenant}/inventory": {control: 200, controlHas: "alpha-a1-inventory-bucket", probes: []isoProbe{probeTenant(),
			{name: "B's account in the filter", query: func(w *isoWorld) url.Values { return url.Values{"account": {w.b.account}} }, want: []int{200}}}},
		"GET /api/v1/tenants/{tenant}/inventory/resource": {control: 400, controlHas: "give a resource's ARN", probes: []isoProbe{
			{name: "B's resource ARN", query: func(w *isoWorld) url.Values { return url.Values{"arn": {w.b.resource}} }, want: []int{404}}}},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/inventory/sync": {control: 400, controlHas: "inventory module"},
		// A's connection is not verified: refused before any paid request.
		"POST /api/v1/tenants/{tenant}/connections/{connection}/commitments/compare":             {control: 400, controlHas: "cost explorer"},
		"POST /api/v1/tenants/{tenant}/connections/{connection}/commitments/aws-recommendations": {control: 400, controlHas: "cost explorer"},
		"POST /api/onboarding/orgs/{org_id}/bill_connects/aws/iam_role": {body: billConnect, control: 400, controlHas: "must be in the account that owns the bill bucket",
			probes: []isoProbe{{name: "B's role and bill account in the body", want: []int{503}, body: func(w *isoWorld) any {
				return map[string]string{"aws_bill_account_id": w.b.account, "aws_bucket_name": "alpha-bills", "aws_bucket_path": "cur/x", "aws_sts_role_arn": w.b.roleARN}
			}}}},

		"GET /api/v1/tenants/{tenant}/costs": {control: 200, probes: []isoProbe{
			{name: "B's account as a filter", want: []int{200}, query: func(w *isoWorld) url.Values {
				return url.Values{"filter": {"account=" + w.b.account}, "group_by": {"account"}, "from": {"2026-06-01"}, "to": {"2026-07-01"}}
			}},
			// B asked exactly this before the attacks: a cache keyed
			// without the tenant would hand A B's answer.
			{name: "B's cached question", want: []int{200}, query: func(w *isoWorld) url.Values {
				return url.Values{"group_by": {"account"}, "from": {"2026-06"}, "to": {"2026-07"}}
			}},
			{name: "grouped by account over B's months (and an unknown tenant parameter)", want: []int{400}, query: func(w *isoWorld) url.Values {
				return url.Values{"group_by": {"account"}, "from": {"2026-06"}, "to": {"2026-07"}, "tenant": {w.b.id}}
			}},
		}},
		"GET /api/v1/tenants/{tenant}/costs/export": {control: 200, controlHas: "period,group,amortized", probes: []isoProbe{
			{name: "B's account as a filter", want: []int{200}, query: func(w *isoWorld) url.Values {
				return url.Values{"filter": {"account=" + w.b.account}, "group_by": {"account"}, "from": {"2026-06-01"}, "to": {"2026-07-01"}}
			}},
			{name: "B's cached question", want: []int{200}, query: func(w *isoWorld) url.Values {
				return url.Values{"group_by": {"account"}, "from": {"2026-06"}, "to": {"2026-07"}}
			}},
			probeTenant(),
		}},
		"GET /api/v1/tenants/{tenant}/costs/views": {control: 200, controlHas: "secret-view", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/costs/views": {control: 201, body: func(*isoWorld) any { return map[string]any{"name": "iso-new-view", "query": map[string]any{}} },
			probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/costs/views/{view}": {control: 200, controlHas: "secret-view"},
		"DELETE /api/v1/tenants/{tenant}/costs/views/{view}": {control: 200, controlHas: "secret-view", after: func(t *testing.T, w *isoWorld) {
			w.a.view = w.saveView(t, &w.a)
		}},
		"GET /api/v1/tenants/{tenant}/costs/views/{view}/export":   {control: 200, controlHas: "period,group,amortized"},
		"GET /api/v1/tenants/{tenant}/costs/reconciliation":        {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/costs/dimensions":            {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/costs/mom":                   {control: 200, controlHas: `"changes"`, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/costs/anomalies":             {control: 200, controlHas: `"anomalies"`, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/costs/forecast":              {control: 200, controlHas: `"forecast"`, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/commitments":                 {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/commitments/utilization":     {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/commitments/recommendations": {control: 200, probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/commitments/simulate":       {body: simulate, control: 200, probes: []isoProbe{probeTenant()}},

		"POST /api/v1/events": {public: "authenticated by a connection's events key (hashed, per connection), not by a token: without a known key every request is 401; internal/events tests prove a key reaches its own connection only"},

		"GET /api/v1/tenants/{tenant}/automation/policies": {control: 200, controlHas: "alpha-a1-policy", probes: []isoProbe{probeTenant()}},
		"PUT /api/v1/tenants/{tenant}/automation/policies": {control: 200, controlHas: "alpha-a1-policy", body: func(w *isoWorld) any { return policyFile(&w.a) },
			probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/automation/run": {control: 200, controlHas: "alpha-a1-policy", probes: []isoProbe{probeTenant(),
			{name: "dry run", want: []int{200}, query: func(*isoWorld) url.Values { return url.Values{"dry_run": {"true"}} }}}},

		"GET /api/v1/tenants/{tenant}/alerts/channels": {control: 200, controlHas: "alpha-a1-channel", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/alerts/channels": {control: 201, body: func(*isoWorld) any {
			return map[string]any{"name": "iso-new-channel", "kind": "slack", "url": "http://127.0.0.1:1/x"}
		}, probes: []isoProbe{probeTenant()}},
		"DELETE /api/v1/tenants/{tenant}/alerts/channels/{channel}": {control: 200, controlHas: "alpha-a1-channel", after: func(t *testing.T, w *isoWorld) {
			w.a.channel = w.addChannel(t, &w.a)
		}},
		// The channel's receiver is a closed port: A's own test fails (503).
		"POST /api/v1/tenants/{tenant}/alerts/channels/{channel}/test":   {control: 503, controlHas: "posting to 127.0.0.1:1"},
		"POST /api/v1/tenants/{tenant}/alerts/channels/{channel}/snooze": {control: 200, controlHas: "snoozed_until", body: func(*isoWorld) any { return map[string]string{"for": "1h"} }},
		"GET /api/v1/tenants/{tenant}/alerts/deliveries": {control: 200, controlHas: "alpha-a1-alert-subject", probes: []isoProbe{probeTenant(),
			{name: "B's channel as the filter", want: []int{200}, query: func(w *isoWorld) url.Values { return url.Values{"channel": {w.b.channel}} }}}},
		"GET /api/v1/tenants/{tenant}/alerts/rules": {control: 200, controlHas: "alpha-a1-rule", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/alerts/rules": {control: 201, body: func(*isoWorld) any { return map[string]any{"name": "iso-new-rule", "kind": "anomaly"} },
			probes: []isoProbe{probeTenant()}},
		"DELETE /api/v1/tenants/{tenant}/alerts/rules/{alert_rule}": {control: 200, controlHas: "alpha-a1-rule", after: func(t *testing.T, w *isoWorld) {
			w.a.rule = w.addRule(t, &w.a)
		}},
		"POST /api/v1/tenants/{tenant}/alerts/evaluate": {control: 200, controlHas: "alpha-a1-rule", probes: []isoProbe{probeTenant(),
			{name: "B's rule", want: []int{404}, query: func(w *isoWorld) url.Values { return url.Values{"rule": {w.b.rule}, "dry_run": {"true"}} }}}},
		"GET /api/v1/tenants/{tenant}/remediations": {control: 200, controlHas: "secret-plan-reason", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/remediations": {control: 400, controlHas: "remediation module", body: func(w *isoWorld) any {
			return map[string]any{"connection": w.a.conn, "targets": []map[string]string{{"action": "stop-instance", "arn": "arn:aws:ec2:us-east-1:111100002222:instance/i-0123456789abcdef0"}}}
		}, probes: []isoProbe{{name: "B's connection in the body", want: []int{404}, body: func(w *isoWorld) any {
			return map[string]any{"connection": w.b.conn, "targets": []map[string]string{{"action": "stop-instance", "arn": "arn:aws:ec2:us-east-1:111100002222:instance/i-0123456789abcdef0"}}}
		}}}},
		"GET /api/v1/tenants/{tenant}/remediations/{remediation}":      {control: 200, controlHas: "secret-plan-reason"},
		"POST /api/v1/tenants/{tenant}/remediations/{remediation}/run": {control: 409, controlHas: "nothing to run"},
		"GET /api/v1/tenants/{tenant}/remediation-schedules":           {control: 200, controlHas: "secret-schedule", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/remediation-schedules": {control: 400, controlHas: "remediation module", body: func(w *isoWorld) any {
			return map[string]any{"connection": w.a.conn, "schedule": isoSchedule("iso-new-schedule")}
		}, probes: []isoProbe{{name: "B's connection in the body", want: []int{404}, body: func(w *isoWorld) any {
			return map[string]any{"connection": w.b.conn, "schedule": isoSchedule("iso-new-schedule")}
		}}}},
		"DELETE /api/v1/tenants/{tenant}/remediation-schedules/{schedule}": {control: 200, controlHas: "secret-schedule", after: func(t *testing.T, w *isoWorld) {
			w.a.schedule = w.saveSchedule(t, &w.a)
		}},
		"POST /api/v1/tenants/{tenant}/remediations/{remediation}/undo": {control: 409, controlHas: "only a done or failed plan"},
		"GET /api/v1/tenants/{tenant}/commitments/plans":                {control: 200, controlHas: "alpha-a1-secret-purchase", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/commitments/plans": {body: planBody(func(w *isoWorld) string { return w.a.conn }), control: 400, controlHas: "verify it first",
			probes: []isoProbe{probeTenant(), {name: "B's connection in the body", body: planBody(func(w *isoWorld) string { return w.b.conn }), want: []int{404}}}},
		"GET /api/v1/tenants/{tenant}/commitments/plans/{plan}":          {control: 200, controlHas: "alpha-a1-secret-purchase"},
		"POST /api/v1/tenants/{tenant}/commitments/plans/{plan}/execute": {control: 400, controlHas: "verify it first"},
		"POST /api/v1/tenants/{tenant}/commitments/plans/{plan}/cancel": {control: 200, controlHas: "cancelled", body: func(*isoWorld) any { return map[string]string{"reason": "iso"} },
			after: func(t *testing.T, w *isoWorld) { w.a.plan = w.savePlan(t, &w.a) }},
		"GET /api/v1/tenants/{tenant}/commitments/guardrails": {control: 200, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/commitments/renewals": {control: 200, controlHas: "renewals", probes: []isoProbe{probeTenant(),
			{name: "B's connection in the query", query: func(w *isoWorld) url.Values { return url.Values{"connection": {w.b.conn}} }, want: []int{404}}}},
		"POST /api/v1/tenants/{tenant}/commitments/renewals/{commitment}/plan": {control: 400, controlHas: "verify it first",
			body:   func(w *isoWorld) any { return map[string]string{"connection": w.a.conn} },
			probes: []isoProbe{probeTenant(), {name: "B's connection in the body", body: func(w *isoWorld) any { return map[string]string{"connection": w.b.conn} }, want: []int{404}}}},
		"GET /api/v1/tenants/{tenant}/commitments/sales": {control: 200, controlHas: "sales", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/commitments/sales": {control: 404, controlHas: "has no listing plan",
			body: func(w *isoWorld) any {
				return map[string]string{"connection": w.a.conn, "reservation": "ri-iso-missing"}
			},
			probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/org/invitations": {control: 400, controlHas: "12-digit", body: func(*isoWorld) any { return map[string]string{"account_id": "12"} },
			probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/org/handshakes":                     {control: 200, controlHas: "declined", probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/org/handshakes/{handshake}/cancel": {control: 409, controlHas: "is declined"},
		"POST /api/v1/tenants/{tenant}/org/scp/attach": {control: 409, controlHas: "has not joined", body: func(w *isoWorld) any { return map[string]string{"account_id": w.a.invited} },
			probes: []isoProbe{probeTenant(), {name: "B's invited account in the body", body: func(w *isoWorld) any { return map[string]string{"account_id": w.b.invited} }, want: []int{404}}}},
		"PUT /api/v1/tenants/{tenant}/commitments/guardrails": {control: 200, body: func(*isoWorld) any { return map[string]float64{"max_upfront": 1000} }, probes: []isoProbe{probeTenant()}},

		"GET /api/v1/tenants/{tenant}/access/policies": {control: 200, controlHas: "alpha-a1-policy", probes: []isoProbe{probeTenant()}},
		"PUT /api/v1/tenants/{tenant}/access/policies/{policy}": {control: 200, controlHas: "alpha-a1-policy", body: func(w *isoWorld) any { return isoPolicy() },
			probes: []isoProbe{probeTenant()}},
		"DELETE /api/v1/tenants/{tenant}/access/policies/{policy}": {control: 204, after: func(t *testing.T, w *isoWorld) { w.a.policy = w.savePolicy(t, &w.a) }},
		"GET /api/v1/tenants/{tenant}/access/leases":               {control: 200, controlHas: "alpha-a1-reason", probes: []isoProbe{probeTenant()}},
		// A token without a person cannot request: refused before any AWS call.
		"POST /api/v1/tenants/{tenant}/access/leases": {control: 400, controlHas: "by a person", body: func(w *isoWorld) any {
			return map[string]any{"policy": "alpha-a1-policy", "target": map[string]string{"group": "g", "account": "111100002222"}, "duration": "1h", "reason": "iso"}
		}, probes: []isoProbe{probeTenant()}},
		"GET /api/v1/tenants/{tenant}/access/leases/{lease}": {control: 200, controlHas: "alpha-a1-reason"},
		// A's lease has no approval (stored by hand): a conflict, not a grant.
		"POST /api/v1/tenants/{tenant}/access/leases/{lease}/approve": {control: 409, controlHas: "no approval yet", body: func(*isoWorld) any { return map[string]string{"reason": "ok"} }},
		"POST /api/v1/tenants/{tenant}/access/leases/{lease}/deny":    {control: 409, controlHas: "no approval yet", body: func(*isoWorld) any { return map[string]string{"reason": "no"} }},
		"POST /api/v1/tenants/{tenant}/access/leases/{lease}/revoke": {control: 200, controlHas: `"state": "expired"`, body: func(*isoWorld) any { return map[string]string{"reason": "iso"} },
			after: func(t *testing.T, w *isoWorld) { w.a.lease = w.saveLease(t, &w.a) }},
		"GET /api/v1/tenants/{tenant}/access/audit": {control: 200, probes: []isoProbe{probeTenant(),
			{name: "B's lease as the filter", want: []int{404}, query: func(w *isoWorld) url.Values { return url.Values{"lease": {w.b.lease}} }}}},
		"POST /api/v1/tenants/{tenant}/access/reconcile": {control: 404, controlHas: "access-jit", probes: []isoProbe{probeTenant(),
			{name: "B's connection in the query", want: []int{404}, query: func(w *isoWorld) url.Values { return url.Values{"connection": {w.b.conn}} }}}},
		// Recommendations: B's are found by their stable ID, B's account
		// as a filter finds none of A's and none of B's.
		"GET /api/v1/tenants/{tenant}/optimize/recommendations": {control: 200, controlHas: "vol-alpha", probes: []isoProbe{probeTenant(),
			{name: "B's account as the filter", want: []int{200}, query: func(w *isoWorld) url.Values { return url.Values{"account": {w.b.account}} }}}},
		"GET /api/v1/tenants/{tenant}/optimize/recommendations/export": {control: 200, controlHas: "vol-alpha", probes: []isoProbe{probeTenant(),
			{name: "B's account as the filter", want: []int{200}, query: func(w *isoWorld) url.Values { return url.Values{"account": {w.b.account}} }}}},
		"GET /api/v1/tenants/{tenant}/optimize/recommendations/{recommendation}": {control: 200, controlHas: "vol-alpha"},
		"GET /api/v1/tenants/{tenant}/optimize/rules":                            {control: 200, controlHas: "ec2-idle", probes: []isoProbe{probeTenant()}},
		"PUT /api/v1/tenants/{tenant}/optimize/rules/{rule}": {control: 200, controlHas: `"min_low_days": 5`,
			body: func(*isoWorld) any { return map[string]any{"values": map[string]float64{"min_low_days": 5}} }, probes: []isoProbe{probeTenant()}},
		"POST /api/v1/tenants/{tenant}/optimize/evaluate": {control: 200, controlHas: `"resources": 2`, probes: []isoProbe{probeTenant()}},
	}
}

func TestTenantIsolationAdversarial(t *testing.T) {
	t.Parallel()
	w := newIsoWorld(t)
	cases := isoCases()
	var doc struct {
		Paths map[string]map[string]struct {
			Access string `json:"x-role"`
		} `json:"paths"`
	}
	if st := w.ts.do(t, "GET", "/api/v1/openapi.json", "", nil, &doc); st != 200 || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json: %d", st)
	}
	var ops []string
	access := map[string]string{}
	for p, methods := range doc.Paths {
		for m, op := range methods {
			key := strings.ToUpper(m) + " " + p
			ops = append(ops, key)
			access[key] = op.Access
		}
	}
	sort.Strings(ops)
	covered := 0
	for _, key := range ops {
		c, ok := cases[key]
		if !ok {
			t.Errorf("%s has no isolation case: add one to isoCases in isolation_test.go (how to attack it, or why it holds no tenant data)", key)
			continue
		}
		delete(cases, key)
		method, path, _ := strings.Cut(key, " ")
		if w.attack(t, method, path, access[key], c) {
			covered++
		}
	}
	for key := range cases {
		t.Errorf("isoCases has %s, which the OpenAPI document does not: remove or rename it", key)
	}
	w.checkBIntact(t)
	t.Logf("%d of %d operations covered; %d requests sent; %d values of B's searched for in every answer", covered, len(ops), w.sent, len(w.secrets))
}

// attack runs every attack on one operation; false when the case does not
// fit the route.
func (w *isoWorld) attack(t *testing.T, method, path, access string, c isoCase) bool {
	t.Helper()
	where := method + " " + path
	var tenantParam string
	var resources []string
	for _, p := range pathParamsOf(path) {
		switch {
		case slices.Contains(tenantParams, p):
			tenantParam = p
		case resourceParams[p] != nil:
			resources = append(resources, p)
		case plainParams[p] != "":
		default:
			t.Errorf("%s: path parameter {%s} is unknown to the isolation suite: add it to resourceParams (a tenant owns it) or plainParams (why not)", where, p)
			return false
		}
	}
	switch {
	case (access == "public") != (c.public != ""):
		t.Errorf("%s: access %s, but its case says public=%q", where, access, c.public)
		return false
	case (access == "operator") != c.operator:
		t.Errorf("%s: access %s, but its case says operator=%v", where, access, c.operator)
		return false
	case access != "public" && !c.operator && c.control == 0:
		t.Errorf("%s: its case has no control status", where)
		return false
	}
	body := func() any {
		if c.body == nil {
			return nil
		}
		return c.body(w)
	}
	own := w.fill(path, &w.a, map[string]string{})

	switch {
	case c.public != "":
		for _, tok := range []string{"", w.a.read, w.a.admin} {
			w.check(t, where, w.send(t, method, own, tok, body()), nil)
		}
		return true
	case c.operator:
		for _, tok := range []string{w.a.read, w.a.admin} {
			w.check(t, where, w.send(t, method, own, tok, body()), []int{403})
		}
		return true
	}

	// The control: A reaches its own resources.
	r := w.send(t, method, own, w.a.admin, body())
	if r.status != c.control || !strings.Contains(string(r.body), c.controlHas) {
		t.Errorf("%s: A's admin on A's own %s = %d %.300s; want %d with %q", where, own, r.status, r.body, c.control, c.controlHas)
	}
	w.check(t, where+" (control)", r, nil)
	if c.after != nil {
		c.after(t, w)
	}

	tokens := []string{w.a.read, w.a.admin}
	// B's tenant by name and by ID, every variant, with B's resources in
	// the other parameters; the 404 must be that of a missing tenant.
	if tenantParam != "" {
		for _, ref := range []string{w.b.name, w.b.id} {
			for _, v := range variants(ref, w.a.name) {
				for _, tok := range tokens {
					got := w.send(t, method, w.fill(path, &w.b, map[string]string{tenantParam: v.raw}), tok, body())
					w.check(t, where+" tenant "+v.name, got, []int{404})
					missing := variantOf(v, mutate(ref), w.a.name)
					ctl := w.send(t, method, w.fill(path, &w.b, map[string]string{tenantParam: missing.raw}), tok, body())
					sameAnswer(t, where+" tenant "+v.name, got, ctl, v, missing)
				}
			}
		}
	}
	// B's resources under A's own tenant: 404 (403 for a read token on an
	// admin route), the same as for a resource that does not exist.
	for _, p := range resources {
		var want []int
		for _, tok := range tokens {
			if tok == w.a.read && access != "viewer" {
				want = []int{403, 404} // 404: variants that miss the route
			} else {
				want = []int{404}
			}
			for _, v := range variants(resourceParams[p](&w.b), "x") {
				got := w.send(t, method, w.fill(path, &w.a, map[string]string{p: v.raw}), tok, body())
				w.check(t, where+" {"+p+"} "+v.name, got, want)
				missing := variantOf(v, mutate(resourceParams[p](&w.b)), "x")
				ctl := w.send(t, method, w.fill(path, &w.a, map[string]string{p: missing.raw}), tok, body())
				sameAnswer(t, where+" {"+p+"} "+v.name, got, ctl, v, missing)
			}
		}
	}
	for _, pr := range c.probes {
		p := own
		if pr.query != nil {
			p += "?" + pr.query(w).Encode()
		}
		b := body()
		if pr.body != nil {
			b = pr.body(w)
		}
		for _, tok := range tokens {
			want := pr.want
			if tok == w.a.read && access != "viewer" {
				want = []int{403}
			}
			w.check(t, where+" probe "+pr.name, w.send(t, method, p, tok, b), want)
		}
	}
	return true
}

// fill puts tenant t's values into a route's path, overridden by raw
// (already escaped) segments.
func (w *isoWorld) fill(path string, t *isoTenant, raw map[string]string) string {
	for _, p := range pathParamsOf(path) {
		v, ok := raw[p]
		switch {
		case ok:
		case slices.Contains(tenantParams, p):
			v = url.PathEscape(t.name)
		case resourceParams[p] != nil:
			v = url.PathEscape(resourceParams[p](t))
		case p == "file":
			v = url.PathEscape(w.a.templateFile)
		case p == "account":
			v = url.PathEscape(w.b.account)
		case p == "policy":
			v = url.PathEscape(w.a.policy)
		case p == "rule":
			v = "ec2-idle"
		case p == "commitment":
			v = "sp-iso-renewal"
		}
		path = strings.Replace(path, "{"+p+"}", v, 1)
	}
	return path
}

func pathParamsOf(path string) []string {
	var out []string
	for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// isoAnswer is one response, after following the server's redirects
// (ServeMux cleans ".." and sends a redirect) with the same request.
type isoAnswer struct {
	status int
	ctype  string
	body   []byte
	sent   string // every request line and body, for telling echoes from leaks
}

func (w *isoWorld) send(t *testing.T, method, path, token string, body any) isoAnswer {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	var a isoAnswer
	target := w.ts.URL() + path
	for hop := 0; ; hop++ {
		req, err := http.NewRequest(method, target, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-ID", "isolation") // fixed, so that answers compare byte for byte
		a.sent += method + " " + req.URL.RequestURI() + "\n" + string(data) + "\n"
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		w.sent++
		a.status, a.ctype = resp.StatusCode, resp.Header.Get("Content-Type")
		loc := resp.Header.Get("Location")
		if a.status < 300 || a.status >= 400 || loc == "" {
			return a
		}
		if hop == 3 {
			t.Fatalf("%s %s: redirect loop", method, path)
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		target = next.String()
	}
}

// check fails on any of B's values in the answer that the request did not
// itself carry (a successful answer may carry none at all), and on a
// status outside want (nil: any).
func (w *isoWorld) check(t *testing.T, where string, a isoAnswer, want []int) {
	t.Helper()
	if want != nil && !slices.Contains(want, a.status) {
		t.Errorf("%s: status %d, want %v:\n%s%.400s", where, a.status, want, a.sent, a.body)
	}
	sent := a.sent
	for range 2 {
		if u, err := url.PathUnescape(sent); err == nil {
			sent += "\n" + u
		}
	}
	for _, s := range w.secrets {
		if !bytes.Contains(a.body, []byte(s)) {
			continue
		}
		if a.status >= 400 && strings.Contains(sent, s) {
			continue // the request's own words, echoed in an error
		}
		t.Errorf("LEAK %s: the answer (%d) holds B's %q:\n%s%.600s", where, a.status, s, a.sent, a.body)
	}
}

// sameAnswer fails unless B's resource and a missing one got the same
// status and the same bytes once the requested value is blanked out.
func sameAnswer(t *testing.T, where string, b, missing isoAnswer, vb, vm variant) {
	t.Helper()
	nb, nm := blank(b.body, vb), blank(missing.body, vm)
	if b.status != missing.status || b.ctype != missing.ctype || !bytes.Equal(nb, nm) {
		t.Errorf("%s: B's answer differs from a missing one's:\n%d %s\n%d %s", where, b.status, nb, missing.status, nm)
	}
}

// blank replaces the requested value, in every form the server may echo
// it, with a placeholder.
func blank(body []byte, v variant) []byte {
	forms := []string{v.raw, v.value}
	for s := v.raw; ; {
		u, err := url.PathUnescape(s)
		if err != nil || u == s {
			break
		}
		forms, s = append(forms, u), u
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		for _, s := range []string{strconv.Quote(f), f} {
			js, _ := json.Marshal(s)
			body = bytes.ReplaceAll(body, js[1:len(js)-1], []byte("<value>"))
		}
	}
	return body
}

// variant is one way of writing a value in a path segment.
type variant struct {
	name  string
	value string // the value as transformed, unescaped
	raw   string // the escaped path text
	make  func(v, via string) (value, raw string)
}

func variantOf(v variant, value, via string) variant {
	v.value, v.raw = v.make(value, via)
	return v
}

var (
	// lookalike writes every lowercase letter and digit with another
	// script's character that looks the same (Cyrillic, Greek, Armenian;
	// mathematical digits, which NFKC folds back to ASCII).
	lookalike = strings.NewReplacer(
		"a", "а", "b", "ƅ", "c", "с", "d", "ԁ", "e", "е", "f", "ƒ", "g", "ɡ", "h", "һ", "i", "і", "j", "ј", "k", "κ", "l", "ӏ", "m", "м",
		"n", "ո", "o", "о", "p", "р", "q", "ԛ", "r", "г", "s", "ѕ", "t", "τ", "u", "ս", "v", "ν", "w", "ԝ", "x", "х", "y", "у", "z", "ᴢ",
		"0", "𝟢", "1", "𝟣", "2", "𝟤", "3", "𝟥", "4", "𝟦", "5", "𝟧", "6", "𝟨", "7", "𝟩", "8", "𝟪", "9", "𝟫")
	pctEncode = func(s string, pre string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%s%02X", pre, s[i])
		}
		return b.String()
	}
)

// variants are the ways of writing v that an attacker tries: encoded,
// double-encoded, case changes, look-alikes, whitespace, and ".." paths
// that start under via (A's own tenant or resource).
func variants(v, via string) []variant {
	esc := url.PathEscape
	vs := []variant{
		{name: "plain", make: func(v, _ string) (string, string) { return v, esc(v) }},
		{name: "percent-encoded", make: func(v, _ string) (string, string) { return v, pctEncode(v, "%") }},
		{name: "double-encoded", make: func(v, _ string) (string, string) { return pctEncode(v, "%"), pctEncode(v, "%25") }},
		{name: "upper case", make: func(v, _ string) (string, string) { return strings.ToUpper(v), esc(strings.ToUpper(v)) }},
		{name: "first letter upper", make: func(v, _ string) (string, string) {
			u := []rune(v)
			u[0] = unicode.ToUpper(u[0])
			return string(u), esc(string(u))
		}},
		{name: "trailing slash", make: func(v, _ string) (string, string) { return v, esc(v) + "/" }},
		{name: "encoded trailing slash", make: func(v, _ string) (string, string) { return v + "/", esc(v) + "%2F" }},
		{name: "encoded leading slash", make: func(v, _ string) (string, string) { return "/" + v, "%2F" + esc(v) }},
		{name: "dot-dot", make: func(v, via string) (string, string) { return v, esc(via) + "/../" + esc(v) }},
		{name: "encoded dot-dot", make: func(v, via string) (string, string) { return via + "/../" + v, esc(via) + "%2F..%2F" + esc(v) }},
		{name: "percent-encoded dots", make: func(v, via string) (string, string) { return v, esc(via) + "/%2e%2e/" + esc(v) }},
		{name: "backslash dot-dot", make: func(v, via string) (string, string) { return via + `\..\` + v, esc(via) + "%5C..%5C" + esc(v) }},
		{name: "dot segment", make: func(v, _ string) (string, string) { return v, "./" + esc(v) }},
		{name: "look-alike characters", make: func(v, _ string) (string, string) { return lookalike.Replace(v), esc(lookalike.Replace(v)) }},
		{name: "fullwidth", make: func(v, _ string) (string, string) {
			f := strings.Map(func(r rune) rune {
				if r > ' ' && r < 0x7f {
					return r - ' ' + 0xFF00
				}
				return r
			}, v)
			return f, esc(f)
		}},
		{name: "zero-width space", make: func(v, _ string) (string, string) { return v + "\u200b", esc(v + "\u200b") }},
		{name: "leading space", make: func(v, _ string) (string, string) { return " " + v, "%20" + esc(v) }},
		{name: "trailing space", make: func(v, _ string) (string, string) { return v + " ", esc(v) + "%20" }},
		{name: "tab", make: func(v, _ string) (string, string) { return v + "\t", esc(v) + "%09" }},
		{name: "newline", make: func(v, _ string) (string, string) { return v + "\n", esc(v) + "%0A" }},
		{name: "NUL", make: func(v, _ string) (string, string) { return v + "\x00", esc(v) + "%00" }},
		{name: "semicolon", make: func(v, _ string) (string, string) { return v + ";x", esc(v) + ";x" }},
		{name: "wildcard", make: func(v, _ string) (string, string) { return v[:len(v)-1] + "%", esc(v[:len(v)-1]) + "%25" }},
	}
	for i := range vs {
		vs[i] = variantOf(vs[i], v, via)
	}
	return vs
}

// mutate is a value of v's shape that names nothing: every letter and
// digit shifted by one.
func mutate(v string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r < 'z', r >= '0' && r < '9':
			return r + 1
		case r == 'z':
			return 'a'
		case r == '9':
			return '0'
		}
		return r
	}, v)
}

// newIsoWorld starts a server with tenants A and B: tokens, connections
// (B's bound to a role, with a bill bucket, a verification and member
// accounts), jobs, reviews, and B's costs from a generated CUR export.
// saveView saves the tenant's view, named and filtered after it (so that
// its name and filter are among the values of B's searched for).
func (w *isoWorld) saveView(t *testing.T, tn *isoTenant) string {
	t.Helper()
	name := tn.name + "-secret-view"
	var v struct{ ID string }
	body := map[string]any{"name": name, "query": map[string]any{"group_by": "service", "filters": []string{"tag:team=" + tn.name + "-team"}}}
	if code := w.ts.do(t, "POST", "/api/v1/tenants/"+tn.name+"/costs/views", tn.admin, body, &v); code != 201 {
		t.Fatalf("view of %s: %d", tn.name, code)
	}
	w.secretsOf(tn, v.ID, name, tn.name+"-team")
	return v.ID
}

func isoPolicy() map[string]any {
	return map[string]any{"people": []string{"someone@example.com"}, "targets": []map[string]any{{"group": "oncall", "account": "111100002222"}}, "max_duration": "1h"}
}

// savePolicy puts a JIT policy in tn through the API.
func (w *isoWorld) savePolicy(t *testing.T, tn *isoTenant) string {
	t.Helper()
	name := tn.name + "-policy"
	if code := w.ts.do(t, "PUT", "/api/v1/tenants/"+tn.name+"/access/policies/"+name, tn.admin, isoPolicy(), nil); code != 200 {
		t.Fatalf("policy of %s: %d", tn.name, code)
	}
	w.secretsOf(tn, name)
	return name
}

// saveLease stores a JIT lease of tn directly (a request through the API
// needs AWS): a requested lease without its approval yet.
func (w *isoWorld) saveLease(t *testing.T, tn *isoTenant) string {
	t.Helper()
	now := time.Now().UTC()
	id := "lease_" + strconv.FormatInt(now.UnixNano(), 36)
	l := store.JITLease{ID: id, TenantID: crossbill.TenantID(tn.id), ConnectionID: crossbill.ConnectionID(tn.conn), Policy: tn.name + "-policy", Requester: tn.name + "-requester@example.com",
		Actor: "token:x", PrincipalType: "IAM_USER", PrincipalID: tn.name + "-user", PrincipalName: tn.name + "-user", TargetKey: "group:111100002222:oncall",
		Target: []byte(`{"kind":"iam-group","account":"111100002222","group":"oncall"}`), Reason: tn.name + "-reason", DurationS: 3600, State: "requested",
		RequestedAt: now, DecideBy: now.Add(time.Hour)}
	if err := w.ts.Store().CreateJITLease(context.Background(), l, store.AuditEntry{Actor: "token:x", Action: store.AuditJITRequest}, nil); err != nil {
		t.Fatal(err)
	}
	w.secretsOf(tn, id, tn.name+"-requester@example.com", tn.name+"-reason", tn.name+"-user")
	return id
}

// addChannel adds the tenant's notification channel (to a closed port:
// deliveries fail at once) and returns its ID.
func (w *isoWorld) addChannel(t *testing.T, tn *isoTenant) string {
	t.Helper()
	var a struct{ Channel struct{ ID string } }
	body := map[string]any{"name": tn.name + "-channel", "kind": "slack", "url": "http://127.0.0.1:1/services/" + tn.name + "-hook-token", "topics": []string{"alert.*"}}
	if code := w.ts.do(t, "POST", "/api/v1/tenants/"+tn.name+"/alerts/channels", tn.admin, body, &a); code != 201 {
		t.Fatalf("channel of %s: %d", tn.name, code)
	}
	w.secretsOf(tn, a.Channel.ID, tn.name+"-channel", tn.name+"-hook-token")
	return a.Channel.ID
}

// policyFile is the tenant's automation policy file, named after it.
func policyFile(tn *isoTenant) string {
	return "policies:\n  - name: " + tn.name + "-policy\n    resource: events\n    filters:\n      - principal: " + tn.name + "-principal\n    action: notify\n"
}

// addRule adds the tenant's alert rule and returns its ID.
func (w *isoWorld) addRule(t *testing.T, tn *isoTenant) string {
	t.Helper()
	var r struct{ ID string }
	body := map[string]any{"name": tn.name + "-rule", "kind": "budget", "params": map[string]any{"amount": 1234567, "scope": "tag:team=" + tn.name + "-rule-team"}}
	if code := w.ts.do(t, "POST", "/api/v1/tenants/"+tn.name+"/alerts/rules", tn.admin, body, &r); code != 201 {
		t.Fatalf("rule of %s: %d", tn.name, code)
	}
	w.secretsOf(tn, r.ID, tn.name+"-rule", tn.name+"-rule-team")
	return r.ID
}

// saveRecommendations gives the tenant an inventory (an unattached
// volume and a free address named after it) and evaluates it; the
// volume's recommendation ID is the tenant's {recommendation}.
func (w *isoWorld) saveRecommendations(t *testing.T, inv *optimize.Memory, tn *isoTenant, isB bool) string {
	t.Helper()
	acct := "111100002222"
	if isB {
		acct = "777788889999"
	}
	prefix := strings.Split(tn.name, "-")[0]
	vol := inventory.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":volume/vol-" + prefix, AccountID: crossbill.AccountID(acct), Region: "us-east-1", Service: "ec2", Type: "volume",
		ID: "vol-" + prefix, State: "available", Metadata: map[string]any{"volume_type": "gp3", "size_gb": 77.0}}
	eip := inventory.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":elastic-ip/eipalloc-" + prefix, AccountID: crossbill.AccountID(acct), Region: "us-east-1", Service: "ec2", Type: "elastic-ip",
		ID: "eipalloc-" + prefix, Metadata: map[string]any{"public_ip": map[bool]string{false: "198.51.100.11", true: "203.0.113.99"}[isB]}}
	inv.Save(crossbill.TenantID(tn.id), []inventory.Resource{vol, eip}, nil)
	if _, err := optimize.Evaluate(context.Background(), w.ts.Store(), crossbill.TenantID(tn.id), inv); err != nil {
		t.Fatal(err)
	}
	id := optimize.RecommendationID("ebs-unattached", vol.ARN)
	w.secretsOf(tn, id, optimize.RecommendationID("eip-unassociated", eip.ARN), vol.ID, vol.ARN, eip.ID, eip.ARN, eip.MetaString("public_ip"))
	return id
}

func isoSchedule(name string) map[string]any {
	return map[string]any{"name": name, "tag_key": "schedule", "tag_value": "office", "regions": []string{"eu-west-1"}, "timezone": "UTC",
		"days": []string{"mon"}, "start": "08:00", "stop": "19:00"}
}

// saveSchedule stores the tenant's off-hours schedule (its connection has
// no remediation module, so straight into the store, with its approval).
func (w *isoWorld) saveSchedule(t *testing.T, tn *isoTenant) string {
	t.Helper()
	ctx := context.Background()
	name := strings.ReplaceAll(tn.name, "-", "") + "-secret-schedule" // not the tenant name: the path names both
	id := "rs_" + strings.ReplaceAll(tn.name, "-", "") + "schedule"
	a, err := approval.Open(ctx, w.ts.Store(), approval.Request{Tenant: crossbill.TenantID(tn.id), Kind: approval.KindRemediation, Subject: "schedule:" + id,
		Summary: "schedule", Detail: isoSchedule(name)}, store.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(isoSchedule(name))
	if _, err := w.ts.Store().CreateRemediationSchedule(ctx, store.RemediationSchedule{ID: id, TenantID: crossbill.TenantID(tn.id), ConnectionID: crossbill.ConnectionID(tn.conn),
		Name: name, Spec: spec, ApprovalID: a.ID, CreatedBy: "test"}, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	w.secretsOf(tn, name, id, a.ID)
	return name
}

// openApproval opens a pending approval in the tenant, requested by a
// person other than its admin token (so the token may decide it), and
// named after the tenant.
func (w *isoWorld) openApproval(t *testing.T, tn *isoTenant) {
	t.Helper()
	w.approvals++
	subject := fmt.Sprintf("%s-approval-%d", tn.name, w.approvals)
	a, err := approval.Open(context.Background(), w.ts.Store(), approval.Request{Tenant: crossbill.TenantID(tn.id), Kind: approval.KindRemediation, Subject: subject,
		Summary: tn.name + "-approval stop i-0123", Required: 5, Detail: map[string]string{"plan": tn.name + "-secret-plan"}},
		store.AuditEntry{Actor: "token:" + tn.name + "-requester", PersonEmail: tn.name + "-requester@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tn.approval = a.ID
	w.secretsOf(tn, a.ID, subject, tn.name+"-secret-plan", tn.name+"-requester@example.com")
}

// planBody is a purchase plan request naming the connection conn returns.
func planBody(conn func(w *isoWorld) string) func(w *isoWorld) any {
	return func(w *isoWorld) any {
		return map[string]any{"connection": conn(w), "type": "ComputeSavingsPlans", "term_years": 1, "payment_option": "No Upfront", "hourly_commitment": 1}
	}
}

// savePlan stores a purchase plan of the tenant (as Draft would, without
// AWS: the offering is named by hand), named after the tenant.
func (w *isoWorld) savePlan(t *testing.T, tn *isoTenant) string {
	t.Helper()
	spec, _ := json.Marshal(purchase.Plan{Request: purchase.Request{Type: "ComputeSavingsPlans", TermYears: 1, Payment: "No Upfront", HourlyCommitment: 1, Tranches: 1,
		Note: tn.name + "-secret-purchase"}, Offering: purchase.Offering{ID: tn.name + "-offering"}, Ladder: []purchase.TranchePlan{{HourlyCommitment: 1}}})
	p, err := w.ts.Store().CreatePurchasePlan(context.Background(), store.PurchasePlan{TenantID: crossbill.TenantID(tn.id), ConnectionID: crossbill.ConnectionID(tn.conn),
		Kind: purchase.KindPurchase, State: purchase.StatePending, Spec: spec, Tranches: []store.PurchaseTranche{{Due: time.Now(), State: purchase.TranchePlanned}}},
		store.AuditEntry{Actor: "token:" + tn.name + "-planner"})
	if err != nil {
		t.Fatal(err)
	}
	w.secretsOf(tn, p.ID, tn.name+"-secret-purchase", tn.name+"-offering", p.Tranches[0].ClientToken)
	return p.ID
}

// reopenApproval gives A a fresh pending approval after a control decided
// the previous one.
func reopenApproval(t *testing.T, w *isoWorld) { w.openApproval(t, &w.a) }

func newIsoWorld(t *testing.T) *isoWorld {
	t.Helper()
	ctx := context.Background()
	inv := &optimize.Memory{}
	ts := startServer(t, func(m *server.Main) {
		m.RatePerSecond, m.RateBurst = 1e6, 1e6
		m.HubPrincipal = "arn:aws:iam::111122223333:role/Hub"
		m.Inventory = inv
	})
	w := &isoWorld{ts: ts, client: &http.Client{Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	st := ts.Store()
	for _, x := range []struct {
		t    *isoTenant
		name string
	}{{&w.a, "alpha-a1"}, {&w.b, "zulu-b7"}} {
		tn := x.t
		var tj tenantJSON
		if code := ts.do(t, "POST", "/api/v1/tenants", ts.op, map[string]string{"name": x.name}, &tj); code != 201 {
			t.Fatalf("tenant %s: %d", x.name, code)
		}
		tn.name, tn.id = tj.Name, tj.ID
		tok := func(name, scope string) tokenJSON {
			var tk tokenJSON
			if code := ts.do(t, "POST", "/api/v1/tenants/"+tn.name+"/tokens", ts.op, map[string]string{"name": name, "scope": scope}, &tk); code != 201 {
				t.Fatalf("token %s: %d", name, code)
			}
			w.secretsOf(tn, tk.ID, tk.Token, name)
			return tk
		}
		r, a, spare := tok(x.name+"-reader-token", "read"), tok(x.name+"-admin-token", "admin"), tok(x.name+"-spare-token", "read")
		tn.read, tn.admin, tn.tokenTarget = r.Token, a.Token, spare.ID
		if tn == &w.b {
			tn.tokenTarget = r.ID // A revoking B's token must fail; checkBIntact tries it after
		}
		var created struct {
			Connection struct{ ID string }
			ExternalID string `json:"external_id"`
			Templates  []struct{ File string }
		}
		if code := ts.do(t, "POST", "/api/v1/tenants/"+tn.name+"/connections", tn.admin, map[string]any{"modules": []string{"cost", "cur", "org"}}, &created); code != 201 || len(created.Templates) == 0 {
			t.Fatalf("connection of %s: %d", tn.name, code)
		}
		tn.conn, tn.templateFile = created.Connection.ID, created.Templates[0].File
		w.secretsOf(tn, tn.id, tn.conn, created.ExternalID)
		var rv struct{ ID string }
		src := fmt.Sprintf(reviewPolicy, strings.ReplaceAll(x.name, "-", "")+"SecretSid", x.name+"-reviewed-bucket")
		if code := ts.do(t, "POST", "/api/v1/tenants/"+tn.name+"/reviews?name="+x.name+"-review.json", tn.admin, src, &rv); code != 201 {
			t.Fatalf("review of %s: %d", tn.name, code)
		}
		tn.review = rv.ID
		w.secretsOf(tn, rv.ID, x.name+"-review.json", strings.ReplaceAll(x.name, "-", "")+"SecretSid", x.name+"-reviewed-bucket")
		j, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: crossbill.TenantID(tn.id), ConnectionID: crossbill.ConnectionID(tn.conn), Kind: "verify", RunAt: time.Now().AddDate(1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		tn.job = j.ID
		w.secretsOf(tn, j.ID)
		u, err := st.SignInUser(ctx, "https://idp.example", x.name+"-subject", x.name+"@example.com", x.name+" Person")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserRoles(ctx, u, []store.RoleGrant{{TenantID: crossbill.TenantID(tn.id), Role: store.RoleAnalyst}}, store.AuditEntry{Actor: "idp:test"}); err != nil {
			t.Fatal(err)
		}
		tn.person = u.ID
		w.secretsOf(tn, u.ID, x.name+"-subject", x.name+"@example.com")
		tn.view = w.saveView(t, tn)
		tn.policy = w.savePolicy(t, tn)
		tn.lease = w.saveLease(t, tn)
		tn.channel = w.addChannel(t, tn)
		tn.rule = w.addRule(t, tn)
		if code := ts.do(t, "PUT", "/api/v1/tenants/"+tn.name+"/automation/policies", tn.admin, policyFile(tn), nil); code != 200 {
			t.Fatalf("policies of %s: %d", tn.name, code)
		}
		w.secretsOf(tn, tn.name+"-policy", tn.name+"-principal")
		if err := notify.Enqueue(ctx, st, notify.Message{Tenant: crossbill.TenantID(tn.id), Topic: "alert.budget", Subject: x.name + "-alert-subject", Text: x.name + "-alert-text"}); err != nil {
			t.Fatal(err)
		}
		w.secretsOf(tn, x.name+"-alert-subject", x.name+"-alert-text")
		tn.rec = w.saveRecommendations(t, inv, tn, tn == &w.b)
		tn.remediation = "rp_" + strings.ReplaceAll(x.name, "-", "") + "secretplan"
		plan := fmt.Sprintf(`{"id":%q,"tenant_id":%q,"connection_id":%q,"state":"blocked","reason":"%s-secret-plan-reason","items":[]}`, tn.remediation, tn.id, tn.conn, x.name)
		if _, err := st.CreateRemediationPlan(ctx, store.RemediationPlan{ID: tn.remediation, TenantID: crossbill.TenantID(tn.id), ConnectionID: crossbill.ConnectionID(tn.conn),
			State: "blocked", RequestedBy: "test", Plan: json.RawMessage(plan)}, store.AuditEntry{Actor: "test"}, nil); err != nil {
			t.Fatal(err)
		}
		w.secretsOf(tn, tn.remediation, x.name+"-secret-plan-reason")
		tn.schedule = w.saveSchedule(t, tn)
		tn.resource = "arn:aws:s3:::" + x.name + "-inventory-bucket"
		if err := inventory.Save(ctx, st, crossbill.TenantID(tn.id), []inventory.Resource{{ARN: tn.resource, AccountID: "777788880002", Region: "us-east-1",
			Service: "s3", Type: "bucket", ID: x.name + "-inventory-bucket", Tags: map[string]string{"owner": x.name + "-inventory-owner"}}}, nil); err != nil {
			t.Fatal(err)
		}
		w.secretsOf(tn, tn.resource, x.name+"-inventory-owner")
		w.openApproval(t, tn)
		tn.plan = w.savePlan(t, tn)
		tn.invited = map[bool]string{true: "444455556666", false: "444455557777"}[tn == &w.a]
		tn.handshake = "h-" + strings.Repeat(map[bool]string{true: "a", false: "b"}[tn == &w.a], 32)
		now := time.Now().UTC()
		if _, err := st.SaveHandshake(ctx, store.OrgHandshake{ID: tn.handshake, TenantID: crossbill.TenantID(tn.id), AccountID: crossbill.AccountID(tn.invited),
			State: "declined", RequestedAt: now, ExpiresAt: now.AddDate(0, 0, 15)}, store.AuditEntry{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		w.secretsOf(tn, tn.handshake, tn.invited)
	}

	// A's connection has a bill bucket too (as the Flexera route's probes
	// leave it, whatever order the cases run in), so its ingest control is
	// the same every run.
	if _, err := st.SaveBillSource(ctx, store.BillSource{TenantID: crossbill.TenantID(w.a.id), ConnectionID: crossbill.ConnectionID(w.a.conn), AccountID: "111100002222", Bucket: "alpha-bills", Path: "cur/x"}); err != nil {
		t.Fatal(err)
	}

	// B's connection is bound and has a bill bucket, a verification and
	// an organization's member accounts.
	b := &w.b
	b.account, b.roleARN = "777788889999", "arn:aws:iam::777788889999:role/ZuluCrossbillRole"
	conn, err := storetest.Bind(ctx, st, crossbill.ConnectionID(b.conn), crossbill.RoleARN(b.roleARN))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveBillSource(ctx, store.BillSource{TenantID: crossbill.TenantID(b.id), ConnectionID: conn.ID, AccountID: conn.AccountID, Bucket: "zulu-bill-bucket", Path: "zulu-prefix/zulu-export"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := st.SaveVerification(ctx, store.Verification{ConnectionID: conn.ID, RoleARN: conn.RoleARN, Status: store.VerificationFailed, StartedAt: now, FinishedAt: now,
		Checks: []store.VerificationCheck{{Name: "assume-role", Status: store.CheckFail, Class: "role-trust", Message: "zulu-check-message", Advice: "zulu-check-advice", StartedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SyncMembers(ctx, conn, "ZuluMemberRole", []store.OrgAccount{
		{AccountID: "777788880001", Name: "zulu-member-account", Email: "zulu-member@example.com", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	w.secretsOf(b, b.account, b.roleARN, "ZuluCrossbillRole", "zulu-bill-bucket", "zulu-prefix/zulu-export", "zulu-check-message", "zulu-check-advice",
		"777788880001", "zulu-member-account", "zulu-member@example.com", "ZuluMemberRole")

	// Costs: a small generated organization for each tenant (another seed:
	// other accounts and figures), so that A's cost answers are A's own
	// data and not the empty answer of a tenant without any.
	for _, x := range []struct {
		t    *isoTenant
		seed uint64
	}{{&w.a, 5}, {b, 11}} {
		gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: x.seed, Accounts: 2, Months: 1,
			Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Ingest(ctx, ts.Costs(), ingest.Options{Source: filepath.Join(gen.Dir, gen.Prefix, gen.Export), Tenant: crossbill.TenantID(x.t.id)}); err != nil {
			t.Fatal(err)
		}
		ts.Server().InvalidateCosts(crossbill.TenantID(x.t.id))
		// Account names are the generator's stock names, the same in every
		// organization; IDs and commitment ARNs are the organization's.
		for _, acct := range gen.Accounts {
			w.secretsOf(x.t, acct.ID)
		}
		for _, c := range gen.Commitments {
			w.secretsOf(x.t, c.ARN)
		}
	}
	// B's own view of its costs: the figures A must never see.
	var costsB struct {
		Total  float64 `json:"total"`
		Totals []struct {
			Group string  `json:"group"`
			Value float64 `json:"value"`
		} `json:"totals"`
	}
	if code := ts.do(t, "GET", "/api/v1/tenants/"+b.name+"/costs?group_by=account&from=2026-06&to=2026-07", b.read, nil, &costsB); code != 200 || costsB.Total <= 0 || len(costsB.Totals) == 0 {
		t.Fatalf("B's costs: %d %+v", code, costsB)
	}
	// B's commitment answers are cached too before A asks.
	for _, p := range []string{"/commitments", "/commitments/utilization"} {
		if code := ts.do(t, "GET", "/api/v1/tenants/"+b.name+p, b.read, nil, nil); code != 200 {
			t.Fatalf("B's %s: %d", p, code)
		}
	}
	w.secretsOf(b, figure(costsB.Total))
	for _, g := range costsB.Totals {
		w.secretsOf(b, figure(g.Value))
	}
	for _, v := range w.own {
		for _, s := range w.secrets {
			if strings.Contains(v, s) {
				t.Fatalf("A's %q holds B's %q: the suite could not tell A's own data from a leak", v, s)
			}
		}
	}
	return w
}

// figure is how a cost appears in JSON, when it is distinctive enough to
// search for.
func figure(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if len(strings.Trim(s, "0.")) < 6 {
		return ""
	}
	return s
}

// secretsOf records values of B's that A must not see, and A's own, which
// must differ from B's for a match to mean a leak.
func (w *isoWorld) secretsOf(tn *isoTenant, vs ...string) {
	for _, v := range vs {
		switch {
		case v == "":
		case tn == &w.b:
			w.secrets = append(w.secrets, v)
		default:
			w.own = append(w.own, v)
		}
	}
}

// checkBIntact: after every attack, B's tokens still work and B's data
// is as it was.
func (w *isoWorld) checkBIntact(t *testing.T) {
	t.Helper()
	for _, tok := range []string{w.b.read, w.b.admin} {
		if code := w.ts.do(t, "GET", "/api/v1/me", tok, nil, nil); code != 200 {
			t.Errorf("B's token after the attacks: %d", code)
		}
	}
	var cs []struct {
		ID      string `json:"id"`
		RoleARN string `json:"role_arn"`
		Bill    *struct{ Bucket string }
	}
	if code := w.ts.do(t, "GET", "/api/v1/tenants/"+w.b.name+"/connections", w.b.read, nil, &cs); code != 200 || len(cs) != 1 ||
		cs[0].ID != w.b.conn || cs[0].RoleARN != w.b.roleARN || cs[0].Bill == nil || cs[0].Bill.Bucket != "zulu-bill-bucket" {
		t.Errorf("B's connections after the attacks: %d %+v", code, cs)
	}
	var toks, reviews []struct{ ID string }
	if code := w.ts.do(t, "GET", "/api/v1/tenants/"+w.b.name+"/tokens", w.b.admin, nil, &toks); code != 200 || len(toks) != 3 {
		t.Errorf("B's tokens after the attacks: %d %+v", code, toks)
	}
	if code := w.ts.do(t, "GET", "/api/v1/tenants/"+w.b.name+"/reviews", w.b.read, nil, &reviews); code != 200 || len(reviews) != 1 {
		t.Errorf("B's reviews after the attacks: %d %+v", code, reviews)
	}
}
