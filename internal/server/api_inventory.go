package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
)

// The inventory routes answer from the stored inventory (`crossbill
// inventory sync`, the daily inventory job); each calls one use case of
// internal/inventory, as the CLI does.

// JobInventory syncs a verified connection with the inventory module
// daily, and on demand.
const (
	JobInventory      = "inventory"
	inventoryInterval = 24 * time.Hour
)

func (s *Server) inventoryList(w http.ResponseWriter, r *http.Request) error {
	qv := r.URL.Query()
	f := inventory.Filter{Account: crossbill.AccountID(qv.Get("account")), Region: qv.Get("region"), Service: qv.Get("service"), Type: qv.Get("type")}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return crossbill.Errorf(crossbill.CodeInvalid, "inventory list", "limit=%q: give a number from 1 to %d", v, inventory.MaxList)
		}
		f.Limit = n
	}
	res, err := inventory.ListResources(r.Context(), s.store, tenantOf(r).ID, f)
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

func (s *Server) inventoryShow(w http.ResponseWriter, r *http.Request) error {
	res, err := inventory.Show(r.Context(), s.store, tenantOf(r).ID, r.URL.Query().Get("arn"))
	if err != nil {
		return err
	}
	return ok(w, r, res)
}

// inventorySync queues the connection's inventory job now (202 with the
// job): a sync of an organization's every region outlasts a request.
func (s *Server) inventorySync(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	if _, err := inventory.ConnectionFor(r.Context(), s.store, c.TenantID, c.ID); err != nil {
		return err
	}
	if s.sched == nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "inventory sync", "no scheduler in this server")
	}
	j, err := s.sched.Enqueue(r.Context(), store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobInventory, Interval: inventoryInterval})
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusAccepted, j)
	return nil
}

// runInventory is the daily (and on-demand) inventory sync. Parts it
// cannot read are recorded with the sync, not failures of the job.
func (s *Server) runInventory(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	c, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	if c.Status != store.StatusVerified {
		return s.awaitVerify(ctx, c)
	}
	opts := inventory.SyncOptions{Tenant: t.Name, CollectOptions: inventory.CollectOptions{AWS: s.cfg.AWS, Now: s.now}}
	// The CUR's per-resource costs, when this replica can read the
	// tenant's; without them the price list labels every figure.
	if s.cfg.ClusterCosts != nil {
		cs, release, err := s.cfg.ClusterCosts.Tenant(ctx, t.ID)
		if err == nil {
			defer release()
			opts.Costs = cs
		}
	} else if s.costsDB != nil {
		opts.Costs = s.costsDB
	}
	n := 0
	opts.Progress = func(format string, args ...any) {
		n++
		progress(min(0.95, float64(n)/float64(n+8)), fmt.Sprintf(format, args...))
	}
	res, err := inventory.Sync(ctx, s.store, c, opts)
	if err != nil {
		return err
	}
	progress(1, fmt.Sprintf("%d resource(s) in %d account(s) and %d region(s), %d part(s) unread", res.Resources, res.Accounts, len(res.Regions), len(res.Failures)))
	// The recommendations follow the inventory: evaluate it now.
	return s.ScheduleOptimize(ctx, c.TenantID, s.now())
}

// scheduleInventory gives a connection with the inventory module its
// daily sync, first run at runAt. Enqueueing is idempotent.
func (s *Server) scheduleInventory(ctx context.Context, c store.Connection, runAt time.Time) error {
	if s.sched == nil || !slices.Contains(c.Modules, manifest.ModuleInventory) {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobInventory, RunAt: runAt, Interval: inventoryInterval})
	return err
}

