// Package manifest is crossbill's permission manifest: the one source of
// truth for every AWS operation crossbill may call in a customer account.
// CloudFormation policies, the customer annex and the verification probes
// are generated from it, and a test fails on any SDK call not declared here.
package manifest

import (
	"sort"
	"strings"

	"github.com/crossbill/crossbill"
)

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
	// ModuleCommitmentsPurchase buys, queues, cancels and sells commitments
	// once a person other than the plan's author approved the plan.
	ModuleCommitmentsPurchase Module = "commitments-purchase"

	// ModuleHub marks calls crossbill makes with its own (hub) credentials,
	// not in a customer account. It is not a module a customer enables.
	ModuleHub Module = "hub"
)

// ValidModules returns the modules a customer can enable, in the order
// templates and the annex list them.
func ValidModules() []Module {
	return []Module{ModuleCost, ModuleCUR, ModuleCommitments, ModuleInventory, ModuleOrg, ModuleAccessRead, ModuleAccessJIT, ModuleRemediation, ModuleCommitmentsPurchase}
}

// DefaultModules are the read-only modules a connection gets when none are
// named: what crossbill's cost, commitments and organization features call
// today, nothing more. inventory is opt-in until the optimization
// collectors that read it ship: a customer should not grant reads no code
// makes. No access review, no writes.
func DefaultModules() []Module {
	return []Module{ModuleCost, ModuleCUR, ModuleCommitments, ModuleOrg}
}

// ReadOnly reports whether a module has only List and Read actions.
func (m Module) ReadOnly() bool {
	for _, p := range ByModule(m) {
		if p.Level != LevelList && p.Level != LevelRead {
			return false
		}
	}
	return true
}

// ParseModules parses a comma-separated module list such as "cost,org".
// An empty list means DefaultModules. The result is in canonical order,
// without duplicates.
func ParseModules(csv string) ([]Module, error) {
	if strings.TrimSpace(csv) == "" {
		return DefaultModules(), nil
	}
	want := map[Module]bool{}
	for _, s := range strings.Split(csv, ",") {
		m := Module(strings.ToLower(strings.TrimSpace(s)))
		if !m.valid() {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, "modules", "unknown module %q: choose from %s", s, moduleList())
		}
		want[m] = true
	}
	var out []Module
	for _, m := range ValidModules() {
		if want[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

func (m Module) valid() bool {
	for _, v := range ValidModules() {
		if m == v {
			return true
		}
	}
	return false
}

func moduleList() string { return JoinModules(ValidModules()) }

// JoinModules is the one way crossbill prints a module list: names joined
// with commas, as --modules takes them.
func JoinModules(ms []Module) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}

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

// Permission is one IAM action crossbill may use, on one resource scope. An
// action that needs several statements (a tag condition on one of its
// resources only) appears once per statement.
type Permission struct {
	Module Module
	// Action is the IAM action, e.g. "s3:GetObject".
	Action string
	Level  Level
	// Resource is the narrowest ARN pattern AWS allows, with ${AWS::Partition},
	// ${AWS::AccountId} and template values such as ${CurBucket}; "*" only
	// where the action supports no resource-level permission.
	Resource string
	// ExtraResources are further ARN patterns of the same statement.
	ExtraResources []string
	// Condition, when set, is an IAM condition block (JSON-ready) that scopes
	// the action further (e.g. a required tag for remediation writes).
	Condition map[string]map[string]any
	// Calls are SDK operations, as "<iam prefix>:<OperationName>", that need
	// this action although named otherwise (s3:ListObjectsV2 needs
	// s3:ListBucket). An operation named like the action needs no entry.
	Calls []string
	// Why is one line a customer's security reviewer reads.
	Why string
	// CostUSD is what the customer pays per CostPer (Cost Explorer: 0.01
	// per request), 0 if free.
	CostUSD float64
	// CostPer is the unit CostUSD is charged for; "" means one request.
	CostPer string
	// NoPermission marks an operation that needs no IAM permission at all
	// (sts:GetCallerIdentity); it is never put in a policy.
	NoPermission bool
	// OnBehalf marks a permission AWS checks when another service acts
	// for the caller (Athena reading the Glue table with the role's
	// permissions): no crossbill code sends it, so the usage check does
	// not look for a call.
	OnBehalf bool
}

// Resources returns Resource and ExtraResources.
func (p Permission) Resources() []string {
	return append([]string{p.Resource}, p.ExtraResources...)
}

// All returns every permission a customer can grant, sorted by module (in
// ValidModules order) then action.
func All() []Permission {
	var all []Permission
	for _, group := range [][]Permission{costPermissions(), curPermissions(), commitmentsPermissions(), inventoryPermissions(), orgPermissions(), accessReadPermissions(), accessJITPermissions(), remediationPermissions(), purchasePermissions()} {
		all = append(all, group...)
	}
	order := map[Module]int{}
	for i, m := range ValidModules() {
		order[m] = i
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Module != all[j].Module {
			return order[all[i].Module] < order[all[j].Module]
		}
		return all[i].Action < all[j].Action
	})
	return all
}

