package commitments_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
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

// TestMotoLacksReservationRecommendation pins why the reservation
// recommendation test stubs: moto 5.2.1's Cost Explorer does not serve
// GetReservationPurchaseRecommendation. When a moto upgrade makes this
// fail, drop the stub.
func TestMotoLacksReservationRecommendation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryMaxAttempts = 1
	if _, err := costexplorer.NewFromConfig(cfg).GetReservationPurchaseRecommendation(ctx, &costexplorer.GetReservationPurchaseRecommendationInput{
		Service: aws.String("Amazon Redshift")}); err == nil {
		t.Error("moto now serves ce:GetReservationPurchaseRecommendation: drop its stub")
	}
}

func TestAWSReservationRecommendation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := awsclient.NewRecorder()
	rec.Attach(&cfg)
	var got []*costexplorer.GetReservationPurchaseRecommendationInput
	detail := func(account, itype, count, savings, onDemand, upfront, util string) cetypes.ReservationPurchaseRecommendationDetail {
		return cetypes.ReservationPurchaseRecommendationDetail{AccountId: aws.String(account),
			InstanceDetails: &cetypes.InstanceDetails{RDSInstanceDetails: &cetypes.RDSInstanceDetails{
				Family: aws.String("r6g"), InstanceType: aws.String(itype), Region: aws.String("us-east-1"), DatabaseEngine: aws.String("MySQL")}},
			RecommendedNumberOfInstancesToPurchase: aws.String(count), EstimatedMonthlySavingsAmount: aws.String(savings),
			EstimatedMonthlyOnDemandCost: aws.String(onDemand), UpfrontCost: aws.String(upfront), AverageUtilization: aws.String(util),
			RecurringStandardMonthlyCost: aws.String("0"), EstimatedBreakEvenInMonths: aws.String("7.5")}
	}
	// STUBBED: moto_server's Cost Explorer does not serve
	// GetReservationPurchaseRecommendation (TestMotoLacksReservationRecommendation);
	// the stub checks the request crossbill builds and answers two pages.
	st := &stubs{answer: map[string]func(any) (any, error){
		"GetReservationPurchaseRecommendation": func(in any) (any, error) {
			req := in.(*costexplorer.GetReservationPurchaseRecommendationInput)
			got = append(got, req)
			if req.NextPageToken == nil {
				return &costexplorer.GetReservationPurchaseRecommendationOutput{NextPageToken: aws.String("2"),
					Recommendations: []cetypes.ReservationPurchaseRecommendation{{
						RecommendationSummary: &cetypes.ReservationPurchaseRecommendationSummary{
							TotalEstimatedMonthlySavingsAmount: aws.String("300"), TotalEstimatedMonthlySavingsPercentage: aws.String("30")},
						RecommendationDetails: []cetypes.ReservationPurchaseRecommendationDetail{
							detail("111111111111", "db.r6g.xlarge", "3", "300", "1000", "5256", "92.5")},
					}}}, nil
			}
			return &costexplorer.GetReservationPurchaseRecommendationOutput{Recommendations: []cetypes.ReservationPurchaseRecommendation{{
				RecommendationDetails: []cetypes.ReservationPurchaseRecommendationDetail{detail("222222222222", "db.r6g.large", "1", "100", "1000", "876", "80")},
			}}}, nil
		},
	}}
	cfg.APIOptions = append(cfg.APIOptions, st.option)
	r, err := commitments.FetchAWSRecommendation(ctx, costexplorer.NewFromConfig(cfg), commitments.OptionRDSRI, 1, commitments.AllUpfront, 60, false)
	if err != nil {
		t.Fatal(err)
	}
	// Savings and upfront total both pages' details; the percentage is
	// over both pages' on-demand cost: 400 / 2000.
	if r.Type != commitments.OptionRDSRI || r.Scope != "payer" || r.MonthlySavings != 400 || r.SavingsPercent != 0.2 || r.Upfront != 5256+876 || len(r.Details) != 2 {
		t.Fatalf("recommendation %+v", r)
	}
	if d := r.Details[0]; d.InstanceType != "db.r6g.xlarge" || d.Region != "us-east-1" || d.Family != "r6g" || d.Count != 3 ||
		d.MonthlySavings != 300 || d.Upfront != 5256 || d.Utilization != 0.925 || d.BreakEvenMonths != 7.5 || d.Account != "111111111111" {
		t.Errorf("detail %+v", d)
	}
	if len(got) != 2 || aws.ToString(got[0].Service) != "Amazon Relational Database Service" || got[0].TermInYears != cetypes.TermInYearsOneYear ||
		got[0].PaymentOption != cetypes.PaymentOptionAllUpfront || got[0].LookbackPeriodInDays != cetypes.LookbackPeriodInDaysSixtyDays ||
		got[0].AccountScope != cetypes.AccountScopePayer || aws.ToString(got[1].NextPageToken) != "2" {
		t.Errorf("requests %+v", got)
	}
	if u := rec.Undeclared(); len(u) > 0 {
		t.Errorf("calls not declared in internal/manifest: %v", u)
	}
	if n := rec.Count("ce:GetReservationPurchaseRecommendation"); n != 2 {
		t.Errorf("recorded %d reservation recommendation calls, want 2", n)
	}

	// The other services, in Cost Explorer's names.
	services := map[string]string{}
	st.answer["GetReservationPurchaseRecommendation"] = func(in any) (any, error) {
		services[aws.ToString(in.(*costexplorer.GetReservationPurchaseRecommendationInput).Service)] = "asked"
		return &costexplorer.GetReservationPurchaseRecommendationOutput{}, nil
	}
	for _, typ := range []string{commitments.OptionElastiCacheRI, commitments.OptionOpenSearchRI, commitments.OptionRedshiftRI} {
		if _, err := commitments.FetchAWSRecommendation(ctx, costexplorer.NewFromConfig(cfg), typ, 3, commitments.NoUpfront, 7, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"Amazon ElastiCache", "Amazon OpenSearch Service", "Amazon Redshift"} {
		if services[s] == "" {
			t.Errorf("%s not asked for (asked %v)", s, services)
		}
	}
}
