// Package cetest builds Cost Explorer GetCostAndUsage answers, in the JSON
// shape moto's /moto-api/static/ce/cost-and-usage-results queue takes.
package cetest

import (
	"fmt"
	"time"
)

// Group is one group of every day: its two keys and its daily cost (all
// four metrics alike; usage 1).
type Group struct {
	Keys [2]string
	Cost float64
}

// Daily is an answer with one result per day of [from, to), each holding
// groups, and NextPageToken token ("" for the last page).
func Daily(from, to time.Time, token string, groups ...Group) map[string]any {
	var results []any
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		var gs []any
		for _, g := range groups {
			amt := func(v float64, unit string) map[string]string {
				return map[string]string{"Amount": fmt.Sprint(v), "Unit": unit}
			}
			gs = append(gs, map[string]any{"Keys": []string{g.Keys[0], g.Keys[1]}, "Metrics": map[string]any{
				"UnblendedCost": amt(g.Cost, "USD"), "AmortizedCost": amt(g.Cost, "USD"),
				"NetUnblendedCost": amt(g.Cost, "USD"), "UsageQuantity": amt(1, "N/A")}})
		}
		results = append(results, map[string]any{
			"TimePeriod": map[string]string{"Start": d.Format(time.DateOnly), "End": d.AddDate(0, 0, 1).Format(time.DateOnly)},
			"Total":      map[string]any{}, "Groups": gs, "Estimated": false,
		})
	}
	out := map[string]any{"ResultsByTime": results, "DimensionValueAttributes": []any{}, "GroupDefinitions": []any{}}
	if token != "" {
		out["NextPageToken"] = token
	}
	return out
}
