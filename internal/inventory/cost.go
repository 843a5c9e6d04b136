package inventory

import (
	"context"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

// HoursPerMonth is the month every monthly figure is stated over.
const HoursPerMonth = 730

// CostSource gives the monthly cost of the resources a tenant's CUR
// names; *costs.Store is one.
type CostSource interface {
	ResourceCosts(ctx context.Context, tenant crossbill.TenantID) (map[string]costs.ResourceCost, error)
}

// Price-list figures: US East (N. Virginia) on-demand list prices, Linux,
// in USD, kept small on purpose (the types the rules meet most). They are
// the fallback when the CUR does not name a resource, and are labelled
// CostFromPriceList so nobody takes them for the bill; other regions'
// prices differ by a few percent.
var (
	instanceHourly = map[string]float64{
		"t2.micro": 0.0116, "t2.small": 0.023, "t2.medium": 0.0464, "t2.large": 0.0928,
		"t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
		"t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336, "t4g.large": 0.0672,
		"m4.large": 0.10, "m4.xlarge": 0.20, "m3.medium": 0.067,
		"m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768,
		"m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384,
		"m6g.large": 0.077, "m6g.xlarge": 0.154, "m6g.2xlarge": 0.308, "m7g.large": 0.0816, "m7g.xlarge": 0.1632,
		"c4.large": 0.10, "c5.large": 0.085, "c5.xlarge": 0.17, "c5.2xlarge": 0.34, "c6i.large": 0.085, "c6i.xlarge": 0.17,
		"c6g.large": 0.068, "c6g.xlarge": 0.136,
		"r4.large": 0.133, "r5.large": 0.126, "r5.xlarge": 0.252, "r5.2xlarge": 0.504, "r6i.large": 0.126, "r6g.large": 0.1008, "r6g.xlarge": 0.2016,
	}
	rdsHourly = map[string]float64{
		"db.t3.micro": 0.017, "db.t3.small": 0.034, "db.t3.medium": 0.068, "db.t3.large": 0.136,
		"db.t4g.micro": 0.016, "db.t4g.medium": 0.065, "db.m5.large": 0.171, "db.m5.xlarge": 0.342,
		"db.m6g.large": 0.152, "db.r5.large": 0.25, "db.r6g.large": 0.225,
	}
	// EBS: per GB-month, and per provisioned IOPS-month above what the
	// type includes.
	volumeGBMonth = map[string]float64{"gp2": 0.10, "gp3": 0.08, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015, "standard": 0.05}
	volumeIOPS    = map[string]float64{"io1": 0.065, "io2": 0.065, "gp3": 0.005}
)

const (
	snapshotGBMonth   = 0.05
	publicIPv4Hourly  = 0.005 // every public IPv4 address, an idle Elastic IP included
	natGatewayHourly  = 0.045
	albHourly         = 0.0225 // application and network load balancers, before LCUs
	classicELBHourly  = 0.025
	gp3FreeIOPS       = 3000
	gp3FreeThroughput = 125
	gp3ThroughputMiB  = 0.04
)

// priceList returns a resource's monthly on-demand list price when the
// table knows its kind.
func priceList(r Resource) (float64, bool) {
	switch r.Service + " " + r.Type {
	case "ec2 instance":
		if r.State != "running" && r.State != "pending" {
			return 0, true // a stopped instance bills its volumes and addresses, not itself
		}
		h, ok := instanceHourly[r.MetaString("instance_type")]
		return h * HoursPerMonth, ok
	case "ec2 volume":
		vt := r.MetaString("volume_type")
		gb, ok := volumeGBMonth[vt]
		if !ok {
			return 0, false
		}
		m := gb * r.MetaNumber("size_gb")
		iops := r.MetaNumber("iops")
		switch vt {
		case "io1", "io2":
			m += iops * volumeIOPS[vt]
		case "gp3":
			m += max(0, iops-gp3FreeIOPS)*volumeIOPS[vt] + max(0, r.MetaNumber("throughput_mibps")-gp3FreeThroughput)*gp3ThroughputMiB
		}
		return m, true
	case "ec2 snapshot":
		// Snapshots are incremental: the volume size is an upper bound.
		return snapshotGBMonth * r.MetaNumber("size_gb"), true
	case "ec2 elastic-ip":
		return publicIPv4Hourly * HoursPerMonth, true
	case "ec2 natgateway":
		if r.State != "available" && r.State != "pending" {
			return 0, true
		}
		return natGatewayHourly * HoursPerMonth, true
	case "elasticloadbalancing loadbalancer":
		if r.MetaString("lb_type") == "classic" {
			return classicELBHourly * HoursPerMonth, true
		}
		return albHourly * HoursPerMonth, true
	case "rds db":
		h, ok := rdsHourly[r.MetaString("instance_class")]
		if ok && r.Metadata["multi_az"] == true {
			h *= 2
		}
		if r.State == "stopped" {
			return 0, ok
		}
		return h * HoursPerMonth, ok
	}
	return 0, false
}

// curKeys are the line_item_resource_id values the CUR may use for r:
// EC2 writes IDs (i-..., vol-..., snap-...), most other services ARNs, S3
// the bucket name.
func curKeys(r Resource) []string {
	return []string{r.ID, r.ARN}
}

// assignCosts sets each resource's cost: its own CUR line items when the
// CUR names it, else the price list when the table knows its kind.
func assignCosts(resources []Resource, cur map[string]costs.ResourceCost) {
	for i := range resources {
		r := &resources[i]
		r.Cost = nil
		for _, k := range curKeys(*r) {
			if c, ok := cur[k]; ok && k != "" {
				r.Cost = &Cost{MonthlyAmortized: c.MonthlyAmortized, MonthlyOnDemand: c.MonthlyOnDemand, Currency: c.Currency,
					Source: CostFromCUR, CoveredByCommitment: c.Covered}
				break
			}
		}
		if r.Cost != nil {
			continue
		}
		if m, ok := priceList(*r); ok {
			r.Cost = &Cost{MonthlyAmortized: m, MonthlyOnDemand: m, Currency: "USD", Source: CostFromPriceList}
		}
	}
}
