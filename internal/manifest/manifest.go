// Package manifest is crossbill's permission manifest: the one source of
// truth for every AWS operation crossbill may call in a customer account.
// CloudFormation policies, the customer annex and the verification probes
// are generated from it, and a test fails on any SDK call not declared here.
package manifest

import "sort"

// Module is a feature a customer can enable; each becomes one IAM policy.
type Module string

// Modules.
const (
	ModuleCost        Module = "cost"        // Cost Explorer reads, pricing
	ModuleCUR         Module = "cur"         // read of the CUR export bucket prefix, Data Exports describe
	ModuleCommitments Module = "commitments" // Savings Plans and reserved-capacity reads
	ModuleInventory   Module = "inventory"   // Describe/List across services, CloudWatch metrics, tags
	ModuleOrg         Module = "org"         // Organizations Describe/List, account aliases
	ModuleAccessRead  Module = "access-read" // IAM and Identity Center reads (entitlements)
	ModuleAccessJIT   Module = "access-jit"  // group membership and Identity Center assignment writes
	ModuleRemediation Module = "remediation" // opt-in writes, each scoped by tag or condition
)

// Level is the IAM access level of an action, as AWS's service authorization
// reference names it.
type Level string

// Access levels.
const (
	LevelList        Level = "List"
	LevelRead        Level = "Read"
	LevelWrite       Level = "Write"
	LevelTagging     Level = "Tagging"
	LevelPermissions Level = "Permissions management"
)

// Permission is one IAM action crossbill may use.
type Permission struct {
	Module Module
	// Action is the IAM action, e.g. "s3:GetObject".
	Action string
	Level  Level
	// Resource is the narrowest ARN pattern AWS allows, with ${AWS::Partition},
	// ${AWS::AccountId} and template parameters such as ${BucketName}; "*" only
	// where the action supports no resource-level permission.
	Resource string
	// Condition, when set, is an IAM condition block (JSON-ready) that scopes
	// the action further (e.g. a required tag for remediation writes).
	Condition map[string]map[string]any
	// Calls are the SDK operations that need this action, as
	// "<iam prefix>:<OperationName>" (e.g. "s3:ListObjectsV2" needs
	// s3:ListBucket). Empty means the operation has the action's own name.
	Calls []string
	// Why is one line a customer's security reviewer reads.
	Why string
	// CostUSD is what one call costs the customer (Cost Explorer: 0.01), 0 if free.
	CostUSD float64
}

// All returns every declared permission, sorted by module then action.
func All() []Permission {
	var all []Permission
	for _, group := range [][]Permission{
		// One slice per module file; add a module's slice here.
	} {
		all = append(all, group...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Module != all[j].Module {
			return all[i].Module < all[j].Module
		}
		return all[i].Action < all[j].Action
	})
	return all
}
