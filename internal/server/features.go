package server

import (
	"net/http"

	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// featureRoutes are the routes of the feature packages: connections and
// onboarding, costs, commitments, review and the annex.
func (s *Server) featureRoutes() []route {
	conn := tenantPath + "/connections/{connection}"
	costQuery := []param{
		q("metric", "unblended, amortized (default), net, list or usage"),
		q("group_by", "service, account, region, usage-type, operation, charge-type, billing-period, tag:KEY or cost-category:KEY"),
		q("granularity", "hourly, daily (default) or monthly"),
		q("from", "first day, YYYY-MM-DD or YYYY-MM (default: the month of the latest data)"),
		q("to", "day after the last, exclusive"),
		{name: "filter", desc: "DIM=V1,V2; repeat for several", repeat: true},
		q("billing_period", "invoice months YYYY-MM[,YYYY-MM] (same as filter=billing-period=...); without from/to, all of their days"),
		q("top", "keep the top N groups, fold the rest into others"),
	}
	return append(append(append(append(append(append(append(append(accessRoutes(s, conn), jitRoutes(s)...), remediationRoutes(s)...), inventoryRoutes(s, conn)...), optimizeRoutes(s)...), alertRoutes(s)...), eventRoutes(s)...), automationRoutes(s)...), []route{
		{method: http.MethodGet, path: "/api/v1/onboarding/modules", role: viewer, handler: s.onboardingModules, tag: "connections", summary: "Modules a connection can enable, and the server's hub principal", resp: "OnboardingInfo"},
		{method: http.MethodGet, path: "/api/v1/annex", role: viewer, handler: s.annex, tag: "annex", summary: "The permissions annex for the customer's security team (Markdown, or JSON with format=json)",
			query: []param{q("modules", "comma-separated modules (default: the read-only set)"), q("format", "md (default) or json")}, content: "text/markdown"},

		{method: http.MethodGet, path: tenantPath + "/connections", role: viewer, tenantParam: "tenant", handler: s.listConnections, tag: "connections", summary: "The tenant's connections", resp: "ConnectionList"},
		{method: http.MethodPost, path: tenantPath + "/connections", role: admin, tenantParam: "tenant", handler: s.createConnection, tag: "connections", summary: "Create a connection: a new external ID, its templates and quick-create links", body: "ConnectionInit", resp: "ConnectionCreated", status: http.StatusCreated},
		{method: http.MethodGet, path: conn, role: viewer, tenantParam: "tenant", handler: s.getConnection, tag: "connections", summary: "One connection: status, latest verification, templates, bill bucket, jobs", resp: "ConnectionDetail"},
		{method: http.MethodGet, path: conn + "/templates/{file}", role: viewer, tenantParam: "tenant", handler: s.getTemplate, tag: "connections", summary: "Download one CloudFormation template of the connection", query: []param{q("region", "region of the role stacks")}, content: "application/yaml"},
		{method: http.MethodPost, path: conn + "/verify", role: admin, tenantParam: "tenant", handler: s.verifyConnection, tag: "connections", summary: "Verify now: assume the role, check the external ID protection, probe each module; every check with its class and fix", body: "VerifyRequest", resp: "Verification"},
		{method: http.MethodGet, path: conn + "/verifications", role: viewer, tenantParam: "tenant", handler: s.listVerifications, tag: "connections", summary: "Verification history, newest first", resp: "VerificationList"},
		{method: http.MethodGet, path: conn + "/members", role: viewer, tenantParam: "tenant", handler: s.listMembers, tag: "connections", summary: "The organization's member accounts recorded for the connection, each with its last check (no AWS call)", resp: "MemberList"},
		{method: http.MethodPost, path: conn + "/members", role: admin, tenantParam: "tenant", handler: s.refreshMembers, tag: "connections", summary: "List the organization through the connection's role, store its accounts (gone ones marked) and verify every member's role; synchronous, at most 5 minutes", body: "MembersRequest", resp: "MembersResult"},
		{method: http.MethodPut, path: conn + "/bill", role: admin, tenantParam: "tenant", handler: s.setBill, tag: "connections", summary: "Set or change the connection's bill source (s3://BUCKET/PREFIX/EXPORT); verification registers the CUR stack's export by itself", body: "BillSourceRequest", resp: "BillSource"},
		{method: http.MethodPost, path: conn + "/ingest", role: admin, tenantParam: "tenant", handler: s.ingestNow, tag: "connections", summary: "Queue an ingest of the connection's bill bucket", resp: "Job", status: http.StatusAccepted},
		{method: http.MethodGet, path: conn + "/cost-explorer", role: viewer, tenantParam: "tenant", handler: s.costExplorerStatus, tag: "costs", summary: "Day-zero costs from Cost Explorer: requests this month against the monthly budget ($0.01 each), days loaded, last load's status", resp: "CostExplorerUsage"},
		{method: http.MethodPut, path: conn + "/cost-explorer/budget", role: admin, tenantParam: "tenant", handler: s.setCostExplorerBudget, tag: "costs", summary: "Set the connection's monthly Cost Explorer budget in requests (0: the default)", body: "CostExplorerBudget", resp: "CostExplorerUsage"},
		{method: http.MethodPost, path: conn + "/cost-explorer/load", role: admin, tenantParam: "tenant", handler: s.loadCostExplorer, tag: "costs", summary: "Load daily cost from Cost Explorer through the connection's role now (12 months the first time, then new and unsettled days; stops at the budget with status budget_reached); the server also runs it daily", body: "CostExplorerLoadRequest", resp: "CostExplorerLoad"},
		{method: http.MethodPost, path: "/api/onboarding/orgs/{org_id}/bill_connects/aws/iam_role", role: admin, tenantParam: "org_id", handler: s.flexeraBillConnect, tag: "connections",
			summary: "Flexera Optima's bill connect (seed 004): register a role and its bill bucket, verify, schedule ingestion; org_id is the tenant", body: "BillConnect", resp: "BillConnectResult", status: http.StatusCreated},

		{method: http.MethodGet, path: tenantPath + "/costs", role: viewer, tenantParam: "tenant", handler: s.queryCosts, tag: "costs", summary: "Cost by time bucket and group; an answer over the server's --max-rows (10,000) is refused with 400 saying how to narrow it", query: costQuery, resp: "CostResult"},
		{method: http.MethodGet, path: tenantPath + "/costs/engine", role: viewer, tenantParam: "tenant", handler: s.getCostEngine, tag: "costs", summary: "Where the tenant's cost queries run: local (crossbill's cost store, the default) or athena (Amazon Athena over the CUR in place, through one connection's role)", resp: "CostEngine"},
		{method: http.MethodPut, path: tenantPath + "/costs/engine", role: admin, tenantParam: "tenant", handler: s.setCostEngine, tag: "costs", summary: "Set where the tenant's cost queries run: athena needs a verified connection with the cur module whose CUR stack has EnableAthena=true (Athena bills the customer per TB scanned); local goes back to crossbill's cost store", body: "CostEngineRequest", resp: "CostEngine"},
		{method: http.MethodGet, path: tenantPath + "/costs/export", role: analyst, tenantParam: "tenant", handler: s.exportCosts, tag: "costs", summary: "The cost query of the parameters as a CSV file (period, group, value), as `crossbill costs --format csv` writes it, in the tenant's engine (Athena's answers cached for the hour)",
			query: append([]param{q("format", "csv (the default and only format)")}, costQuery...), content: "text/csv"},
		{method: http.MethodGet, path: tenantPath + "/costs/views", role: viewer, tenantParam: "tenant", handler: s.listViews, tag: "costs", summary: "The tenant's saved views (named cost queries), by name", resp: "SavedViewList"},
		{method: http.MethodPost, path: tenantPath + "/costs/views", role: analyst, tenantParam: "tenant", handler: s.createView, tag: "costs", summary: "Save a cost query under a name (checked as GET .../costs checks it; 409 when the name is taken; at most 200 a tenant)", body: "SavedViewCreate", resp: "SavedView", status: http.StatusCreated},
		{method: http.MethodGet, path: tenantPath + "/costs/views/{view}", role: viewer, tenantParam: "tenant", handler: s.getView, tag: "costs", summary: "One saved view, by name or ID", resp: "SavedView"},
		{method: http.MethodDelete, path: tenantPath + "/costs/views/{view}", role: analyst, tenantParam: "tenant", handler: s.deleteView, tag: "costs", summary: "Delete a saved view (by name or ID); answers the view deleted", resp: "SavedView"},
		{method: http.MethodGet, path: tenantPath + "/costs/views/{view}/export", role: analyst, tenantParam: "tenant", handler: s.exportView, tag: "costs", summary: "Run a saved view and answer it as a CSV file", query: []param{q("format", "csv (the default and only format)")}, content: "text/csv"},
		{method: http.MethodGet, path: tenantPath + "/costs/reconciliation", role: viewer, tenantParam: "tenant", handler: s.costReconciliation, tag: "costs", summary: "Cost Explorer against the CUR for each billing period the CUR replaced, per account and in total (unblended; over_tolerance above $1 or 1%)", resp: "Reconciliations"},
		{method: http.MethodGet, path: tenantPath + "/costs/forecast", role: viewer, tenantParam: "tenant", handler: s.costForecast, tag: "costs", summary: "The month's projected total (actual to date + a weekday-aware run rate), with Cost Explorer's own forecast beside it (unblended, no filter) once a Cost Explorer load fetched one; in the tenant's engine (an Athena tenant: from Athena, with what it cost, cached for the hour)",
			query: []param{q("metric", "unblended (default), amortized, net or list"), q("month", "YYYY-MM (default: the latest with data)"), q("filter", "dim=value[,value], repeatable")}, resp: "CostForecast"},
		{method: http.MethodGet, path: tenantPath + "/costs/mom", role: viewer, tenantParam: "tenant", handler: s.costMoM, tag: "costs", summary: "Month over month, as `crossbill costs mom`: a month against the one before by group (like for like while the month goes on), in the tenant's engine",
			query: []param{q("metric", "unblended, amortized (default), net, list or usage"), q("group_by", "a dimension, as GET .../costs"), {name: "filter", desc: "DIM=V1,V2; repeat for several", repeat: true},
				q("billing_period", "invoice months YYYY-MM[,YYYY-MM]"), q("top", "keep the top N groups of the month, fold the rest into others"), q("month", "YYYY-MM (default: the latest with data)")}, resp: "CostMoM"},
		{method: http.MethodGet, path: tenantPath + "/costs/anomalies", role: viewer, tenantParam: "tenant", handler: s.costAnomalies, tag: "costs", summary: "Days whose cost left its usual range, as `crossbill costs anomalies` (rolling median + MAD), in the tenant's engine",
			query: []param{q("metric", "unblended, amortized (default), net, list or usage"), {name: "filter", desc: "DIM=V1,V2; repeat for several", repeat: true},
				q("billing_period", "invoice months YYYY-MM[,YYYY-MM]"), q("from", "first day to judge (default: 30 days before to)"), q("to", "day after the last to judge (default: the latest day with data)"),
				{name: "by", desc: "dimension to judge; repeat for several (default service and account)", repeat: true}, q("window", "days of history forming the baseline, at least 7 (default 14)"),
				q("threshold", "robust z-score to flag (default 3.5)"), q("min_delta", "smallest absolute change to flag (default 10)")}, resp: "CostAnomalies"},
		{method: http.MethodGet, path: tenantPath + "/costs/dimensions", role: viewer, tenantParam: "tenant", handler: s.costDimensions, tag: "costs", summary: "Metrics, dimensions and billing periods available in the tenant's engine (an Athena tenant: the billing periods of the last 36 months that Athena's table holds, with what it cost, cached for the hour), with a dimension's values over the last 3 billing periods (at most 1000) when asked",
			query: []param{q("values", "list this dimension's values: service, account, region, usage-type, operation, charge-type, billing-period; tag or cost-category (their keys); tag:KEY or cost-category:KEY (that key's values)")}, resp: "CostMeta"},

		{method: http.MethodGet, path: tenantPath + "/commitments", role: viewer, tenantParam: "tenant", handler: s.listCommitments, tag: "commitments", summary: "Savings Plans and reservations (from the CUR) with expirations in 30/60/90 days", resp: "CommitmentInventory"},
		{method: http.MethodGet, path: tenantPath + "/commitments/utilization", role: viewer, tenantParam: "tenant", handler: s.commitmentUtilization, tag: "commitments", summary: "Daily utilization and coverage, totals and per commitment", resp: "Utilization"},
		{method: http.MethodGet, path: tenantPath + "/commitments/recommendations", role: viewer, tenantParam: "tenant", handler: s.recommendCommitments, tag: "commitments", summary: "What to buy: per type, term and payment option, with savings if usage drops",
			query: []param{q("types", "COMPUTE_SP, EC2_INSTANCE_SP, RDS_RI, ELASTICACHE_RI, OPENSEARCH_RI, REDSHIFT_RI (comma-separated)"), q("terms", "1,3"), q("payments", "NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT"), q("lookback_days", "7, 30 (default), 60 or any up to 366"), q("ladder", "split each purchase into N monthly tranches"),
				q("rank", "risk (default: trend-adjusted, ranked by savings if usage drops 20%, options beyond the limits hidden) or optimum (exact lookback optimum of every option, by expected savings)"),
				q("max_break_even_months", "with rank=risk, hide options breaking even later (default 12; 0: no limit)"), q("allow_loss", "with rank=risk, keep options that lose money if usage drops 20% (true/false)")}, resp: "RecommendationList"},
		{method: http.MethodPost, path: conn + "/commitments/compare", role: analyst, tenantParam: "tenant", handler: s.compareCommitments, tag: "commitments", summary: "Cost Explorer's Savings Plans and reservation utilization and coverage, and each plan's utilization, beside crossbill's, asked through the connection's role: 5 requests ($0.05, more when answers page) against its monthly budget",
			query: []param{q("lookback_days", "the window before the latest data, 30 by default")}, resp: "CommitmentsCompare"},
		{method: http.MethodPost, path: conn + "/commitments/aws-recommendations", role: analyst, tenantParam: "tenant", handler: s.awsRecommendations, tag: "commitments", summary: "Cost Explorer's own Savings Plans and reservation recommendations, asked through the connection's role: one request ($0.01) per type, term and payment option (36 by default) against its monthly budget",
			query: []param{q("types", "COMPUTE_SP, EC2_INSTANCE_SP, RDS_RI, ELASTICACHE_RI, OPENSEARCH_RI, REDSHIFT_RI (comma-separated; default all)"), q("terms", "1,3"), q("payments", "NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT"), q("lookback_days", "7, 30 (default) or 60: Cost Explorer's lookbacks")}, resp: "AWSRecommendations"},
		{method: http.MethodPost, path: tenantPath + "/commitments/simulate", role: viewer, tenantParam: "tenant", handler: s.simulateCommitment, tag: "commitments", summary: "What-if: what a given hourly commitment would have done over the lookback", body: "SimulateRequest", resp: "Recommendation"},

		{method: http.MethodPost, path: tenantPath + "/reviews", role: admin, tenantParam: "tenant", handler: s.createReview, upload: true, tag: "review", summary: "Review an uploaded CloudFormation template (YAML/JSON) or IAM policy: the raw request body", query: []param{q("name", "the file's name")}, resp: "Review", status: http.StatusCreated},
	}...)
}

// failureClass is the schema of a check's failure class: its enum is the
// code's own list, so the document cannot spell a class another way.
func failureClass() obj {
	var names []string
	for _, c := range verify.Classes() {
		names = append(names, string(c))
	}
	return obj{"type": "string", "enum": names, "description": "failure class: says what to change"}
}

// featureSchemas are the OpenAPI schemas of featureRoutes.
func (s *Server) featureSchemas() obj {
	connection := object([]string{"id", "status", "external_id"}, obj{
		"id": str(""), "tenant_id": str(""), "external_id": str("generated by crossbill; read-only"), "hub_principal": str("the ARN the role trusts"),
		"modules": obj{"type": "array", "items": obj{"type": "string"}}, "role_arn": str(""), "account_id": str(""),
		"status":     obj{"type": "string", "enum": []string{"pending", "verified", "failed", "inactive"}},
		"created_at": timestamp(""), "updated_at": timestamp(""), "bill": ref("BillSource"),
		"evaluation": boolean("the template is the read-only evaluation stack (role CrossbillEvaluation)"),
	})
	check := object([]string{"name", "status"}, obj{
		"name": str(""), "module": str(""), "status": obj{"type": "string", "enum": []string{"pass", "fail", "skip"}},
		"class": failureClass(), "message": str(""), "advice": str("the fix"),
		"started_at": timestamp(""), "duration_ms": integer(""),
	})
	template := object([]string{"kind", "file"}, obj{"kind": str("account-role, evaluation, cur, members, events"), "file": str(""), "stack_name": str(""), "region": str(""), "link": str("console quick-create link"), "download": str("API path of the file")})
	sc := obj{
		"OnboardingInfo": object([]string{"modules"}, obj{"modules": obj{"type": "array", "items": object(nil, obj{"name": str(""), "description": str(""), "read_only": boolean(""), "default": boolean(""), "preview": str("set when no feature uses the module yet: what its templates grant until then")})}, "hub_principal": str(""), "region": str(""), "hub_problem": str("why verification cannot reach AWS, when it cannot")}),
		"BillSource":     object([]string{"bucket"}, obj{"connection_id": str(""), "tenant_id": str(""), "account_id": str(""), "bucket": str(""), "path": str(""), "created_at": timestamp(""), "updated_at": timestamp("")}),
		"Connection":     connection,
		"ConnectionList": arrayOf("Connection"),
		"ConnectionInit": object(nil, obj{"hub_principal": str("default: the server's --hub-principal"), "modules": obj{"type": "array", "items": obj{"type": "string"}}, "region": str(""), "format": str("yaml or json"), "evaluation": boolean("read-only evaluation stack only"),
			"events_endpoint": str("opt in to real-time events: crossbill's https URL of POST /api/v1/events, which the events stack calls")}),
		"Template": template,
		"ConnectionCreated": object([]string{"connection", "external_id", "templates"}, obj{
			"connection": ref("Connection"), "external_id": str(""), "templates": obj{"type": "array", "items": ref("Template")}, "links": obj{"type": "object", "additionalProperties": obj{"type": "string"}},
			"events_key": str("with events_endpoint: the events stack's EventsApiKey, shown this once (stored hashed)"),
		}),
		"ConnectionDetail": object([]string{"connection"}, obj{"connection": ref("Connection"), "verification": ref("Verification"), "templates": obj{"type": "array", "items": ref("Template")}, "bill": ref("BillSource"), "jobs": arrayOf("Job")}),
		"VerifyRequest":    object(nil, obj{"role_arn": str("the stack's RoleArn output (default: the bound role, else the role of the last attempt)"), "include_paid": boolean("also run Cost Explorer probes ($0.01 each)")}),
		"Check":            check,
		"Verification": object([]string{"status", "checks"}, obj{
			"status": obj{"type": "string", "enum": []string{"verified", "failed", "inconclusive"}}, "connection_id": str(""), "role_arn": str(""), "account_id": str(""),
			"id": integer("stored verification (history)"), "verification_id": integer("the stored verification (verify now)"), "tenant": str("tenant name (verify now)"),
			"modules":    obj{"type": "array", "items": obj{"type": "string"}},
			"started_at": timestamp(""), "finished_at": timestamp(""), "duration_ms": integer(""), "checks": obj{"type": "array", "items": ref("Check")},
			"bill": object(nil, obj{"source": str("s3://bucket/prefix/export"), "discovered": boolean("registered by this verification"), "periods": integer("billing periods delivered"), "note": str("why no bill is known, or what could not be read")}),
		}),
		"BillSourceRequest": object([]string{"source"}, obj{"source": str("s3://BUCKET/PREFIX/EXPORT, the folder holding data/ and metadata/")}),
		"VerificationList":  arrayOf("Verification"),
		"BillConnect": object([]string{"aws_bill_account_id", "aws_bucket_name", "aws_bucket_path", "aws_sts_role_arn"}, obj{
			"aws_bill_account_id": str("12-digit account that owns the bill bucket"), "aws_bucket_name": str("the CUR export bucket"),
			"aws_bucket_path": str("the export's folder: PREFIX/EXPORT"), "aws_sts_role_arn": str("the role trusting crossbill with the connection's external ID"),
		}),
		"BillConnectResult": object([]string{"connection", "verification"}, obj{"connection": ref("Connection"), "external_id": str(""), "verification": ref("Verification"), "ingest_job": ref("Job"), "message": str("")}),
		"CostResult": object([]string{"rows", "totals", "total"}, obj{
			"metric": str(""), "group_by": str(""), "granularity": str(""), "from": str(""), "to": str(""), "source": str("table that answered"),
			"sources": obj{"type": "array", "items": ref("DataSource")},
			"rows":    obj{"type": "array", "items": object(nil, obj{"period": timestamp(""), "group": str(""), "value": num("")})},
			"totals":  obj{"type": "array", "items": object(nil, obj{"group": str(""), "value": num("")})}, "total": num(""),
			"names":  obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "grouped by account: account ID to its name from the tenant's AWS Organizations, else from Cost Explorer"},
			"athena": ref("AthenaCost"),
		}),
		"CostMoM": object([]string{"current", "previous", "changes"}, obj{"metric": str(""), "group_by": str(""),
			"current": object(nil, obj{"from": str("YYYY-MM-DD"), "to": str("YYYY-MM-DD, exclusive")}), "previous": object(nil, obj{"from": str("YYYY-MM-DD"), "to": str("YYYY-MM-DD, exclusive")}),
			"changes": obj{"type": "array", "items": object(nil, obj{"group": str(""), "previous": num(""), "current": num(""), "delta": num("current - previous"), "percent": num("null when previous is 0")})},
			"names":   obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "grouped by account: account ID to its name"}, "athena": ref("AthenaCost")}),
		"CostAnomalies": object([]string{"anomalies"}, obj{"anomalies": obj{"type": "array", "items": object(nil, obj{"day": str("YYYY-MM-DD"), "dim": str(""), "group": str(""),
			"value": num(""), "baseline": num("median of the window"), "delta": num("value - baseline"), "score": num("robust z-score"), "direction": str("spike or drop"), "name": str("an account's name")})},
			"athena": ref("AthenaCost")}),
		"AthenaCost": object([]string{"queries", "scanned_bytes", "billed_bytes", "cost_usd"}, obj{"queries": integer("Athena queries the answer ran"),
			"scanned_bytes": integer("bytes they scanned (GetQueryExecution's statistics)"), "billed_bytes": integer("bytes Athena bills: each query rounded up to a whole MB, 10 MB at least"),
			"cost_usd": num("$5 per TB billed, in the customer's AWS account; computed when the answer was, a cached repeat costs nothing")}),
		"AthenaSpend": object([]string{"month", "queries", "scanned_bytes", "billed_bytes", "cost_usd"}, obj{"month": str("YYYY-MM (UTC)"),
			"queries": integer("Athena queries billed this month"), "scanned_bytes": integer(""), "billed_bytes": integer(""), "cost_usd": num("$5 per TB billed, in the customer's AWS account")}),
		"SavedViewQuery": object(nil, obj{"metric": str(""), "group_by": str(""), "granularity": str(""), "from": str(""), "to": str(""),
			"filters": obj{"type": "array", "items": obj{"type": "string"}, "description": "DIM=V1,V2 each"}, "billing_periods": obj{"type": "array", "items": obj{"type": "string"}}, "top": integer("")}),
		"SavedView": object([]string{"id", "name", "query"}, obj{"id": str("cv_..."), "name": str(""), "query": ref("SavedViewQuery"),
			"created_by": str("the actor, as the audit log names it"), "person": str("the person's email when a person saved it"), "created_at": str("")}),
		"SavedViewList":   arrayOf("SavedView"),
		"SavedViewCreate": object([]string{"name", "query"}, obj{"name": str("1 to 100 characters, not starting with cv_"), "query": ref("SavedViewQuery")}),
		"CostEngine": object([]string{"tenant_id", "engine"}, obj{"tenant_id": str(""), "engine": str("local or athena"), "connection_id": str("athena: the connection whose role runs the queries"),
			"athena_table": str("athena: DATABASE.TABLE, the CUR stack's Glue table"), "athena_workgroup": str("athena: the CUR stack's workgroup"), "updated_at": timestamp(""),
			"athena_spend": ref("AthenaSpend")}),
		"CostEngineRequest": object([]string{"engine"}, obj{"engine": str("local or athena"), "connection_id": str("required for athena")}),
		"DataSource": object([]string{"source", "label", "included"}, obj{"source": str("cur, cost_explorer or athena"), "label": str("e.g. \"Cost Explorer, daily, until the CUR export arrives\""),
			"from": str("first day held in the range"), "to": str("last day held in the range"), "included": boolean("whether these days are in the answer"), "note": str("why not")}),
		"CostExplorerUsage": object([]string{"budget_requests", "requests"}, obj{"tenant_id": str(""), "connection_id": str(""), "month": str("YYYY-MM (UTC)"),
			"requests": integer("requests sent this month"), "requests_by_operation": obj{"type": "object", "additionalProperties": integer("")},
			"budget_requests": integer("monthly cap"), "budget_is_default": boolean(""), "spent_usd": num(""), "budget_usd": num(""),
			"loaded_from": str("YYYY-MM-DD"), "loaded_through": str("YYYY-MM-DD"), "loaded_at": str(""), "status": str("loaded, up_to_date, cur or budget_reached"), "message": str(""), "label": str("")}),
		"CostForecast": object([]string{"month", "forecast"}, obj{"month": str("YYYY-MM"), "metric": str(""), "actual_to_date": num(""), "forecast": num("the month's total"),
			"low": num("~95% interval"), "high": num(""), "days_actual": integer(""), "days_in_month": integer(""), "method": str(""),
			"cost_explorer": object(nil, obj{"label": str("Cost Explorer's own forecast ..."), "actual_before_forecast": num("crossbill's cost of the month before forecast_from"),
				"forecast_from": str("YYYY-MM-DD, the day Cost Explorer's forecast starts"), "forecast": num("the month's total: actual_before_forecast + Cost Explorer's mean"),
				"low": num("80% prediction interval"), "high": num(""), "fetched_at": str(""),
				"later_months": obj{"type": "array", "items": ref("ExplorerForecast")}}), "athena": ref("AthenaCost")}),
		"ExplorerForecast": object(nil, obj{"connection_id": str(""), "month": str("YYYY-MM"), "from": str("first day forecast"), "to": str("last day forecast"),
			"mean": num(""), "low": num(""), "high": num(""), "fetched_at": str("")}),
		"CommitmentsCompare": object([]string{"figures"}, obj{"from": str("YYYY-MM-DD"), "to": str("YYYY-MM-DD, exclusive"),
			"figures": obj{"type": "array", "items": object(nil, obj{"figure": str(""), "crossbill": num("fraction, null without data"), "cost_explorer": num("fraction, null without data"), "why": str("where the definitions differ")})},
			"savings_plans": obj{"type": "array", "items": object(nil, obj{"arn": str(""), "account": str(""), "crossbill": num("fraction, null when the CUR does not hold the plan"),
				"cost_explorer": num("fraction, null when Cost Explorer does not"), "commitment": num("over the window"), "cost_explorer_unused": num("")})},
			"athena": ref("AthenaCost")}),
		"AWSRecommendations": obj{"type": "array", "items": ref("AWSRecommendation")},
		"AWSRecommendation": object([]string{"type", "term_years", "payment_option"}, obj{"type": str(""), "term_years": integer(""), "payment_option": str(""), "lookback_days": integer(""),
			"scope": str("payer or linked"), "hourly_commitment": num("Savings Plans only"), "upfront_cost": num(""), "monthly_savings": num(""), "savings_percent": num("fraction"),
			"details": obj{"type": "array", "items": obj{"type": "object"}}}),
		"CostExplorerBudget":      object([]string{"budget_requests"}, obj{"budget_requests": integer("requests a month, $0.01 each; 0: the default")}),
		"CostExplorerLoadRequest": object(nil, obj{"force": boolean("load even if today's load is done")}),
		"CostExplorerLoad": object([]string{"status", "requests"}, obj{"tenant_id": str(""), "connection_id": str(""), "status": str(""), "message": str(""),
			"from": str("first day asked"), "to": str("last day asked"), "requests": integer("sent by this load"), "rows": integer(""),
			"tag_keys": obj{"type": "array", "items": obj{"type": "string"}}, "usage": ref("CostExplorerUsage"),
			"account_names": integer("linked accounts Cost Explorer named"), "forecast_months": integer("months of Cost Explorer's forecast fetched")}),
		"Reconciliations": obj{"type": "array", "items": object(nil, obj{"billing_period": str(""), "account": str("empty: the period's total"), "cost_explorer": num(""), "cur": num(""),
			"difference": num("CUR minus Cost Explorer"), "over_tolerance": boolean(""), "reconciled_at": str("")})},
		"CostMeta": object([]string{"engine", "metrics", "dimensions", "periods", "loaded"}, obj{"engine": obj{"type": "string", "enum": []string{store.EngineLocal, store.EngineAthena}, "description": "the engine that answered"},
			"metrics": obj{"type": "array", "items": obj{"type": "string"}}, "dimensions": obj{"type": "array", "items": ref("CostDimension")},
			"periods":      obj{"type": "array", "items": obj{"type": "string"}, "description": "billing periods YYYY-MM: loaded (and Cost Explorer's), or Athena's table's"},
			"default_from": str(""), "default_to": str(""), "loaded": obj{"type": "array", "items": ref("CostPeriod")},
			"values": ref("DimensionValues"), "athena": ref("AthenaCost")}),
		"CostDimension": object([]string{"name"}, obj{"name": str(""), "keyed": boolean("takes a key: tag:KEY, cost-category:KEY")}),
		"CostPeriod": object([]string{"billing_period"}, obj{"tenant": str(""), "billing_period": str("YYYY-MM"), "source": str("the export loaded, or athena:DATABASE.TABLE"),
			"format": str("cur2 or focus"), "execution_id": str("the export's execution loaded (empty for Athena)"), "rows": integer("line items"), "files": integer("Parquet files loaded (0 for Athena)"),
			"ingested_at": str("empty for Athena: nothing is loaded")}),
		"DimensionValues": object([]string{"dimension", "values"}, obj{"dimension": str("as asked"), "billing_periods": obj{"type": "array", "items": obj{"type": "string"}, "description": "the periods read"},
			"values": obj{"type": "array", "items": obj{"type": "string"}, "description": "non-empty values, sorted"}, "truncated": boolean("more than 1000 values: the first 1000")}),
		"CommitmentInventory": object([]string{"inventory", "expirations"}, obj{"inventory": obj{"type": "array", "items": obj{"type": "object"}}, "expirations": obj{"type": "array", "items": obj{"type": "object"}}, "source": str(""), "athena": ref("AthenaCost")}),
		"Utilization":         object(nil, obj{"from": timestamp(""), "to": timestamp(""), "daily": obj{"type": "array", "items": obj{"type": "object"}}, "total": obj{"type": "object"}, "by_commitment": obj{"type": "array", "items": obj{"type": "object"}}, "coverage": obj{"type": "array", "items": obj{"type": "object"}}, "coverage_total": num(""), "athena": ref("AthenaCost")}),
		"Recommendation": object(nil, obj{
			"type": str(""), "term_years": integer(""), "payment_option": str(""), "scope": str(""), "key": str(""), "hourly_commitment": num(""), "count": integer(""),
			"upfront_cost": num(""), "monthly_savings": num(""), "savings_percent": num(""), "break_even_month": integer(""), "expected_utilization": num(""), "expected_coverage": num(""),
			"if_usage_drops":              obj{"type": "array", "items": object(nil, obj{"usage_drop": num(""), "monthly_savings": num(""), "utilization": num("")})},
			"downside_monthly_savings_20": num("monthly savings if usage drops 20% (negative: a loss)"), "downside_monthly_savings_30": num("same, 30%"),
			"why": str("why the trend moved the commitment off the lookback optimum"),
			"trend": object(nil, obj{"direction": str("flat, declining, growing or unknown"), "slope_per_day": num("Theil–Sen, fraction of the median day"),
				"mann_kendall_z": num(""), "recent_days": integer(""), "recent_vs_lookback": num(""), "action": str("none, shrink, hold or grow"),
				"lookback_optimum_hourly": num("the exact optimum before the trend policy"), "why": str("")}),
		}),
		"RecommendationList": arrayOf("Recommendation"),
		"SimulateRequest":    object([]string{"type", "term_years", "payment_option", "hourly_commitment"}, obj{"type": str(""), "term_years": integer(""), "payment_option": str(""), "key": str("family/region or instance type/region"), "hourly_commitment": num("$/h"), "lookback_days": integer("")}),
	}
	for k, v := range memberSchemas() {
		sc[k] = v
	}
	for k, v := range authSchemas() {
		sc[k] = v
	}
	for k, v := range accessSchemas() {
		sc[k] = v
	}
	for k, v := range jitSchemas() {
		sc[k] = v
	}
	for k, v := range remediationSchemas() {
		sc[k] = v
	}
	for k, v := range inventorySchemas() {
		sc[k] = v
	}
	for k, v := range approvalSchemas() {
		sc[k] = v
	}
	for k, v := range purchaseSchemas() {
		sc[k] = v
	}
	for k, v := range lifecycleSchemas() {
		sc[k] = v
	}
	for k, v := range bindingSchemas() {
		sc[k] = v
	}
	for k, v := range alertSchemas() {
		sc[k] = v
	}
	for k, v := range eventSchemas() {
		sc[k] = v
	}
	for k, v := range automationSchemas() {
		sc[k] = v
	}
	for k, v := range optimizeSchemas() {
		sc[k] = v
	}
	return sc
}

// registerRunners registers the scheduler's job kinds.
func (s *Server) registerRunners() {
	if s.sched == nil {
		return
	}
	s.sched.Handle(JobVerify, s.runVerify)
	s.sched.Handle(JobIngest, s.runIngest)
	s.sched.Handle(JobMembers, s.runMembers)
	s.sched.Handle(JobCostExplorer, s.runCostExplorer)
	s.sched.Handle(JobAccess, s.runAccess)
	s.sched.Handle(JobJITReconcile, s.runJITReconcile)
	s.sched.Handle(JobNotify, s.runNotify)
	s.sched.Handle(JobAlerts, s.runAlerts)
	s.sched.Handle(JobAutomation, s.runAutomation)
	s.sched.Handle(JobOptimize, s.runOptimize)
	s.sched.Handle(JobRemediation, s.runRemediationJob)
	s.sched.Handle(JobInventory, s.runInventory)
	s.sched.Handle(JobRenewals, s.runRenewals)
	s.sched.Handle(JobPurchases, s.runPurchases)
}
