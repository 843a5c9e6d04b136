package manifest

// iamARN is an IAM resource ARN pattern in the customer's account.
func iamARN(kind string) string {
	return "arn:${AWS::Partition}:iam::${AWS::AccountId}:" + kind + "/*"
}

// jitGroups are the IAM groups crossbill may change membership of: only
// groups created under this path, by the customer, for just-in-time access.
const jitGroups = "arn:${AWS::Partition}:iam::${AWS::AccountId}:group/crossbill-jit/*"

// JITTagKey is the tag a customer puts on an Identity Center permission set
// to let crossbill assign it just in time.
const JITTagKey = "crossbill-jit"

// access-read: who can do what, for the access review (Trustle's read set).
// IAM list actions support no resource types; per-entity reads are scoped to
// this account's users, groups, roles and policies.
func accessReadPermissions() []Permission {
	return []Permission{
		{Module: ModuleAccessRead, Action: "iam:GetAccountAuthorizationDetails", Level: LevelRead, Resource: "*",
			Why: "Users, groups, roles and their policies in one paginated call: the entitlement snapshot."},
		{Module: ModuleAccessRead, Action: "iam:ListUsers", Level: LevelList, Resource: "*", Why: "IAM users."},
		{Module: ModuleAccessRead, Action: "iam:ListGroups", Level: LevelList, Resource: "*", Why: "IAM groups."},
		{Module: ModuleAccessRead, Action: "iam:ListRoles", Level: LevelList, Resource: "*",
			Why: "IAM roles and their trust policies, to find third-party access; also the verification probe for this module."},
		{Module: ModuleAccessRead, Action: "iam:ListPolicies", Level: LevelList, Resource: "*", Why: "Customer managed policies."},
		{Module: ModuleAccessRead, Action: "iam:GetPolicy", Level: LevelRead, Resource: "arn:${AWS::Partition}:iam::*:policy/*",
			Why: "A managed policy's default version (AWS managed policies live in account aws)."},
		{Module: ModuleAccessRead, Action: "iam:GetPolicyVersion", Level: LevelRead, Resource: "arn:${AWS::Partition}:iam::*:policy/*",
			Why: "A managed policy's document, to evaluate what it grants."},
		{Module: ModuleAccessRead, Action: "iam:ListAttachedUserPolicies", Level: LevelList, Resource: iamARN("user"), Why: "Managed policies on a user."},
		{Module: ModuleAccessRead, Action: "iam:ListAttachedGroupPolicies", Level: LevelList, Resource: iamARN("group"), Why: "Managed policies on a group."},
		{Module: ModuleAccessRead, Action: "iam:ListAttachedRolePolicies", Level: LevelList, Resource: iamARN("role"), Why: "Managed policies on a role."},
		{Module: ModuleAccessRead, Action: "iam:ListUserPolicies", Level: LevelList, Resource: iamARN("user"), Why: "Inline policy names of a user."},
		{Module: ModuleAccessRead, Action: "iam:ListGroupPolicies", Level: LevelList, Resource: iamARN("group"), Why: "Inline policy names of a group."},
		{Module: ModuleAccessRead, Action: "iam:ListRolePolicies", Level: LevelList, Resource: iamARN("role"), Why: "Inline policy names of a role."},
		{Module: ModuleAccessRead, Action: "iam:GetUserPolicy", Level: LevelRead, Resource: iamARN("user"), Why: "Inline policy of a user."},
		{Module: ModuleAccessRead, Action: "iam:GetGroupPolicy", Level: LevelRead, Resource: iamARN("group"), Why: "Inline policy of a group."},
		{Module: ModuleAccessRead, Action: "iam:GetRolePolicy", Level: LevelRead, Resource: iamARN("role"), Why: "Inline policy of a role."},
		{Module: ModuleAccessRead, Action: "iam:GetRole", Level: LevelRead, Resource: iamARN("role"),
			Why: "A role's trust policy, permissions boundary and last use."},
		{Module: ModuleAccessRead, Action: "iam:GetUser", Level: LevelRead, Resource: iamARN("user"),
			Why: "A user's permissions boundary and password last use."},
		{Module: ModuleAccessRead, Action: "iam:GetGroup", Level: LevelRead, Resource: iamARN("group"), Why: "Members of a group."},
		{Module: ModuleAccessRead, Action: "iam:ListGroupsForUser", Level: LevelList, Resource: iamARN("user"), Why: "Groups a user belongs to."},
		{Module: ModuleAccessRead, Action: "iam:ListAccessKeys", Level: LevelList, Resource: iamARN("user"),
			Why: "Access key IDs and status (never the secrets), to find old keys."},
		{Module: ModuleAccessRead, Action: "iam:GetAccessKeyLastUsed", Level: LevelRead, Resource: iamARN("user"), Why: "When a key was last used."},
		{Module: ModuleAccessRead, Action: "iam:ListMFADevices", Level: LevelList, Resource: iamARN("user"), Why: "Whether a user has MFA."},
		{Module: ModuleAccessRead, Action: "iam:GenerateCredentialReport", Level: LevelRead, Resource: "*",
			Why: "Asks IAM to build the credential report (no change to any identity)."},
		{Module: ModuleAccessRead, Action: "iam:GetCredentialReport", Level: LevelRead, Resource: "*",
			Why: "Password, key and MFA age of every user in one CSV."},
		{Module: ModuleAccessRead, Action: "sso:ListInstances", Level: LevelList, Resource: "*",
			Why: "The Identity Center instance and its identity store."},
		{Module: ModuleAccessRead, Action: "sso:ListPermissionSets", Level: LevelList, Resource: "arn:${AWS::Partition}:sso:::instance/*",
			Why: "Permission sets of the instance."},
		{Module: ModuleAccessRead, Action: "sso:DescribePermissionSet", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Name, session duration and tags of a permission set."},
		{Module: ModuleAccessRead, Action: "sso:GetInlinePolicyForPermissionSet", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Inline policy of a permission set."},
		{Module: ModuleAccessRead, Action: "sso:ListManagedPoliciesInPermissionSet", Level: LevelList,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "AWS managed policies of a permission set."},
		{Module: ModuleAccessRead, Action: "sso:ListCustomerManagedPolicyReferencesInPermissionSet", Level: LevelList,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Customer managed policy references of a permission set."},
		{Module: ModuleAccessRead, Action: "sso:GetPermissionsBoundaryForPermissionSet", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Permissions boundary of a permission set."},
		{Module: ModuleAccessRead, Action: "sso:ListAccountsForProvisionedPermissionSet", Level: LevelList,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Accounts a permission set is provisioned to."},
		{Module: ModuleAccessRead, Action: "sso:ListAccountAssignments", Level: LevelList,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Who is assigned which permission set in an account."},
		{Module: ModuleAccessRead, Action: "identitystore:ListUsers", Level: LevelList, Resource: "*", Why: "Identity Center users."},
		{Module: ModuleAccessRead, Action: "identitystore:ListGroups", Level: LevelList, Resource: "*", Why: "Identity Center groups."},
		{Module: ModuleAccessRead, Action: "identitystore:ListGroupMemberships", Level: LevelList, Resource: "*", Why: "Members of an Identity Center group."},
		{Module: ModuleAccessRead, Action: "identitystore:DescribeUser", Level: LevelRead, Resource: "*", Why: "Name and email of an Identity Center user."},
		{Module: ModuleAccessRead, Action: "identitystore:DescribeGroup", Level: LevelRead, Resource: "*", Why: "Name of an Identity Center group."},
	}
}

// access-jit: just-in-time grants, and their revocation, limited to IAM
// groups under the crossbill-jit/ path and to permission sets the customer
// tagged crossbill-jit=allowed. sso assignment actions touch three resources
// (instance, account, permission set); the tag condition is on a statement of
// its own for permission sets because instances and accounts carry no tags.
func accessJITPermissions() []Permission {
	return []Permission{
		{Module: ModuleAccessJIT, Action: "iam:AddUserToGroup", Level: LevelWrite, Resource: jitGroups,
			Why: "Grants just-in-time access by adding an approved user to a crossbill-jit/ group."},
		{Module: ModuleAccessJIT, Action: "iam:RemoveUserFromGroup", Level: LevelWrite, Resource: jitGroups,
			Why: "Revokes the grant when it expires."},
		{Module: ModuleAccessJIT, Action: "iam:GetGroup", Level: LevelRead, Resource: jitGroups,
			Why: "Checks a crossbill-jit/ group's members before and after a grant."},
		{Module: ModuleAccessJIT, Action: "sso:CreateAccountAssignment", Level: LevelWrite,
			Resource:  "arn:${AWS::Partition}:sso:::permissionSet/*",
			Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + JITTagKey: "allowed"}},
			Why:       "Grants just-in-time access: assigns a permission set tagged crossbill-jit=allowed, in member accounts (in the management account Identity Center would need the caller to write IAM roles, which crossbill does not ask for)."},
		{Module: ModuleAccessJIT, Action: "sso:CreateAccountAssignment", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:sso:::instance/*", ExtraResources: []string{"arn:${AWS::Partition}:sso:::account/*"},
			Why: "The instance and account side of the same assignment (these resources carry no tags)."},
		{Module: ModuleAccessJIT, Action: "sso:DeleteAccountAssignment", Level: LevelWrite,
			Resource:  "arn:${AWS::Partition}:sso:::permissionSet/*",
			Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + JITTagKey: "allowed"}},
			Why:       "Revokes the assignment when it expires."},
		{Module: ModuleAccessJIT, Action: "sso:DeleteAccountAssignment", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:sso:::instance/*", ExtraResources: []string{"arn:${AWS::Partition}:sso:::account/*"},
			Why: "The instance and account side of the same revocation."},
		{Module: ModuleAccessJIT, Action: "sso:DescribeAccountAssignmentCreationStatus", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:sso:::instance/*", Why: "Waits until an assignment is in place; also the verification probe for this module."},
		{Module: ModuleAccessJIT, Action: "sso:DescribeAccountAssignmentDeletionStatus", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:sso:::instance/*", Why: "Waits until a revocation is done."},
	}
}
