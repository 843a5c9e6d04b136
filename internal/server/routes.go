package server

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the server's registry.
func (s *Server) metricsHandler() handlerFunc {
	h := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

// route is one API endpoint: how it is matched, who may call it, and how
// it is documented. The router and the OpenAPI document are both built from
// the route table, and a test checks them against each other over HTTP.
type route struct {
	method string
	path   string // ServeMux pattern path, e.g. /api/v1/tenants/{tenant}/jobs
	// role is the least role the caller needs (in the path's tenant, for a
	// tenant route); public for none. Every route must say: a route
	// without one is refused to all but operators, and a test fails.
	role        store.Role
	tenantParam string // path wildcard naming the tenant, resolved by authorize
	handler     handlerFunc
	upload      bool // larger body limit
	// anyQuery accepts query parameters beyond those declared: the
	// identity provider's redirect may add its own (Google: authuser, hd).
	anyQuery bool

	// documentation
	tag     string
	summary string
	query   []param
	body    string // request schema name in components, "" for none
	resp    string // response schema name; "" for a plain 200/204
	status  int    // success status; zero: 200
	content string // response media type when not JSON
}

// param documents a query parameter. The router refuses parameters a
// route does not declare, and repeats of those that are not repeat.
type param struct {
	name, desc string
	required   bool
	repeat     bool // may be given several times
}

func q(name, desc string) param { return param{name: name, desc: desc} }

// checkQuery refuses unknown query parameters and repeats of single ones:
// ignored silently they would answer a typo as if it were absent, and
// each spelling could mint an entry in the answer cache.
func checkQuery(rt route, v url.Values) error {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		i := slices.IndexFunc(rt.query, func(p param) bool { return p.name == n })
		if i < 0 {
			accepted := "it takes no query parameters"
			if len(rt.query) > 0 {
				var ns []string
				for _, p := range rt.query {
					ns = append(ns, p.name)
				}
				accepted = "accepted: " + strings.Join(ns, ", ")
			}
			return crossbill.Errorf(crossbill.CodeInvalid, "request", "unknown query parameter %q for %s %s; %s", n, rt.method, rt.path, accepted)
		}
		if len(v[n]) > 1 && !rt.query[i].repeat {
			return crossbill.Errorf(crossbill.CodeInvalid, "request", "query parameter %q is given %d times; give it once", n, len(v[n]))
		}
	}
	return nil
}

// pathParams lists the {wildcards} of a pattern path in order.
func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"), "..."))
		}
	}
	return out
}

const tenantPath = "/api/v1/tenants/{tenant}"

// routeTable is every API route. Handlers for features whose package is not
// in this build are absent, not stubbed.
func (s *Server) routeTable() []route {
	rs := []route{
		{method: http.MethodGet, path: "/healthz", role: public, handler: s.healthz, tag: "ops", summary: "Liveness: the process serves HTTP", resp: "Health"},
		{method: http.MethodGet, path: "/readyz", role: public, handler: s.readyz, tag: "ops", summary: "Readiness: the store answers and start-up work is done", resp: "Health"},
		{method: http.MethodGet, path: "/metrics", role: public, handler: s.metricsHandler(), tag: "ops", summary: "Prometheus metrics (text exposition format)", content: "text/plain"},
		{method: http.MethodGet, path: "/api/v1/openapi.json", role: public, handler: s.openapi, tag: "ops", summary: "This API's OpenAPI 3 document"},
		{method: http.MethodGet, path: "/api/v1/me", role: viewer, handler: s.me, tag: "auth", summary: "The calling token: its scope and tenant", resp: "Me"},

		{method: http.MethodGet, path: "/api/v1/tenants", role: viewer, handler: s.listTenants, tag: "tenants", summary: "Tenants the token may see (operator: all; tenant token: its own)", resp: "TenantList"},
		{method: http.MethodPost, path: "/api/v1/tenants", role: operator, handler: s.createTenant, tag: "tenants", summary: "Create a tenant", body: "TenantCreate", resp: "Tenant", status: http.StatusCreated},
		{method: http.MethodGet, path: tenantPath, role: viewer, tenantParam: "tenant", handler: s.getTenant, tag: "tenants", summary: "One tenant", resp: "Tenant"},

		{method: http.MethodGet, path: tenantPath + "/tokens", role: admin, tenantParam: "tenant", handler: s.listTokens, tag: "auth", summary: "The tenant's API tokens (never their secrets)", resp: "TokenList"},
		{method: http.MethodPost, path: tenantPath + "/tokens", role: admin, tenantParam: "tenant", handler: s.createToken, tag: "auth", summary: "Create an API token for the tenant; the secret is in this answer only", body: "TokenCreate", resp: "TokenCreated", status: http.StatusCreated},
		{method: http.MethodDelete, path: tenantPath + "/tokens/{token}", role: admin, tenantParam: "tenant", handler: s.revokeToken, tag: "auth", summary: "Revoke one of the tenant's tokens", status: http.StatusNoContent},

		{method: http.MethodGet, path: tenantPath + "/jobs", role: viewer, tenantParam: "tenant", handler: s.listJobs, tag: "jobs", summary: "Background jobs, newest first, with status, progress, attempts, last error and next run",
			query: []param{q("connection", "only this connection's jobs"), q("kind", "only this kind (verify, ingest, ...)"), q("limit", "at most this many (default 100)")}, resp: "JobList"},
		{method: http.MethodGet, path: tenantPath + "/jobs/{job}", role: viewer, tenantParam: "tenant", handler: s.getJob, tag: "jobs", summary: "One job", resp: "Job"},

		{method: http.MethodGet, path: tenantPath + "/reviews", role: viewer, tenantParam: "tenant", handler: s.listReviews, tag: "review", summary: "Access reviews kept for the tenant", resp: "ReviewList"},
		{method: http.MethodGet, path: tenantPath + "/reviews/{review}", role: viewer, tenantParam: "tenant", handler: s.getReview, tag: "review", summary: "One review: the document and its findings", resp: "Review"},
	}
	rs = append(rs, s.featureRoutes()...)
	rs = append(rs, s.bindingRoutes()...)
	rs = append(rs, s.authRoutes()...)
	rs = append(rs, s.approvalRoutes()...)
	rs = append(rs, s.purchaseRoutes()...)
	rs = append(rs, s.lifecycleRoutes()...)
	return rs
}
