package purchase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/store"
)

// The reservations of RDS, ElastiCache, OpenSearch and Redshift: one
// offering lookup, purchase and inventory read per service. None of them
// can be queued for a later start, so a tranche is bought once it is due.

// isServiceReservation reports the reservation types bought here (EC2's
// are in offerings.go and execute.go).
func isServiceReservation(typ string) bool {
	return typ == commitments.TypeRDSRI || typ == commitments.TypeElastiCacheRI || typ == commitments.TypeOpenSearchRI || typ == commitments.TypeRedshiftRI
}

// reservationOps are the AWS operations of the service reservations.
var reservationOps = []string{
	"rds:DescribeReservedDBInstancesOfferings", "rds:PurchaseReservedDBInstancesOffering", "rds:DescribeReservedDBInstances",
	"elasticache:DescribeReservedCacheNodesOfferings", "elasticache:PurchaseReservedCacheNodesOffering", "elasticache:DescribeReservedCacheNodes",
	"es:DescribeReservedInstanceOfferings", "es:PurchaseReservedInstanceOffering", "es:DescribeReservedInstances",
	"redshift:DescribeReservedNodeOfferings", "redshift:PurchaseReservedNodeOffering", "redshift:DescribeReservedNodes",
}

// reservationID is the stable name a tranche's reservation is bought
// under (RDS and ElastiCache reservation IDs, OpenSearch reservation
// names): the same on every retry, so AWS refuses a second purchase as
// already existing, or crossbill finds the first by name.
func reservationID(t store.PurchaseTranche) string {
	return "crossbill-" + strings.ReplaceAll(t.ClientToken, "_", "-")
}

// candidate is one offering of any service, in common terms.
type candidate struct {
	id, itype, payment, product string
	seconds                     int64
	multiAZ                     bool
	fixed, hourly               float64
	currency                    string
}

// osPayment is OpenSearch's name of a payment option.
func osPayment(p commitments.Payment) ostypes.ReservedInstancePaymentOption {
	return ostypes.ReservedInstancePaymentOption(strings.ToUpper(strings.ReplaceAll(string(p), " ", "_")))
}

// charge is one recurring charge of an offering.
type charge struct {
	amount *float64
	freq   *string
}

// hourlyOf is an offering's recurring price an hour: its usage price and
// its hourly recurring charges.
func hourlyOf(usage *float64, cs []charge) float64 {
	h := aws.ToFloat64(usage)
	for _, c := range cs {
		if aws.ToString(c.freq) == "Hourly" {
			h += aws.ToFloat64(c.amount)
		}
	}
	return h
}

