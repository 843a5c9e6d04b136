// Package inventory holds the resources crossbill reads from connected
// accounts (through the inventory module's Describe/List calls), their
// utilization from CloudWatch, and their cost with its source. The
// optimization rules (package optimize) read this model; collection and
// storage live here.
package inventory

import (
	"encoding/json"
	"time"

	"github.com/crossbill/crossbill"
)

// Resource is one AWS resource as last collected. ARN is the key (within a
// tenant); a resource type without ARNs from AWS gets the ARN its service
// documents for it.
type Resource struct {
	ARN       string              `json:"arn"`
	TenantID  crossbill.TenantID  `json:"-"`
	AccountID crossbill.AccountID `json:"account_id"`
	Region    string              `json:"region"`
	// Service and Type name the resource the way IAM's resource types do:
	// ec2 instance, ec2 volume, ec2 snapshot, ec2 elastic-ip, ec2
	// natgateway, elasticloadbalancing loadbalancer, rds db, s3 bucket...
	Service string `json:"service"`
	Type    string `json:"type"`
	// ID is the resource's own identifier (i-..., vol-..., bucket name):
	// what the CUR's line_item_resource_id holds for it.
	ID      string            `json:"id"`
	Name    string            `json:"name,omitempty"`
	State   string            `json:"state,omitempty"`
	Created time.Time         `json:"created,omitzero"`
	Fetched time.Time         `json:"fetched"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Metadata is the service's own description, trimmed to what the
	// rules and the UI read (instance type, volume type and size, IOPS...).
	Metadata  map[string]any `json:"metadata,omitempty"`
	Relations []Relation     `json:"relations,omitempty"`
	Console   string         `json:"console_url,omitempty"`
	Cost      *Cost          `json:"cost,omitempty"`
}

// Relation links a resource to another: a volume attached to an instance,
// a snapshot used by an AMI, an Elastic IP associated with an ENI.
type Relation struct {
	Kind   string `json:"kind"` // attached-to, used-by, associated-with, member-of
	Target string `json:"target"`
}

// Cost sources, from the most to the least exact.
const (
	CostFromCUR       = "cur"        // amortized cost of the resource's own line items
	CostFromPriceList = "price-list" // on-demand list price for its type and region
)

// Cost is what a resource costs a 730-hour month, and where the figure
// comes from. Amortized is after Savings Plans and reservations; OnDemand
// before; both are kept so a saving can be stated either way.
type Cost struct {
	MonthlyAmortized float64 `json:"monthly_amortized"`
	MonthlyOnDemand  float64 `json:"monthly_on_demand"`
	Currency         string  `json:"currency"`
	Source           string  `json:"source"`
	// CoveredByCommitment: some of its usage is covered by a Savings Plan
	// or reservation, so shrinking it frees commitment rather than cash.
	CoveredByCommitment bool `json:"covered_by_commitment,omitempty"`
}

// Datapoint is one period of one CloudWatch metric statistic.
type Datapoint struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// Series is one metric of one resource over the utilization window, as
// the evidence a recommendation keeps (daily points by default).
type Series struct {
	Namespace string      `json:"namespace"` // AWS/EC2, AWS/EBS, AWS/RDS...
	Metric    string      `json:"metric"`    // CPUUtilization, NetworkOut...
	Stat      string      `json:"stat"`      // Average, Maximum, Sum
	Period    int         `json:"period_seconds"`
	Unit      string      `json:"unit,omitempty"`
	Points    []Datapoint `json:"points"`
}

// Utilization is a resource's metrics over a window.
type Utilization struct {
	ARN    string    `json:"arn"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Series []Series  `json:"series"`
}

// MetaString reads one field of a resource's metadata as a string.
func (r Resource) MetaString(key string) string {
	s, _ := r.Metadata[key].(string)
	return s
}

// MetaNumber reads one numeric field of a resource's metadata (JSON
// numbers decode to float64; collectors may store ints).
func (r Resource) MetaNumber(key string) float64 {
	switch v := r.Metadata[key].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case json.Number:
		f, _ := v.Float64()
		return f
	}
	return 0
}