// ByModule returns the permissions of the given modules, in All's order.
func ByModule(mods ...Module) []Permission {
	want := map[Module]bool{}
	for _, m := range mods {
		want[m] = true
	}
	var out []Permission
	for _, p := range All() {
		if want[p.Module] {
			out = append(out, p)
		}
	}
	return out
}

// Hub returns the operations crossbill calls with its own credentials.
func Hub() []Permission {
	return append([]Permission{
		{Module: ModuleHub, Action: "sts:AssumeRole", Level: LevelWrite, Resource: "arn:${AWS::Partition}:iam::*:role/*",
			Why: "Assumes the customer's role with the connection's external ID, for temporary credentials."},
		{Module: ModuleHub, Action: "sts:GetCallerIdentity", Level: LevelRead, Resource: "*", NoPermission: true,
			Why: "Checks which account and role the credentials belong to; AWS allows it to every identity."},
		// Cluster mode (serve --cost-store s3://BUCKET/PREFIX): crossbill's
		// own bucket, named by the operator, so no narrower pattern here.
		{Module: ModuleHub, Action: "s3:PutObject", Level: LevelWrite, Resource: "arn:${AWS::Partition}:s3:::*/*",
			Why: "Cluster mode: uploads a cost load's immutable files to crossbill's own --cost-store bucket."},
		{Module: ModuleHub, Action: "s3:GetObject", Level: LevelRead, Resource: "arn:${AWS::Partition}:s3:::*/*",
			Why: "Cluster mode: replicas read cost files from crossbill's own --cost-store bucket into their cache."},
		{Module: ModuleHub, Action: "s3:DeleteObject", Level: LevelWrite, Resource: "arn:${AWS::Partition}:s3:::*/*",
			Why: "Cluster mode: deletes the files of replaced cost loads from crossbill's own --cost-store bucket."},
		{Module: ModuleHub, Action: "s3:ListBucket", Level: LevelList, Resource: "arn:${AWS::Partition}:s3:::*",
			Calls: []string{"s3:ListObjectsV2"},
			Why:   "Cluster mode: lists crossbill's own --cost-store prefix for files a publisher killed before its commit left behind."},
	}, hubOrgPermissions()...)
}

// ActionForCall finds the permission an SDK operation needs. call is
// "<iam prefix>:<OperationName>", e.g. "s3:ListObjectsV2". Customer modules
// are searched first (in All's order), then hub operations. It builds the
// lookup on each call; hot paths keep an Index.
func ActionForCall(call string) (Permission, bool) {
	return NewIndex().ActionForCall(call)
}

// Index looks up SDK operations in the manifest without rebuilding it.
type Index struct {
	calls map[string]Permission
}

// NewIndex builds the lookup of every declared operation.
func NewIndex() Index {
	ix := Index{calls: map[string]Permission{}}
	for _, p := range append(append(All(), CURAthena()...), Hub()...) {
		for _, c := range append([]string{p.Action}, p.Calls...) {
			if _, seen := ix.calls[c]; !seen {
				ix.calls[c] = p
			}
		}
	}
	return ix
}

// ActionForCall is the package function's lookup, from the index.
func (ix Index) ActionForCall(call string) (Permission, bool) {
	p, ok := ix.calls[call]
	return p, ok
}

// CallName turns an SDK service ID and operation name (as the SDK's
// middleware reports them) into the "<iam prefix>:<Operation>" form that
// ActionForCall takes.
func CallName(serviceID, operation string) string {
	return iamPrefix(serviceID) + ":" + operation
}

// iamPrefix maps an SDK service ID to its IAM action prefix.
func iamPrefix(serviceID string) string {
	switch serviceID {
	case "Cost Explorer":
		return "ce"
	case "BCM Data Exports":
		return "bcm-data-exports"
	case "OpenSearch":
		return "es"
	case "SSO Admin":
		return "sso"
	case "Elastic Load Balancing v2":
		return "elasticloadbalancing"
	case "Resource Groups Tagging API":
		return "tag"
	case "Auto Scaling":
		return "autoscaling"
	}
	return strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
}
