package manifest

// noResourceTypes are write actions AWS's authorization reference gives no
// resource type: IAM can grant them only on "*" (the catalog test proves
// each still has none).
var noResourceTypes = map[string]bool{
	"savingsplans:CreateSavingsPlan":        true,
	"ec2:PurchaseReservedInstancesOffering": true,
	"es:PurchaseReservedInstanceOffering":   true,
	"redshift:PurchaseReservedNodeOffering": true,
	"ec2:CreateReservedInstancesListing":    true,
	"ec2:CancelReservedInstancesListing":    true,
}

// NoResourceTypeWrites lists the writes granted on "*" because AWS offers
// no narrower resource for them.
func NoResourceTypeWrites() []string {
	var out []string
	for a, ok := range noResourceTypes {
		if ok {
			out = append(out, a)
		}
	}
	return out
}

// commitments-purchase: opt-in, Frust-style. Buys and cancels commitments
// only after a person other than the plan's author approved the plan in
// crossbill; every purchase carries the plan's client token so a retry
// never buys twice.
func purchasePermissions() []Permission {
	sp := "arn:${AWS::Partition}:savingsplans::${AWS::AccountId}:savingsplan/*"
	return []Permission{
		{Module: ModuleCommitmentsPurchase, Action: "savingsplans:DescribeSavingsPlansOfferings", Level: LevelRead, Resource: "*",
			Why: "Finds the exact Savings Plan offering a purchase plan will buy (type, term, payment option), shown to the approver before anything is bought."},
		{Module: ModuleCommitmentsPurchase, Action: "savingsplans:CreateSavingsPlan", Level: LevelWrite, Resource: "*",
			Why: "Buys (or queues for a later start) a Savings Plan that a person other than its author approved in crossbill, with a client token so a retried purchase is the same purchase."},
		{Module: ModuleCommitmentsPurchase, Action: "savingsplans:DeleteQueuedSavingsPlan", Level: LevelWrite, Resource: sp,
			Why: "Cancels a queued Savings Plan (not yet started) when its plan is cancelled in crossbill; an active plan cannot be cancelled."},
		{Module: ModuleCommitmentsPurchase, Action: "ec2:DescribeReservedInstancesOfferings", Level: LevelList, Resource: "*",
			Why: "Finds the EC2 Reserved Instance offering a purchase plan will buy, with its upfront and hourly price."},
		{Module: ModuleCommitmentsPurchase, Action: "ec2:PurchaseReservedInstancesOffering", Level: LevelWrite, Resource: "*",
			Why: "Buys the EC2 Reserved Instance offering an approved plan names (the offering, count and start the approver saw)."},
		{Module: ModuleCommitmentsPurchase, Action: "ec2:DeleteQueuedReservedInstances", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:reserved-instances/*",
			Why:      "Deletes a queued EC2 Reserved Instance purchase (not yet started) when its plan is cancelled in crossbill; a started reservation cannot be deleted."},
		{Module: ModuleCommitmentsPurchase, Action: "rds:DescribeReservedDBInstancesOfferings", Level: LevelList, Resource: "*",
			Why: "Finds the RDS reserved DB instance offering a purchase plan will buy (class, engine, Multi-AZ, term, payment), with its upfront and hourly price."},
		{Module: ModuleCommitmentsPurchase, Action: "elasticache:DescribeReservedCacheNodesOfferings", Level: LevelList, Resource: "*",
			Why: "Finds the ElastiCache reserved node offering a purchase plan will buy (node type, engine, term, payment), with its upfront and hourly price."},
		{Module: ModuleCommitmentsPurchase, Action: "es:DescribeReservedInstanceOfferings", Level: LevelList, Resource: "*",
			Why: "Finds the OpenSearch Service reserved instance offering a purchase plan will buy (instance type, term, payment), with its upfront and hourly price."},
		{Module: ModuleCommitmentsPurchase, Action: "redshift:DescribeReservedNodeOfferings", Level: LevelRead, Resource: "*",
			Why: "Finds the Redshift reserved node offering a purchase plan will buy (node type, term, payment), with its upfront and hourly price."},
		{Module: ModuleCommitmentsPurchase, Action: "rds:PurchaseReservedDBInstancesOffering", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:ri:*",
			Why:      "Buys an approved RDS reserved DB instance offering, with the plan's reservation ID so a retry is refused by AWS."},
		{Module: ModuleCommitmentsPurchase, Action: "elasticache:PurchaseReservedCacheNodesOffering", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:elasticache:*:${AWS::AccountId}:reserved-instance:*",
			Why:      "Buys an approved ElastiCache reserved node offering, with the plan's reservation ID so a retry is refused by AWS."},
		{Module: ModuleCommitmentsPurchase, Action: "es:PurchaseReservedInstanceOffering", Level: LevelWrite, Resource: "*",
			Why: "Buys an approved OpenSearch Service reserved instance offering, named after the plan's tranche so a retry finds the first purchase instead of buying again."},
		{Module: ModuleCommitmentsPurchase, Action: "redshift:PurchaseReservedNodeOffering", Level: LevelWrite, Resource: "*",
			Why: "Buys an approved Redshift reserved node offering; after an interrupted purchase crossbill looks for it among the account's reserved nodes before buying again."},
		{Module: ModuleCommitmentsPurchase, Action: "ec2:CreateReservedInstancesListing", Level: LevelWrite, Resource: "*",
			Why: "Lists an unused, approved Standard Reserved Instance on the Reserved Instance Marketplace with its price schedule."},
		{Module: ModuleCommitmentsPurchase, Action: "ec2:CancelReservedInstancesListing", Level: LevelWrite, Resource: "*",
			Why: "Withdraws a Marketplace listing crossbill created when its plan is cancelled."},
	}
}