func inventoryRoutes(s *Server, conn string) []route {
	return []route{
		{method: http.MethodPost, path: conn + "/inventory/sync", role: admin, tenantParam: "tenant", handler: s.inventorySync, tag: "inventory",
			summary: "Queue the connection's inventory sync now (every enabled region of every verified account; the server also syncs daily); answers the job", resp: "Job", status: http.StatusAccepted},
		{method: http.MethodGet, path: tenantPath + "/inventory", role: viewer, tenantParam: "tenant", handler: s.inventoryList, tag: "inventory",
			summary: "The tenant's resources as last collected, with their cost and its source, and each connection's newest sync with what it could not read",
			query: []param{q("account", "only this account's"), q("region", "only this region's"), q("service", "ec2, rds, s3, elasticloadbalancing..."), q("type", "instance, volume, snapshot, bucket..."),
				q("limit", "at most this many (default and maximum 5000)")}, resp: "InventoryList"},
		{method: http.MethodGet, path: tenantPath + "/inventory/resource", role: viewer, tenantParam: "tenant", handler: s.inventoryShow, tag: "inventory",
			summary: "One resource by ARN, with its utilization (daily CloudWatch points over the window)", query: []param{q("arn", "the resource's ARN (required)")}, resp: "InventoryDetail"},
	}
}

func inventorySchemas() obj {
	return obj{
		"InventoryRelation": object([]string{"kind", "target"}, obj{"kind": str("attached-to, used-by, associated-with, member-of, routes-to, uses"), "target": str("ARN of the other resource")}),
		"InventoryCost": object([]string{"monthly_amortized", "monthly_on_demand", "currency", "source"}, obj{
			"monthly_amortized": num("per 730-hour month, after Savings Plans and reservations"), "monthly_on_demand": num("per 730-hour month, at on-demand rates"),
			"currency": str(""), "source": str("cur (the resource's own line items) or price-list (on-demand list price)"),
			"covered_by_commitment": boolean("some usage is covered by a Savings Plan or reservation: shrinking it frees commitment rather than cash")}),
		"InventoryResource": object([]string{"arn", "account_id", "region", "service", "type", "id", "fetched"}, obj{
			"arn": str(""), "account_id": str(""), "region": str(""), "service": str("IAM service prefix: ec2, rds, s3..."), "type": str("IAM resource type: instance, volume, bucket..."),
			"id": str("the resource's own ID, as the CUR's line_item_resource_id has it"), "name": str(""), "state": str(""), "created": timestamp(""), "fetched": timestamp("when a sync last read it"),
			"tags": obj{"type": "object", "additionalProperties": obj{"type": "string"}}, "metadata": anyJSON("the service's description, trimmed to what the rules and the UI read"),
			"relations": arrayOf("InventoryRelation"), "console_url": str(""), "cost": ref("InventoryCost")}),
		"InventoryDatapoint": object([]string{"at", "value"}, obj{"at": timestamp(""), "value": num("")}),
		"InventorySeries": object([]string{"namespace", "metric", "stat", "period_seconds", "points"}, obj{"namespace": str(""), "metric": str(""), "stat": str("Average, Maximum or Sum"),
			"period_seconds": integer(""), "unit": str(""), "points": arrayOf("InventoryDatapoint")}),
		"InventoryUtilization": object([]string{"arn", "from", "to", "series"}, obj{"arn": str(""), "from": timestamp(""), "to": timestamp(""), "series": arrayOf("InventorySeries")}),
		"InventoryFailure": object([]string{"account_id", "service", "operation", "class", "message"}, obj{"account_id": str(""), "region": str(""), "service": str(""), "operation": str(""),
			"class": str("the failure class (scp-deny, missing-permission, throttled...)"), "message": str(""), "fix": str("")}),
		"InventorySync": object([]string{"id", "connection_id", "started_at", "failures"}, obj{"id": str(""), "connection_id": str(""), "started_at": timestamp(""), "finished_at": timestamp(""),
			"accounts": integer(""), "regions": integer(""), "resources": integer(""), "failures": arrayOf("InventoryFailure")}),
		"InventoryList":   object([]string{"resources", "syncs"}, obj{"resources": arrayOf("InventoryResource"), "syncs": arrayOf("InventorySync")}),
		"InventoryDetail": object([]string{"resource", "utilization"}, obj{"resource": ref("InventoryResource"), "utilization": obj{"oneOf": []obj{ref("InventoryUtilization"), {"type": "null"}}}}),
	}
}
