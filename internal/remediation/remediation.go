// Package remediation changes customer resources on crossbill's advice,
// safely: a plan is always computed first and shown as a dry run; it runs
// only once a person other than the requester approved it (the shared
// approval model); resources outside the remediation module's tag
// condition, protected ones and ones in an unexpected state are never
// touched; a run is refused past its blast-radius limits; destructive
// actions snapshot first and record what restores them; every step is
// kept in a durable log (a run killed mid-plan resumes after its last
// finished step) and in the hash-chained audit log.
package remediation

import (
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// Action is what a plan item does to one resource.
type Action string

// Actions. Each acts on one resource type (see Kind).
const (
	StopInstance       Action = "stop-instance"
	StartInstance      Action = "start-instance"
	ResizeInstance     Action = "resize-instance" // param instance_type; stop -> modify -> start
	DeleteVolume       Action = "delete-volume"   // snapshot first
	ModifyVolumeGP3    Action = "gp2-to-gp3"
	DeleteSnapshot     Action = "delete-snapshot" // param min_age_days (default 90)
	ReleaseAddress     Action = "release-address"
	DeleteLoadBalancer Action = "delete-load-balancer"
	StopDB             Action = "stop-db"   // snapshot as it stops
	DeleteDB           Action = "delete-db" // final snapshot
	AbortMultipart     Action = "s3-abort-multipart"
)

// Actions lists every action, in the order help texts show them.
func Actions() []Action {
	return []Action{StopInstance, StartInstance, ResizeInstance, DeleteVolume, ModifyVolumeGP3, DeleteSnapshot,
		ReleaseAddress, DeleteLoadBalancer, StopDB, DeleteDB, AbortMultipart}
}

// Resource kinds, as IAM's resource types name them.
const (
	KindInstance     = "instance"
	KindVolume       = "volume"
	KindSnapshot     = "snapshot"
	KindAddress      = "elastic-ip"
	KindLoadBalancer = "loadbalancer"
	KindDB           = "db"
	KindBucket       = "bucket"
)

// Kind is the resource type a acts on.
func (a Action) Kind() string {
	switch a {
	case StopInstance, StartInstance, ResizeInstance:
		return KindInstance
	case DeleteVolume, ModifyVolumeGP3:
		return KindVolume
	case DeleteSnapshot:
		return KindSnapshot
	case ReleaseAddress:
		return KindAddress
	case DeleteLoadBalancer:
		return KindLoadBalancer
	case StopDB, DeleteDB:
		return KindDB
	case AbortMultipart:
		return KindBucket
	}
	return ""
}

// Destructive actions lose data or an identity AWS may not give back.
func (a Action) Destructive() bool {
	switch a {
	case DeleteVolume, DeleteSnapshot, ReleaseAddress, DeleteLoadBalancer, DeleteDB:
		return true
	}
	return false
}

// Target is one resource to act on: what an optimization recommendation
// (or a person) asks for. Params carry the action's arguments
// (instance_type, min_age_days, days).
type Target struct {
	Action  Action              `json:"action"`
	ARN     string              `json:"arn"`
	Account crossbill.AccountID `json:"account_id"`
	Region  string              `json:"region"`
	Params  map[string]string   `json:"params,omitempty"`
	// Recommendation is the optimization recommendation's ID, if any.
	Recommendation string `json:"recommendation,omitempty"`
}

// Tags crossbill reads and writes on customer resources.
const (
	// ProtectTag on a resource (any value) keeps crossbill's hands off it.
	ProtectTag = "crossbill:protect"
	// MarkTag holds a mark-for-op: "<action>@YYYY-MM-DD".
	MarkTag = "crossbill:marked-for-op"
	// PlanTag names the plan (and item, step) that created a snapshot, so a
	// resumed run finds it instead of making another.
	PlanTag = "crossbill:plan"
)

// AllowedTag is the tag a resource needs before crossbill may change it:
// the remediation module's IAM condition.
func AllowedTag() (key, value string) {
	return manifest.RemediationTagKey, manifest.RemediationTagValue
}

// Plan states.
const (
	StateAwaiting  = "awaiting-approval"
	StateApproved  = "approved"
	StateRunning   = "running"
	StateDone      = "done"
	StateFailed    = "failed"
	StateDenied    = "denied"
	StateBlocked   = "blocked" // past a blast-radius limit: never runs
	StateEmpty     = "nothing-to-do"
	StateUndone    = "undone"
	StateCancelled = "cancelled"
)

// Item statuses in a plan.
const (
	ItemReady     = "ready"      // will be acted on
	ItemRefused   = "refused"    // outside the tag condition: the fix says which tag to add
	ItemSkipped   = "skipped"    // protected, wrong state, gone, not needed
	ItemDone      = "done"       // acted on
	ItemFailed    = "failed"     // a step failed; the plan stopped there
	ItemUndone    = "undone"     // its undo ran
	ItemStaleSkip = "stale-skip" // was ready at plan time, not any more at run time
)

// Limits bound how many resources one run may change (Cloud Custodian's
// max-resources and max-resources-percent): past either, the plan is
// blocked whole, not cut short.
type Limits struct {
	MaxResources int `json:"max_resources"`
	// MaxPercent of the resources of the same type in the same account
	// and region; 0 is no percentage limit.
	MaxPercent float64 `json:"max_percent,omitempty"`
}

// DefaultLimits are used when a request names none.
var DefaultLimits = Limits{MaxResources: 10, MaxPercent: 0}

// Plan is a computed remediation: what would be done to each target, the
// dry run's answer, and after a run what was done.
type Plan struct {
	ID           string                 `json:"id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	State        string                 `json:"state"`
	Reason       string                 `json:"reason,omitempty"` // why blocked, failed, denied
	Limits       Limits                 `json:"limits"`
	// ApprovalID is the shared approval the run waits for.
	ApprovalID     string    `json:"approval_id,omitempty"`
	Approvals      int       `json:"approvals_required"`
	RequestedBy    string    `json:"requested_by"`
	RequestedEmail string    `json:"requested_email,omitempty"`
	Items          []Item    `json:"items"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Item is one target in a plan.
type Item struct {
	Index  int    `json:"index"`
	Target Target `json:"target"`
	ID     string `json:"resource_id"`
	Status string `json:"status"`
	// Reason says why an item is refused or skipped; Fix what to do.
	Reason string `json:"reason,omitempty"`
	Fix    string `json:"fix,omitempty"`
	// State is the resource's state when planned (running, available...).
	State string `json:"state,omitempty"`
	// DryRun is AWS's answer to the same calls with DryRun (EC2), or what
	// was checked instead where AWS offers no dry run.
	DryRun string `json:"dry_run,omitempty"`
	Steps  []Step `json:"steps"`
	// Restore says how to get the resource back after a destructive action
	// (filled from the steps' outputs once run).
	Restore string `json:"restore,omitempty"`
	// Undo lists the steps `remediate undo` runs; empty when AWS allows
	// no undo (the reason is in UndoNote).
	Undo     []Step `json:"undo,omitempty"`
	UndoNote string `json:"undo_note,omitempty"`
}

// Step is one AWS call of an item.
type Step struct {
	Op   string `json:"op"` // e.g. ec2:StopInstances
	Says string `json:"says"`
	// Args are the call's arguments crossbill fixed at plan time.
	Args map[string]string `json:"args,omitempty"`
	// Status and Output come from the durable step log after a run.
	Status string            `json:"status,omitempty"`
	Output map[string]string `json:"output,omitempty"`
}
