package manifest

// commitments: Savings Plans and reserved capacity inventories. EC2, Redshift
// and OpenSearch reservation reads support no resource types; the others are
// scoped to this account's reservations.
func commitmentsPermissions() []Permission {
	return []Permission{
		{Module: ModuleCommitments, Action: "savingsplans:DescribeSavingsPlans", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:savingsplans::${AWS::AccountId}:savingsplan/*",
			Why:      "Lists Savings Plans with term, commitment and expiry, for renewal planning."},
		{Module: ModuleCommitments, Action: "savingsplans:DescribeSavingsPlansOfferingRates", Level: LevelRead, Resource: "*",
			Why: "Public Savings Plans rates for the purchase optimizer."},
		{Module: ModuleCommitments, Action: "ec2:DescribeReservedInstances", Level: LevelList, Resource: "*",
			Why: "Lists EC2 Reserved Instances; also the verification probe for this module."},
		{Module: ModuleCommitments, Action: "rds:DescribeReservedDBInstances", Level: LevelList,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:ri:*",
			Why:      "Lists RDS reserved DB instances."},
		{Module: ModuleCommitments, Action: "elasticache:DescribeReservedCacheNodes", Level: LevelList,
			Resource: "arn:${AWS::Partition}:elasticache:*:${AWS::AccountId}:reserved-instance:*",
			Why:      "Lists ElastiCache reserved nodes."},
		{Module: ModuleCommitments, Action: "redshift:DescribeReservedNodes", Level: LevelRead, Resource: "*",
			Why: "Lists Redshift reserved nodes."},
		{Module: ModuleCommitments, Action: "es:DescribeReservedInstances", Level: LevelList, Resource: "*",
			Why: "Lists OpenSearch Service reserved instances (the OpenSearch API; the legacy Elasticsearch one is not used)."},
	}
}
