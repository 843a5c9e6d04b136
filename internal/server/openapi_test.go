package server_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Summary     string `json:"summary"`
		Parameters  []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses   map[string]any `json:"responses"`
		RequestBody *struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]any `json:"schemas"`
	} `json:"components"`
}

var wildcard = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestOpenAPIMatchesRouter checks the served document against the router
// over HTTP: every documented operation is routed (it does not reach the
// router's "no API route" answer), every documented path parameter is
// declared, every referenced schema exists, and undocumented API paths
// are not routed. Outside the document are only the web UI's files (every
// other GET path) and the JSON 404 for unknown /api/ paths.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	var doc openAPIDoc
	if st := ts.do(t, "GET", "/api/v1/openapi.json", "", nil, &doc); st != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %d %q", st, doc.OpenAPI)
	}
	if len(doc.Paths) < 10 {
		t.Fatalf("only %d paths documented", len(doc.Paths))
	}
	ts.tenantWithTokens(t, "acme")
	ids := map[string]string{}
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for method, op := range doc.Paths[p] {
			where := strings.ToUpper(method) + " " + p
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s: no summary or responses", where)
			}
			if prev, dup := ids[op.OperationID]; dup || op.OperationID == "" {
				t.Errorf("%s: operationId %q empty or shared with %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			declared := map[string]bool{}
			for _, prm := range op.Parameters {
				if prm.In == "path" {
					declared[prm.Name] = true
				}
			}
			for _, m := range wildcard.FindAllStringSubmatch(p, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %s not declared", where, m[1])
				}
			}
			if op.RequestBody != nil {
				for _, c := range op.RequestBody.Content {
					if name := strings.TrimPrefix(c.Schema.Ref, "#/components/schemas/"); doc.Components.Schemas[name] == nil {
						t.Errorf("%s: request schema %q missing", where, name)
					}
				}
			}
			// Call it with placeholder parameters: any answer but the
			// router's own 404/405 proves the route exists.
			concrete := wildcard.ReplaceAllString(p, "placeholder")
			concrete = strings.Replace(concrete, "/tenants/placeholder", "/tenants/nosuchtenant", 1)
			var e errJSON
			st := ts.do(t, strings.ToUpper(method), concrete, ts.op, "{}", &e)
			if st == http.StatusMethodNotAllowed || strings.Contains(e.Error, "no API route") {
				t.Errorf("%s is documented but not routed (%d %s)", where, st, e.Error)
			}
			// Every documented query parameter is accepted by the router
			// (which refuses undocumented ones).
			var qs []string
			for _, prm := range op.Parameters {
				if prm.In == "query" {
					qs = append(qs, prm.Name+"=placeholder")
				}
			}
			if len(qs) > 0 {
				e = errJSON{}
				known := strings.Replace(wildcard.ReplaceAllString(p, "placeholder"), "/tenants/placeholder", "/tenants/acme", 1)
				known = strings.Replace(known, "/orgs/placeholder/", "/orgs/acme/", 1)
				ts.do(t, strings.ToUpper(method), known+"?"+strings.Join(qs, "&"), ts.op, "{}", &e)
				if strings.Contains(e.Error, "query parameter") {
					t.Errorf("%s refuses its documented query parameters: %s", where, e.Error)
				}
			}
		}
	}
	for _, undocumented := range []string{"/api/v1/nosuch", "/api/v1/tenants/acme/nosuch", "/api/onboarding/nosuch"} {
		var e errJSON
		if st := ts.do(t, "GET", undocumented, ts.op, nil, &e); st != 404 || !strings.Contains(e.Error, "no API route") {
			t.Errorf("%s: %d %q; want the router's 404", undocumented, st, e.Error)
		}
	}
}
