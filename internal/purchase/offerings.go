package purchase

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
)

// Operations lists every AWS operation this package calls, as
// "<iam prefix>:<Operation>"; the permission manifest declares each.
func Operations() []string {
	return append([]string{
		"savingsplans:DescribeSavingsPlansOfferings", "savingsplans:CreateSavingsPlan", "savingsplans:DeleteQueuedSavingsPlan",
		"savingsplans:DescribeSavingsPlans",
		"ec2:DescribeReservedInstancesOfferings", "ec2:PurchaseReservedInstancesOffering", "ec2:DescribeReservedInstances",
		"ec2:CreateReservedInstancesListing", "ec2:CancelReservedInstancesListing", "ec2:DeleteQueuedReservedInstances",
	}, reservationOps...)
}

// Account is the customer account a plan buys in: its configuration per
// region, through the connection's role.
type Account struct {
	Config func(region string) aws.Config
	// Usage reads the tenant's usage that a plan's expected figures are
	// computed from; nil leaves them unknown.
	Usage UsageReader
}

// savingsPlansRegion is where the Savings Plans API answers (it is global).
const savingsPlansRegion = "us-east-1"

func (a Account) savingsPlans() *savingsplans.Client {
	return savingsplans.NewFromConfig(a.Config(savingsPlansRegion))
}

func (a Account) ec2(region string) *ec2.Client { return ec2.NewFromConfig(a.Config(region)) }

// Offering is the exact AWS offering a plan buys.
type Offering struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Currency    string `json:"currency"`
	// Reservations: FixedPrice is the upfront price of one, HourlyPrice
	// its recurring price an hour.
	FixedPrice  float64 `json:"fixed_price,omitempty"`
	HourlyPrice float64 `json:"hourly_price,omitempty"`
}

func spType(typ string) sptypes.SavingsPlanType {
	if typ == commitments.TypeEC2InstanceSP {
		return sptypes.SavingsPlanTypeEc2Instance
	}
	return sptypes.SavingsPlanTypeCompute
}

func termSeconds(years int) int64 { return int64(years) * 365 * 24 * 3600 }

// findOffering asks AWS for the one offering matching the request; none
// is an Invalid error naming what is not offered.
func (a Account) findOffering(ctx context.Context, r Request) (Offering, error) {
	const op = "purchase offering"
	if isSavingsPlan(r.Type) {
		in := &savingsplans.DescribeSavingsPlansOfferingsInput{
			PlanTypes: []sptypes.SavingsPlanType{spType(r.Type)}, Durations: []int64{termSeconds(r.TermYears)},
			PaymentOptions: []sptypes.SavingsPlanPaymentOption{sptypes.SavingsPlanPaymentOption(r.Payment)},
			Currencies:     []sptypes.CurrencyCode{sptypes.CurrencyCodeUsd},
		}
		if r.Type == commitments.TypeEC2InstanceSP {
			in.Filters = []sptypes.SavingsPlanOfferingFilterElement{
				{Name: sptypes.SavingsPlanOfferingFilterAttributeRegion, Values: []string{r.Region}},
				{Name: sptypes.SavingsPlanOfferingFilterAttributeInstanceFamily, Values: []string{r.Family}},
			}
		}
		out, err := a.savingsPlans().DescribeSavingsPlansOfferings(ctx, in)
		if err != nil {
			return Offering{}, awsclient.Classify(op, err)
		}
		for _, o := range out.SearchResults {
			if o.PlanType == spType(r.Type) && o.DurationSeconds == termSeconds(r.TermYears) && string(o.PaymentOption) == string(r.Payment) {
				return Offering{ID: aws.ToString(o.OfferingId), Description: aws.ToString(o.Description), Currency: string(o.Currency)}, nil
			}
		}
		where := ""
		if r.Type == commitments.TypeEC2InstanceSP {
			where = fmt.Sprintf(" for %s in %s", r.Family, r.Region)
		}
		return Offering{}, crossbill.Errorf(crossbill.CodeInvalid, op, "AWS offers no %s Savings Plan of %d year(s) %s%s: choose another term or payment option", r.Type, r.TermYears, r.Payment, where)
	}
	if isServiceReservation(r.Type) {
		return a.findServiceOffering(ctx, r)
	}
	out, err := a.ec2(r.Region).DescribeReservedInstancesOfferings(ctx, &ec2.DescribeReservedInstancesOfferingsInput{
		InstanceType: ec2types.InstanceType(r.InstanceType), ProductDescription: ec2types.RIProductDescription(r.Platform),
		OfferingType: ec2types.OfferingTypeValues(r.Payment), OfferingClass: ec2types.OfferingClassTypeStandard,
		InstanceTenancy: ec2types.TenancyDefault, IncludeMarketplace: aws.Bool(false),
		MinDuration: aws.Int64(termSeconds(r.TermYears)), MaxDuration: aws.Int64(termSeconds(r.TermYears)),
	})
	if err != nil {
		return Offering{}, awsclient.Classify(op, err)
	}
	types := 0
	for _, o := range out.ReservedInstancesOfferings {
		if string(o.InstanceType) != r.InstanceType {
			continue
		}
		types++
		// A regional reservation (no zone): it applies to the whole region
		// and can be queued; offerings carry no zone only in that scope.
		if aws.ToString(o.AvailabilityZone) != "" || aws.ToInt64(o.Duration) != termSeconds(r.TermYears) ||
			string(o.OfferingType) != string(r.Payment) || aws.ToBool(o.Marketplace) {
			continue
		}
		hourly := float64(aws.ToFloat32(o.UsagePrice))
		for _, c := range o.RecurringCharges {
			if c.Frequency == ec2types.RecurringChargeFrequencyHourly {
				hourly += aws.ToFloat64(c.Amount)
			}
		}
		return Offering{ID: aws.ToString(o.ReservedInstancesOfferingId), Currency: string(o.CurrencyCode),
			Description: fmt.Sprintf("%s %s regional, %s", r.InstanceType, r.Platform, o.OfferingType),
			FixedPrice:  float64(aws.ToFloat32(o.FixedPrice)), HourlyPrice: hourly}, nil
	}
	if types == 0 {
		return Offering{}, crossbill.Errorf(crossbill.CodeInvalid, op, "AWS offers no %s %s reservation in %s: check the instance type and region", r.InstanceType, r.Platform, r.Region)
	}
	return Offering{}, crossbill.Errorf(crossbill.CodeInvalid, op, "AWS offers %s reservations in %s, but none of %d year(s) %s: choose another term or payment option",
		r.InstanceType, r.Region, r.TermYears, strings.ToLower(string(r.Payment)))
}
