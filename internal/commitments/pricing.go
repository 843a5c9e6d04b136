package commitments

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
)

// PricingOperations are the operations the Pricing rate source calls. The
// Price List and the Savings Plans offering rates are public and free.
func PricingOperations() []string {
	return []string{"pricing:GetProducts", "savingsplans:DescribeSavingsPlansOfferingRates"}
}

// DefaultPricedPerClass is how many instance types (in a region) per usage
// class the Pricing source prices, the most on-demand spend first.
const DefaultPricedPerClass = 20

// maxPricingPages bounds the pages of one GetProducts query; the filters
// select one product, so more pages mean the filters are wrong.
const maxPricingPages = 5

// The subsets of the SDK clients the Pricing source calls.
type (
	pricingAPI interface {
		GetProducts(context.Context, *pricing.GetProductsInput, ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
	}
	offeringRatesAPI interface {
		DescribeSavingsPlansOfferingRates(context.Context, *savingsplans.DescribeSavingsPlansOfferingRatesInput, ...func(*savingsplans.Options)) (*savingsplans.DescribeSavingsPlansOfferingRatesOutput, error)
	}
)

// PriceSource computes discount rates from AWS's public prices: the Price
// List (on-demand and reservation prices) and, for EC2 under Savings Plans,
// the Savings Plans offering rates.
type PriceSource struct {
	Pricing pricingAPI
	// SavingsPlans, when nil, leaves the Savings Plans rates to the other
	// sources.
	SavingsPlans offeringRatesAPI
	// PerClass caps the instance types priced per usage class (and so the
	// GetProducts queries); 0 means DefaultPricedPerClass.
	PerClass int
	// Progress, when set, reports each query.
	Progress func(format string, args ...any)
}

// NewPriceSource builds the clients from the hub configuration. The Price
// List API answers in us-east-1 (among a few regions) for every region's
// prices; Savings Plans is a global service served from us-east-1.
func NewPriceSource(cfg aws.Config) *PriceSource {
	cfg = cfg.Copy()
	cfg.Region = "us-east-1"
	return &PriceSource{Pricing: pricing.NewFromConfig(cfg), SavingsPlans: savingsplans.NewFromConfig(cfg)}
}

// PricingResult is what the Pricing source found.
type PricingResult struct {
	Rates []Rate `json:"rates"`
	// Priced counts the instance type/region pairs priced per class.
	Priced map[string]int `json:"priced"`
	// Warnings are the parts that could not be priced (a denied API),
	// each a *crossbill.Error saying what to add to the policy; the other
	// sources stand in for them.
	Warnings []error `json:"-"`
}

// pricedService says how to find one product of a usage class in the
// Price List, and which option type its reservations are.
type pricedService struct {
	code   string
	option string // reservation option type; "" for EC2 (Savings Plans)
	fixed  map[string]string
}

// pricedServices maps the usage classes the Price List can price. The fixed
// filters pick one product per instance type and region: Linux, shared
// tenancy, no pre-installed software for EC2; MySQL Single-AZ as the
// representative RDS engine (the usage series carries no engine); Redis for
// ElastiCache. Fargate and Lambda are left to the other sources.
func pricedServices() map[string]pricedService {
	return map[string]pricedService{
		ClassEC2: {code: "AmazonEC2", fixed: map[string]string{
			"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}},
		ClassRDS:         {code: "AmazonRDS", option: OptionRDSRI, fixed: map[string]string{"databaseEngine": "MySQL", "deploymentOption": "Single-AZ"}},
		ClassElastiCache: {code: "AmazonElastiCache", option: OptionElastiCacheRI, fixed: map[string]string{"cacheEngine": "Redis"}},
		ClassOpenSearch:  {code: "AmazonES", option: OptionOpenSearchRI},
		ClassRedshift:    {code: "AmazonRedshift", option: OptionRedshiftRI},
	}
}

// pricingTarget is one instance type in one region with its on-demand
// spend over the window (the weight of its discount).
type pricingTarget struct {
	class, itype, region string
	spend                float64
}

// pricingTargets sums the usage's spend per class, instance type and
// region and keeps the perClass largest of each class.
func pricingTargets(usage []Usage, perClass int) []pricingTarget {
	services := pricedServices()
	sums := map[[3]string]float64{}
	for _, u := range usage {
		if _, ok := services[u.Class]; !ok || u.InstanceType == "" || u.Region == "" {
			continue
		}
		k := [3]string{u.Class, u.InstanceType, u.Region}
		for _, s := range u.Spend {
			sums[k] += s
		}
	}
	var all []pricingTarget
	for k, s := range sums {
		if s > 0 {
			all = append(all, pricingTarget{class: k[0], itype: k[1], region: k[2], spend: s})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.class != b.class {
			return a.class < b.class
		}
		if a.spend != b.spend {
			return a.spend > b.spend
		}
		return a.itype+"/"+a.region < b.itype+"/"+b.region
	})
	var out []pricingTarget
	n := 0
	for i, t := range all {
		if i == 0 || t.class != all[i-1].class {
			n = 0
		}
		if n < perClass {
			out = append(out, t)
		}
		n++
	}
	return out
}

// weighted accumulates spend-weighted discounts per rate key.
type weighted map[rateKey][2]float64

func (w weighted) add(k rateKey, discount, spend float64) {
	if !(discount > 0 && discount < 1) {
		return
	}
	v := w[k]
	w[k] = [2]float64{v[0] + discount*spend, v[1] + spend}
}

// Rates prices the instance types of the usage (the eligible series of the
// window) and returns one discount per option type, class, term and
// payment: the average of the priced types' discounts weighted by their
// on-demand spend, Source "pricing". A denied API is a warning, not an
// error: its rates are left to the other sources. Other failures are
// errors.
func (p *PriceSource) Rates(ctx context.Context, usage []Usage) (PricingResult, error) {
	perClass := p.PerClass
	if perClass <= 0 {
		perClass = DefaultPricedPerClass
	}
	res := PricingResult{Priced: map[string]int{}}
	acc := weighted{}
	services := pricedServices()
	spOK := p.SavingsPlans != nil
	for _, t := range pricingTargets(usage, perClass) {
		svc := services[t.class]
		if p.Progress != nil {
			p.Progress("pricing %s %s in %s", svc.code, t.itype, t.region)
		}
		pl, found, err := p.product(ctx, svc, t)
		if err != nil {
			if denied(err) {
				res.Warnings = append(res.Warnings, crossbill.Errorf(crossbill.CodeAccessDenied, "commitments pricing",
					"the hub identity may not read the AWS Price List: allow \"pricing:GetProducts\" on \"*\" in its policy (free, read-only), or drop --pricing; using the other rate sources: %w", err))
				break
			}
			return PricingResult{}, err
		}
		if !found || pl.OnDemand <= 0 {
			continue
		}
		res.Priced[t.class]++
		for _, o := range pl.Reserved {
			if svc.option != "" {
				acc.add(rateKey{svc.option, t.class, o.Term, o.Payment}, 1-o.Effective()/pl.OnDemand, t.spend)
			}
		}
		if t.class == ClassEC2 && spOK {
			rates, err := p.savingsPlansRates(ctx, t)
			if err != nil {
				if !denied(err) {
					return PricingResult{}, err
				}
				res.Warnings = append(res.Warnings, crossbill.Errorf(crossbill.CodeAccessDenied, "commitments pricing",
					"the hub identity may not read Savings Plans offering rates: allow \"savingsplans:DescribeSavingsPlansOfferingRates\" on \"*\" in its policy (free, read-only); Savings Plans rates come from the other sources: %w", err))
				spOK = false
				continue
			}
			for k, rate := range rates {
				acc.add(k, 1-rate/pl.OnDemand, t.spend)
			}
		}
	}
	for k, v := range acc {
		if v[1] > 0 {
			res.Rates = append(res.Rates, Rate{Type: k.typ, Class: k.class, Term: k.term, Payment: k.payment, Discount: v[0] / v[1], Source: "pricing"})
		}
	}
	sort.Slice(res.Rates, func(i, j int) bool {
		a, b := res.Rates[i], res.Rates[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		if a.Term != b.Term {
			return a.Term < b.Term
		}
		return a.Payment < b.Payment
	})
	return res, nil
}

// product finds the target's product in the Price List; found is false
// when AWS lists none with a positive on-demand price.
func (p *PriceSource) product(ctx context.Context, svc pricedService, t pricingTarget) (priceList, bool, error) {
	in := &pricing.GetProductsInput{ServiceCode: aws.String(svc.code), FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(10),
		Filters: []pricingtypes.Filter{termMatch("instanceType", t.itype), termMatch("regionCode", t.region)}}
	keys := make([]string, 0, len(svc.fixed))
	for k := range svc.fixed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Filters = append(in.Filters, termMatch(k, svc.fixed[k]))
	}
	for page := 0; page < maxPricingPages; page++ {
		out, err := p.Pricing.GetProducts(ctx, in)
		if err != nil {
			return priceList{}, false, fmt.Errorf("reading the Price List for %s %s in %s: %w", svc.code, t.itype, t.region, err)
		}
		for _, doc := range out.PriceList {
			pl, err := parsePriceList(doc)
			if err != nil {
				return priceList{}, false, crossbill.Errorf(crossbill.CodeUnavailable, "commitments pricing",
					"AWS Price List answered an unreadable product for %s %s in %s: %w", svc.code, t.itype, t.region, err)
			}
			if pl.OnDemand > 0 {
				return pl, true, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return priceList{}, false, nil
}

func termMatch(field, value string) pricingtypes.Filter {
	return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
}

// savingsPlansRates reads the Compute and EC2 Instance Savings Plans rates
// of a Linux, shared-tenancy instance type in a region: $/h per key.
func (p *PriceSource) savingsPlansRates(ctx context.Context, t pricingTarget) (map[rateKey]float64, error) {
	in := &savingsplans.DescribeSavingsPlansOfferingRatesInput{
		SavingsPlanTypes: []sptypes.SavingsPlanType{sptypes.SavingsPlanTypeCompute, sptypes.SavingsPlanTypeEc2Instance},
		Products:         []sptypes.SavingsPlanProductType{sptypes.SavingsPlanProductTypeEc2},
		ServiceCodes:     []sptypes.SavingsPlanRateServiceCode{sptypes.SavingsPlanRateServiceCodeEc2},
		Operations:       []string{"RunInstances"},
		Filters: []sptypes.SavingsPlanOfferingRateFilterElement{
			{Name: sptypes.SavingsPlanRateFilterAttributeRegion, Values: []string{t.region}},
			{Name: sptypes.SavingsPlanRateFilterAttributeInstanceType, Values: []string{t.itype}},
			{Name: sptypes.SavingsPlanRateFilterAttributeTenancy, Values: []string{"shared"}},
			{Name: sptypes.SavingsPlanRateFilterAttributeProductDescription, Values: []string{"Linux/UNIX"}},
		},
	}
	out := map[rateKey]float64{}
	for page := 0; page < maxPricingPages; page++ {
		resp, err := p.SavingsPlans.DescribeSavingsPlansOfferingRates(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("reading Savings Plans rates of %s in %s: %w", t.itype, t.region, err)
		}
		for _, r := range resp.SearchResults {
			k, rate, ok := offeringRate(r)
			if !ok {
				continue
			}
			if old, seen := out[k]; !seen || rate < old {
				out[k] = rate
			}
		}
		if aws.ToString(resp.NextToken) == "" {
			break
		}
		in.NextToken = resp.NextToken
	}
	return out, nil
}

// offeringRate reads one Savings Plans offering rate of an instance hour.
func offeringRate(r sptypes.SavingsPlanOfferingRate) (rateKey, float64, bool) {
	o := r.SavingsPlanOffering
	if o == nil || r.Unit != sptypes.SavingsPlanRateUnitHours || (o.Currency != "" && o.Currency != sptypes.CurrencyCodeUsd) {
		return rateKey{}, 0, false
	}
	k := rateKey{class: ClassEC2}
	switch o.PlanType {
	case sptypes.SavingsPlanTypeCompute:
		k.typ = OptionComputeSP
	case sptypes.SavingsPlanTypeEc2Instance:
		k.typ = OptionEC2InstanceSP
	default:
		return rateKey{}, 0, false
	}
	switch o.DurationSeconds {
	case 365 * 24 * 3600:
		k.term = 1
	case 3 * 365 * 24 * 3600, (3*365 + 1) * 24 * 3600:
		k.term = 3
	default:
		return rateKey{}, 0, false
	}
	switch o.PaymentOption {
	case sptypes.SavingsPlanPaymentOptionNoUpfront:
		k.payment = NoUpfront
	case sptypes.SavingsPlanPaymentOptionPartialUpfront:
		k.payment = PartialUpfront
	case sptypes.SavingsPlanPaymentOptionAllUpfront:
		k.payment = AllUpfront
	default:
		return rateKey{}, 0, false
	}
	rate, err := strconv.ParseFloat(aws.ToString(r.Rate), 64)
	if err != nil || !(rate > 0) {
		return rateKey{}, 0, false
	}
	return k, rate, true
}

// denied reports whether an AWS error is a policy denial.
func denied(err error) bool { return awsclient.Diagnose(err).Class.Denied() }
