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

// access-read: who can do what, for access governance (`crossbill access`:
// inventory, effective permissions, who-can, findings, changes). One
// GetAccountAuthorizationDetails pass replaces the per-entity IAM reads
// (users, groups, roles, their inline and managed policies), so those are
// not asked for; per-user reads are scoped to this account's users.
func accessReadPermissions() []Permission {
	return []Permission{
		{Module: ModuleAccessRead, Action: "iam:GetAccountAuthorizationDetails", Level: LevelRead, Resource: "*",
			Why: "Users, groups, roles (with trust policies, boundaries and last use) and every policy document in one paginated call: the entitlement snapshot of `crossbill access`."},
		{Module: ModuleAccessRead, Action: "iam:ListRoles", Level: LevelList, Resource: "*",
			Why: "IAM roles and their trust policies, to find third-party access; also the verification probe for this module."},
		{Module: ModuleAccessRead, Action: "iam:ListAccessKeys", Level: LevelList, Resource: iamARN("user"),
			Why: "Access key IDs and status (never the secrets), to find old keys."},
		{Module: ModuleAccessRead, Action: "iam:GetAccessKeyLastUsed", Level: LevelRead, Resource: iamARN("user"), Why: "When a key was last used."},
		{Module: ModuleAccessRead, Action: "iam:ListMFADevices", Level: LevelList, Resource: iamARN("user"), Why: "Whether a user has MFA."},
		{Module: ModuleAccessRead, Action: "iam:GetLoginProfile", Level: LevelList, Resource: iamARN("user"),
			Why: "Whether a user has a console password (never the password), to find console users without MFA."},
		{Module: ModuleAccessRead, Action: "iam:GenerateServiceLastAccessedDetails", Level: LevelRead, Resource: iamARN("user"),
			ExtraResources: []string{iamARN("role")},
			Why:            "Asks Access Advisor when each service a user or role may use was last used, to find services granted but never used."},
		{Module: ModuleAccessRead, Action: "iam:GetServiceLastAccessedDetails", Level: LevelRead, Resource: iamARN("user"),
			ExtraResources: []string{iamARN("role")}, Why: "Reads that Access Advisor report."},
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
		{Module: ModuleAccessRead, Action: "sso:ListAccountAssignments", Level: LevelList,
			Resource: "arn:${AWS::Partition}:sso:::*", Why: "Who is assigned which permission set in an account."},
		{Module: ModuleAccessRead, Action: "identitystore:ListUsers", Level: LevelList, Resource: "*", Why: "Identity Center users."},
		{Module: ModuleAccessRead, Action: "identitystore:ListGroups", Level: LevelList, Resource: "*", Why: "Identity Center groups."},
		{Module: ModuleAccessRead, Action: "identitystore:ListGroupMemberships", Level: LevelList, Resource: "*", Why: "Members of an Identity Center group."},
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
		{Module: ModuleAccessJIT, Action: "sso:ListTagsForResource", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:sso:::permissionSet/*", ExtraResources: []string{"arn:${AWS::Partition}:sso:::instance/*"},
			Why: "Refuses, with the reason, a request for a permission set not tagged crossbill-jit=allowed, before any write."},
		{Module: ModuleAccessJIT, Action: "identitystore:GetUserId", Level: LevelRead, Resource: "*",
			Why: "Finds the requester's Identity Center user by user name or email before assigning a permission set."},
		{Module: ModuleAccessJIT, Action: "iam:GetUser", Level: LevelRead, Resource: "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",
			Why: "Finds the requester's IAM user (named after their email) before adding it to a crossbill-jit/ group."},
	}
}
