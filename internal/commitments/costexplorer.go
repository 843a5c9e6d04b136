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
	return []string{"ce:GetSavingsPlansPurchaseRecommendation", "ce:GetReservationPurchaseRecommendation"}
}

// costExplorerAPI is the subset of *costexplorer.Client used here.
type costExplorerAPI interface {
	GetSavingsPlansPurchaseRecommendation(context.Context, *costexplorer.GetSavingsPlansPurchaseRecommendationInput, ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansPurchaseRecommendationOutput, error)
	GetReservationPurchaseRecommendation(context.Context, *costexplorer.GetReservationPurchaseRecommendationInput, ...func(*costexplorer.Options)) (*costexplorer.GetReservationPurchaseRecommendationOutput, error)
}

// AWSRecommendation is Cost Explorer's own recommendation for one set of
// options, shown next to crossbill's.
type AWSRecommendation struct {
	Type         string  `json:"type"`
	Term         int     `json:"term_years"`
	Payment      Payment `json:"payment_option"`
	LookbackDays int     `json:"lookback_days"`
	Scope        string  `json:"scope"`
	// HourlyCommitment is the Savings Plans commitment; Cost Explorer
	// states none for reservations.
	HourlyCommitment float64 `json:"hourly_commitment"`
	// Upfront sums the details' upfront costs.
	Upfront        float64     `json:"upfront_cost"`
	MonthlySavings float64     `json:"monthly_savings"`
	SavingsPercent float64     `json:"savings_percent"`
	Details        []AWSDetail `json:"details,omitempty"`
}

// AWSDetail is one line of Cost Explorer's recommendation: a Savings Plan
// (family and region for EC2 Instance) or a number of reservations of one
// instance type in one region.
type AWSDetail struct {
	Account          string  `json:"account,omitempty"`
	Family           string  `json:"family,omitempty"`
	InstanceType     string  `json:"instance_type,omitempty"`
	Region           string  `json:"region,omitempty"`
	HourlyCommitment float64 `json:"hourly_commitment,omitempty"`
	// Count is the number of reservations to buy (reservations only).
	Count            float64 `json:"count,omitempty"`
	RecurringMonthly float64 `json:"recurring_monthly_cost,omitempty"`
	MonthlySavings   float64 `json:"monthly_savings"`
	Upfront          float64 `json:"upfront_cost"`
	Utilization      float64 `json:"expected_utilization"`
	BreakEvenMonths  float64 `json:"break_even_months,omitempty"`
}

// reservationServices names, in Cost Explorer's words, the service of each
// reservation option type crossbill recommends.
func reservationService(option string) (string, bool) {
	s, ok := map[string]string{
		OptionRDSRI:         "Amazon Relational Database Service",
		OptionElastiCacheRI: "Amazon ElastiCache",
		OptionOpenSearchRI:  "Amazon OpenSearch Service",
		OptionRedshiftRI:    "Amazon Redshift",
	}[option]
	return s, ok
}

// ceOptions are the request fields both Cost Explorer recommendation
// operations share.
type ceOptions struct {
	scope    cetypes.AccountScope
	term     cetypes.TermInYears
	payment  cetypes.PaymentOption
	lookback cetypes.LookbackPeriodInDays
}

// ceOptionsOf maps crossbill's options to Cost Explorer's request fields.
func ceOptionsOf(term int, pay Payment, lookbackDays int, linked bool) (ceOptions, error) {
	const op = "commitments recommend"
	o := ceOptions{scope: cetypes.AccountScopePayer}
	if linked {
		o.scope = cetypes.AccountScopeLinked
	}
	switch term {
	case 1:
		o.term = cetypes.TermInYearsOneYear
	case 3:
		o.term = cetypes.TermInYearsThreeYears
	default:
		return o, crossbill.Errorf(crossbill.CodeInvalid, op, "term %d: use 1 or 3", term)
	}
	switch pay {
	case NoUpfront:
		o.payment = cetypes.PaymentOptionNoUpfront
	case PartialUpfront:
		o.payment = cetypes.PaymentOptionPartialUpfront
	case AllUpfront:
		o.payment = cetypes.PaymentOptionAllUpfront
	default:
		return o, crossbill.Errorf(crossbill.CodeInvalid, op, "payment option %q", pay)
	}
	switch lookbackDays {
	case 7:
		o.lookback = cetypes.LookbackPeriodInDaysSevenDays
	case 30:
		o.lookback = cetypes.LookbackPeriodInDaysThirtyDays
	case 60:
		o.lookback = cetypes.LookbackPeriodInDaysSixtyDays
	default:
		return o, crossbill.Errorf(crossbill.CodeInvalid, op, "Cost Explorer looks back 7, 30 or 60 days, not %d", lookbackDays)
	}
	return o, nil
}

