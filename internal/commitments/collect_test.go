package commitments_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// stubs answers the operations moto_server 5.2.1 does not serve with canned
// outputs, in an Initialize middleware, before any request is built; every
// other operation still goes to moto. It records each operation called.
type stubs struct {
	mu     sync.Mutex
	called []string
	answer map[string]func(in any) (any, error)
}

func (s *stubs) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("crossbillStub",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := iamPrefix[awsmiddleware.GetServiceID(ctx)] + ":" + awsmiddleware.GetOperationName(ctx)
			s.mu.Lock()
			s.called = append(s.called, op)
			f := s.answer[awsmiddleware.GetOperationName(ctx)]
			s.mu.Unlock()
			if f == nil {
				return next.HandleInitialize(ctx, in)
			}
			out, err := f(in.Parameters)
			return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, err
		}), middleware.After)
}

// TestMotoLacksReservationAPIs pins why the inventory test stubs: moto 5.2.1
// answers none of the reservation describe calls. When a moto upgrade makes
// this fail, move those calls from stubs to the real emulator.
func TestMotoLacksReservationAPIs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryMaxAttempts = 1
	if _, err := ec2.NewFromConfig(cfg).DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{}); err == nil {
		t.Error("moto now serves ec2:DescribeReservedInstances: drop its stub")
	}
	if _, err := rds.NewFromConfig(cfg).DescribeReservedDBInstances(ctx, &rds.DescribeReservedDBInstancesInput{}); err == nil {
		t.Error("moto now serves rds:DescribeReservedDBInstances: drop its stub")
	}
}

