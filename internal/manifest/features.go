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
		{AthenaFeature,
			[]string{"athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "glue:GetDatabase", "glue:GetTable"}},
		{"Commitment purchases: plans show the offering they buy; approved plans are bought, queued Savings Plans cancelled (`crossbill commitments plan|execute|cancel`, POST .../commitments/plans[/{plan}/execute|cancel])",
			[]string{"savingsplans:DescribeSavingsPlansOfferings", "ec2:DescribeReservedInstancesOfferings",
				"savingsplans:CreateSavingsPlan", "savingsplans:DeleteQueuedSavingsPlan", "ec2:PurchaseReservedInstancesOffering"}},
		{"Reserved Instance Marketplace listings of unused reservations, once approved (`crossbill commitments sell --plan RI`, `commitments execute|cancel`)",
			[]string{"ec2:CreateReservedInstancesListing", "ec2:CancelReservedInstancesListing"}},
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
