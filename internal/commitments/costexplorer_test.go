package commitments_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/emulator"
)

func TestAWSRecommendationSideBySide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []*costexplorer.GetSavingsPlansPurchaseRecommendationInput
	// STUBBED: moto_server's Cost Explorer does not serve
	// GetSavingsPlansPurchaseRecommendation; the stub checks the request
	// crossbill builds and answers two pages.
	st := &stubs{answer: map[string]func(any) (any, error){
		"GetSavingsPlansPurchaseRecommendation": func(in any) (any, error) {
			req := in.(*costexplorer.GetSavingsPlansPurchaseRecommendationInput)
			got = append(got, req)
			if req.NextPageToken == nil {
				return &costexplorer.GetSavingsPlansPurchaseRecommendationOutput{NextPageToken: aws.String("2"),
					SavingsPlansPurchaseRecommendation: &cetypes.SavingsPlansPurchaseRecommendation{
						SavingsPlansPurchaseRecommendationSummary: &cetypes.SavingsPlansPurchaseRecommendationSummary{
							HourlyCommitmentToPurchase: aws.String("4.2"), EstimatedMonthlySavingsAmount: aws.String("800.5"), EstimatedSavingsPercentage: aws.String("21.5")},
						SavingsPlansPurchaseRecommendationDetails: []cetypes.SavingsPlansPurchaseRecommendationDetail{{
							AccountId: aws.String("111111111111"), HourlyCommitmentToPurchase: aws.String("3"), EstimatedAverageUtilization: aws.String("97.5"),
							SavingsPlansDetails: &cetypes.SavingsPlansDetails{InstanceFamily: aws.String("m5"), Region: aws.String("us-east-1")}}},
					}}, nil
			}
			return &costexplorer.GetSavingsPlansPurchaseRecommendationOutput{SavingsPlansPurchaseRecommendation: &cetypes.SavingsPlansPurchaseRecommendation{
				SavingsPlansPurchaseRecommendationDetails: []cetypes.SavingsPlansPurchaseRecommendationDetail{{AccountId: aws.String("222222222222"), HourlyCommitmentToPurchase: aws.String("1.2")}},
			}}, nil
		},
	}}
	cfg.APIOptions = append(cfg.APIOptions, st.option)
	ce := costexplorer.NewFromConfig(cfg)
	rec, err := commitments.FetchAWSRecommendation(ctx, ce, commitments.OptionEC2InstanceSP, 3, commitments.PartialUpfront, 30, true)
	if err != nil {
		t.Fatal(err)
	}
	if rec.HourlyCommitment != 4.2 || rec.MonthlySavings != 800.5 || rec.SavingsPercent != 0.215 || len(rec.Details) != 2 ||
		rec.Details[0].Family != "m5" || rec.Details[0].Utilization != 0.975 || rec.Scope != "linked" {
		t.Errorf("recommendation %+v", rec)
	}
	if len(got) != 2 || got[0].SavingsPlansType != cetypes.SupportedSavingsPlansTypeEc2InstanceSp || got[0].TermInYears != cetypes.TermInYearsThreeYears ||
		got[0].PaymentOption != cetypes.PaymentOptionPartialUpfront || got[0].LookbackPeriodInDays != cetypes.LookbackPeriodInDaysThirtyDays ||
		got[0].AccountScope != cetypes.AccountScopeLinked {
		t.Errorf("requests %+v", got)
	}
	for _, op := range st.called {
		if op != commitments.CostExplorerOperations()[0] {
			t.Errorf("called %s, not declared", op)
		}
	}
	if _, err := commitments.FetchAWSRecommendation(ctx, ce, commitments.OptionComputeSP, 1, commitments.NoUpfront, 14, false); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("14-day lookback: %v, want Invalid", err)
	}
}
