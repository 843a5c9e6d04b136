package commitments_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
	"github.com/aws/smithy-go"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/emulator"
)

// reservedTerm is one Reserved term of a Price List document.
type reservedTerm struct {
	lease, class, option string
	upfront, hourly      string
}

// priceDoc builds a Price List product document as GetProducts returns it
// (one JSON string per product, aws_v1 format), trimmed to one product's
// attributes, its on-demand term and the given reserved terms.
func priceDoc(service, family, itype, region, onDemand string, reserved ...reservedTerm) string {
	const sku = "JRTCKXETXF9ZQ2W7"
	var rs []string
	for i, r := range reserved {
		code := fmt.Sprintf("%s.R%07d", sku, i)
		dims := []string{fmt.Sprintf(`"%s.6YS6EN2CT7":{"unit":"Hrs","endRange":"Inf","description":"USD %s per hour","appliesTo":[],"rateCode":"%s.6YS6EN2CT7","beginRange":"0","pricePerUnit":{"USD":"%s"}}`, code, r.hourly, code, r.hourly)}
		if r.upfront != "" {
			dims = append(dims, fmt.Sprintf(`"%s.2TG2D8R56U":{"unit":"Quantity","description":"Upfront Fee","appliesTo":[],"rateCode":"%s.2TG2D8R56U","pricePerUnit":{"USD":"%s"}}`, code, code, r.upfront))
		}
		attrs := fmt.Sprintf(`"LeaseContractLength":%q,"PurchaseOption":%q`, r.lease, r.option)
		if r.class != "" {
			attrs += fmt.Sprintf(`,"OfferingClass":%q`, r.class)
		}
		rs = append(rs, fmt.Sprintf(`"%s":{"priceDimensions":{%s},"sku":"%s","effectiveDate":"2025-11-01T00:00:00Z","offerTermCode":"R%07d","termAttributes":{%s}}`,
			code, strings.Join(dims, ","), sku, i, attrs))
	}
	od := ""
	if onDemand != "" {
		od = fmt.Sprintf(`"%[1]s.JRTCKXETXF":{"priceDimensions":{"%[1]s.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","endRange":"Inf","description":"$%[2]s per On Demand Linux %[3]s Instance Hour","appliesTo":[],"rateCode":"%[1]s.JRTCKXETXF.6YS6EN2CT7","beginRange":"0","pricePerUnit":{"USD":"%[2]s"}}},"sku":"%[1]s","effectiveDate":"2025-11-01T00:00:00Z","offerTermCode":"JRTCKXETXF","termAttributes":{}}`,
			sku, onDemand, itype)
	}
	return fmt.Sprintf(`{"product":{"productFamily":%q,"attributes":{"instanceType":%q,"regionCode":%q,"servicecode":%q,"tenancy":"Shared","operatingSystem":"Linux","vcpu":"2","memory":"8 GiB"},"sku":%q},"serviceCode":%q,"terms":{"OnDemand":{%s},"Reserved":{%s}},"version":"20251101000000","publicationDate":"2025-11-01T00:00:00Z"}`,
		family, itype, region, service, sku, service, od, strings.Join(rs, ","))
}

// rdsDoc is db.r6g.large in us-east-1 at $0.20/h on demand: 1y No Upfront
// $0.13/h (35% off), 1y Partial $525.60 + $0.06/h (40%), 1y All $998.64
// (43%), 3y All $2,628 (50%); the convertible and legacy terms are skipped.
func rdsDoc() string {
	return priceDoc("AmazonRDS", "Database Instance", "db.r6g.large", "us-east-1", "0.2000000000",
		reservedTerm{"1yr", "standard", "No Upfront", "", "0.1300000000"},
		reservedTerm{"1yr", "standard", "Partial Upfront", "525.6", "0.0600000000"},
		reservedTerm{"1yr", "standard", "All Upfront", "998.64", "0.0000000000"},
		reservedTerm{"3yr", "standard", "All Upfront", "2628", "0.0000000000"},
		reservedTerm{"3yr", "convertible", "No Upfront", "", "0.0100000000"},
		reservedTerm{"1yr", "standard", "Heavy Utilization", "100", "0.0100000000"},
	)
}

