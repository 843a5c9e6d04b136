package commitments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"

	"github.com/crossbill/crossbill"
)

// Operations lists every AWS operation the inventory calls, as
// "<iam prefix>:<Operation>"; the permission manifest declares each.
func Operations() []string {
	return []string{
		"savingsplans:DescribeSavingsPlans",
		"ec2:DescribeReservedInstances",
		"rds:DescribeReservedDBInstances",
		"elasticache:DescribeReservedCacheNodes",
		"redshift:DescribeReservedNodes",
		"es:DescribeReservedInstances",
	}
}

// The subsets of the SDK clients the inventory calls.
type (
	savingsPlansAPI interface {
		DescribeSavingsPlans(context.Context, *savingsplans.DescribeSavingsPlansInput, ...func(*savingsplans.Options)) (*savingsplans.DescribeSavingsPlansOutput, error)
	}
	ec2API interface {
		DescribeReservedInstances(context.Context, *ec2.DescribeReservedInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeReservedInstancesOutput, error)
	}
	rdsAPI interface {
		DescribeReservedDBInstances(context.Context, *rds.DescribeReservedDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeReservedDBInstancesOutput, error)
	}
	elastiCacheAPI interface {
		DescribeReservedCacheNodes(context.Context, *elasticache.DescribeReservedCacheNodesInput, ...func(*elasticache.Options)) (*elasticache.DescribeReservedCacheNodesOutput, error)
	}
	redshiftAPI interface {
		DescribeReservedNodes(context.Context, *redshift.DescribeReservedNodesInput, ...func(*redshift.Options)) (*redshift.DescribeReservedNodesOutput, error)
	}
	openSearchAPI interface {
		DescribeReservedInstances(context.Context, *opensearch.DescribeReservedInstancesInput, ...func(*opensearch.Options)) (*opensearch.DescribeReservedInstancesOutput, error)
	}
)

// Collector reads one account's commitments. Savings Plans are global (one
// call per account); reservations are regional, so a Collector is built
// per region and the caller collects Savings Plans once.
type Collector struct {
	Account crossbill.AccountID
	Region  string

	SavingsPlans savingsPlansAPI
	EC2          ec2API
	RDS          rdsAPI
	ElastiCache  elastiCacheAPI
	Redshift     redshiftAPI
	OpenSearch   openSearchAPI
}

// NewCollector builds a Collector from one account's configuration (its
// region is the region whose reservations are read).
func NewCollector(cfg aws.Config, account crossbill.AccountID) *Collector {
	return &Collector{
		Account:      account,
		Region:       cfg.Region,
		SavingsPlans: savingsplans.NewFromConfig(cfg),
		EC2:          ec2.NewFromConfig(cfg),
		RDS:          rds.NewFromConfig(cfg),
		ElastiCache:  elasticache.NewFromConfig(cfg),
		Redshift:     redshift.NewFromConfig(cfg),
		OpenSearch:   opensearch.NewFromConfig(cfg),
	}
}

// Reservations reads every reservation of the region: EC2, RDS,
// ElastiCache, Redshift and OpenSearch. A failure of any service fails the
// whole call, so an incomplete inventory never looks complete.
func (c *Collector) Reservations(ctx context.Context) ([]Commitment, error) {
	var all []Commitment
	for _, step := range []struct {
		what string
		read func(context.Context) ([]Commitment, error)
	}{
		{"EC2 reserved instances", c.ec2},
		{"RDS reserved DB instances", c.rds},
		{"ElastiCache reserved cache nodes", c.elastiCache},
		{"Redshift reserved nodes", c.redshift},
		{"OpenSearch reserved instances", c.openSearch},
	} {
		cs, err := step.read(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing %s in %s of %s: %w", step.what, c.Region, c.Account, err)
		}
		all = append(all, cs...)
	}
	return all, nil
}

// SavingsPlansOf reads the account's Savings Plans (all states).
func (c *Collector) SavingsPlansOf(ctx context.Context) ([]Commitment, error) {
	var out []Commitment
	in := &savingsplans.DescribeSavingsPlansInput{}
	for {
		resp, err := c.SavingsPlans.DescribeSavingsPlans(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describing Savings Plans of %s: %w", c.Account, err)
		}
		for _, p := range resp.SavingsPlans {
			pay, _ := ParsePayment(string(p.PaymentOption))
			cm := Commitment{
				ARN:              aws.ToString(p.SavingsPlanArn),
				ID:               aws.ToString(p.SavingsPlanId),
				Kind:             KindSavingsPlan,
				Type:             savingsPlanType(string(p.SavingsPlanType)),
				TermYears:        termYears(p.TermDurationInSeconds),
				Payment:          pay,
				HourlyCommitment: parseFloat(aws.ToString(p.Commitment)),
				Region:           aws.ToString(p.Region),
				Family:           aws.ToString(p.Ec2InstanceFamily),
				Start:            parseTime(aws.ToString(p.Start)),
				End:              parseTime(aws.ToString(p.End)),
				Account:          c.Account,
				State:            string(p.State),
				Source:           "api",
			}
			cm.Upfront = parseFloat(aws.ToString(p.UpfrontPaymentAmount))
			out = append(out, cm)
		}
		if aws.ToString(resp.NextToken) == "" {
			return out, nil
		}
		in.NextToken = resp.NextToken
	}
}

