package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	accessgov "github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// The access governance routes answer from the newest access sync of a
// connection (`crossbill access sync`); each calls one use case of
// internal/access, as the CLI does.

func (s *Server) accessPrincipals(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	qv := r.URL.Query()
	f := accessgov.PrincipalFilter{Kind: qv.Get("kind"), Account: crossbill.AccountID(qv.Get("account")), Search: qv.Get("search")}
	if a := qv.Get("admin"); a != "" {
		if f.Admin, err = strconv.ParseBool(a); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "access principals", "admin=%q: use true or false", a)
		}
	}
	res, err := accessgov.Principals(r.Context(), s.store, c.TenantID, c.ID, f)
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

// accessThresholds reads unused_days and key_age_days (default 90).
func accessThresholds(r *http.Request) (accessgov.Thresholds, error) {
	days := func(name string) (time.Duration, error) {
		v := r.URL.Query().Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return 0, crossbill.Errorf(crossbill.CodeInvalid, "access", "%s=%q: give a number of days from 1 to 3650", name, v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	var t accessgov.Thresholds
	var err error
	if t.Unused, err = days("unused_days"); err != nil {
		return t, err
	}
	t.KeyAge, err = days("key_age_days")
	return t, err
}

func (s *Server) accessPrincipal(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	t, err := accessThresholds(r)
	if err != nil {
		return err
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "access show", "id is required: an ARN, an ID from the principals list, or a unique name")
	}
	res, err := accessgov.ShowPrincipal(r.Context(), s.store, c.TenantID, c.ID, id, t)
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

func (s *Server) accessWhoCan(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	res, err := accessgov.WhoCanDo(r.Context(), s.store, c.TenantID, c.ID, r.URL.Query().Get("action"), r.URL.Query().Get("resource"))
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

func (s *Server) accessFindings(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	t, err := accessThresholds(r)
	if err != nil {
		return err
	}
	res, err := accessgov.FindingsFor(r.Context(), s.store, c.TenantID, c.ID, t, policy.Severity(r.URL.Query().Get("severity")))
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

func (s *Server) accessChanges(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	since := time.Now().Add(-24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "access changes", "since=%q: give an RFC 3339 time", v)
		}
	}
	res, err := accessgov.ChangesSince(r.Context(), s.store, c.TenantID, c.ID, since)
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

// accessSyncTimeout bounds a sync started through the API below the
// server's write timeout (2 minutes), so the caller gets an answer; the
// daily job has no such bound.
const accessSyncTimeout = 100 * time.Second

// accessSync runs an access sync of the connection now, as `crossbill
// access sync` does, and answers its result.
func (s *Server) accessSync(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	var in struct {
		Concurrency int    `json:"concurrency"`
		SSORegion   string `json:"sso_region"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Concurrency < 0 || in.Concurrency > 64 {
		return crossbill.Errorf(crossbill.CodeInvalid, "access sync", "concurrency %d: give 1 to 64 accounts read at once (0 for the default %d)", in.Concurrency, accessgov.DefaultConcurrency)
	}
	if in.SSORegion == "" {
		in.SSORegion = "us-east-1"
	}
	conn, err := accessgov.ConnectionFor(r.Context(), s.store, c.TenantID, c.ID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), accessSyncTimeout)
	defer cancel()
	res, err := accessgov.Sync(ctx, s.store, conn, accessgov.SyncOptions{Tenant: tenantOf(r).Name, CollectOptions: accessgov.CollectOptions{AWS: s.cfg.AWS, Region: in.SSORegion, Concurrency: in.Concurrency}})
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && r.Context().Err() == nil {
			return crossbill.Errorf(crossbill.CodeUnavailable, "access sync", "the sync took longer than %s: run `crossbill access sync` for a large organization, or let the daily job read it", accessSyncTimeout)
		}
		return err
	}
	return ok(w, r, res)
}

func accessRoutes(s *Server, conn string) []route {
	th := []param{q("unused_days", "days without use that make a user dormant and a key, role or service unused (default 90)"), q("key_age_days", "age past which an active key should be rotated (default 90)")}
	return []route{
		{method: http.MethodPost, path: conn + "/access/sync", role: admin, tenantParam: "tenant", handler: s.accessSync, tag: "access", summary: "Sync the connection's identities and entitlements now, as `crossbill access sync` does (bounded to 100 s; the server also syncs daily)",
			body: "AccessSyncRequest", resp: "AccessSyncResult"},
		{method: http.MethodGet, path: conn + "/access/principals", role: viewer, tenantParam: "tenant", handler: s.accessPrincipals, tag: "access", summary: "Principals of the newest access sync (IAM users, roles, groups; Identity Center users and groups)",
			query: []param{q("kind", "iam-user, iam-role, iam-group, sso-user or sso-group"), q("account", "only this account's principals"), q("admin", "true: only admin-equivalent principals"), q("search", "part of the name or ID")}, resp: "AccessPrincipalList"},
		{method: http.MethodGet, path: conn + "/access/principal", role: viewer, tenantParam: "tenant", handler: s.accessPrincipal, tag: "access", summary: "One principal: grants with their paths, effective permissions per account and service, findings",
			query: append([]param{q("id", "ARN, principal ID or unique name (required)")}, th...), resp: "AccessPrincipalDetail"},
		{method: http.MethodGet, path: conn + "/access/who-can", role: viewer, tenantParam: "tenant", handler: s.accessWhoCan, tag: "access", summary: "Who may call an action (on a resource) across the organization, with the path of each answer",
			query: []param{q("action", "SERVICE:Action (required)"), q("resource", "an ARN; one naming an account narrows the answer to it")}, resp: "AccessWhoCan"},
		{method: http.MethodGet, path: conn + "/access/findings", role: viewer, tenantParam: "tenant", handler: s.accessFindings, tag: "access", summary: "Findings of the newest access sync, with severity, evidence and fix",
			query: append([]param{q("severity", "only at or above: info, low, medium, high, critical")}, th...), resp: "AccessFindingList"},
		{method: http.MethodGet, path: conn + "/access/changes", role: viewer, tenantParam: "tenant", handler: s.accessChanges, tag: "access", summary: "What the access syncs since a time found changed (default: the last 24 hours)",
			query: []param{q("since", "RFC 3339 time")}, resp: "AccessChangeList"},
	}
}

func accessSchemas() obj {
	strs := obj{"type": "array", "items": obj{"type": "string"}}
	view := obj{"connection_id": str(""), "sync_id": str(""), "taken_at": timestamp(""), "errors": arrayOf("AccessCollectError")}
	with := func(extra obj) obj {
		out := obj{}
		for k, v := range view {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	return obj{
		"AccessCollectError": object([]string{"account", "service", "operation", "message"}, obj{"account": str(""), "service": str(""), "operation": str(""), "class": str(""), "message": str(""), "fix": str("")}),
		"AccessPrincipal": object([]string{"id", "kind", "name"}, obj{"id": str("ARN, or sso-user:ID / sso-group:ID"), "kind": str("iam-user, iam-role, iam-group, sso-user, sso-group"), "name": str(""),
			"account": str("empty for Identity Center principals"), "last_used": timestamp(""), "grants": integer(""), "admin": boolean("admin-equivalent through some path")}),
		"AccessGrant": object([]string{"principal", "kind", "entitlement", "path"}, obj{"principal": str(""), "account": str(""), "kind": str("policy, inline-policy, group, permission-set"), "entitlement": str(""), "path": strs}),
		"AccessFinding": object([]string{"id", "severity", "principal", "title", "evidence", "fix"}, obj{"id": str(""), "severity": str(""), "principal": str(""), "name": str(""), "account": str(""),
			"title": str(""), "evidence": str(""), "fix": str(""), "outside_account": str("the account an outside-trust finding names")}),
		"AccessServicePermissions": object([]string{"service", "allowed", "of"}, obj{"account": str(""), "path": strs, "service": str(""), "allowed": integer(""), "of": integer(""), "denied": integer("granted but denied by a boundary, SCP or RCP"), "actions": strs, "deny_by": strs}),
		"AccessAnswer": object([]string{"principal", "decision", "path"}, obj{"principal": str(""), "kind": str(""), "name": str(""), "account": str(""), "decision": str("allowed or allowed-under-conditions"),
			"path": strs, "via": strs, "missing_keys": strs}),
		"AccessChange": object([]string{"kind", "principal", "entitlement"}, obj{"sync_id": str(""), "connection_id": str(""), "at": timestamp(""), "kind": str("gained, lost, new-outside-trust"),
			"principal": str(""), "account": str(""), "entitlement": str(""), "detail": str("")}),
		"AccessPrincipalList": object([]string{"principals"}, with(obj{"principals": arrayOf("AccessPrincipal")})),
		"AccessPrincipalDetail": object([]string{"principal", "grants", "permissions", "findings"}, with(obj{"principal": ref("AccessPrincipal"), "grants": arrayOf("AccessGrant"),
			"permissions": arrayOf("AccessServicePermissions"), "findings": arrayOf("AccessFinding")})),
		"AccessWhoCan":      object([]string{"action", "answers"}, with(obj{"action": str(""), "resource": str(""), "answers": arrayOf("AccessAnswer")})),
		"AccessFindingList": object([]string{"findings"}, with(obj{"findings": arrayOf("AccessFinding")})),
		"AccessSyncRequest": object(nil, obj{"concurrency": integer("accounts read at once (default 8)"), "sso_region": str("region of the Identity Center instance (default us-east-1)")}),
		"AccessSyncResult": object([]string{"sync_id", "connection_id", "errors", "changes"}, obj{"sync_id": str(""), "connection_id": str(""), "accounts": integer(""), "principals": integer(""), "grants": integer(""),
			"errors": arrayOf("AccessCollectError"), "changes": arrayOf("AccessChange"), "first": boolean("no earlier sync to compare with, so no changes are recorded"), "started_at": timestamp(""), "duration_ms": integer("")}),
		"AccessChangeList": object([]string{"since", "changes"}, obj{"since": timestamp(""), "changes": arrayOf("AccessChange")}),
	}
}

// JobAccess syncs a verified connection with the access-read module daily,
// so that `access changes` answers "what changed since yesterday".
const (
	JobAccess      = "access"
	accessInterval = 24 * time.Hour
)

// runAccess is the daily access sync. Parts a sync cannot read are
// recorded in it and do not fail the job; a role that cannot read IAM at
// all does (and is retried with backoff).
func (s *Server) runAccess(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	c, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	n := 0
	res, err := accessgov.Sync(ctx, s.store, c, accessgov.SyncOptions{Tenant: t.Name, CollectOptions: accessgov.CollectOptions{AWS: s.cfg.AWS,
		Progress: func(format string, args ...any) {
			n++
			progress(min(0.95, float64(n)/float64(n+8)), fmt.Sprintf(format, args...))
		}}})
	if err != nil {
		return err
	}
	progress(1, fmt.Sprintf("%d account(s), %d principals, %d change(s), %d part(s) unread", res.Accounts, res.Principals, len(res.Changes), len(res.Errors)))
	return nil
}

// scheduleAccess gives a connection with the access-read module its daily
// access sync, first run at runAt. Enqueueing is idempotent.
func (s *Server) scheduleAccess(ctx context.Context, c store.Connection, runAt time.Time) error {
	if s.sched == nil || !slices.Contains(c.Modules, manifest.ModuleAccessRead) {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobAccess, RunAt: runAt, Interval: accessInterval})
	return err
}