// spRate is one Savings Plans offering rate of a Linux instance hour.
func spRate(plan sptypes.SavingsPlanType, years int, pay sptypes.SavingsPlanPaymentOption, itype, rate string) sptypes.SavingsPlanOfferingRate {
	return sptypes.SavingsPlanOfferingRate{
		Operation: aws.String("RunInstances"), ProductType: sptypes.SavingsPlanProductTypeEc2, ServiceCode: sptypes.SavingsPlanRateServiceCodeEc2,
		Unit: sptypes.SavingsPlanRateUnitHours, UsageType: aws.String("BoxUsage:" + itype), Rate: aws.String(rate),
		SavingsPlanOffering: &sptypes.ParentSavingsPlanOffering{PlanType: plan, PaymentOption: pay, Currency: sptypes.CurrencyCodeUsd,
			DurationSeconds: int64(years) * 365 * 24 * 3600, OfferingId: aws.String("off-" + string(plan))},
	}
}

// priceStubs answers GetProducts and DescribeSavingsPlansOfferingRates,
// which moto_server 5.2.1 does not serve, and records the requests.
type priceStubs struct {
	mu       sync.Mutex
	products []*pricing.GetProductsInput
	rates    []*savingsplans.DescribeSavingsPlansOfferingRatesInput
	deny     map[string]bool // operation -> answer AccessDenied
	// broken, when set, answers every GetProducts with it.
	broken func() (any, error)
}

func filterValue(in *pricing.GetProductsInput, field string) string {
	for _, f := range in.Filters {
		if aws.ToString(f.Field) == field && f.Type == pricingtypes.FilterTypeTermMatch {
			return aws.ToString(f.Value)
		}
	}
	return ""
}

func accessDenied(action string) error {
	return &smithy.GenericAPIError{Code: "AccessDeniedException",
		Message: "User: arn:aws:iam::123456789012:user/hub is not authorized to perform: " + action + " with an explicit deny"}
}

func (s *priceStubs) answers() map[string]func(any) (any, error) {
	return map[string]func(any) (any, error){
		"GetProducts": func(x any) (any, error) {
			in := x.(*pricing.GetProductsInput)
			s.mu.Lock()
			s.products = append(s.products, in)
			deny := s.deny["GetProducts"]
			s.mu.Unlock()
			if deny {
				return nil, accessDenied("pricing:GetProducts")
			}
			if s.broken != nil {
				return s.broken()
			}
			itype, region := filterValue(in, "instanceType"), filterValue(in, "regionCode")
			switch aws.ToString(in.ServiceCode) + " " + itype + " " + region {
			case "AmazonEC2 m5.large us-east-1":
				return &pricing.GetProductsOutput{PriceList: []string{priceDoc("AmazonEC2", "Compute Instance", itype, region, "0.0960000000")}}, nil
			case "AmazonEC2 c5.xlarge eu-west-1":
				return &pricing.GetProductsOutput{PriceList: []string{priceDoc("AmazonEC2", "Compute Instance", itype, region, "0.1920000000")}}, nil
			case "AmazonRDS db.r6g.large us-east-1":
				// Two pages: the first holds a product without an
				// on-demand price, which crossbill must page past.
				if in.NextToken == nil {
					return &pricing.GetProductsOutput{NextToken: aws.String("page2"),
						PriceList: []string{priceDoc("AmazonRDS", "Database Instance", itype, region, "")}}, nil
				}
				return &pricing.GetProductsOutput{PriceList: []string{rdsDoc()}}, nil
			}
			return &pricing.GetProductsOutput{}, nil
		},
		"DescribeSavingsPlansOfferingRates": func(x any) (any, error) {
			in := x.(*savingsplans.DescribeSavingsPlansOfferingRatesInput)
			s.mu.Lock()
			s.rates = append(s.rates, in)
			deny := s.deny["DescribeSavingsPlansOfferingRates"]
			s.mu.Unlock()
			if deny {
				return nil, accessDenied("savingsplans:DescribeSavingsPlansOfferingRates")
			}
			var itype string
			for _, f := range in.Filters {
				if f.Name == sptypes.SavingsPlanRateFilterAttributeInstanceType {
					itype = f.Values[0]
				}
			}
			compute, instance := map[string]string{"m5.large": "0.0672", "c5.xlarge": "0.1536"}, map[string]string{"m5.large": "0.0576", "c5.xlarge": "0.096"}
			// Two pages: Compute rates, then EC2 Instance rates.
			if in.NextToken == nil {
				return &savingsplans.DescribeSavingsPlansOfferingRatesOutput{NextToken: aws.String("p2"), SearchResults: []sptypes.SavingsPlanOfferingRate{
					spRate(sptypes.SavingsPlanTypeCompute, 1, sptypes.SavingsPlanPaymentOptionNoUpfront, itype, compute[itype])}}, nil
			}
			return &savingsplans.DescribeSavingsPlansOfferingRatesOutput{SearchResults: []sptypes.SavingsPlanOfferingRate{
				spRate(sptypes.SavingsPlanTypeEc2Instance, 1, sptypes.SavingsPlanPaymentOptionNoUpfront, itype, instance[itype])}}, nil
		},
	}
}