// FetchAWSRecommendation asks Cost Explorer for its recommendation of one
// option type: Savings Plans (Compute or EC2 Instance) or reservations
// (RDS, ElastiCache, OpenSearch, Redshift); lookback 7, 30 or 60 days;
// payer or linked account scope.
func FetchAWSRecommendation(ctx context.Context, ce costExplorerAPI, typ string, term int, pay Payment, lookbackDays int, linked bool) (AWSRecommendation, error) {
	const op = "commitments recommend"
	o, err := ceOptionsOf(term, pay, lookbackDays, linked)
	if err != nil {
		return AWSRecommendation{}, err
	}
	out := AWSRecommendation{Type: typ, Term: term, Payment: pay, LookbackDays: lookbackDays, Scope: "payer"}
	if linked {
		out.Scope = "linked"
	}
	if service, ok := reservationService(typ); ok {
		return fetchReservationRecommendation(ctx, ce, service, o, out)
	}
	in := &costexplorer.GetSavingsPlansPurchaseRecommendationInput{AccountScope: o.scope, TermInYears: o.term, PaymentOption: o.payment, LookbackPeriodInDays: o.lookback}
	switch typ {
	case OptionComputeSP:
		in.SavingsPlansType = cetypes.SupportedSavingsPlansTypeComputeSp
	case OptionEC2InstanceSP:
		in.SavingsPlansType = cetypes.SupportedSavingsPlansTypeEc2InstanceSp
	default:
		return AWSRecommendation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "Cost Explorer has no recommendation for %s", typ)
	}
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
				out.Upfront += x.Upfront
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

// fetchReservationRecommendation asks Cost Explorer for its reservation
// recommendation for one service, all pages.
func fetchReservationRecommendation(ctx context.Context, ce costExplorerAPI, service string, o ceOptions, out AWSRecommendation) (AWSRecommendation, error) {
	in := &costexplorer.GetReservationPurchaseRecommendationInput{Service: aws.String(service),
		AccountScope: o.scope, TermInYears: o.term, PaymentOption: o.payment, LookbackPeriodInDays: o.lookback}
	// The summaries are per page: total the details instead, and keep the
	// first summary only when there are no details.
	var summarySavings, summaryPercent, onDemand float64
	for {
		resp, err := ce.GetReservationPurchaseRecommendation(ctx, in)
		if err != nil {
			return AWSRecommendation{}, fmt.Errorf("asking Cost Explorer for its %s reservation recommendation: %w", service, err)
		}
		for _, rec := range resp.Recommendations {
			if s := rec.RecommendationSummary; s != nil && in.NextPageToken == nil {
				summarySavings += parseFloat(aws.ToString(s.TotalEstimatedMonthlySavingsAmount))
				summaryPercent = parseFloat(aws.ToString(s.TotalEstimatedMonthlySavingsPercentage)) / 100
			}
			for _, d := range rec.RecommendationDetails {
				x := AWSDetail{
					Account:          aws.ToString(d.AccountId),
					Count:            parseFloat(aws.ToString(d.RecommendedNumberOfInstancesToPurchase)),
					RecurringMonthly: parseFloat(aws.ToString(d.RecurringStandardMonthlyCost)),
					MonthlySavings:   parseFloat(aws.ToString(d.EstimatedMonthlySavingsAmount)),
					Upfront:          parseFloat(aws.ToString(d.UpfrontCost)),
					Utilization:      parseFloat(aws.ToString(d.AverageUtilization)) / 100,
					BreakEvenMonths:  parseFloat(aws.ToString(d.EstimatedBreakEvenInMonths)),
				}
				x.Family, x.InstanceType, x.Region = reservedInstance(d.InstanceDetails)
				out.Upfront += x.Upfront
				out.MonthlySavings += x.MonthlySavings
				out.Details = append(out.Details, x)
				onDemand += parseFloat(aws.ToString(d.EstimatedMonthlyOnDemandCost))
			}
		}
		if aws.ToString(resp.NextPageToken) == "" {
			break
		}
		in.NextPageToken = resp.NextPageToken
	}
	switch {
	case len(out.Details) == 0:
		out.MonthlySavings, out.SavingsPercent = summarySavings, summaryPercent
	case onDemand > 0:
		out.SavingsPercent = out.MonthlySavings / onDemand
	default:
		out.SavingsPercent = summaryPercent
	}
	return out, nil
}

// reservedInstance reads the family, instance type and region of a
// reservation recommendation's instance details.
func reservedInstance(d *cetypes.InstanceDetails) (family, itype, region string) {
	switch {
	case d == nil:
	case d.RDSInstanceDetails != nil:
		x := d.RDSInstanceDetails
		return aws.ToString(x.Family), aws.ToString(x.InstanceType), aws.ToString(x.Region)
	case d.ElastiCacheInstanceDetails != nil:
		x := d.ElastiCacheInstanceDetails
		return aws.ToString(x.Family), aws.ToString(x.NodeType), aws.ToString(x.Region)
	case d.ESInstanceDetails != nil:
		// Cost Explorer splits OpenSearch types into class and size.
		x := d.ESInstanceDetails
		itype := aws.ToString(x.InstanceClass)
		if size := aws.ToString(x.InstanceSize); size != "" {
			itype += "." + size
		}
		return aws.ToString(x.InstanceClass), itype, aws.ToString(x.Region)
	case d.RedshiftInstanceDetails != nil:
		x := d.RedshiftInstanceDetails
		return aws.ToString(x.Family), aws.ToString(x.NodeType), aws.ToString(x.Region)
	case d.EC2InstanceDetails != nil:
		x := d.EC2InstanceDetails
		return aws.ToString(x.Family), aws.ToString(x.InstanceType), aws.ToString(x.Region)
	}
	return "", "", ""
}
