package server

import (
	"net/http"
	"strconv"
	"strings"
)

// obj is a JSON object in the OpenAPI document.
type obj = map[string]any

func str(desc string) obj     { return obj{"type": "string", "description": desc} }
func num(desc string) obj     { return obj{"type": "number", "description": desc} }
func integer(desc string) obj { return obj{"type": "integer", "description": desc} }
func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }
func ref(name string) obj     { return obj{"$ref": "#/components/schemas/" + name} }
func arrayOf(name string) obj { return obj{"type": "array", "items": ref(name)} }
func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
func timestamp(desc string) obj {
	return obj{"type": "string", "format": "date-time", "description": desc}
}
func anyJSON(desc string) obj { return obj{"description": desc} }

// schemas are the API's payloads. Feature schemas are merged in by
// featureSchemas.
func (s *Server) schemas() obj {
	sc := obj{
		"Error": object([]string{"error", "code"}, obj{
			"error": str("what went wrong and what to do"), "code": str("crossbill error code (invalid, not_found, ...)"), "request_id": str("quote it when reporting a problem"),
		}),
		"Health": object([]string{"status"}, obj{"status": str("ok, ready or not ready"), "version": str(""), "error": str("why not ready")}),
		"Me": object([]string{"token_id", "scope", "operator"}, obj{
			"token_id": str(""), "name": str(""), "scope": str("read or admin"), "operator": boolean("may act on every tenant"),
			"tenant_id": str("the token's tenant (absent for operators)"), "tenant": str("its name"),
		}),
		"Tenant":       object([]string{"id", "name"}, obj{"id": str("UUID"), "name": str("lowercase name"), "created_at": timestamp("")}),
		"TenantList":   arrayOf("Tenant"),
		"TenantCreate": object([]string{"name"}, obj{"name": str("1-63 lowercase letters, digits, '.', '_' or '-'")}),
		"Token": object([]string{"id", "scope"}, obj{
			"id": str("public token ID (tok_...)"), "tenant_id": str(""), "name": str(""), "scope": str("read or admin"),
			"role": obj{"type": "string", "enum": roleNames()}, "user_id": str("the person the token acts for"),
			"created_at": timestamp(""), "last_used_at": timestamp(""), "revoked_at": timestamp(""),
		}),
		"TokenList": arrayOf("Token"),
		"TokenCreate": object(nil, obj{"name": str("a label"), "scope": obj{"type": "string", "enum": []string{"read", "admin"}, "description": "without role: read = viewer, admin = admin"},
			"role": obj{"type": "string", "enum": []string{"viewer", "analyst", "approver", "admin"}, "description": "sets the scope (admin: admin, else read)"}}),
		"TokenCreated": obj{"allOf": []any{ref("Token"), object([]string{"token"}, obj{
			"token": str("the secret, shown once: send it as Authorization: Bearer <token>"),
		})}},
		"Job": object([]string{"id", "kind", "status"}, obj{
			"id": str(""), "tenant_id": str(""), "connection_id": str(""), "kind": str("verify, ingest, ..."),
			"status":   obj{"type": "string", "enum": []string{"queued", "running", "retrying", "succeeded", "failed", "canceled"}},
			"progress": num("0..1"), "message": str("last progress message"), "attempts": integer(""), "max_attempts": integer(""),
			"last_error": str(""), "error_code": str(""), "interval_seconds": integer("periodic jobs: seconds between runs"),
			"params": anyJSON("job parameters"), "next_run_at": timestamp(""), "started_at": timestamp(""), "finished_at": timestamp(""),
			"created_at": timestamp(""), "updated_at": timestamp(""),
			"replica":          str("the replica (serve --replica-id) running the job, or that ran it last"),
			"lease_expires_at": timestamp("while running: when another replica may take the job over unless this one heartbeats"),
		}),
		"JobList": arrayOf("Job"),
		"Review": object([]string{"id", "name"}, obj{
			"id": str(""), "tenant_id": str(""), "name": str("uploaded file name"), "source": str("the document reviewed"),
			"result": anyJSON("the review: summary and findings"), "created_at": timestamp(""),
			"acknowledged": object([]string{"actor", "at"}, obj{"actor": str(""), "person": str("the approver's email"), "note": str(""), "at": timestamp("")}),
		}),
		"ReviewList": arrayOf("Review"),
	}
	for k, v := range s.featureSchemas() {
		sc[k] = v
	}
	return sc
}

