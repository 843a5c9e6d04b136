package inventory

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
)

func rdsTags(ts []rdstypes.Tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// rds reads DB instances and Aurora clusters.
func (r *region) rds() {
	client := rds.NewFromConfig(r.cfg)
	for p := rds.NewDescribeDBInstancesPaginator(client, &rds.DescribeDBInstancesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("rds", "DescribeDBInstances", err)
			break
		}
		for _, d := range page.DBInstances {
			id := aws.ToString(d.DBInstanceIdentifier)
			arn := aws.ToString(d.DBInstanceArn)
			if arn == "" {
				arn = r.arn("rds", "db:"+id)
			}
			res := Resource{ARN: arn, Service: "rds", Type: "db", ID: id, Name: id, State: aws.ToString(d.DBInstanceStatus),
				Created: aws.ToTime(d.InstanceCreateTime), Tags: rdsTags(d.TagList),
				Metadata: map[string]any{"instance_class": aws.ToString(d.DBInstanceClass), "engine": aws.ToString(d.Engine),
					"engine_version": aws.ToString(d.EngineVersion), "multi_az": aws.ToBool(d.MultiAZ),
					"storage_type": aws.ToString(d.StorageType), "allocated_storage_gb": int(aws.ToInt32(d.AllocatedStorage))}}
			if d.Iops != nil {
				res.Metadata["iops"] = int(*d.Iops)
			}
			if c := aws.ToString(d.DBClusterIdentifier); c != "" {
				res.Relations = append(res.Relations, Relation{Kind: "member-of", Target: r.arn("rds", "cluster:"+c)})
			}
			r.add(res)
		}
	}
	for p := rds.NewDescribeDBClustersPaginator(client, &rds.DescribeDBClustersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("rds", "DescribeDBClusters", err)
			break
		}
		for _, c := range page.DBClusters {
			id := aws.ToString(c.DBClusterIdentifier)
			arn := aws.ToString(c.DBClusterArn)
			if arn == "" {
				arn = r.arn("rds", "cluster:"+id)
			}
			meta := map[string]any{"engine": aws.ToString(c.Engine), "engine_version": aws.ToString(c.EngineVersion),
				"members": len(c.DBClusterMembers), "multi_az": aws.ToBool(c.MultiAZ)}
			if s := c.ServerlessV2ScalingConfiguration; s != nil {
				meta["min_acu"], meta["max_acu"] = aws.ToFloat64(s.MinCapacity), aws.ToFloat64(s.MaxCapacity)
			}
			r.add(Resource{ARN: arn, Service: "rds", Type: "cluster", ID: id, Name: id, State: aws.ToString(c.Status),
				Created: aws.ToTime(c.ClusterCreateTime), Tags: rdsTags(c.TagList), Metadata: meta})
		}
	}
}

// elastiCache reads cache clusters and replication groups.
func (r *region) elastiCache() {
	client := elasticache.NewFromConfig(r.cfg)
	for p := elasticache.NewDescribeCacheClustersPaginator(client, &elasticache.DescribeCacheClustersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("elasticache", "DescribeCacheClusters", err)
			break
		}
		for _, c := range page.CacheClusters {
			id := aws.ToString(c.CacheClusterId)
			arn := aws.ToString(c.ARN)
			if arn == "" {
				arn = r.arn("elasticache", "cluster:"+id)
			}
			res := Resource{ARN: arn, Service: "elasticache", Type: "cluster", ID: id, Name: id, State: aws.ToString(c.CacheClusterStatus),
				Created: aws.ToTime(c.CacheClusterCreateTime),
				Metadata: map[string]any{"node_type": aws.ToString(c.CacheNodeType), "engine": aws.ToString(c.Engine),
					"engine_version": aws.ToString(c.EngineVersion), "nodes": int(aws.ToInt32(c.NumCacheNodes))}}
			if g := aws.ToString(c.ReplicationGroupId); g != "" {
				res.Relations = append(res.Relations, Relation{Kind: "member-of", Target: r.arn("elasticache", "replicationgroup:"+g)})
			}
			r.add(res)
		}
	}
	for p := elasticache.NewDescribeReplicationGroupsPaginator(client, &elasticache.DescribeReplicationGroupsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("elasticache", "DescribeReplicationGroups", err)
			break
		}
		for _, g := range page.ReplicationGroups {
			id := aws.ToString(g.ReplicationGroupId)
			arn := aws.ToString(g.ARN)
			if arn == "" {
				arn = r.arn("elasticache", "replicationgroup:"+id)
			}
			r.add(Resource{ARN: arn, Service: "elasticache", Type: "replicationgroup", ID: id, Name: aws.ToString(g.Description),
				State: aws.ToString(g.Status), Created: aws.ToTime(g.ReplicationGroupCreateTime),
				Metadata: map[string]any{"node_type": aws.ToString(g.CacheNodeType), "members": len(g.MemberClusters)}})
		}
	}
}

