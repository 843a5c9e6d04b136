package commitments

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill"
)

// CostExplorerOperations are the Cost Explorer operations crossbill calls
// for side-by-side recommendations; each request costs the customer $0.01.
func CostExplorerOperations() []string {
	return []string{"ce:GetSavingsPlansPurchaseRecommendation"}
}

// costExplorerAPI is the subset of *costexplorer.Client used here.
type costExplorerAPI interface {
	GetSavingsPlansPurchaseRecommendation(context.Context, *costexplorer.GetSavingsPlansPurchaseRecommendationInput, ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansPurchaseRecommendationOutput, error)
}

// AWSRecommendation is Cost Explorer's own Savings Plans recommendation
// for one set of options, shown next to crossbill's.
type AWSRecommendation struct {
	Type             string      `json:"type"`
	Term             int         `json:"term_years"`
	Payment          Payment     `json:"payment_option"`
	LookbackDays     int         `json:"lookback_days"`
	Scope            string      `json:"scope"`
	HourlyCommitment float64     `json:"hourly_commitment"`
	MonthlySavings   float64     `json:"monthly_savings"`
	SavingsPercent   float64     `json:"savings_percent"`
	Details          []AWSDetail `json:"details,omitempty"`
}

// AWSDetail is one line of Cost Explorer's recommendation.
type AWSDetail struct {
	Account          string  `json:"account,omitempty"`
	Family           string  `json:"family,omitempty"`
	Region           string  `json:"region,omitempty"`
	HourlyCommitment float64 `json:"hourly_commitment"`
	MonthlySavings   float64 `json:"monthly_savings"`
	Upfront          float64 `json:"upfront_cost"`
	Utilization      float64 `json:"expected_utilization"`
}

// FetchAWSRecommendation asks Cost Explorer for its Savings Plans
// recommendation (Compute or EC2 Instance; lookback 7, 30 or 60 days;
// payer or linked account scope).
func FetchAWSRecommendation(ctx context.Context, ce costExplorerAPI, typ string, term int, pay Payment, lookbackDays int, linked bool) (AWSRecommendation, error) {
	const op = "commitments recommend"
	in := &costexplorer.GetSavingsPlansPurchaseRecommendationInput{AccountScope: cetypes.AccountScopePayer}
	scope := "payer"
	if linked {
		in.AccountScope, scope = cetypes.AccountScopeLinked, "linked"
	}
	switch typ {
	case OptionComputeSP:
		in.SavingsPlansType = cetypes.SupportedSavingsPlansTypeComputeSp
	case OptionEC2InstanceSP:
		in.SavingsPlansType = cetypes.SupportedSavingsPlansTypeEc2InstanceSp
	default:
		return AWSRecommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "Cost Explorer recommends Savings Plans only here; %s has none", typ)
	}
	switch term {
	case 1:
		in.TermInYears = cetypes.TermInYearsOneYear
	case 3:
		in.TermInYears = cetypes.TermInYearsThreeYears
	default:
		return AWSRecommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "term %d: use 1 or 3", term)
	}
	switch pay {
	case NoUpfront:
		in.PaymentOption = cetypes.PaymentOptionNoUpfront
	case PartialUpfront:
		in.PaymentOption = cetypes.PaymentOptionPartialUpfront
	case AllUpfront:
		in.PaymentOption = cetypes.PaymentOptionAllUpfront
	default:
		return AWSRecommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "payment option %q", pay)
	}
	switch lookbackDays {
	case 7:
		in.LookbackPeriodInDays = cetypes.LookbackPeriodInDaysSevenDays
	case 30:
		in.LookbackPeriodInDays = cetypes.LookbackPeriodInDaysThirtyDays
	case 60:
		in.LookbackPeriodInDays = cetypes.LookbackPeriodInDaysSixtyDays
	default:
		return AWSRecommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "Cost Explorer looks back 7, 30 or 60 days, not %d", lookbackDays)
	}
	out := AWSRecommendation{Type: typ, Term: term, Payment: pay, LookbackDays: lookbackDays, Scope: scope}
	for {
		resp, err := ce.GetSavingsPlansPurchaseRecommendation(ctx, in)
		if err != nil {
			return AWSRecommendation{}, fmt.Errorf("asking Cost Explorer for its %s recommendation: %w", typ, err)
		}
		if rec := resp.SavingsPlansPurchaseRecommendation; rec != nil {
			if s := rec.SavingsPlansPurchaseRecommendationSummary; s != nil && in.NextPageToken == nil {
				out.HourlyCommitment = parseFloat(aws.ToString(s.HourlyCommitmentToPurchase))
				out.MonthlySavings = parseFloat(aws.ToString(s.EstimatedMonthlySavingsAmount))
				out.SavingsPercent = parseFloat(aws.ToString(s.EstimatedSavingsPercentage)) / 100
			}
			for _, d := range rec.SavingsPlansPurchaseRecommendationDetails {
				x := AWSDetail{
					Account:          aws.ToString(d.AccountId),
					HourlyCommitment: parseFloat(aws.ToString(d.HourlyCommitmentToPurchase)),
					MonthlySavings:   parseFloat(aws.ToString(d.EstimatedMonthlySavingsAmount)),
					Upfront:          parseFloat(aws.ToString(d.UpfrontCost)),
					Utilization:      parseFloat(aws.ToString(d.EstimatedAverageUtilization)) / 100,
				}
				if sp := d.SavingsPlansDetails; sp != nil {
					x.Family, x.Region = aws.ToString(sp.InstanceFamily), aws.ToString(sp.Region)
				}
				out.Details = append(out.Details, x)
			}
		}
		if aws.ToString(resp.NextPageToken) == "" {
			return out, nil
		}
		in.NextPageToken = resp.NextPageToken
	}
}
