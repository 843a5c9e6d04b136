package remediation

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
)

// clients are one account and region's service clients.
type clients struct {
	ec2 *ec2.Client
	rds *rds.Client
	elb *elb.Client
	s3  *s3.Client
}

func newClients(cfg aws.Config) *clients {
	return &clients{ec2: ec2.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), elb: elb.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg)}
}

// facts are what crossbill read about one resource before deciding.
type facts struct {
	Exists bool
	State  string
	Tags   map[string]string
	// Protected is why AWS settings forbid the action (termination or
	// deletion protection), "" when they do not.
	Protected string
	Attr      map[string]string
	Lifecycle []s3types.LifecycleRule
}

// resourceID returns the ID the service's API takes for arn, checking that
// arn names a resource of kind.
func resourceID(arn, kind string) (string, error) {
	const op = "remediation target"
	a, err := awsarn.Parse(arn)
	if err != nil {
		return "", err
	}
	switch kind {
	case KindLoadBalancer:
		if a.Service == "elasticloadbalancing" && strings.HasPrefix(a.Resource, "loadbalancer/") {
			return arn, nil
		}
	case KindDB:
		if id, ok := strings.CutPrefix(a.Resource, "db:"); ok && a.Service == "rds" && id != "" {
			return id, nil
		}
	case KindBucket:
		if a.Service == "s3" && a.Resource != "" && !strings.Contains(a.Resource, "/") {
			return a.Resource, nil
		}
	default:
		if id, ok := strings.CutPrefix(a.Resource, kind+"/"); ok && a.Service == "ec2" && id != "" {
			return id, nil
		}
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, op, "%s is not the ARN of a%s %s", arn, article(kind), kind)
}

func article(kind string) string {
	if strings.ContainsRune("aeiou", rune(kind[0])) {
		return "n"
	}
	return ""
}

// inventory is what one (account, region, kind) holds: every resource of
// the kind (for the percentage limit) and the facts of each.
type inventory struct {
	total int
	facts map[string]facts
}