// pricingUsage is an eligible series of two hours: m5.large $6, c5.xlarge
// (eu-west-1) $2, t3.micro $1 of EC2; db.r6g.large $8 of RDS; Fargate,
// which the Price List source does not price.
func pricingUsage() []commitments.Usage {
	u := func(class, itype, region string, perHour float64) commitments.Usage {
		return commitments.Usage{Class: class, InstanceType: itype, Region: region, Spend: []float64{perHour, perHour}, Units: []float64{1, 1}}
	}
	return []commitments.Usage{
		u(commitments.ClassEC2, "m5.large", "us-east-1", 2), u(commitments.ClassEC2, "m5.large", "us-east-1", 1),
		u(commitments.ClassEC2, "c5.xlarge", "eu-west-1", 1), u(commitments.ClassEC2, "t3.micro", "us-east-1", 0.5),
		u(commitments.ClassRDS, "db.r6g.large", "us-east-1", 4), u(commitments.ClassFargate, "", "us-east-1", 9),
	}
}

func priceSource(t *testing.T, st *priceStubs) (*commitments.PriceSource, *awsclient.Recorder) {
	t.Helper()
	cfg, err := emulator.Shared(t).RootConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec := awsclient.NewRecorder()
	rec.Attach(&cfg)
	// STUBBED: moto_server 5.2.1 serves neither the Price List API nor
	// Savings Plans; the stub answers real-shaped documents.
	stub := &stubs{answer: st.answers()}
	cfg.APIOptions = append(cfg.APIOptions, stub.option)
	src := commitments.NewPriceSource(cfg)
	src.PerClass = 2
	return src, rec
}

func TestPricingRates(t *testing.T) {
	t.Parallel()
	st := &priceStubs{}
	src, rec := priceSource(t, st)
	res, err := src.Rates(context.Background(), pricingUsage())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	got := map[string]float64{}
	for _, r := range res.Rates {
		if r.Source != "pricing" {
			t.Errorf("%+v: source %q", r, r.Source)
		}
		got[fmt.Sprintf("%s %s %d %s", r.Type, r.Class, r.Term, r.Payment)] = r.Discount
	}
	want := map[string]float64{
		// Spend-weighted: m5.large ($6) 1 - 0.0672/0.096 = 30% and
		// c5.xlarge ($2) 1 - 0.1536/0.192 = 20% → (0.3×6 + 0.2×2)/8.
		"COMPUTE_SP ec2 1 No Upfront": 0.275,
		// m5.large 1 - 0.0576/0.096 = 40%, c5.xlarge 1 - 0.096/0.192 = 50%.
		"EC2_INSTANCE_SP ec2 1 No Upfront": 0.425,
		"RDS_RI rds 1 No Upfront":          0.35,
		"RDS_RI rds 1 Partial Upfront":     0.40, // 525.60/8760 + 0.06 = 0.12
		"RDS_RI rds 1 All Upfront":         0.43, // 998.64/8760 = 0.114
		"RDS_RI rds 3 All Upfront":         0.50, // 2628/26280 = 0.10
	}
	if len(got) != len(want) {
		t.Errorf("rates %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s: %v (present %v), want %v", k, g, ok, w)
		}
	}
	if res.Priced[commitments.ClassEC2] != 2 || res.Priced[commitments.ClassRDS] != 1 {
		t.Errorf("priced %v", res.Priced)
	}
	// The cap: two EC2 types of three (t3.micro, the least spend, is not
	// asked for); RDS takes two pages.
	var asked []string
	for _, in := range st.products {
		asked = append(asked, filterValue(in, "instanceType"))
		if filterValue(in, "instanceType") == "m5.large" && (filterValue(in, "operatingSystem") != "Linux" || filterValue(in, "tenancy") != "Shared" ||
			filterValue(in, "preInstalledSw") != "NA" || filterValue(in, "capacitystatus") != "Used" || filterValue(in, "regionCode") != "us-east-1") {
			t.Errorf("EC2 filters %+v", in.Filters)
		}
	}
	if strings.Join(asked, ",") != "m5.large,c5.xlarge,db.r6g.large,db.r6g.large" {
		t.Errorf("GetProducts asked for %v", asked)
	}
	if len(st.rates) != 4 {
		t.Errorf("%d DescribeSavingsPlansOfferingRates requests, want 2 types × 2 pages", len(st.rates))
	}
	if n := rec.Count("pricing:GetProducts"); n != 4 {
		t.Errorf("recorded %d GetProducts, want 4", n)
	}
	if u := rec.Undeclared(); len(u) > 0 {
		t.Errorf("calls not declared in internal/manifest: %v", u)
	}
}

