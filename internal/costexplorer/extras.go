package costexplorer

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

// ForecastMonths is how many months Cost Explorer's forecast covers: the
// current month's remaining days and the 3 months after, in one request.
const ForecastMonths = 4

// forecast asks Cost Explorer for its unblended cost forecast from today
// to the end of the ForecastMonths-th month, monthly: one request (the
// operation has no pages).
func forecast(ctx context.Context, c *Client, today time.Time) ([]costs.ExplorerForecast, error) {
	end := time.Date(today.Year(), today.Month()+ForecastMonths, 1, 0, 0, 0, 0, time.UTC)
	resp, err := c.GetCostForecast(ctx, &costexplorer.GetCostForecastInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(today.Format(time.DateOnly)), End: aws.String(end.Format(time.DateOnly))},
		Granularity: cetypes.GranularityMonthly, Metric: cetypes.MetricUnblendedCost, PredictionIntervalLevel: aws.Int32(80),
	})
	if err != nil {
		return nil, err
	}
	var out []costs.ExplorerForecast
	for _, r := range resp.ForecastResultsByTime {
		if r.TimePeriod == nil {
			continue
		}
		from, err1 := time.Parse(time.DateOnly, aws.ToString(r.TimePeriod.Start))
		to, err2 := time.Parse(time.DateOnly, aws.ToString(r.TimePeriod.End))
		if err1 != nil || err2 != nil || !from.Before(to) {
			return nil, crossbill.Errorf(crossbill.CodeUnavailable, "cost explorer forecast", "Cost Explorer answered a forecast period %q to %q",
				aws.ToString(r.TimePeriod.Start), aws.ToString(r.TimePeriod.End))
		}
		out = append(out, costs.ExplorerForecast{Month: from.Format("2006-01"), From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly),
			Mean: parse(r.MeanValue), Low: parse(r.PredictionIntervalLowerBound), High: parse(r.PredictionIntervalUpperBound)})
	}
	return out, nil
}

func parse(s *string) float64 {
	return amount(map[string]cetypes.MetricValue{"": {Amount: s}}, "")
}

// accountNames asks Cost Explorer for the linked accounts with cost in
// the window and their names (the "description" attribute), every page:
// one request when they fit one page (1,000 values). An account without a
// name, or whose name is not plain text, maps to "" (asked, unnamed).
func accountNames(ctx context.Context, c *Client, from, to time.Time) (map[string]string, error) {
	in := &costexplorer.GetDimensionValuesInput{
		TimePeriod: &cetypes.DateInterval{Start: aws.String(from.Format(time.DateOnly)), End: aws.String(to.Format(time.DateOnly))},
		Dimension:  cetypes.DimensionLinkedAccount, Context: cetypes.ContextCostAndUsage,
	}
	out := map[string]string{}
	for {
		resp, err := c.GetDimensionValues(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, v := range resp.DimensionValues {
			id, name := aws.ToString(v.Value), v.Attributes["description"]
			if id == "" {
				continue
			}
			if len(name) > 256 || crossbill.CheckText("cost explorer load", "account name", name) != nil {
				name = ""
			}
			out[id] = name
		}
		if aws.ToString(resp.NextPageToken) == "" {
			return out, nil
		}
		in.NextPageToken = resp.NextPageToken
	}
}
