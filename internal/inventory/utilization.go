package inventory

import (
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// DefaultWindow is how far back utilization goes: 14 days, as Compute
// Optimizer looks.
const DefaultWindow = 14 * 24 * time.Hour

// queryProtocol makes the CloudWatch client speak AWS Query, which
// CloudWatch serves beside CBOR (the SDK's default): moto, behind the
// sandbox and the tests, serves only Query.
func queryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
}

// maxQueries is GetMetricData's limit of queries per call.
const maxQueries = 500

// metricSpec is one statistic of one metric the rules read.
type metricSpec struct {
	namespace, metric, stat, unit string
}

// metricsFor returns the metrics read for a resource, with the dimension
// that names it; none for kinds no rule measures.
func metricsFor(r Resource) (dimName, dimValue string, specs []metricSpec) {
	switch r.Service + " " + r.Type {
	case "ec2 instance":
		return "InstanceId", r.ID, []metricSpec{
			{"AWS/EC2", "CPUUtilization", "Average", "Percent"}, {"AWS/EC2", "CPUUtilization", "Maximum", "Percent"},
			{"AWS/EC2", "NetworkIn", "Sum", "Bytes"}, {"AWS/EC2", "NetworkOut", "Sum", "Bytes"}}
	case "ec2 volume":
		return "VolumeId", r.ID, []metricSpec{{"AWS/EBS", "VolumeReadOps", "Sum", "Count"}, {"AWS/EBS", "VolumeWriteOps", "Sum", "Count"}}
	case "ec2 natgateway":
		return "NatGatewayId", r.ID, []metricSpec{{"AWS/NATGateway", "BytesOutToDestination", "Sum", "Bytes"},
			{"AWS/NATGateway", "BytesInFromDestination", "Sum", "Bytes"}}
	case "rds db":
		return "DBInstanceIdentifier", r.ID, []metricSpec{{"AWS/RDS", "DatabaseConnections", "Maximum", "Count"},
			{"AWS/RDS", "CPUUtilization", "Average", "Percent"}, {"AWS/RDS", "CPUUtilization", "Maximum", "Percent"}}
	case "elasticloadbalancing loadbalancer":
		dim := r.MetaString("metric_dimension")
		switch r.MetaString("lb_type") {
		case "classic":
			return "LoadBalancerName", dim, []metricSpec{{"AWS/ELB", "RequestCount", "Sum", "Count"}, {"AWS/ELB", "HealthyHostCount", "Average", "Count"}}
		case "application":
			// HealthyHostCount needs a target group dimension too: target
			// health comes from DescribeTargetHealth instead.
			return "LoadBalancer", dim, []metricSpec{{"AWS/ApplicationELB", "RequestCount", "Sum", "Count"}}
		case "network":
			return "LoadBalancer", dim, []metricSpec{{"AWS/NetworkELB", "NewFlowCount", "Sum", "Count"}, {"AWS/NetworkELB", "ProcessedBytes", "Sum", "Bytes"}}
		}
	}
	return "", "", nil
}

// Window returns the utilization window ending at the start of now's day
// (UTC): only whole days, so a daily point is never partial.
func Window(now time.Time, window time.Duration) (from, to time.Time) {
	to = now.UTC().Truncate(24 * time.Hour)
	return to.Add(-window), to
}

// utilization reads the region's resources' metrics, 500 queries a
// GetMetricData call, in daily points over the window.
func (r *region) utilization() []Utilization {
	from, to := Window(r.c.opts.Now(), r.c.opts.Window)
	type query struct {
		res  int // index in r.out
		spec metricSpec
	}
	var queries []query
	var cwq []cwtypes.MetricDataQuery
	for i, res := range r.out {
		name, value, specs := metricsFor(res)
		if value == "" {
			continue
		}
		for _, s := range specs {
			cwq = append(cwq, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("q%d", len(queries))), ReturnData: aws.Bool(true),
				MetricStat: &cwtypes.MetricStat{Period: aws.Int32(86400), Stat: aws.String(s.stat),
					Metric: &cwtypes.Metric{Namespace: aws.String(s.namespace), MetricName: aws.String(s.metric),
						Dimensions: []cwtypes.Dimension{{Name: aws.String(name), Value: aws.String(value)}}}}})
			queries = append(queries, query{i, s})
		}
	}
	if len(cwq) == 0 {
		return nil
	}
	client := cloudwatch.NewFromConfig(r.cfg, queryProtocol)
	series := make([]*Series, len(queries))
	for start := 0; start < len(cwq); start += maxQueries {
		in := &cloudwatch.GetMetricDataInput{MetricDataQueries: cwq[start:min(start+maxQueries, len(cwq))], StartTime: aws.Time(from), EndTime: aws.Time(to),
			ScanBy: cwtypes.ScanByTimestampAscending}
		for p := cloudwatch.NewGetMetricDataPaginator(client, in); p.HasMorePages(); {
			page, err := p.NextPage(r.ctx)
			if err != nil {
				r.c.fail(r.account, r.name, "cloudwatch", "GetMetricData", err)
				return nil
			}
			for _, m := range page.MetricDataResults {
				var n int
				if _, err := fmt.Sscanf(aws.ToString(m.Id), "q%d", &n); err != nil || n >= len(queries) {
					continue
				}
				q := queries[n]
				s := series[n]
				if s == nil {
					s = &Series{Namespace: q.spec.namespace, Metric: q.spec.metric, Stat: q.spec.stat, Period: 86400, Unit: q.spec.unit, Points: []Datapoint{}}
					series[n] = s
				}
				for j, t := range m.Timestamps {
					if j < len(m.Values) {
						s.Points = append(s.Points, Datapoint{At: t.UTC(), Value: m.Values[j]})
					}
				}
			}
		}
	}
	byRes := map[int]*Utilization{}
	var order []int
	for n, s := range series {
		if s == nil || len(s.Points) == 0 {
			continue
		}
		sort.Slice(s.Points, func(a, b int) bool { return s.Points[a].At.Before(s.Points[b].At) })
		i := queries[n].res
		u := byRes[i]
		if u == nil {
			u = &Utilization{ARN: r.out[i].ARN, From: from, To: to}
			byRes[i] = u
			order = append(order, i)
		}
		u.Series = append(u.Series, *s)
	}
	out := make([]Utilization, 0, len(order))
	for _, i := range order {
		out = append(out, *byRes[i])
	}
	return out
}
