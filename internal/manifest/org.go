package manifest

// org: the organization's structure and its service control policies, read
// from the management account (or a delegated administrator, which is why
// organization ARNs name any management account).
func orgPermissions() []Permission {
	return []Permission{
		{Module: ModuleOrg, Action: "organizations:DescribeOrganization", Level: LevelRead, Resource: "*",
			Why: "Organization ID and management account; also the verification probe for this module."},
		{Module: ModuleOrg, Action: "organizations:ListAccounts", Level: LevelList, Resource: "*",
			Why: "Member accounts with names, emails and status, to map costs to accounts."},
		{Module: ModuleOrg, Action: "organizations:ListRoots", Level: LevelList, Resource: "*",
			Why: "The organization root, where the OU tree starts."},
		{Module: ModuleOrg, Action: "organizations:ListOrganizationalUnitsForParent", Level: LevelList, Resource: "*",
			Why: "The OU tree, to group costs and to choose StackSet targets."},
		{Module: ModuleOrg, Action: "organizations:ListAccountsForParent", Level: LevelList, Resource: "*",
			Why: "Which accounts sit in which OU, so the SCPs of each level apply to the right accounts."},
		{Module: ModuleOrg, Action: "organizations:ListPoliciesForTarget", Level: LevelList, Resource: "*",
			Why: "Service and resource control policies on the root, each OU and each account: to explain an explicit deny during verification, and for effective permissions (access-read)."},
		{Module: ModuleOrg, Action: "organizations:DescribePolicy", Level: LevelRead,
			Resource:       "arn:${AWS::Partition}:organizations::*:policy/o-*/service_control_policy/p-*",
			ExtraResources: []string{"arn:${AWS::Partition}:organizations::*:policy/o-*/resource_control_policy/p-*"},
			Why:            "Content of a service or resource control policy, to show which statement denies crossbill and to include them in effective permissions (access-read)."},
	}
}