// serviceOfferings reads the service's offerings for the request's
// instance (node) type, narrowed by AWS where its API filters.
func (a Account) serviceOfferings(ctx context.Context, r Request) ([]candidate, error) {
	cfg := a.Config(r.Region)
	var out []candidate
	switch r.Type {
	case commitments.TypeRDSRI:
		in := &rds.DescribeReservedDBInstancesOfferingsInput{DBInstanceClass: aws.String(r.InstanceType), MultiAZ: aws.Bool(r.MultiAZ)}
		if r.Platform != "" {
			in.ProductDescription = aws.String(r.Platform)
		}
		p := rds.NewDescribeReservedDBInstancesOfferingsPaginator(rds.NewFromConfig(cfg), in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, o := range page.ReservedDBInstancesOfferings {
				var cs []charge
				for _, c := range o.RecurringCharges {
					cs = append(cs, charge{c.RecurringChargeAmount, c.RecurringChargeFrequency})
				}
				out = append(out, candidate{id: aws.ToString(o.ReservedDBInstancesOfferingId), itype: aws.ToString(o.DBInstanceClass), payment: aws.ToString(o.OfferingType),
					product: aws.ToString(o.ProductDescription), seconds: int64(aws.ToInt32(o.Duration)), multiAZ: aws.ToBool(o.MultiAZ),
					fixed: aws.ToFloat64(o.FixedPrice), hourly: hourlyOf(o.UsagePrice, cs), currency: aws.ToString(o.CurrencyCode)})
			}
		}
	case commitments.TypeElastiCacheRI:
		in := &elasticache.DescribeReservedCacheNodesOfferingsInput{CacheNodeType: aws.String(r.InstanceType)}
		if r.Platform != "" {
			in.ProductDescription = aws.String(r.Platform)
		}
		p := elasticache.NewDescribeReservedCacheNodesOfferingsPaginator(elasticache.NewFromConfig(cfg), in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, o := range page.ReservedCacheNodesOfferings {
				var cs []charge
				for _, c := range o.RecurringCharges {
					cs = append(cs, charge{c.RecurringChargeAmount, c.RecurringChargeFrequency})
				}
				out = append(out, candidate{id: aws.ToString(o.ReservedCacheNodesOfferingId), itype: aws.ToString(o.CacheNodeType), payment: aws.ToString(o.OfferingType),
					product: aws.ToString(o.ProductDescription), seconds: int64(aws.ToInt32(o.Duration)),
					fixed: aws.ToFloat64(o.FixedPrice), hourly: hourlyOf(o.UsagePrice, cs), currency: "USD"})
			}
		}
	case commitments.TypeOpenSearchRI:
		// The API filters by nothing but the offering ID: read them all.
		p := opensearch.NewDescribeReservedInstanceOfferingsPaginator(opensearch.NewFromConfig(cfg), &opensearch.DescribeReservedInstanceOfferingsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, o := range page.ReservedInstanceOfferings {
				var cs []charge
				for _, c := range o.RecurringCharges {
					cs = append(cs, charge{c.RecurringChargeAmount, c.RecurringChargeFrequency})
				}
				pay := string(o.PaymentOption)
				for _, x := range []commitments.Payment{commitments.NoUpfront, commitments.PartialUpfront, commitments.AllUpfront} {
					if osPayment(x) == o.PaymentOption {
						pay = string(x)
					}
				}
				out = append(out, candidate{id: aws.ToString(o.ReservedInstanceOfferingId), itype: string(o.InstanceType), payment: pay, seconds: int64(o.Duration),
					fixed: aws.ToFloat64(o.FixedPrice), hourly: hourlyOf(o.UsagePrice, cs), currency: aws.ToString(o.CurrencyCode)})
			}
		}
	case commitments.TypeRedshiftRI:
		p := redshift.NewDescribeReservedNodeOfferingsPaginator(redshift.NewFromConfig(cfg), &redshift.DescribeReservedNodeOfferingsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, o := range page.ReservedNodeOfferings {
				var cs []charge
				for _, c := range o.RecurringCharges {
					cs = append(cs, charge{c.RecurringChargeAmount, c.RecurringChargeFrequency})
				}
				out = append(out, candidate{id: aws.ToString(o.ReservedNodeOfferingId), itype: aws.ToString(o.NodeType), payment: aws.ToString(o.OfferingType),
					seconds: int64(aws.ToInt32(o.Duration)), fixed: aws.ToFloat64(o.FixedPrice), hourly: hourlyOf(o.UsagePrice, cs), currency: aws.ToString(o.CurrencyCode)})
			}
		}
	}
	return out, nil
}

// findServiceOffering picks the one offering a service reservation plan
// buys: its type, term and payment (and, for RDS, Multi-AZ), and its
// engine when the service sells the type for several.
func (a Account) findServiceOffering(ctx context.Context, r Request) (Offering, error) {
	const op = "purchase offering"
	all, err := a.serviceOfferings(ctx, r)
	if err != nil {
		return Offering{}, awsclient.Classify(op, err)
	}
	var ofType, match []candidate
	for _, c := range all {
		if c.itype != r.InstanceType || (r.Platform != "" && c.product != "" && !strings.EqualFold(c.product, r.Platform)) {
			continue
		}
		ofType = append(ofType, c)
		if c.seconds == termSeconds(r.TermYears) && c.payment == string(r.Payment) && c.multiAZ == r.MultiAZ {
			match = append(match, c)
		}
	}
	engine := ""
	if r.Platform != "" {
		engine = " " + r.Platform
	}
	if len(ofType) == 0 {
		return Offering{}, crossbill.Errorf(crossbill.CodeInvalid, op, "AWS offers no %s%s %s reservation in %s: check the %s and region", r.Type, engine, r.InstanceType, r.Region, typeNoun(r.Type))
	}
	if len(match) == 0 {
		az := ""
		if r.Type == commitments.TypeRDSRI && r.MultiAZ {
			az = " Multi-AZ"
		}
		return Offering{}, crossbill.Errorf(crossbill.CodeInvalid, op, "AWS offers %s %s reservations in %s, but none%s of %d year(s) %s: choose another term or payment option",
			r.Type, r.InstanceType, r.Region, az, r.TermYears, strings.ToLower(string(r.Payment)))
	}
	var products []string
	for _, c := range match {
		if c.product != "" && !slices.Contains(products, c.product) {
			products = append(products, c.product)
		}
	}
	if len(products) > 1 {
		slices.Sort(products)
		return Offering{}, crossbill.Errorf(crossbill.CodeInvalid, op, "AWS sells %s %s reservations for several engines (%s): name one with --platform (platform)", r.Type, r.InstanceType, strings.Join(products, ", "))
	}
	c := match[0]
	desc := fmt.Sprintf("%s %s in %s, %s", r.Type, c.itype, r.Region, c.payment)
	if c.product != "" {
		desc = fmt.Sprintf("%s %s %s in %s, %s", r.Type, c.product, c.itype, r.Region, c.payment)
	}
	if c.multiAZ {
		desc += ", Multi-AZ"
	}
	return Offering{ID: c.id, Description: desc, Currency: firstNonEmpty(c.currency, "USD"), FixedPrice: c.fixed, HourlyPrice: c.hourly}, nil
}