// savingsPlanType maps the API's type names ("Compute", "EC2Instance",
// "SageMaker", "Database") to the CUR's offering types.
func savingsPlanType(t string) string {
	switch strings.ToLower(strings.TrimSuffix(t, "SavingsPlans")) {
	case "compute":
		return TypeComputeSP
	case "ec2instance":
		return TypeEC2InstanceSP
	case "sagemaker":
		return TypeSageMakerSP
	case "database":
		return TypeDatabaseSP
	}
	return t
}

func (c *Collector) ec2(ctx context.Context) ([]Commitment, error) {
	// DescribeReservedInstances has no pagination: one call returns all.
	resp, err := c.EC2.DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{})
	if err != nil {
		return nil, err
	}
	var out []Commitment
	for _, ri := range resp.ReservedInstances {
		id := aws.ToString(ri.ReservedInstancesId)
		pay, _ := ParsePayment(string(ri.OfferingType))
		n := int(aws.ToInt32(ri.InstanceCount))
		cm := Commitment{
			ARN:          fmt.Sprintf("arn:aws:ec2:%s:%s:reserved-instances/%s", c.Region, c.Account, id),
			ID:           id,
			Kind:         KindReservation,
			Type:         TypeEC2RI,
			TermYears:    termYears(aws.ToInt64(ri.Duration)),
			Payment:      pay,
			InstanceType: string(ri.InstanceType),
			Count:        n,
			Region:       c.Region,
			Family:       family(string(ri.InstanceType)),
			Start:        aws.ToTime(ri.Start),
			End:          aws.ToTime(ri.End),
			Account:      c.Account,
			State:        string(ri.State),
			Source:       "api",
			Upfront:      float64(aws.ToFloat32(ri.FixedPrice)),
		}
		cm.HourlyCommitment = hourly(cm.Upfront, float64(aws.ToFloat32(ri.UsagePrice))+ec2Recurring(ri.RecurringCharges), aws.ToInt64(ri.Duration), n)
		out = append(out, cm)
	}
	return out, nil
}

func ec2Recurring(rc []ec2types.RecurringCharge) float64 {
	t := 0.0
	for _, r := range rc {
		if r.Frequency == ec2types.RecurringChargeFrequencyHourly {
			t += aws.ToFloat64(r.Amount)
		}
	}
	return t
}

// hourly is a reservation's cost per hour: the upfront price spread over
// the term plus the hourly charge, for all its instances. Upfront prices
// are per reservation (all instances); hourly charges per instance.
func hourly(upfront, perInstanceHour float64, durationSeconds int64, count int) float64 {
	h := perInstanceHour * float64(max(count, 1))
	if durationSeconds > 0 {
		h += upfront / (float64(durationSeconds) / 3600)
	}
	return h
}

// reserved is what the RDS, ElastiCache, Redshift and OpenSearch
// reservation descriptions share, under each SDK's own field names.
type reserved struct {
	arn, id, offering, instanceType, state string
	count                                  int32
	start                                  time.Time
	seconds                                int64 // term
	fixed, usage                           float64
}

func (c *Collector) reservation(typ string, r reserved) Commitment {
	pay, _ := ParsePayment(r.offering)
	n := int(r.count)
	return Commitment{
		ARN: r.arn, ID: r.id, Kind: KindReservation, Type: typ, TermYears: termYears(r.seconds), Payment: pay,
		InstanceType: r.instanceType, Count: n, Region: c.Region, Family: family(r.instanceType),
		Start: r.start, End: endOf(r.start, r.seconds), Account: c.Account, State: r.state, Source: "api",
		Upfront: r.fixed, HourlyCommitment: hourly(r.fixed, r.usage, r.seconds, n),
	}
}

