package inventory

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// loadBalancers reads application, network and gateway load balancers
// with their target groups' health, then classic ones with their
// instances' health: a load balancer without healthy targets serves
// nothing.
func (r *region) loadBalancers() {
	const svc = "elasticloadbalancing"
	v2 := elbv2.NewFromConfig(r.cfg)
	var arns []string
	first := len(r.out)
	for p := elbv2.NewDescribeLoadBalancersPaginator(v2, &elbv2.DescribeLoadBalancersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail(svc, "DescribeLoadBalancers", err)
			break
		}
		for _, lb := range page.LoadBalancers {
			arn := aws.ToString(lb.LoadBalancerArn)
			res := Resource{ARN: arn, Service: svc, Type: "loadbalancer", ID: aws.ToString(lb.LoadBalancerName), Name: aws.ToString(lb.LoadBalancerName),
				Created:  aws.ToTime(lb.CreatedTime),
				Metadata: map[string]any{"lb_type": string(lb.Type), "scheme": string(lb.Scheme), "vpc_id": aws.ToString(lb.VpcId)}}
			if lb.State != nil {
				res.State = string(lb.State.Code)
			}
			// CloudWatch's LoadBalancer dimension: app/name/id (the ARN's tail).
			if _, dim, ok := strings.Cut(arn, ":loadbalancer/"); ok {
				res.Metadata["metric_dimension"] = dim
			}
			groups, targets, healthy := 0, 0, 0
			for tp := elbv2.NewDescribeTargetGroupsPaginator(v2, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn}); tp.HasMorePages(); {
				tgs, err := tp.NextPage(r.ctx)
				if err != nil {
					r.fail(svc, "DescribeTargetGroups", err)
					break
				}
				for _, tg := range tgs.TargetGroups {
					groups++
					h, err := v2.DescribeTargetHealth(r.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
					if err != nil {
						r.fail(svc, "DescribeTargetHealth", err)
						continue
					}
					for _, d := range h.TargetHealthDescriptions {
						targets++
						if d.TargetHealth != nil && d.TargetHealth.State == "healthy" {
							healthy++
						}
						if d.Target != nil && strings.HasPrefix(aws.ToString(d.Target.Id), "i-") {
							res.Relations = append(res.Relations, Relation{Kind: "routes-to", Target: r.arn("ec2", "instance/"+aws.ToString(d.Target.Id))})
						}
					}
				}
			}
			res.Metadata["target_groups"], res.Metadata["targets"], res.Metadata["healthy_targets"] = groups, targets, healthy
			r.add(res)
			arns = append(arns, arn)
		}
	}
	// Tags: 20 load balancers a call.
	for start := 0; start < len(arns); start += 20 {
		out, err := v2.DescribeTags(r.ctx, &elbv2.DescribeTagsInput{ResourceArns: arns[start:min(start+20, len(arns))]})
		if err != nil {
			r.fail(svc, "DescribeTags", err)
			break
		}
		for _, td := range out.TagDescriptions {
			tags := map[string]string{}
			for _, t := range td.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			for i := first; i < len(r.out); i++ {
				if r.out[i].ARN == aws.ToString(td.ResourceArn) && len(tags) > 0 {
					r.out[i].Tags = tags
				}
			}
		}
	}

	v1 := elb.NewFromConfig(r.cfg)
	for p := elb.NewDescribeLoadBalancersPaginator(v1, &elb.DescribeLoadBalancersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail(svc, "DescribeLoadBalancers", err)
			break
		}
		for _, lb := range page.LoadBalancerDescriptions {
			name := aws.ToString(lb.LoadBalancerName)
			res := Resource{ARN: r.arn(svc, "loadbalancer/"+name), Service: svc, Type: "loadbalancer", ID: name, Name: name,
				Created: aws.ToTime(lb.CreatedTime), State: "active",
				Metadata: map[string]any{"lb_type": "classic", "scheme": aws.ToString(lb.Scheme), "vpc_id": aws.ToString(lb.VPCId),
					"metric_dimension": name, "targets": len(lb.Instances)}}
			healthy := 0
			if len(lb.Instances) > 0 {
				h, err := v1.DescribeInstanceHealth(r.ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: lb.LoadBalancerName})
				if err != nil {
					r.fail(svc, "DescribeInstanceHealth", err)
				} else {
					for _, s := range h.InstanceStates {
						if aws.ToString(s.State) == "InService" {
							healthy++
						}
					}
				}
			}
			for _, i := range lb.Instances {
				res.Relations = append(res.Relations, Relation{Kind: "routes-to", Target: r.arn("ec2", "instance/"+aws.ToString(i.InstanceId))})
			}
			res.Metadata["healthy_targets"] = healthy
			r.add(res)
		}
	}
}

// autoScaling reads the groups and marks their instances as members, so
// that rules advise on the group rather than one instance it replaces.
func (r *region) autoScaling() {
	client := autoscaling.NewFromConfig(r.cfg)
	member := map[string]string{} // instance ID -> group ARN
	for p := autoscaling.NewDescribeAutoScalingGroupsPaginator(client, &autoscaling.DescribeAutoScalingGroupsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("autoscaling", "DescribeAutoScalingGroups", err)
			break
		}
		for _, g := range page.AutoScalingGroups {
			arn := aws.ToString(g.AutoScalingGroupARN)
			tags := map[string]string{}
			for _, t := range g.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			meta := map[string]any{"min_size": int(aws.ToInt32(g.MinSize)), "max_size": int(aws.ToInt32(g.MaxSize)),
				"desired_capacity": int(aws.ToInt32(g.DesiredCapacity)), "instances": len(g.Instances)}
			res := Resource{ARN: arn, Service: "autoscaling", Type: "autoScalingGroup", ID: aws.ToString(g.AutoScalingGroupName),
				Name: aws.ToString(g.AutoScalingGroupName), Created: aws.ToTime(g.CreatedTime), State: "active", Tags: tags, Metadata: meta}
			if g.Status != nil {
				res.State = aws.ToString(g.Status)
			}
			if lt := g.LaunchTemplate; lt != nil && aws.ToString(lt.LaunchTemplateId) != "" {
				res.Relations = append(res.Relations, Relation{Kind: "uses", Target: r.arn("ec2", "launch-template/"+aws.ToString(lt.LaunchTemplateId))})
			}
			for _, i := range g.Instances {
				member[aws.ToString(i.InstanceId)] = arn
			}
			if len(tags) == 0 {
				res.Tags = nil
			}
			r.add(res)
		}
	}
	for i := range r.out {
		if g, ok := member[r.out[i].ID]; ok && r.out[i].Type == "instance" {
			r.out[i].Relations = append(r.out[i].Relations, Relation{Kind: "member-of", Target: g})
		}
	}
}
