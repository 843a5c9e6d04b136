package inventory

import (
	"context"
	"encoding/json"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Filter narrows Resources; empty fields match all.
type Filter struct {
	Account crossbill.AccountID `json:"account_id,omitempty"`
	Region  string              `json:"region,omitempty"`
	Service string              `json:"service,omitempty"`
	Type    string              `json:"type,omitempty"`
	Limit   int                 `json:"limit,omitempty"`
}

// Resources returns a tenant's resources matching f, ordered by account,
// region, service, type and ARN.
func Resources(ctx context.Context, st *store.Store, tenant crossbill.TenantID, f Filter) ([]Resource, error) {
	rows, err := st.InventoryResources(ctx, tenant, store.InventoryFilter{Account: f.Account, Region: f.Region, Service: f.Service, Type: f.Type, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(rows))
	for _, row := range rows {
		r, err := decode(tenant, row)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Detail is one resource with its utilization (nil when none was read).
type Detail struct {
	Resource    Resource     `json:"resource"`
	Utilization *Utilization `json:"utilization"`
}

// Show returns one of a tenant's resources and its utilization; NotFound
// for an ARN the tenant's inventory lacks (another tenant's included).
func Show(ctx context.Context, st *store.Store, tenant crossbill.TenantID, arn string) (Detail, error) {
	if err := crossbill.CheckText("inventory show", "arn", arn); err != nil {
		return Detail{}, err
	}
	if arn == "" {
		return Detail{}, crossbill.Errorf(crossbill.CodeInvalid, "inventory show", "give a resource's ARN (from `crossbill inventory list`)")
	}
	row, err := st.InventoryResource(ctx, tenant, arn)
	if err != nil {
		return Detail{}, err
	}
	r, err := decode(tenant, row)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Resource: r}
	us, err := UtilizationOf(ctx, st, tenant, []string{arn})
	if err != nil {
		return Detail{}, err
	}
	if u, ok := us[arn]; ok {
		d.Utilization = &u
	}
	return d, nil
}

// UtilizationOf returns the stored utilization of the tenant's resources
// among arns (nil: every resource), keyed by ARN; resources without
// metrics are absent.
func UtilizationOf(ctx context.Context, st *store.Store, tenant crossbill.TenantID, arns []string) (map[string]Utilization, error) {
	rows, err := st.InventoryUtilization(ctx, tenant, arns)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Utilization, len(rows))
	for _, row := range rows {
		var u Utilization
		if err := json.Unmarshal(row.Data, &u); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "inventory", "utilization of %s: %w", row.ARN, err)
		}
		out[row.ARN] = u
	}
	return out, nil
}

// Save stores resources (and their utilization) as a tenant's inventory,
// replacing what is stored under the same ARNs; nothing is pruned. The
// demo writes its synthetic inventory with it. A resource's Fetched, when
// zero, is now.
func Save(ctx context.Context, st *store.Store, tenant crossbill.TenantID, resources []Resource, utilization []Utilization) error {
	now := st.Now().UTC()
	rs := make([]Resource, len(resources))
	for i, r := range resources {
		if r.Fetched.IsZero() {
			r.Fetched = now
		}
		if r.Console == "" {
			r.Console = consoleURL(r)
		}
		rs[i] = r
	}
	return save(ctx, st, tenant, "", rs, utilization, nil, now)
}

func save(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID, rs []Resource, us []Utilization, prune []store.InventoryScope, before time.Time) error {
	const op = "inventory save"
	rows := make([]store.InventoryRow, 0, len(rs))
	for _, r := range rs {
		if r.ARN == "" || r.Service == "" || r.Type == "" {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "a resource needs an ARN, a service and a type (got %q %q %q)", r.ARN, r.Service, r.Type)
		}
		data, err := json.Marshal(r)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		rows = append(rows, store.InventoryRow{ARN: r.ARN, ConnectionID: conn, AccountID: r.AccountID, Region: r.Region, Service: r.Service, Type: r.Type,
			FetchedAt: r.Fetched, Data: data})
	}
	utils := make([]store.InventoryUtilRow, 0, len(us))
	for _, u := range us {
		data, err := json.Marshal(u)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		utils = append(utils, store.InventoryUtilRow{ARN: u.ARN, From: u.From, To: u.To, Data: data})
	}
	return st.SaveInventory(ctx, tenant, rows, utils, prune, before)
}

func decode(tenant crossbill.TenantID, row store.InventoryRow) (Resource, error) {
	var r Resource
	if err := json.Unmarshal(row.Data, &r); err != nil {
		return Resource{}, crossbill.Errorf(crossbill.CodeInternal, "inventory", "resource %s: %w", row.ARN, err)
	}
	r.TenantID = tenant
	return r, nil
}

// SyncStatus is the newest sync of one connection, with its failures.
type SyncStatus struct {
	store.InventorySync
	Failures []Failure `json:"failures"`
}

// Syncs returns the newest sync of each of a tenant's connections.
func Syncs(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]SyncStatus, error) {
	all, err := st.LatestInventorySyncs(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]SyncStatus, 0, len(all))
	for _, s := range all {
		x := SyncStatus{InventorySync: s, Failures: []Failure{}}
		if err := json.Unmarshal(s.Failures, &x.Failures); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "inventory", "sync %s: %w", s.ID, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// Get returns u's series of metric and stat, or nil.
func (u Utilization) Get(metric, stat string) *Series {
	for i := range u.Series {
		if u.Series[i].Metric == metric && u.Series[i].Stat == stat {
			return &u.Series[i]
		}
	}
	return nil
}

// List is what `inventory list` and GET .../inventory answer: the
// matching resources and the newest sync of each connection (its
// failures tell what the list may lack).
type List struct {
	Resources []Resource   `json:"resources"`
	Syncs     []SyncStatus `json:"syncs"`
}

// MaxList bounds one list answer; narrow with the filter past it.
const MaxList = 5000

// ListResources is the list use case: at most f.Limit resources (default
// and maximum MaxList).
func ListResources(ctx context.Context, st *store.Store, tenant crossbill.TenantID, f Filter) (List, error) {
	if f.Limit < 0 || f.Limit > MaxList {
		return List{}, crossbill.Errorf(crossbill.CodeInvalid, "inventory list", "limit %d: give 1 to %d (narrow with account, region, service or type)", f.Limit, MaxList)
	}
	if f.Limit == 0 {
		f.Limit = MaxList
	}
	for name, v := range map[string]string{"account": string(f.Account), "region": f.Region, "service": f.Service, "type": f.Type} {
		if err := crossbill.CheckText("inventory list", name, v); err != nil {
			return List{}, err
		}
	}
	rs, err := Resources(ctx, st, tenant, f)
	if err != nil {
		return List{}, err
	}
	syncs, err := Syncs(ctx, st, tenant)
	if err != nil {
		return List{}, err
	}
	return List{Resources: rs, Syncs: syncs}, nil
}