func typeNoun(typ string) string {
	switch typ {
	case commitments.TypeRDSRI:
		return "DB instance class (e.g. db.r6g.large)"
	case commitments.TypeElastiCacheRI:
		return "cache node type (e.g. cache.r6g.large)"
	case commitments.TypeOpenSearchRI:
		return "instance type (e.g. r6g.large.search)"
	}
	return "node type (e.g. ra3.xlplus)"
}

// buyServiceReservation buys one tranche of a service reservation and
// returns the reservation's ID. A retry never buys twice: RDS and
// ElastiCache refuse the tranche's reservation ID as already existing
// (then it was bought), OpenSearch's reservation is looked up by its name
// first, and Redshift (no token, no name) is looked up among the
// reservations bought since the step started, never bought blindly again.
func (a Account) buyServiceReservation(ctx context.Context, plan Plan, tp TranchePlan, t store.PurchaseTranche, retry bool) (string, error) {
	const op = "purchase"
	cfg := a.Config(plan.Region)
	id := reservationID(t)
	switch plan.Type {
	case commitments.TypeRDSRI:
		_, err := rds.NewFromConfig(cfg).PurchaseReservedDBInstancesOffering(ctx, &rds.PurchaseReservedDBInstancesOfferingInput{
			ReservedDBInstancesOfferingId: aws.String(plan.Offering.ID), ReservedDBInstanceId: aws.String(id), DBInstanceCount: aws.Int32(int32(tp.Count)),
			Tags: []rdstypes.Tag{{Key: aws.String("crossbill-purchase-plan"), Value: aws.String(t.ClientToken)}}})
		var exists *rdstypes.ReservedDBInstanceAlreadyExistsFault
		if err != nil && !errors.As(err, &exists) {
			return "", awsclient.Classify(op, err)
		}
		return id, nil
	case commitments.TypeElastiCacheRI:
		_, err := elasticache.NewFromConfig(cfg).PurchaseReservedCacheNodesOffering(ctx, &elasticache.PurchaseReservedCacheNodesOfferingInput{
			ReservedCacheNodesOfferingId: aws.String(plan.Offering.ID), ReservedCacheNodeId: aws.String(id), CacheNodeCount: aws.Int32(int32(tp.Count)),
			Tags: []ectypes.Tag{{Key: aws.String("crossbill-purchase-plan"), Value: aws.String(t.ClientToken)}}})
		var exists *ectypes.ReservedCacheNodeAlreadyExistsFault
		if err != nil && !errors.As(err, &exists) {
			return "", awsclient.Classify(op, err)
		}
		return id, nil
	case commitments.TypeOpenSearchRI:
		client := opensearch.NewFromConfig(cfg)
		if retry {
			found, err := a.openSearchByName(ctx, plan.Region, id)
			if err != nil || found != "" {
				return found, err
			}
		}
		out, err := client.PurchaseReservedInstanceOffering(ctx, &opensearch.PurchaseReservedInstanceOfferingInput{
			ReservedInstanceOfferingId: aws.String(plan.Offering.ID), ReservationName: aws.String(id), InstanceCount: aws.Int32(int32(tp.Count))})
		if err != nil {
			return "", awsclient.Classify(op, err)
		}
		return aws.ToString(out.ReservedInstanceId), nil
	case commitments.TypeRedshiftRI:
		if retry {
			found, err := a.redshiftSince(ctx, plan, tp, t.UpdatedAt.Add(-time.Minute))
			if err != nil {
				return "", err
			}
			if found == "" {
				return "", crossbill.Errorf(crossbill.CodeConflict, op, "the purchase of %d Redshift %s nodes was interrupted at %s and the account's reserved nodes do not show it yet: AWS may still be processing it, so crossbill does not buy again; run execute again in a few minutes, or check the account's reserved nodes",
					tp.Count, plan.InstanceType, t.UpdatedAt.Format(time.RFC3339))
			}
			return found, nil
		}
		out, err := redshift.NewFromConfig(cfg).PurchaseReservedNodeOffering(ctx, &redshift.PurchaseReservedNodeOfferingInput{
			ReservedNodeOfferingId: aws.String(plan.Offering.ID), NodeCount: aws.Int32(int32(tp.Count))})
		if err != nil {
			return "", awsclient.Classify(op, err)
		}
		if out.ReservedNode == nil {
			return "", crossbill.Errorf(crossbill.CodeUnavailable, op, "AWS answered without the reserved node: run execute again (crossbill looks the purchase up before buying)")
		}
		return aws.ToString(out.ReservedNode.ReservedNodeId), nil
	}
	return "", crossbill.Errorf(crossbill.CodeInternal, op, "no purchase for %s", plan.Type)
}