func (c *Collector) rds(ctx context.Context) ([]Commitment, error) {
	var out []Commitment
	in := &rds.DescribeReservedDBInstancesInput{}
	for {
		resp, err := c.RDS.DescribeReservedDBInstances(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range resp.ReservedDBInstances {
			out = append(out, c.reservation(TypeRDSRI, reserved{
				arn: aws.ToString(r.ReservedDBInstanceArn), id: aws.ToString(r.ReservedDBInstanceId),
				offering: aws.ToString(r.OfferingType), instanceType: aws.ToString(r.DBInstanceClass),
				state: aws.ToString(r.State), count: aws.ToInt32(r.DBInstanceCount), start: aws.ToTime(r.StartTime),
				seconds: int64(aws.ToInt32(r.Duration)), fixed: aws.ToFloat64(r.FixedPrice), usage: aws.ToFloat64(r.UsagePrice),
			}))
		}
		if aws.ToString(resp.Marker) == "" {
			return out, nil
		}
		in.Marker = resp.Marker
	}
}

func (c *Collector) elastiCache(ctx context.Context) ([]Commitment, error) {
	var out []Commitment
	in := &elasticache.DescribeReservedCacheNodesInput{}
	for {
		resp, err := c.ElastiCache.DescribeReservedCacheNodes(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range resp.ReservedCacheNodes {
			out = append(out, c.reservation(TypeElastiCacheRI, reserved{
				arn: aws.ToString(r.ReservationARN), id: aws.ToString(r.ReservedCacheNodeId),
				offering: aws.ToString(r.OfferingType), instanceType: aws.ToString(r.CacheNodeType),
				state: aws.ToString(r.State), count: aws.ToInt32(r.CacheNodeCount), start: aws.ToTime(r.StartTime),
				seconds: int64(aws.ToInt32(r.Duration)), fixed: aws.ToFloat64(r.FixedPrice), usage: aws.ToFloat64(r.UsagePrice),
			}))
		}
		if aws.ToString(resp.Marker) == "" {
			return out, nil
		}
		in.Marker = resp.Marker
	}
}

func (c *Collector) redshift(ctx context.Context) ([]Commitment, error) {
	var out []Commitment
	in := &redshift.DescribeReservedNodesInput{}
	for {
		resp, err := c.Redshift.DescribeReservedNodes(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range resp.ReservedNodes {
			id := aws.ToString(r.ReservedNodeId)
			out = append(out, c.reservation(TypeRedshiftRI, reserved{
				// DescribeReservedNodes returns no ARN; this is the ARN form
				// IAM uses for reserved nodes.
				arn: fmt.Sprintf("arn:aws:redshift:%s:%s:reservednode:%s", c.Region, c.Account, id), id: id,
				offering: aws.ToString(r.OfferingType), instanceType: aws.ToString(r.NodeType),
				state: aws.ToString(r.State), count: aws.ToInt32(r.NodeCount), start: aws.ToTime(r.StartTime),
				seconds: int64(aws.ToInt32(r.Duration)), fixed: aws.ToFloat64(r.FixedPrice), usage: aws.ToFloat64(r.UsagePrice),
			}))
		}
		if aws.ToString(resp.Marker) == "" {
			return out, nil
		}
		in.Marker = resp.Marker
	}
}

func (c *Collector) openSearch(ctx context.Context) ([]Commitment, error) {
	var out []Commitment
	in := &opensearch.DescribeReservedInstancesInput{}
	for {
		resp, err := c.OpenSearch.DescribeReservedInstances(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range resp.ReservedInstances {
			id := aws.ToString(r.ReservedInstanceId)
			out = append(out, c.reservation(TypeOpenSearchRI, reserved{
				arn: fmt.Sprintf("arn:aws:es:%s:%s:reserved-instance/%s", c.Region, c.Account, id), id: id,
				offering: string(r.PaymentOption), instanceType: string(r.InstanceType),
				state: aws.ToString(r.State), count: r.InstanceCount, start: aws.ToTime(r.StartTime),
				seconds: int64(r.Duration), fixed: aws.ToFloat64(r.FixedPrice), usage: aws.ToFloat64(r.UsagePrice),
			}))
		}
		if aws.ToString(resp.NextToken) == "" {
			return out, nil
		}
		in.NextToken = resp.NextToken
	}
}

// family is the instance family of an instance type: "m5" for "m5.large",
// "db.r6g.xlarge" → "r6g", "cache.t3.micro" → "t3", "r6g.large.search" → "r6g".
func family(instanceType string) string {
	t := strings.TrimPrefix(strings.TrimPrefix(instanceType, "db."), "cache.")
	if i := strings.IndexByte(t, '.'); i > 0 {
		return t[:i]
	}
	return t
}

func endOf(start time.Time, seconds int64) time.Time {
	if start.IsZero() || seconds <= 0 {
		return time.Time{}
	}
	return start.Add(time.Duration(seconds) * time.Second)
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return f
}

// parseTime reads the Savings Plans API's RFC 3339 timestamps.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
