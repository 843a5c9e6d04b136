// Package access is crossbill's access governance: it collects the
// identities and entitlements of every account of a connection (IAM, IAM
// Identity Center, the organization's SCPs and RCPs) through the
// connection's access-read role, stores them as snapshots, and answers who
// can do what, with the path behind each answer, and what to fix.
package access

import (
	"time"

	"github.com/crossbill/crossbill"
)

// Snapshot is everything one sync read. It is stored whole as JSON (the
// store keeps it opaque), so its JSON shape is the stored format: add
// fields, never rename them.
type Snapshot struct {
	ConnectionID      crossbill.ConnectionID `json:"connection_id"`
	OrganizationID    string                 `json:"organization_id,omitempty"`
	ManagementAccount crossbill.AccountID    `json:"management_account,omitempty"`
	TakenAt           time.Time              `json:"taken_at"`
	Accounts          []Account              `json:"accounts"`
	IdentityCenter    *IdentityCenter        `json:"identity_center,omitempty"`
	OrgPolicies       []OrgPolicy            `json:"org_policies,omitempty"`
	// Errors are the partial failures: what could not be read, per account
	// and service. The rest of the snapshot is still valid.
	Errors []CollectError `json:"errors,omitempty"`
}

// CollectError is one part of an account that could not be read.
type CollectError struct {
	Account   crossbill.AccountID `json:"account"`
	Service   string              `json:"service"`
	Operation string              `json:"operation"`
	Class     string              `json:"class,omitempty"`
	Message   string              `json:"message"`
	Fix       string              `json:"fix,omitempty"`
}

// Account is the IAM of one account.
type Account struct {
	ID   crossbill.AccountID `json:"id"`
	Name string              `json:"name,omitempty"`
	// Ancestors are the organization targets above the account, root
	// first (r-..., ou-...), for the SCPs and RCPs that apply to it.
	Ancestors []string        `json:"ancestors,omitempty"`
	Users     []User          `json:"users"`
	Groups    []Group         `json:"groups"`
	Roles     []Role          `json:"roles"`
	Policies  []ManagedPolicy `json:"policies"`
	// Advisor is Access Advisor's service last accessed data per principal
	// ARN; nil when it could not be read.
	Advisor map[string][]ServiceAccess `json:"advisor,omitempty"`
}

// InlinePolicy is a policy embedded in a user, group, role or permission set.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// User is an IAM user with its credentials' state.
type User struct {
	ARN              string         `json:"arn"`
	Name             string         `json:"name"`
	CreateDate       time.Time      `json:"create_date"`
	PasswordLastUsed *time.Time     `json:"password_last_used,omitempty"`
	Groups           []string       `json:"groups,omitempty"`   // group names
	Attached         []string       `json:"attached,omitempty"` // managed policy ARNs
	Inline           []InlinePolicy `json:"inline,omitempty"`
	Boundary         string         `json:"boundary,omitempty"` // managed policy ARN
	LoginProfile     bool           `json:"login_profile"`      // has a console password
	MFADevices       int            `json:"mfa_devices"`
	AccessKeys       []AccessKey    `json:"access_keys,omitempty"`
}

// AccessKey is one access key's metadata (never its secret).
type AccessKey struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"` // Active or Inactive
	CreateDate      time.Time  `json:"create_date"`
	LastUsed        *time.Time `json:"last_used,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
}

// Group is an IAM group.
type Group struct {
	ARN      string         `json:"arn"`
	Name     string         `json:"name"`
	Attached []string       `json:"attached,omitempty"`
	Inline   []InlinePolicy `json:"inline,omitempty"`
}

// Role is an IAM role.
type Role struct {
	ARN        string         `json:"arn"`
	Name       string         `json:"name"`
	Path       string         `json:"path,omitempty"`
	CreateDate time.Time      `json:"create_date"`
	Trust      string         `json:"trust"`
	Attached   []string       `json:"attached,omitempty"`
	Inline     []InlinePolicy `json:"inline,omitempty"`
	Boundary   string         `json:"boundary,omitempty"`
	LastUsed   *time.Time     `json:"last_used,omitempty"`
}

// ManagedPolicy is a managed policy and its default version's document.
type ManagedPolicy struct {
	ARN        string `json:"arn"`
	Name       string `json:"name"`
	Path       string `json:"path,omitempty"`
	AWSManaged bool   `json:"aws_managed,omitempty"`
	Document   string `json:"document"`
	Attached   int    `json:"attached"`
}

// ServiceAccess is one service in Access Advisor's answer for a principal.
type ServiceAccess struct {
	Namespace         string     `json:"namespace"`
	LastAuthenticated *time.Time `json:"last_authenticated,omitempty"`
}

// IdentityCenter is the organization's IAM Identity Center instance.
type IdentityCenter struct {
	InstanceARN     string          `json:"instance_arn"`
	IdentityStoreID string          `json:"identity_store_id"`
	Users           []ICUser        `json:"users"`
	Groups          []ICGroup       `json:"groups"`
	Memberships     []ICMembership  `json:"memberships"`
	PermissionSets  []PermissionSet `json:"permission_sets"`
	Assignments     []Assignment    `json:"assignments"`
}

// ICUser is an identity store user.
type ICUser struct {
	ID          string `json:"id"`
	UserName    string `json:"user_name"`
	DisplayName string `json:"display_name,omitempty"`
}

// ICGroup is an identity store group.
type ICGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ICMembership puts a user in a group.
type ICMembership struct {
	GroupID string `json:"group_id"`
	UserID  string `json:"user_id"`
}

// PolicyRef names a customer managed policy by name and path, as permission
// sets do: it resolves in each account the set is provisioned to.
type PolicyRef struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// PermissionSet is an Identity Center permission set.
type PermissionSet struct {
	ARN             string      `json:"arn"`
	Name            string      `json:"name"`
	Managed         []string    `json:"managed,omitempty"` // AWS managed policy ARNs
	Inline          string      `json:"inline,omitempty"`
	CustomerManaged []PolicyRef `json:"customer_managed,omitempty"`
	// Boundary is an AWS managed policy ARN or a customer managed reference.
	BoundaryARN string     `json:"boundary_arn,omitempty"`
	BoundaryRef *PolicyRef `json:"boundary_ref,omitempty"`
}

// Assignment gives a user or group a permission set in an account.
type Assignment struct {
	Account          crossbill.AccountID `json:"account"`
	PermissionSetARN string              `json:"permission_set_arn"`
	PrincipalType    string              `json:"principal_type"` // USER or GROUP
	PrincipalID      string              `json:"principal_id"`
}

// OrgPolicy is a service or resource control policy and where it attaches.
type OrgPolicy struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"` // SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY
	Document string   `json:"document"`
	Targets  []string `json:"targets"` // root, OU and account IDs
}

// Org policy types.
const (
	TypeSCP = "SERVICE_CONTROL_POLICY"
	TypeRCP = "RESOURCE_CONTROL_POLICY"
)