// openSearchByName returns the ID of the OpenSearch reservation named
// name, or "" when there is none.
func (a Account) openSearchByName(ctx context.Context, region, name string) (string, error) {
	p := opensearch.NewDescribeReservedInstancesPaginator(opensearch.NewFromConfig(a.Config(region)), &opensearch.DescribeReservedInstancesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", awsclient.Classify("purchase reconcile", err)
		}
		for _, r := range page.ReservedInstances {
			if aws.ToString(r.ReservationName) == name {
				return aws.ToString(r.ReservedInstanceId), nil
			}
		}
	}
	return "", nil
}

// redshiftSince returns a reserved node of the plan's offering and the
// tranche's count started since since, or "".
func (a Account) redshiftSince(ctx context.Context, plan Plan, tp TranchePlan, since time.Time) (string, error) {
	p := redshift.NewDescribeReservedNodesPaginator(redshift.NewFromConfig(a.Config(plan.Region)), &redshift.DescribeReservedNodesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", awsclient.Classify("purchase reconcile", err)
		}
		for _, n := range page.ReservedNodes {
			if aws.ToString(n.ReservedNodeOfferingId) == plan.Offering.ID && aws.ToInt32(n.NodeCount) == int32(tp.Count) &&
				!aws.ToTime(n.StartTime).Before(since) && aws.ToString(n.State) != "retired" {
				return aws.ToString(n.ReservedNodeId), nil
			}
		}
	}
	return "", nil
}

// serviceReservationState reads a bought reservation's state from the
// service's own list of reservations.
func (a Account) serviceReservationState(ctx context.Context, plan Plan, id string) (string, bool, error) {
	const op = "purchase inventory"
	cfg := a.Config(plan.Region)
	var state string
	var found bool
	var err error
	switch plan.Type {
	case commitments.TypeRDSRI:
		var out *rds.DescribeReservedDBInstancesOutput
		out, err = rds.NewFromConfig(cfg).DescribeReservedDBInstances(ctx, &rds.DescribeReservedDBInstancesInput{ReservedDBInstanceId: aws.String(id)})
		var missing *rdstypes.ReservedDBInstanceNotFoundFault
		if errors.As(err, &missing) {
			return "", false, nil
		}
		if err == nil {
			for _, r := range out.ReservedDBInstances {
				if aws.ToString(r.ReservedDBInstanceId) == id {
					state, found = aws.ToString(r.State), true
				}
			}
		}
	case commitments.TypeElastiCacheRI:
		var out *elasticache.DescribeReservedCacheNodesOutput
		out, err = elasticache.NewFromConfig(cfg).DescribeReservedCacheNodes(ctx, &elasticache.DescribeReservedCacheNodesInput{ReservedCacheNodeId: aws.String(id)})
		var missing *ectypes.ReservedCacheNodeNotFoundFault
		if errors.As(err, &missing) {
			return "", false, nil
		}
		if err == nil {
			for _, r := range out.ReservedCacheNodes {
				if aws.ToString(r.ReservedCacheNodeId) == id {
					state, found = aws.ToString(r.State), true
				}
			}
		}
	case commitments.TypeOpenSearchRI:
		var out *opensearch.DescribeReservedInstancesOutput
		out, err = opensearch.NewFromConfig(cfg).DescribeReservedInstances(ctx, &opensearch.DescribeReservedInstancesInput{ReservedInstanceId: aws.String(id)})
		var missing *ostypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			return "", false, nil
		}
		if err == nil {
			for _, r := range out.ReservedInstances {
				if aws.ToString(r.ReservedInstanceId) == id {
					state, found = aws.ToString(r.State), true
				}
			}
		}
	case commitments.TypeRedshiftRI:
		var out *redshift.DescribeReservedNodesOutput
		out, err = redshift.NewFromConfig(cfg).DescribeReservedNodes(ctx, &redshift.DescribeReservedNodesInput{ReservedNodeId: aws.String(id)})
		var missing *rstypes.ReservedNodeNotFoundFault
		if errors.As(err, &missing) {
			return "", false, nil
		}
		if err == nil {
			for _, r := range out.ReservedNodes {
				if aws.ToString(r.ReservedNodeId) == id {
					state, found = aws.ToString(r.State), true
				}
			}
		}
	}
	if err != nil {
		return "", false, awsclient.Classify(op, err)
	}
	return state, found, nil
}
