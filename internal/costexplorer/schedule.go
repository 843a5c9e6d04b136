package costexplorer

import "github.com/crossbill/crossbill/internal/manifest"

// AnnexSchedule is the schedule the annex's cost impact is computed from:
// the daily incremental load at its most (every tag key read, the
// forecast), the first load (the accounts' names too), the requests of commitments recommend --aws-compare and
// commitments compare, and the default monthly budget.
func AnnexSchedule() manifest.Schedule {
	s := manifest.DefaultSchedule()
	s.CostExplorerDaily = map[string]int{
		"ce:GetCostAndUsage": len(groupings) + MaxTagKeys,
		"ce:GetTags":         1,
		"ce:GetCostForecast": 1,
	}
	// The first load also asks for the accounts' names (GetDimensionValues).
	s.CostExplorerFirstLoad = RequestsPerLoad(MaxTagKeys, true)
	// Every type, term and payment option: 2 Savings Plans types and 4
	// reservation services, 2 terms, 3 payment options.
	// commitments compare: one request per figure.
	s.CostExplorerOnDemand = map[string]int{
		"ce:GetSavingsPlansPurchaseRecommendation": 2 * 2 * 3,
		"ce:GetReservationPurchaseRecommendation":  4 * 2 * 3,
		"ce:GetSavingsPlansUtilization":            1,
		"ce:GetSavingsPlansUtilizationDetails":     1,
		"ce:GetReservationUtilization":             1,
		"ce:GetSavingsPlansCoverage":               1,
		"ce:GetReservationCoverage":                1,
	}
	s.CostExplorerMonthlyBudget = DefaultMonthlyBudget
	return s
}
