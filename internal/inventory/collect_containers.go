package inventory

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
)

// ecs reads clusters (with their tags and counts) and their services.
func (r *region) ecs() {
	client := ecs.NewFromConfig(r.cfg)
	var arns []string
	for p := ecs.NewListClustersPaginator(client, &ecs.ListClustersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("ecs", "ListClusters", err)
			return
		}
		arns = append(arns, page.ClusterArns...)
	}
	for start := 0; start < len(arns); start += 100 {
		out, err := client.DescribeClusters(r.ctx, &ecs.DescribeClustersInput{Clusters: arns[start:min(start+100, len(arns))],
			Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
		if err != nil {
			r.fail("ecs", "DescribeClusters", err)
			return
		}
		for _, c := range out.Clusters {
			tags := map[string]string{}
			for _, t := range c.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if len(tags) == 0 {
				tags = nil
			}
			name := aws.ToString(c.ClusterName)
			r.add(Resource{ARN: aws.ToString(c.ClusterArn), Service: "ecs", Type: "cluster", ID: name, Name: name, State: aws.ToString(c.Status), Tags: tags,
				Metadata: map[string]any{"running_tasks": int(c.RunningTasksCount), "services": int(c.ActiveServicesCount),
					"container_instances": int(c.RegisteredContainerInstancesCount), "capacity_providers": c.CapacityProviders}})
			r.ecsServices(client, aws.ToString(c.ClusterArn))
		}
	}
}

func (r *region) ecsServices(client *ecs.Client, cluster string) {
	var arns []string
	for p := ecs.NewListServicesPaginator(client, &ecs.ListServicesInput{Cluster: aws.String(cluster)}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("ecs", "ListServices", err)
			return
		}
		arns = append(arns, page.ServiceArns...)
	}
	for start := 0; start < len(arns); start += 10 {
		out, err := client.DescribeServices(r.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: arns[start:min(start+10, len(arns))]})
		if err != nil {
			r.fail("ecs", "DescribeServices", err)
			return
		}
		for _, s := range out.Services {
			name := aws.ToString(s.ServiceName)
			r.add(Resource{ARN: aws.ToString(s.ServiceArn), Service: "ecs", Type: "service", ID: name, Name: name, State: aws.ToString(s.Status),
				Created: aws.ToTime(s.CreatedAt), Relations: []Relation{{Kind: "member-of", Target: cluster}},
				Metadata: map[string]any{"launch_type": string(s.LaunchType), "desired_count": int(s.DesiredCount), "running_count": int(s.RunningCount)}})
		}
	}
}

// eks reads clusters (version: extended support is billed) and their
// managed node groups.
func (r *region) eks() {
	client := eks.NewFromConfig(r.cfg)
	for p := eks.NewListClustersPaginator(client, &eks.ListClustersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("eks", "ListClusters", err)
			return
		}
		for _, name := range page.Clusters {
			out, err := client.DescribeCluster(r.ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
			if err != nil {
				r.fail("eks", "DescribeCluster", err)
				continue
			}
			c := out.Cluster
			arn := aws.ToString(c.Arn)
			r.add(Resource{ARN: arn, Service: "eks", Type: "cluster", ID: name, Name: name, State: string(c.Status), Created: aws.ToTime(c.CreatedAt),
				Tags: nilIfEmpty(c.Tags), Metadata: map[string]any{"version": aws.ToString(c.Version)}})
			for np := eks.NewListNodegroupsPaginator(client, &eks.ListNodegroupsInput{ClusterName: aws.String(name)}); np.HasMorePages(); {
				ngs, err := np.NextPage(r.ctx)
				if err != nil {
					r.fail("eks", "ListNodegroups", err)
					break
				}
				for _, ng := range ngs.Nodegroups {
					d, err := client.DescribeNodegroup(r.ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(name), NodegroupName: aws.String(ng)})
					if err != nil {
						r.fail("eks", "DescribeNodegroup", err)
						continue
					}
					n := d.Nodegroup
					meta := map[string]any{"instance_types": n.InstanceTypes, "capacity_type": string(n.CapacityType)}
					if s := n.ScalingConfig; s != nil {
						meta["min_size"], meta["max_size"], meta["desired_size"] = int(aws.ToInt32(s.MinSize)), int(aws.ToInt32(s.MaxSize)), int(aws.ToInt32(s.DesiredSize))
					}
					r.add(Resource{ARN: aws.ToString(n.NodegroupArn), Service: "eks", Type: "nodegroup", ID: ng, Name: ng, State: string(n.Status),
						Created: aws.ToTime(n.CreatedAt), Tags: nilIfEmpty(n.Tags), Metadata: meta, Relations: []Relation{{Kind: "member-of", Target: arn}}})
				}
			}
		}
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