// openAPIDocument builds the OpenAPI 3.0 document from the route table.
func (s *Server) openAPIDocument() obj {
	paths := obj{}
	for _, rt := range s.routes {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = s.operation(rt)
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "crossbill API",
			"version":     "v1",
			"description": "Connect AWS accounts with least privilege; costs, commitments and access reviews. Authenticate with Authorization: Bearer <token> (`crossbill token create`).",
		},
		"servers": []any{obj{"url": "/"}},
		"paths":   paths,
		"components": obj{
			"schemas": s.schemas(),
			"securitySchemes": obj{
				"bearer":  obj{"type": "http", "scheme": "bearer", "description": "crossbill API token (cbt_...), with a role (viewer, analyst, approver, admin; operator tokens: operator)"},
				"session": obj{"type": "apiKey", "in": "cookie", "name": sessionCookie, "description": "a browser's session after sign-in (GET /api/v1/auth/login); writes also need the X-CSRF-Token header from GET /api/v1/me"},
			},
		},
	}
}

func (s *Server) operation(rt route) obj {
	op := obj{
		"summary":     rt.summary,
		"tags":        []string{rt.tag},
		"operationId": operationID(rt),
		"x-role":      string(rt.role),
	}
	var params []any
	for _, p := range pathParams(rt.path) {
		desc := "ID"
		if p == rt.tenantParam {
			desc = "tenant ID or name"
		}
		params = append(params, obj{"name": p, "in": "path", "required": true, "schema": obj{"type": "string"}, "description": desc})
	}
	for _, p := range rt.query {
		schema := obj{"type": "string"}
		if p.repeat {
			schema = obj{"type": "array", "items": schema}
		}
		params = append(params, obj{"name": p.name, "in": "query", "required": p.required, "schema": schema, "description": p.desc})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.body != "" {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(rt.body)}}}
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	success := obj{"description": http.StatusText(status)}
	switch {
	case rt.content != "":
		success["content"] = obj{rt.content: obj{"schema": obj{"type": "string"}}}
	case rt.resp != "":
		success["content"] = obj{"application/json": obj{"schema": ref(rt.resp)}}
	case status != http.StatusNoContent:
		success["content"] = obj{"application/json": obj{"schema": obj{"type": "object"}}}
	}
	errResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	responses := obj{strconv.Itoa(status): success, "400": errResp("bad input (also: a query parameter the operation does not list)"), "500": errResp("internal error")}
	if rt.role != public {
		op["security"] = []any{obj{"bearer": []string{}}, obj{"session": []string{}}}
		op["description"] = "Needs role " + string(rt.role) + " or above" + map[bool]string{true: " in the tenant.", false: "."}[rt.tenantParam != ""]
		responses["401"] = errResp("missing, unknown or revoked token, or no live session")
		responses["403"] = errResp("the caller's role is below " + string(rt.role) + " (or a cookie-authenticated write without its CSRF token)")
		responses["429"] = errResp("rate limit for this token exceeded, or too many failed authentications from this address")
	}
	if len(pathParams(rt.path)) > 0 {
		responses["404"] = errResp("not found (or another tenant's)")
	}
	if rt.method == http.MethodPost && strings.HasSuffix(rt.path, "/tokens") {
		responses["409"] = errResp("the tenant holds the most live tokens allowed (serve --max-tokens-per-tenant)")
	}
	op["responses"] = responses
	return op
}

// operationID is method plus the path's words, e.g. getTenantsByTenantJobs.
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, seg := range strings.Split(rt.path, "/") {
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		if strings.HasPrefix(seg, "{") {
			seg = "by_" + strings.Trim(seg, "{}.")
		}
		for _, w := range strings.FieldsFunc(seg, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	return ok(w, r, s.openAPIDocument())
}
