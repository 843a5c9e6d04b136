package purchase_test

import (
	"fmt"
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

	"github.com/crossbill/crossbill/internal/commitments"
)

// The reservations of RDS, ElastiCache, OpenSearch and Redshift: moto_server
// 5.2.1 serves none of their offering, purchase or describe-reservations
// calls (tried: DescribeReservedDBInstancesOfferings,
// DescribeReservedCacheNodesOfferings and DescribeReservedNodeOfferings
// raise NotImplementedError, OpenSearch's reservedInstanceOfferings path is
// a 404), so fakeAWS answers them all here, in SDK middleware, as AWS
// documents them: RDS and ElastiCache refuse a
// reservation ID that exists (the AlreadyExists faults), OpenSearch keeps
// reservation names, Redshift has neither.

// svcReservation is one bought reservation of those services.
type svcReservation struct {
	typ, id, name, offering string
	count                   int32
	start                   time.Time
}

// svcOffering is one offering of those services. Each sells its type for
// one year only, No Upfront or Partial Upfront ($300 upfront, $0.10/h).
type svcOffering struct {
	typ, id, itype, product, payment string
}

var svcOfferings = func() []svcOffering {
	var out []svcOffering
	for _, o := range []svcOffering{{typ: commitments.TypeRDSRI, itype: "db.r6g.xlarge", product: "postgresql"}, {typ: commitments.TypeRDSRI, itype: "db.r6g.xlarge", product: "mysql"},
		{typ: commitments.TypeElastiCacheRI, itype: "cache.r6g.large", product: "redis"}, {typ: commitments.TypeOpenSearchRI, itype: "r6g.large.search"},
		{typ: commitments.TypeRedshiftRI, itype: "ra3.xlplus"}} {
		for _, pay := range []commitments.Payment{commitments.NoUpfront, commitments.PartialUpfront} {
			o.payment = string(pay)
			o.id = fmt.Sprintf("%s-%s-%s-%s", o.typ, o.itype, o.product, map[commitments.Payment]string{commitments.NoUpfront: "nu", commitments.PartialUpfront: "pu"}[pay])
			out = append(out, o)
		}
	}
	return out
}()

const (
	svcFixed  = 300.0
	svcHourly = 0.10
	year      = 365 * 24 * 3600
)

func (o svcOffering) prices() (fixed, hourly float64) {
	if o.payment == string(commitments.NoUpfront) {
		return 0, 0.14
	}
	return svcFixed, svcHourly
}

// buy records a purchase, or returns the crash error after recording it.
func (f *fakeAWS) svcBuy(r svcReservation) error {
	r.start = time.Now()
	f.svcRes = append(f.svcRes, r)
	if f.crash {
		f.crash = false
		return errCut
	}
	return nil
}

func (f *fakeAWS) svcVisible() []svcReservation {
	if f.hideInventory {
		return nil
	}
	return f.svcRes
}

