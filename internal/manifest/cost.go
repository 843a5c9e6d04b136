package manifest

// ceRequestUSD is what AWS charges per Cost Explorer API request.
const ceRequestUSD = 0.01

// cost: Cost Explorer reads and the public price list. Cost Explorer actions
// accept no narrower resource than "*" for account-wide queries (billing
// views are optional), and the Price List API has no resource types.
func costPermissions() []Permission {
	return []Permission{
		{Module: ModuleCost, Action: "ce:GetCostAndUsage", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Daily cost by service, account and tag when no CUR export is connected yet."},
		{Module: ModuleCost, Action: "ce:GetCostForecast", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Cost Explorer's own forecast of this month and the next 3, shown beside crossbill's (one request with each daily load)."},
		{Module: ModuleCost, Action: "ce:GetDimensionValues", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Names the linked accounts that have cost (one request on the first load and when a new account appears), so cost by account shows names."},
		{Module: ModuleCost, Action: "ce:GetTags", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Lists cost allocation tag keys and values, for cost by tag."},
		{Module: ModuleCost, Action: "ce:GetSavingsPlansPurchaseRecommendation", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "AWS's own Savings Plans recommendation, compared with crossbill's optimizer."},
		{Module: ModuleCost, Action: "ce:GetReservationPurchaseRecommendation", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "AWS's own Reserved Instance recommendation, compared with crossbill's optimizer."},
		{Module: ModuleCost, Action: "ce:GetSavingsPlansUtilization", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "How much of each Savings Plan commitment is used."},
		{Module: ModuleCost, Action: "ce:GetSavingsPlansUtilizationDetails", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Utilization per Savings Plan beside crossbill's, to find under-used plans (commitments compare)."},
		{Module: ModuleCost, Action: "ce:GetSavingsPlansCoverage", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Share of eligible spend covered by Savings Plans."},
		{Module: ModuleCost, Action: "ce:GetReservationUtilization", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "How much of each reservation is used."},
		{Module: ModuleCost, Action: "ce:GetReservationCoverage", Level: LevelRead, Resource: "*", CostUSD: ceRequestUSD,
			Why: "Share of eligible usage covered by reservations."},
		{Module: ModuleCost, Action: "pricing:GetProducts", Level: LevelRead, Resource: "*",
			Why: "Public on-demand and Savings Plans prices, to value recommendations (free API)."},
		{Module: ModuleCost, Action: "pricing:DescribeServices", Level: LevelRead, Resource: "*",
			Why: "Lists price list services and attributes; also the free verification probe for this module."},
	}
}
