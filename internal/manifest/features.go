package manifest

// Feature is a crossbill feature that calls AWS in a customer account. The
// annex lists, per module and per action, the features that use it; a test
// keeps this list and the pending list covering every granted action.
type Feature struct {
	// Name says what the feature does and where it is reached.
	Name string
	// Actions are the IAM actions it needs (not SDK operation names).
	Actions []string
}

// Features returns crossbill's features that call AWS, verification aside
// (its calls are the probes, see Probes).
func Features() []Feature {
	return []Feature{
		{"CUR ingestion (`crossbill cur ingest`, the scheduler's ingest job)",
			[]string{"s3:ListBucket", "s3:GetObject"}},
		{"CUR export discovery at verification (`crossbill connect verify`, the bill check)",
			[]string{"bcm-data-exports:ListExports", "bcm-data-exports:GetExport", "s3:ListBucket"}},
		{"Commitments inventory from AWS (`crossbill commitments inventory --aws`)",
			[]string{"savingsplans:DescribeSavingsPlans", "ec2:DescribeReservedInstances", "rds:DescribeReservedDBInstances",
				"elasticache:DescribeReservedCacheNodes", "redshift:DescribeReservedNodes", "es:DescribeReservedInstances"}},
		{"Discount rates from the Price List (`crossbill commitments recommend --pricing`)",
			[]string{"pricing:GetProducts", "savingsplans:DescribeSavingsPlansOfferingRates"}},
		{"Cost Explorer's own recommendations beside crossbill's, through the connection's role (`crossbill commitments recommend --aws-compare --connection ID`, POST .../connections/{connection}/commitments/aws-recommendations)",
			[]string{"ce:GetSavingsPlansPurchaseRecommendation", "ce:GetReservationPurchaseRecommendation"}},
		{"Day-zero costs: 12 months of daily cost until the CUR arrives, the accounts' names and Cost Explorer's forecast (`crossbill costs explorer load`, the scheduler's cost-explorer job; shown by `crossbill costs` and `crossbill costs forecast`)",
			[]string{"ce:GetCostAndUsage", "ce:GetTags", "ce:GetDimensionValues", "ce:GetCostForecast"}},
		{"Cost Explorer's utilization and coverage, and each Savings Plan's utilization, beside crossbill's (`crossbill commitments compare`, POST .../connections/{connection}/commitments/compare)",
			[]string{"ce:GetSavingsPlansUtilization", "ce:GetReservationUtilization", "ce:GetSavingsPlansCoverage", "ce:GetReservationCoverage",
				"ce:GetSavingsPlansUtilizationDetails"}},
		{"Access governance: identities, entitlements and findings of every account (`crossbill access sync`, the scheduler's access job)",
			[]string{"iam:GetAccountAuthorizationDetails", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListMFADevices",
				"iam:GetLoginProfile", "iam:GenerateServiceLastAccessedDetails", "iam:GetServiceLastAccessedDetails",
				"iam:GenerateCredentialReport", "iam:GetCredentialReport",
				"sso:ListInstances", "sso:ListPermissionSets", "sso:DescribePermissionSet", "sso:GetInlinePolicyForPermissionSet",
				"sso:ListManagedPoliciesInPermissionSet", "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
				"sso:GetPermissionsBoundaryForPermissionSet", "sso:ListAccountAssignments",
				"identitystore:ListUsers", "identitystore:ListGroups", "identitystore:ListGroupMemberships",
				"organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent", "organizations:ListAccountsForParent",
				"organizations:ListPoliciesForTarget", "organizations:DescribePolicy"}},
		{"Just-in-time access: grants and their revocation (`crossbill access request|approve|revoke`, the server's lease loop), scope checks (permission set tag, group path) and the requester's AWS user",
			[]string{"iam:AddUserToGroup", "iam:RemoveUserFromGroup", "iam:GetGroup", "iam:GetUser",
				"sso:CreateAccountAssignment", "sso:DeleteAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus",
				"sso:DescribeAccountAssignmentDeletionStatus", "sso:ListTagsForResource", "sso:ListInstances", "sso:DescribePermissionSet", "sso:ListAccountAssignments", "identitystore:GetUserId"}},
		{"Just-in-time access reconciler: active leases against AWS, every minute (the scheduler's jit-reconcile job, `crossbill access reconcile`)",
			[]string{"sso:ListAccountAssignments", "iam:GetGroup", "sso:ListInstances"}},
		{"Resource inventory with utilization and cost, in every enabled region of every account (`crossbill inventory sync`, the scheduler's inventory job; read by `crossbill inventory list|show` and the optimization rules)",
			[]string{"ec2:DescribeRegions", "ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeVolumes", "ec2:DescribeSnapshots",
				"ec2:DescribeImages", "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions",
				"ec2:DescribeAddresses", "ec2:DescribeNatGateways", "autoscaling:DescribeAutoScalingGroups",
				"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
				"elasticloadbalancing:DescribeInstanceHealth", "elasticloadbalancing:DescribeTags",
				"rds:DescribeDBInstances", "rds:DescribeDBClusters", "lambda:ListFunctions",
				"ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices", "ecs:DescribeServices",
				"eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup",
				"elasticache:DescribeCacheClusters", "elasticache:DescribeReplicationGroups", "redshift:DescribeClusters",
				"es:ListDomainNames", "es:DescribeDomains", "dynamodb:ListTables", "dynamodb:DescribeTable",
				"s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetLifecycleConfiguration",
				"cloudwatch:GetMetricData"}},
		{AthenaFeature,
			[]string{"athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "glue:GetDatabase", "glue:GetTable"}},
		{"Commitment purchases: plans show the offering they buy; approved plans are bought, queued Savings Plans and EC2 reservations cancelled (`crossbill commitments plan|execute|cancel`, POST .../commitments/plans[/{plan}/execute|cancel])",
			[]string{"savingsplans:DescribeSavingsPlansOfferings", "ec2:DescribeReservedInstancesOfferings",
				"savingsplans:CreateSavingsPlan", "savingsplans:DeleteQueuedSavingsPlan", "ec2:PurchaseReservedInstancesOffering", "ec2:DeleteQueuedReservedInstances",
				"rds:DescribeReservedDBInstancesOfferings", "rds:PurchaseReservedDBInstancesOffering",
				"elasticache:DescribeReservedCacheNodesOfferings", "elasticache:PurchaseReservedCacheNodesOffering",
				"es:DescribeReservedInstanceOfferings", "es:PurchaseReservedInstanceOffering",
				"redshift:DescribeReservedNodeOfferings", "redshift:PurchaseReservedNodeOffering"}},
		{"Reserved Instance Marketplace listings of unused reservations, once approved (`crossbill commitments sell --plan RI`, `commitments execute|cancel`)",
			[]string{"ec2:CreateReservedInstancesListing", "ec2:CancelReservedInstancesListing"}},
		{"Remediation: plans with a dry run, approved by another person, then run with a durable step log; mark-for-op tags and their removal; undo (`crossbill remediate plan|run|undo|mark|unmark`, POST .../remediations, the scheduler's remediation job)",
			[]string{"ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeAddresses",
				"ec2:StopInstances", "ec2:StartInstances", "ec2:ModifyInstanceAttribute", "ec2:CreateSnapshot", "ec2:DeleteVolume", "ec2:ModifyVolume",
				"ec2:DeleteSnapshot", "ec2:ReleaseAddress", "ec2:CreateTags", "ec2:DeleteTags",
				"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeLoadBalancerAttributes",
				"elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
				"rds:DescribeDBInstances", "rds:StopDBInstance", "rds:StartDBInstance", "rds:DeleteDBInstance", "rds:CreateDBSnapshot",
				"rds:AddTagsToResource", "rds:RemoveTagsFromResource",
				"s3:GetBucketTagging", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"}},
		{"Organization members (`crossbill connect members`, the scheduler's members job)",
			[]string{"organizations:DescribeOrganization", "organizations:ListAccounts"}},
	}
}

// AthenaFeature is the Athena query engine: only with the CUR stack's
// EnableAthena option, whose policy (CURAthena) grants its actions. glue:
// actions are Athena's reads of the table with the caller's permissions.
const AthenaFeature = "Cost queries in Athena over the CUR in place, only with the CUR stack's EnableAthena option (`crossbill costs engine set athena --connection ID`, then `crossbill costs` and GET .../costs); Athena reads the Glue table with the role's permissions"

// verificationFeature names the verifier's probes in the annex.
const verificationFeature = "Connection verification (`crossbill connect verify`): the module's probe"

// usedBy returns the features that use p's action, the verification probe
// included when the module's probe calls it.
func usedBy(p Permission) []string {
	var out []string
	for _, f := range Features() {
		for _, a := range f.Actions {
			if a == p.Action {
				out = append(out, f.Name)
				break
			}
		}
	}
	for _, pr := range Probes(p.Module) {
		if pr.Call == "" {
			continue
		}
		if q, ok := ActionForCall(pr.Call); ok && q.Action == p.Action {
			name := verificationFeature
			if pr.Paid {
				name += " (paid: only with --include-paid)"
			}
			out = append(out, name)
			break
		}
	}
	return out
}