func (f *fakeAWS) handleServices(op string, in any) (any, bool, error) {
	switch op {
	case "rds:DescribeReservedDBInstancesOfferings":
		q := in.(*rds.DescribeReservedDBInstancesOfferingsInput)
		out := &rds.DescribeReservedDBInstancesOfferingsOutput{}
		for _, o := range svcOfferings {
			if o.typ == commitments.TypeRDSRI && o.itype == aws.ToString(q.DBInstanceClass) && (q.ProductDescription == nil || *q.ProductDescription == o.product) && !aws.ToBool(q.MultiAZ) {
				fixed, hourly := o.prices()
				out.ReservedDBInstancesOfferings = append(out.ReservedDBInstancesOfferings, rdstypes.ReservedDBInstancesOffering{ReservedDBInstancesOfferingId: aws.String(o.id),
					DBInstanceClass: aws.String(o.itype), ProductDescription: aws.String(o.product), OfferingType: aws.String(o.payment), Duration: aws.Int32(year),
					MultiAZ: aws.Bool(false), FixedPrice: aws.Float64(fixed), UsagePrice: aws.Float64(0), CurrencyCode: aws.String("USD"),
					RecurringCharges: []rdstypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}})
			}
		}
		return out, true, nil
	case "rds:PurchaseReservedDBInstancesOffering":
		q := in.(*rds.PurchaseReservedDBInstancesOfferingInput)
		f.svcCalls[op]++
		for _, r := range f.svcRes {
			if r.id == aws.ToString(q.ReservedDBInstanceId) {
				return nil, true, &rdstypes.ReservedDBInstanceAlreadyExistsFault{Message: aws.String("User already has a reservation with the given identifier.")}
			}
		}
		if err := f.svcBuy(svcReservation{typ: commitments.TypeRDSRI, id: aws.ToString(q.ReservedDBInstanceId), offering: aws.ToString(q.ReservedDBInstancesOfferingId), count: aws.ToInt32(q.DBInstanceCount)}); err != nil {
			return nil, true, err
		}
		return &rds.PurchaseReservedDBInstancesOfferingOutput{ReservedDBInstance: &rdstypes.ReservedDBInstance{ReservedDBInstanceId: q.ReservedDBInstanceId, State: aws.String("payment-pending")}}, true, nil
	case "rds:DescribeReservedDBInstances":
		id := aws.ToString(in.(*rds.DescribeReservedDBInstancesInput).ReservedDBInstanceId)
		for _, r := range f.svcVisible() {
			if r.id == id {
				return &rds.DescribeReservedDBInstancesOutput{ReservedDBInstances: []rdstypes.ReservedDBInstance{{ReservedDBInstanceId: aws.String(r.id), State: aws.String("active")}}}, true, nil
			}
		}
		return nil, true, &rdstypes.ReservedDBInstanceNotFoundFault{Message: aws.String("Reservation " + id + " not found.")}
	case "elasticache:DescribeReservedCacheNodesOfferings":
		q := in.(*elasticache.DescribeReservedCacheNodesOfferingsInput)
		out := &elasticache.DescribeReservedCacheNodesOfferingsOutput{}
		for _, o := range svcOfferings {
			if o.typ == commitments.TypeElastiCacheRI && o.itype == aws.ToString(q.CacheNodeType) && (q.ProductDescription == nil || *q.ProductDescription == o.product) {
				fixed, hourly := o.prices()
				out.ReservedCacheNodesOfferings = append(out.ReservedCacheNodesOfferings, ectypes.ReservedCacheNodesOffering{ReservedCacheNodesOfferingId: aws.String(o.id),
					CacheNodeType: aws.String(o.itype), ProductDescription: aws.String(o.product), OfferingType: aws.String(o.payment), Duration: aws.Int32(year),
					FixedPrice: aws.Float64(fixed), UsagePrice: aws.Float64(0),
					RecurringCharges: []ectypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}})
			}
		}
		return out, true, nil
	case "elasticache:PurchaseReservedCacheNodesOffering":
		q := in.(*elasticache.PurchaseReservedCacheNodesOfferingInput)
		f.svcCalls[op]++
		for _, r := range f.svcRes {
			if r.id == aws.ToString(q.ReservedCacheNodeId) {
				return nil, true, &ectypes.ReservedCacheNodeAlreadyExistsFault{Message: aws.String("You already have a reservation with the given identifier.")}
			}
		}
		if err := f.svcBuy(svcReservation{typ: commitments.TypeElastiCacheRI, id: aws.ToString(q.ReservedCacheNodeId), offering: aws.ToString(q.ReservedCacheNodesOfferingId), count: aws.ToInt32(q.CacheNodeCount)}); err != nil {
			return nil, true, err
		}
		return &elasticache.PurchaseReservedCacheNodesOfferingOutput{ReservedCacheNode: &ectypes.ReservedCacheNode{ReservedCacheNodeId: q.ReservedCacheNodeId, State: aws.String("payment-pending")}}, true, nil
	case "elasticache:DescribeReservedCacheNodes":
		id := aws.ToString(in.(*elasticache.DescribeReservedCacheNodesInput).ReservedCacheNodeId)
		for _, r := range f.svcVisible() {
			if r.id == id {
				return &elasticache.DescribeReservedCacheNodesOutput{ReservedCacheNodes: []ectypes.ReservedCacheNode{{ReservedCacheNodeId: aws.String(r.id), State: aws.String("active")}}}, true, nil
			}
		}
		return nil, true, &ectypes.ReservedCacheNodeNotFoundFault{Message: aws.String("ReservedCacheNode not found: " + id)}
	case "es:DescribeReservedInstanceOfferings":
		out := &opensearch.DescribeReservedInstanceOfferingsOutput{}
		for _, o := range svcOfferings {
			if o.typ == commitments.TypeOpenSearchRI {
				fixed, hourly := o.prices()
				pay := ostypes.ReservedInstancePaymentOptionNoUpfront
				if o.payment == string(commitments.PartialUpfront) {
					pay = ostypes.ReservedInstancePaymentOptionPartialUpfront
				}
				out.ReservedInstanceOfferings = append(out.ReservedInstanceOfferings, ostypes.ReservedInstanceOffering{ReservedInstanceOfferingId: aws.String(o.id),
					InstanceType: ostypes.OpenSearchPartitionInstanceType(o.itype), PaymentOption: pay, Duration: year, FixedPrice: aws.Float64(fixed), UsagePrice: aws.Float64(0),
					CurrencyCode: aws.String("USD"), RecurringCharges: []ostypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}})
			}
		}
		return out, true, nil
	case "es:PurchaseReservedInstanceOffering":
		q := in.(*opensearch.PurchaseReservedInstanceOfferingInput)
		f.svcCalls[op]++
		id := fmt.Sprintf("os-ri-%d", len(f.svcRes)+1)
		if err := f.svcBuy(svcReservation{typ: commitments.TypeOpenSearchRI, id: id, name: aws.ToString(q.ReservationName), offering: aws.ToString(q.ReservedInstanceOfferingId), count: aws.ToInt32(q.InstanceCount)}); err != nil {
			return nil, true, err
		}
		return &opensearch.PurchaseReservedInstanceOfferingOutput{ReservedInstanceId: aws.String(id), ReservationName: q.ReservationName}, true, nil
	case "es:DescribeReservedInstances":
		q := in.(*opensearch.DescribeReservedInstancesInput)
		out := &opensearch.DescribeReservedInstancesOutput{}
		for _, r := range f.svcVisible() {
			if r.typ == commitments.TypeOpenSearchRI && (q.ReservedInstanceId == nil || *q.ReservedInstanceId == r.id) {
				out.ReservedInstances = append(out.ReservedInstances, ostypes.ReservedInstance{ReservedInstanceId: aws.String(r.id), ReservationName: aws.String(r.name),
					InstanceCount: r.count, State: aws.String("active"), StartTime: aws.Time(r.start)})
			}
		}
		return out, true, nil
	case "redshift:DescribeReservedNodeOfferings":
		out := &redshift.DescribeReservedNodeOfferingsOutput{}
		for _, o := range svcOfferings {
			if o.typ == commitments.TypeRedshiftRI {
				fixed, hourly := o.prices()
				out.ReservedNodeOfferings = append(out.ReservedNodeOfferings, rstypes.ReservedNodeOffering{ReservedNodeOfferingId: aws.String(o.id), NodeType: aws.String(o.itype),
					OfferingType: aws.String(o.payment), Duration: aws.Int32(year), FixedPrice: aws.Float64(fixed), UsagePrice: aws.Float64(0), CurrencyCode: aws.String("USD"),
					RecurringCharges: []rstypes.RecurringCharge{{RecurringChargeAmount: aws.Float64(hourly), RecurringChargeFrequency: aws.String("Hourly")}}})
			}
		}
		return out, true, nil
	case "redshift:PurchaseReservedNodeOffering":
		q := in.(*redshift.PurchaseReservedNodeOfferingInput)
		f.svcCalls[op]++
		id := fmt.Sprintf("rs-node-%d", len(f.svcRes)+1)
		if err := f.svcBuy(svcReservation{typ: commitments.TypeRedshiftRI, id: id, offering: aws.ToString(q.ReservedNodeOfferingId), count: aws.ToInt32(q.NodeCount)}); err != nil {
			return nil, true, err
		}
		return &redshift.PurchaseReservedNodeOfferingOutput{ReservedNode: &rstypes.ReservedNode{ReservedNodeId: aws.String(id), State: aws.String("payment-pending")}}, true, nil
	case "redshift:DescribeReservedNodes":
		q := in.(*redshift.DescribeReservedNodesInput)
		out := &redshift.DescribeReservedNodesOutput{}
		for _, r := range f.svcVisible() {
			if r.typ == commitments.TypeRedshiftRI && (q.ReservedNodeId == nil || *q.ReservedNodeId == r.id) {
				out.ReservedNodes = append(out.ReservedNodes, rstypes.ReservedNode{ReservedNodeId: aws.String(r.id), ReservedNodeOfferingId: aws.String(r.offering),
					NodeCount: aws.Int32(r.count), StartTime: aws.Time(r.start), State: aws.String("active")})
			}
		}
		if q.ReservedNodeId != nil && len(out.ReservedNodes) == 0 {
			return nil, true, &rstypes.ReservedNodeNotFoundFault{Message: aws.String("Reserved node " + *q.ReservedNodeId + " not found.")}
		}
		return out, true, nil
	}
	return nil, false, nil
}