// redshift reads provisioned clusters.
func (r *region) redshift() {
	client := redshift.NewFromConfig(r.cfg)
	for p := redshift.NewDescribeClustersPaginator(client, &redshift.DescribeClustersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("redshift", "DescribeClusters", err)
			break
		}
		for _, c := range page.Clusters {
			id := aws.ToString(c.ClusterIdentifier)
			tags := map[string]string{}
			for _, t := range c.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if len(tags) == 0 {
				tags = nil
			}
			r.add(Resource{ARN: r.arn("redshift", "cluster:"+id), Service: "redshift", Type: "cluster", ID: id, Name: id,
				State: aws.ToString(c.ClusterStatus), Created: aws.ToTime(c.ClusterCreateTime), Tags: tags,
				Metadata: map[string]any{"node_type": aws.ToString(c.NodeType), "nodes": int(aws.ToInt32(c.NumberOfNodes))}})
		}
	}
}

// openSearch reads domains, five names a DescribeDomains call.
func (r *region) openSearch() {
	client := opensearch.NewFromConfig(r.cfg)
	names, err := client.ListDomainNames(r.ctx, &opensearch.ListDomainNamesInput{})
	if err != nil {
		r.fail("es", "ListDomainNames", err)
		return
	}
	var all []string
	for _, d := range names.DomainNames {
		all = append(all, aws.ToString(d.DomainName))
	}
	for start := 0; start < len(all); start += 5 {
		out, err := client.DescribeDomains(r.ctx, &opensearch.DescribeDomainsInput{DomainNames: all[start:min(start+5, len(all))]})
		if err != nil {
			r.fail("es", "DescribeDomains", err)
			return
		}
		for _, d := range out.DomainStatusList {
			name := aws.ToString(d.DomainName)
			meta := map[string]any{"engine_version": aws.ToString(d.EngineVersion)}
			if c := d.ClusterConfig; c != nil {
				meta["instance_type"], meta["instances"] = string(c.InstanceType), int(aws.ToInt32(c.InstanceCount))
			}
			state := "active"
			if aws.ToBool(d.Processing) {
				state = "processing"
			}
			if aws.ToBool(d.Deleted) {
				state = "deleted"
			}
			r.add(Resource{ARN: aws.ToString(d.ARN), Service: "es", Type: "domain", ID: name, Name: name, State: state, Metadata: meta})
		}
	}
}

// lambda reads functions (memory and architecture; no code).
func (r *region) lambda() {
	client := lambda.NewFromConfig(r.cfg)
	for p := lambda.NewListFunctionsPaginator(client, &lambda.ListFunctionsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("lambda", "ListFunctions", err)
			break
		}
		for _, f := range page.Functions {
			name := aws.ToString(f.FunctionName)
			var arch []string
			for _, a := range f.Architectures {
				arch = append(arch, string(a))
			}
			r.add(Resource{ARN: aws.ToString(f.FunctionArn), Service: "lambda", Type: "function", ID: name, Name: name, State: string(f.State),
				Created: parseTime(aws.ToString(f.LastModified)),
				Metadata: map[string]any{"memory_mb": int(aws.ToInt32(f.MemorySize)), "runtime": string(f.Runtime), "architectures": arch,
					"timeout_seconds": int(aws.ToInt32(f.Timeout)), "last_modified": aws.ToString(f.LastModified)}})
		}
	}
}

// dynamoDB reads tables and their capacity mode.
func (r *region) dynamoDB() {
	client := dynamodb.NewFromConfig(r.cfg)
	for p := dynamodb.NewListTablesPaginator(client, &dynamodb.ListTablesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("dynamodb", "ListTables", err)
			break
		}
		for _, name := range page.TableNames {
			out, err := client.DescribeTable(r.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				r.fail("dynamodb", "DescribeTable", err)
				continue
			}
			t := out.Table
			meta := map[string]any{"billing_mode": "PROVISIONED", "size_bytes": aws.ToInt64(t.TableSizeBytes), "items": aws.ToInt64(t.ItemCount)}
			if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
				meta["billing_mode"] = string(t.BillingModeSummary.BillingMode)
			}
			if pt := t.ProvisionedThroughput; pt != nil {
				meta["read_capacity"], meta["write_capacity"] = aws.ToInt64(pt.ReadCapacityUnits), aws.ToInt64(pt.WriteCapacityUnits)
			}
			r.add(Resource{ARN: aws.ToString(t.TableArn), Service: "dynamodb", Type: "table", ID: name, Name: name,
				State: string(t.TableStatus), Created: aws.ToTime(t.CreationDateTime), Metadata: meta})
		}
	}
}