func TestPricingDenied(t *testing.T) {
	t.Parallel()
	t.Run("price list", func(t *testing.T) {
		t.Parallel()
		st := &priceStubs{deny: map[string]bool{"GetProducts": true}}
		src, rec := priceSource(t, st)
		res, err := src.Rates(context.Background(), pricingUsage())
		if err != nil {
			t.Fatalf("a denial must be a warning, got %v", err)
		}
		if len(res.Rates) != 0 || len(res.Warnings) != 1 || crossbill.ErrorCode(res.Warnings[0]) != crossbill.CodeAccessDenied ||
			!strings.Contains(res.Warnings[0].Error(), "pricing:GetProducts") {
			t.Errorf("result %+v", res)
		}
		// The first denial stops the source: no request per instance type.
		if n := rec.Count("pricing:GetProducts"); n != 1 {
			t.Errorf("%d GetProducts after a denial, want 1", n)
		}
	})
	t.Run("savings plans rates", func(t *testing.T) {
		t.Parallel()
		st := &priceStubs{deny: map[string]bool{"DescribeSavingsPlansOfferingRates": true}}
		src, rec := priceSource(t, st)
		res, err := src.Rates(context.Background(), pricingUsage())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 1 || crossbill.ErrorCode(res.Warnings[0]) != crossbill.CodeAccessDenied ||
			!strings.Contains(res.Warnings[0].Error(), "savingsplans:DescribeSavingsPlansOfferingRates") {
			t.Errorf("warnings %v", res.Warnings)
		}
		for _, r := range res.Rates {
			if r.Class != commitments.ClassRDS {
				t.Errorf("rate %+v after the Savings Plans denial", r)
			}
		}
		if len(res.Rates) != 4 || rec.Count("savingsplans:DescribeSavingsPlansOfferingRates") != 1 {
			t.Errorf("%d rates, %d offering-rate calls", len(res.Rates), rec.Count("savingsplans:DescribeSavingsPlansOfferingRates"))
		}
	})
}

// Failures other than a denial are errors: the user asked for --pricing.
func TestPricingFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func() (any, error)
		code   crossbill.Code
	}{
		{"unavailable", func() (any, error) {
			return nil, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "Service is unavailable"}
		}, crossbill.CodeUnavailable},
		{"unreadable product", func() (any, error) {
			return &pricing.GetProductsOutput{PriceList: []string{`{"terms": [`}}, nil
		}, crossbill.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, _ := priceSource(t, &priceStubs{broken: tt.answer})
			res, err := src.Rates(context.Background(), pricingUsage())
			if err == nil || len(res.Rates) != 0 {
				t.Fatalf("got %+v, %v; want an error and no rates", res, err)
			}
			if code := crossbill.ErrorCode(awsclient.Classify("commitments pricing", err)); code != tt.code {
				t.Errorf("code %s, want %s (%v)", code, tt.code, err)
			}
		})
	}
}
