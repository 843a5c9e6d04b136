package access

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// SyncOptions tunes Sync.
type SyncOptions struct {
	CollectOptions
	Tenant string // tenant name, for AWS session names
	Now    func() time.Time
}

// SyncResult is the outcome of one sync.
type SyncResult struct {
	SyncID       string                 `json:"sync_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	Accounts     int                    `json:"accounts"`
	Principals   int                    `json:"principals"`
	Grants       int                    `json:"grants"`
	Errors       []CollectError         `json:"errors"`
	Changes      []store.AccessChange   `json:"changes"`
	// First: no earlier sync to compare with, so no changes are recorded.
	First      bool      `json:"first"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
}

// ConnectionFor finds the connection to read: connID when given (it must be
// the tenant's), else the tenant's one connection with the access-read
// module and a role.
func ConnectionFor(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID) (store.Connection, error) {
	return st.ConnectionWithModule(ctx, tenant, connID, manifest.ModuleAccessRead)
}

// Sync reads the identities and entitlements of conn's account and, for an
// organization, of every member account whose role `connect members
// --verify` verified; stores the snapshot and the changes since the
// previous sync. Parts that cannot be read are recorded in the result, per
// account and service, without failing the sync.
func Sync(ctx context.Context, st *store.Store, conn store.Connection, opts SyncOptions) (SyncResult, error) {
	const op = "access sync"
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AWS == nil {
		return SyncResult{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no AWS hub configuration: set the hub's credentials (AWS_PROFILE or the default chain)")
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	start := opts.Now()
	self := awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: conn.RoleARN, ExternalID: conn.ExternalID}
	if _, err := opts.AWS.Retrieve(ctx, self); err != nil {
		return SyncResult{}, err
	}
	mgmt := source{account: conn.AccountID, target: self}
	sources := []source{mgmt}
	var skipped []CollectError
	members, err := st.Members(ctx, conn.ID)
	if err != nil {
		return SyncResult{}, err
	}
	for _, m := range members {
		if m.Gone() || m.AccountID == conn.AccountID || m.Status == store.MemberConflict {
			continue
		}
		if m.Status != store.MemberVerified {
			skipped = append(skipped, CollectError{Account: m.AccountID, Service: "sts", Operation: "AssumeRole",
				Message: fmt.Sprintf("member role not verified (status %s)", m.Status),
				Fix:     "run `crossbill connect members --verify` and fix what it reports; the next sync reads this account"})
			continue
		}
		sources = append(sources, source{account: m.AccountID, name: m.Name,
			target: awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: m.RoleARN, ExternalID: conn.ExternalID}})
	}
	orgModule := slices.Contains(conn.Modules, manifest.ModuleOrg)
	var orgID string
	var mgmtAccount crossbill.AccountID
	if orgModule {
		client := organizations.NewFromConfig(opts.AWS.Config(self, "us-east-1"))
		if out, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err == nil && out.Organization != nil {
			orgID, mgmtAccount = aws.ToString(out.Organization.Id), crossbill.AccountID(aws.ToString(out.Organization.MasterAccountId))
		} else {
			orgModule = false // not in an organization: no SCPs to read
		}
	}
	opts.Progress("reading %d account(s) through %s", len(sources), conn.RoleARN)
	snap := collect(ctx, sources, &mgmt, orgModule, opts.CollectOptions)
	if err := ctx.Err(); err != nil {
		return SyncResult{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "interrupted: %w", err)
	}
	snap.ConnectionID, snap.OrganizationID, snap.ManagementAccount = conn.ID, orgID, mgmtAccount
	snap.TakenAt = opts.Now().UTC()
	snap.Errors = append(snap.Errors, skipped...)
	if err := checkConnection(snap, conn); err != nil {
		return SyncResult{}, err
	}

	res := SyncResult{ConnectionID: conn.ID, Accounts: len(snap.Accounts), Errors: snap.Errors, StartedAt: start.UTC(), Changes: []store.AccessChange{}}
	model := Build(&snap)
	res.Principals, res.Grants = len(model.Principals), len(model.Grants)
	prev, err := st.LatestAccessSync(ctx, conn.TenantID, conn.ID)
	switch {
	case crossbill.ErrorCode(err) == crossbill.CodeNotFound:
		res.First = true
	case err != nil:
		return SyncResult{}, err
	default:
		var old Snapshot
		if err := json.Unmarshal(prev.Snapshot, &old); err != nil {
			return SyncResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "previous snapshot %s: %w", prev.ID, err)
		}
		res.Changes = Diff(Build(&old), model)
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return SyncResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	saved, err := st.SaveAccessSync(ctx, store.AccessSync{TenantID: conn.TenantID, ConnectionID: conn.ID, StartedAt: start, FinishedAt: snap.TakenAt,
		Accounts: len(snap.Accounts), Errors: len(snap.Errors), Snapshot: data}, res.Changes)
	if err != nil {
		return SyncResult{}, err
	}
	res.SyncID = saved.ID
	if res.Errors == nil {
		res.Errors = []CollectError{}
	}
	res.DurationMS = opts.Now().Sub(start).Milliseconds()
	return res, nil
}

// checkConnection fails a sync that read nothing at all from the
// connection's own account (its role lost access-read): storing an empty
// snapshot would record every entitlement as lost.
func checkConnection(s Snapshot, conn store.Connection) error {
	for _, e := range s.Errors {
		if e.Account == conn.AccountID && e.Operation == "GetAccountAuthorizationDetails" {
			return crossbill.Errorf(crossbill.CodeAccessDenied, "access sync", "the role %s could not read IAM (%s): %s", conn.RoleARN, e.Message, e.Fix)
		}
	}
	return nil
}

// Load returns the model of the newest sync of a tenant's connection.
func Load(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID) (*Model, store.AccessSync, error) {
	sync, err := st.LatestAccessSync(ctx, tenant, conn)
	if err != nil {
		return nil, store.AccessSync{}, err
	}
	var snap Snapshot
	if err := json.Unmarshal(sync.Snapshot, &snap); err != nil {
		return nil, store.AccessSync{}, crossbill.Errorf(crossbill.CodeInternal, "access", "snapshot %s: %w", sync.ID, err)
	}
	return Build(&snap), sync, nil
}