// inspect reads every resource of kind in c's account and region (the
// denominator of MaxPercent) and the details of ids.
func inspect(ctx context.Context, c *clients, kind string, ids []string) (inventory, error) {
	inv := inventory{facts: map[string]facts{}}
	switch kind {
	case KindInstance:
		p := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return inv, err
			}
			for _, r := range out.Reservations {
				for _, i := range r.Instances {
					if i.State != nil && i.State.Name == ec2types.InstanceStateNameTerminated {
						continue
					}
					inv.total++
					f := facts{Exists: true, State: string(i.State.Name), Tags: ec2Tags(i.Tags),
						Attr: map[string]string{"instance_type": string(i.InstanceType)}}
					inv.facts[aws.ToString(i.InstanceId)] = f
				}
			}
		}
		for _, id := range ids {
			f, ok := inv.facts[id]
			if !ok {
				continue
			}
			out, err := c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameDisableApiTermination})
			if err != nil {
				return inv, err
			}
			if out.DisableApiTermination != nil && aws.ToBool(out.DisableApiTermination.Value) {
				f.Protected = "termination protection is on (DisableApiTermination)"
			}
			inv.facts[id] = f
		}
	case KindVolume:
		p := ec2.NewDescribeVolumesPaginator(c.ec2, &ec2.DescribeVolumesInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return inv, err
			}
			for _, v := range out.Volumes {
				inv.total++
				inv.facts[aws.ToString(v.VolumeId)] = facts{Exists: true, State: string(v.State), Tags: ec2Tags(v.Tags), Attr: map[string]string{
					"volume_type": string(v.VolumeType), "size_gib": itoa(aws.ToInt32(v.Size)), "availability_zone": aws.ToString(v.AvailabilityZone)}}
			}
		}
	case KindSnapshot:
		p := ec2.NewDescribeSnapshotsPaginator(c.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return inv, err
			}
			for _, s := range out.Snapshots {
				inv.total++
				attr := map[string]string{"volume_id": aws.ToString(s.VolumeId), "size_gib": itoa(aws.ToInt32(s.VolumeSize))}
				if s.StartTime != nil {
					attr["started"] = s.StartTime.UTC().Format("2006-01-02T15:04:05Z")
				}
				inv.facts[aws.ToString(s.SnapshotId)] = facts{Exists: true, State: string(s.State), Tags: ec2Tags(s.Tags), Attr: attr}
			}
		}
	case KindAddress:
		out, err := c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
		if err != nil {
			return inv, err
		}
		for _, a := range out.Addresses {
			inv.total++
			state := "unassociated"
			if aws.ToString(a.AssociationId) != "" || aws.ToString(a.InstanceId) != "" || aws.ToString(a.NetworkInterfaceId) != "" {
				state = "associated"
			}
			inv.facts[aws.ToString(a.AllocationId)] = facts{Exists: true, State: state, Tags: ec2Tags(a.Tags), Attr: map[string]string{"public_ip": aws.ToString(a.PublicIp)}}
		}
	case KindLoadBalancer:
		p := elb.NewDescribeLoadBalancersPaginator(c.elb, &elb.DescribeLoadBalancersInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return inv, err
			}
			for _, lb := range out.LoadBalancers {
				inv.total++
				state := ""
				if lb.State != nil {
					state = string(lb.State.Code)
				}
				inv.facts[aws.ToString(lb.LoadBalancerArn)] = facts{Exists: true, State: state, Tags: map[string]string{}, Attr: map[string]string{
					"name": aws.ToString(lb.LoadBalancerName), "type": string(lb.Type), "scheme": string(lb.Scheme), "dns_name": aws.ToString(lb.DNSName)}}
			}
		}
		var want []string
		for _, id := range ids {
			if _, ok := inv.facts[id]; ok {
				want = append(want, id)
			}
		}
		for len(want) > 0 {
			n := min(len(want), 20) // DescribeTags takes at most 20 ARNs
			out, err := c.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: want[:n]})
			if err != nil {
				return inv, err
			}
			for _, d := range out.TagDescriptions {
				f := inv.facts[aws.ToString(d.ResourceArn)]
				for _, t := range d.Tags {
					f.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			for _, id := range want[:n] {
				attrs, err := c.elb.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(id)})
				if err != nil {
					return inv, err
				}
				for _, a := range attrs.Attributes {
					if aws.ToString(a.Key) == "deletion_protection.enabled" && aws.ToString(a.Value) == "true" {
						f := inv.facts[id]
						f.Protected = "deletion protection is on (deletion_protection.enabled)"
						inv.facts[id] = f
					}
				}
			}
			want = want[n:]
		}
	case KindDB:
		p := rds.NewDescribeDBInstancesPaginator(c.rds, &rds.DescribeDBInstancesInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return inv, err
			}
			for _, d := range out.DBInstances {
				inv.total++
				tags := map[string]string{}
				for _, t := range d.TagList {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				f := facts{Exists: true, State: aws.ToString(d.DBInstanceStatus), Tags: tags, Attr: map[string]string{
					"engine": aws.ToString(d.Engine), "class": aws.ToString(d.DBInstanceClass), "arn": aws.ToString(d.DBInstanceArn)}}
				if aws.ToBool(d.DeletionProtection) {
					f.Attr["deletion_protection"] = "true"
				}
				inv.facts[aws.ToString(d.DBInstanceIdentifier)] = f
			}
		}
	case KindBucket:
		// No listing: buckets are global and ListAllMyBuckets is not the
		// remediation module's. The percentage limit counts the targets.
		for _, b := range ids {
			inv.total++
			f := facts{Exists: true, State: "exists", Tags: map[string]string{}}
			out, err := c.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b)})
			switch {
			case apiCode(err) == "NoSuchBucket":
				continue
			case apiCode(err) == "NoSuchTagSet":
			case err != nil:
				return inv, err
			default:
				for _, t := range out.TagSet {
					f.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			lc, err := c.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
			switch {
			case apiCode(err) == "NoSuchLifecycleConfiguration":
			case err != nil:
				return inv, err
			default:
				f.Lifecycle = lc.Rules
			}
			inv.facts[b] = f
		}
	}
	return inv, nil
}

func ec2Tags(ts []ec2types.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range ts {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// apiCode is the AWS error code of err, "" for nil or a non-API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