func TestInventoryFromAPIs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	year := int64(365 * 24 * 3600)
	// STUBBED: moto_server serves none of these six operations (see
	// TestMotoLacksReservationAPIs; Savings Plans are absent from moto).
	st := &stubs{answer: map[string]func(any) (any, error){
		"DescribeSavingsPlans": func(in any) (any, error) {
			// Two pages, to exercise NextToken.
			if aws.ToString(in.(*savingsplans.DescribeSavingsPlansInput).NextToken) == "" {
				return &savingsplans.DescribeSavingsPlansOutput{NextToken: aws.String("p2"), SavingsPlans: []sptypes.SavingsPlan{{
					SavingsPlanArn: aws.String("arn:aws:savingsplans::123456789012:savingsplan/sp-compute"), SavingsPlanId: aws.String("sp-compute"),
					SavingsPlanType: "Compute", PaymentOption: "No Upfront", Commitment: aws.String("12.5"),
					Start: aws.String("2025-12-01T00:00:00Z"), End: aws.String("2026-12-01T00:00:00Z"), State: "active", TermDurationInSeconds: year,
				}}}, nil
			}
			return &savingsplans.DescribeSavingsPlansOutput{SavingsPlans: []sptypes.SavingsPlan{{
				SavingsPlanArn: aws.String("arn:aws:savingsplans::123456789012:savingsplan/sp-m5"), SavingsPlanId: aws.String("sp-m5"),
				SavingsPlanType: "EC2Instance", PaymentOption: "All Upfront", Commitment: aws.String("3"), UpfrontPaymentAmount: aws.String("78840"),
				Ec2InstanceFamily: aws.String("m5"), Region: aws.String("us-east-1"),
				Start: aws.String("2024-03-01T00:00:00Z"), End: aws.String("2027-03-01T00:00:00Z"), State: "active", TermDurationInSeconds: 3 * year,
			}}}, nil
		},
		"DescribeReservedInstances": func(in any) (any, error) {
			switch in.(type) {
			case *ec2.DescribeReservedInstancesInput:
				return &ec2.DescribeReservedInstancesOutput{ReservedInstances: []ec2types.ReservedInstances{{
					ReservedInstancesId: aws.String("ri-1"), InstanceType: "m5.large", InstanceCount: aws.Int32(4),
					Duration: aws.Int64(year), Start: aws.Time(start), End: aws.Time(start.Add(365 * 24 * time.Hour)),
					OfferingType: "Partial Upfront", FixedPrice: aws.Float32(876), State: "active",
					RecurringCharges: []ec2types.RecurringCharge{{Amount: aws.Float64(0.05), Frequency: ec2types.RecurringChargeFrequencyHourly}},
				}}}, nil
			default: // OpenSearch
				return &opensearch.DescribeReservedInstancesOutput{ReservedInstances: []ostypes.ReservedInstance{{
					ReservedInstanceId: aws.String("os-1"), InstanceType: "r6g.large.search", InstanceCount: 2,
					Duration: int32(3 * year), PaymentOption: ostypes.ReservedInstancePaymentOptionAllUpfront,
					FixedPrice: aws.Float64(5000), StartTime: aws.Time(start), State: aws.String("active"),
				}}}, nil
			}
		},
		"DescribeReservedDBInstances": func(in any) (any, error) {
			if aws.ToString(in.(*rds.DescribeReservedDBInstancesInput).Marker) == "" {
				return &rds.DescribeReservedDBInstancesOutput{Marker: aws.String("m2"), ReservedDBInstances: []rdstypes.ReservedDBInstance{{
					ReservedDBInstanceArn: aws.String("arn:aws:rds:us-east-1:123456789012:ri:db-ri-1"), ReservedDBInstanceId: aws.String("db-ri-1"),
					DBInstanceClass: aws.String("db.r6g.xlarge"), DBInstanceCount: aws.Int32(2), Duration: aws.Int32(int32(year)),
					OfferingType: aws.String("No Upfront"), UsagePrice: aws.Float64(0.3), StartTime: aws.Time(start), State: aws.String("active"),
				}}}, nil
			}
			return &rds.DescribeReservedDBInstancesOutput{}, nil
		},
		"DescribeReservedCacheNodes": func(any) (any, error) {
			return &elasticache.DescribeReservedCacheNodesOutput{ReservedCacheNodes: []ectypes.ReservedCacheNode{{
				ReservationARN: aws.String("arn:aws:elasticache:us-east-1:123456789012:reserved-instance:ec-1"), ReservedCacheNodeId: aws.String("ec-1"),
				CacheNodeType: aws.String("cache.r6g.large"), CacheNodeCount: aws.Int32(3), Duration: aws.Int32(int32(year)),
				OfferingType: aws.String("No Upfront"), StartTime: aws.Time(start.AddDate(-1, 1, 0)), State: aws.String("active"),
			}}}, nil
		},
		"DescribeReservedNodes": func(any) (any, error) {
			return &redshift.DescribeReservedNodesOutput{ReservedNodes: []rstypes.ReservedNode{{
				ReservedNodeId: aws.String("rs-1"), NodeType: aws.String("ra3.4xlarge"), NodeCount: aws.Int32(2),
				Duration: aws.Int32(int32(year)), OfferingType: aws.String("All Upfront"), FixedPrice: aws.Float64(20000),
				StartTime: aws.Time(start), State: aws.String("active"),
			}}}, nil
		},
	}}
	// The recorder checks the calls against the manifest and logs them for
	// `make test`'s check that every declared action is called.
	rec := awsclient.NewRecorder()
	rec.Attach(&cfg)
	cfg.APIOptions = append(cfg.APIOptions, st.option)
	c := commitments.NewCollector(cfg, "123456789012")

	sps, err := c.SavingsPlansOf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ris, err := c.Reservations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u := rec.Undeclared(); len(u) > 0 {
		t.Errorf("calls not declared in internal/manifest: %v", u)
	}
	all := commitments.Merge(append(sps, ris...), nil)
	byID := map[string]commitments.Commitment{}
	for _, cm := range all {
		byID[cm.ID] = cm
	}
	tests := []struct {
		id, typ, itype string
		term           float64
		pay            commitments.Payment
		count          int
		hourly         float64
		end            time.Time
	}{
		{"sp-compute", commitments.TypeComputeSP, "", 1, commitments.NoUpfront, 0, 12.5, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"sp-m5", commitments.TypeEC2InstanceSP, "", 3, commitments.AllUpfront, 0, 3, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"ri-1", commitments.TypeEC2RI, "m5.large", 1, commitments.PartialUpfront, 4, 876.0/8760 + 0.05*4, start.AddDate(1, 0, 0)},
		{"db-ri-1", commitments.TypeRDSRI, "db.r6g.xlarge", 1, commitments.NoUpfront, 2, 0.6, start.Add(365 * 24 * time.Hour)},
		{"ec-1", commitments.TypeElastiCacheRI, "cache.r6g.large", 1, commitments.NoUpfront, 3, 0, start.AddDate(-1, 1, 0).Add(365 * 24 * time.Hour)},
		{"rs-1", commitments.TypeRedshiftRI, "ra3.4xlarge", 1, commitments.AllUpfront, 2, 20000.0 / 8760, start.Add(365 * 24 * time.Hour)},
		{"os-1", commitments.TypeOpenSearchRI, "r6g.large.search", 3, commitments.AllUpfront, 2, 5000.0 / (3 * 8760), start.Add(3 * 365 * 24 * time.Hour)},
	}
	if len(all) != len(tests) {
		t.Fatalf("got %d commitments, want %d: %+v", len(all), len(tests), all)
	}
	for _, tt := range tests {
		got, ok := byID[tt.id]
		if !ok {
			t.Errorf("%s missing", tt.id)
			continue
		}
		if got.Type != tt.typ || got.InstanceType != tt.itype || got.TermYears != tt.term || got.Payment != tt.pay ||
			got.Count != tt.count || fmt.Sprintf("%.6f", got.HourlyCommitment) != fmt.Sprintf("%.6f", tt.hourly) || !got.End.Equal(tt.end) ||
			got.ARN == "" || got.Account != "123456789012" {
			t.Errorf("%s: got %+v", tt.id, got)
		}
	}
	if byID["sp-m5"].Family != "m5" || byID["sp-m5"].Region != "us-east-1" || byID["db-ri-1"].Family != "r6g" {
		t.Errorf("scope: sp-m5 %s/%s, db-ri-1 family %s", byID["sp-m5"].Family, byID["sp-m5"].Region, byID["db-ri-1"].Family)
	}
	// ElastiCache ec-1 ends 2026-02-14: within 30 days of 2026-01-20.
	now := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	if exp := commitments.Expiring(all, now, 30); len(exp) != 1 || exp[0].ID != "ec-1" {
		t.Errorf("expiring in 30 days: %+v", exp)
	}
	// Every operation called is one the manifest must declare.
	declared := map[string]bool{}
	for _, op := range commitments.Operations() {
		declared[op] = true
	}
	for _, op := range st.called {
		if !declared[op] {
			t.Errorf("called %s, not in commitments.Operations()", op)
		}
	}
}

// iamPrefix maps SDK service IDs to IAM action prefixes.
var iamPrefix = map[string]string{
	"savingsplans": "savingsplans", "EC2": "ec2", "RDS": "rds",
	"ElastiCache": "elasticache", "Redshift": "redshift", "OpenSearch": "es", "Cost Explorer": "ce", "Pricing": "pricing",
}
