package inventory_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// must returns v or panics (setup code, where the stack trace says which
// call failed).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// account is one emulated customer account, reached as its administrator.
type account struct {
	id   crossbill.AccountID
	srv  *emulator.Server
	root aws.Config
}

func (a account) cfg(region string) aws.Config {
	ctx := context.Background()
	out := must(sts.NewFromConfig(a.root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + string(a.id) + ":role/admin"), RoleSessionName: aws.String("setup")}))
	c := out.Credentials
	cfg := must(a.srv.Config(ctx, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	cfg.Region = region
	return cfg
}

// world is a tenant with a connection to an emulated account (and its
// members), its store and the hub configuration with a recorder.
type world struct {
	hub  aws.Config
	rec  *awsclient.Recorder
	st   *store.Store
	conn store.Connection
	srv  *emulator.Server
}

func newWorld(t testing.TB, srv *emulator.Server, mgmt crossbill.AccountID, members ...crossbill.AccountID) *world {
	t.Helper()
	ctx := context.Background()
	root := must(srv.RootConfig(ctx))
	w := &world{hub: root.Copy(), rec: awsclient.NewRecorder(), srv: srv}
	w.rec.Attach(&w.hub)
	w.st = must(store.Open(ctx, t.TempDir()))
	t.Cleanup(func() { w.st.Close() })
	tenant := must(w.st.CreateTenant(ctx, "acme"))
	conn := must(w.st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test-external-id-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleOrg, manifest.ModuleInventory}}))
	w.conn = must(storetest.Bind(ctx, w.st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+string(mgmt)+":role/CrossbillAccess")))
	if len(members) > 0 {
		accounts := []store.OrgAccount{{AccountID: mgmt, Name: "management", State: "ACTIVE"}}
		for i, id := range members {
			accounts = append(accounts, store.OrgAccount{AccountID: id, Name: fmt.Sprintf("member-%d", i), State: "ACTIVE"})
		}
		must(w.st.SyncMembers(ctx, w.conn, "CrossbillAccess", accounts))
		for _, id := range members {
			must(w.st.SetMemberCheck(ctx, w.conn.ID, id, store.MemberCheck{Status: store.MemberVerified, CheckedAt: time.Now()}))
		}
	}
	return w
}

const ami = "ami-12c6146b" // one of moto's built-in images

// fixture is what populate created, by name.
type fixture map[string]string

// populate creates one resource of each kind the emulator serves in
// region, and back-dated daily metrics for the measured ones.
func populate(t testing.TB, a account, region string, full bool) fixture {
	t.Helper()
	ctx := context.Background()
	cfg := a.cfg(region)
	f := fixture{}
	e := ec2.NewFromConfig(cfg)
	tags := func(kind ec2types.ResourceType, kv ...string) []ec2types.TagSpecification {
		var ts []ec2types.Tag
		for i := 0; i+1 < len(kv); i += 2 {
			ts = append(ts, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return []ec2types.TagSpecification{{ResourceType: kind, Tags: ts}}
	}
	run := must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: tags(ec2types.ResourceTypeInstance, "Name", "web", "env", "prod")}))
	web := aws.ToString(run.Instances[0].InstanceId)
	f["web"] = web
	vol := must(e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(100), VolumeType: ec2types.VolumeTypeGp2,
		TagSpecifications: tags(ec2types.ResourceTypeVolume, "Name", "orphan")}))
	f["orphan-volume"] = aws.ToString(vol.VolumeId)
	if !full {
		return f
	}
	run = must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: tags(ec2types.ResourceTypeInstance, "Name", "batch", "env", "dev")}))
	batch := aws.ToString(run.Instances[0].InstanceId)
	f["batch"] = batch
	must(e.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{batch}}))
	data := must(e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: run.Instances[0].Placement.AvailabilityZone, Size: aws.Int32(50), VolumeType: ec2types.VolumeTypeIo1, Iops: aws.Int32(1000)}))
	must(e.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: data.VolumeId, InstanceId: aws.String(web), Device: aws.String("/dev/sdf")}))
	f["data-volume"] = aws.ToString(data.VolumeId)

	old := must(e.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, Description: aws.String("orphan")}))
	f["orphan-snapshot"] = aws.ToString(old.SnapshotId)
	img := must(e.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(web), Name: aws.String("web-image")}))
	f["image"] = aws.ToString(img.ImageId)
	ltSnap := must(e.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: data.VolumeId, Description: aws.String("template")}))
	f["template-snapshot"] = aws.ToString(ltSnap.SnapshotId)
	lt := must(e.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-" + region),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeT3Micro,
			BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/sdg"),
				Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: ltSnap.SnapshotId}}}}}))
	f["template"] = aws.ToString(lt.LaunchTemplate.LaunchTemplateId)

	idle := must(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	f["idle-eip"] = aws.ToString(idle.AllocationId)
	used := must(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	must(e.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: used.AllocationId, InstanceId: aws.String(web)}))
	f["used-eip"] = aws.ToString(used.AllocationId)

	vpc := must(e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	sub1 := must(e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String(region + "a")}))
	sub2 := must(e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZone: aws.String(region + "b")}))
	natIP := must(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	nat := must(e.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: sub1.Subnet.SubnetId, AllocationId: natIP.AllocationId}))
	f["nat"] = aws.ToString(nat.NatGateway.NatGatewayId)

	v2 := elbv2.NewFromConfig(cfg)
	lb := must(v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web-alb"), Subnets: []string{aws.ToString(sub1.Subnet.SubnetId), aws.ToString(sub2.Subnet.SubnetId)},
		Tags: []elbv2types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	f["alb"] = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg := must(v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web-tg"), Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: vpc.Vpc.VpcId}))
	must(v2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}}))
	must(v2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn, Targets: []elbv2types.TargetDescription{{Id: aws.String(web)}}}))
	must(elb.NewFromConfig(cfg).CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String("legacy"), AvailabilityZones: []string{region + "a"},
		Listeners: []elbtypes.Listener{{Protocol: aws.String("HTTP"), LoadBalancerPort: 80, InstancePort: aws.Int32(80)}}}))
	// An instance behind it: its health is read with DescribeInstanceHealth.
	must(elb.NewFromConfig(cfg).RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{LoadBalancerName: aws.String("legacy"),
		Instances: []elbtypes.Instance{{InstanceId: aws.String(web)}}}))

	must(autoscaling.NewFromConfig(cfg).CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("workers"),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId}, MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
		VPCZoneIdentifier: sub1.Subnet.SubnetId}))

	must(rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin1"), MasterUserPassword: aws.String("Secret-password-1")}))

	role := must(iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn-" + region),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
	must(lambda.NewFromConfig(cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("resize"), Role: role.Role.Arn, Runtime: lambdatypes.RuntimePython312,
		Handler: aws.String("index.handler"), MemorySize: aws.Int32(512), Code: &lambdatypes.FunctionCode{ZipFile: zipped("index.py", "def handler(e, c): return 1\n")}}))

	must(dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("sessions"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}))
	ec := ecs.NewFromConfig(cfg)
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("apps")}))
	td := must(ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("nginx"), Memory: aws.Int32(512)}}}))
	must(ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("apps"), ServiceName: aws.String("api"), DesiredCount: aws.Int32(2),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn}))
	must(elasticache.NewFromConfig(cfg).CreateCacheCluster(ctx, &elasticache.CreateCacheClusterInput{CacheClusterId: aws.String("sessions"),
		CacheNodeType: aws.String("cache.t3.micro"), Engine: aws.String("redis"), NumCacheNodes: aws.Int32(1)}))
	must(redshift.NewFromConfig(cfg).CreateCluster(ctx, &redshift.CreateClusterInput{ClusterIdentifier: aws.String("warehouse"), NodeType: aws.String("ra3.xlplus"),
		NumberOfNodes: aws.Int32(2), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("Secret-password-1"), ClusterType: aws.String("multi-node")}))
	must(opensearch.NewFromConfig(cfg).CreateDomain(ctx, &opensearch.CreateDomainInput{DomainName: aws.String("search"),
		ClusterConfig: &ostypes.ClusterConfig{InstanceType: ostypes.OpenSearchPartitionInstanceTypeR6gLargeSearch, InstanceCount: aws.Int32(2)}}))
	ek := eks.NewFromConfig(cfg)
	must(ek.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("k8s"), RoleArn: role.Role.Arn, Version: aws.String("1.29"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{aws.ToString(sub1.Subnet.SubnetId), aws.ToString(sub2.Subnet.SubnetId)}}}))
	must(ek.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("k8s"), NodegroupName: aws.String("workers"), NodeRole: role.Role.Arn,
		Subnets: []string{aws.ToString(sub1.Subnet.SubnetId)}, InstanceTypes: []string{"m6g.large"}}))

	// Back-dated daily metrics: web busy, the orphan volume and the NAT
	// gateway silent, the ALB with a few requests, the DB with none.
	now := time.Now().UTC().Truncate(24 * time.Hour)
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) })
	put := func(ns, metric, dim, id string, value float64) {
		var data []cwtypes.MetricDatum
		for d := 1; d <= 13; d++ {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String(metric), Value: aws.Float64(value), Timestamp: aws.Time(now.Add(-time.Duration(d)*24*time.Hour + time.Hour)),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(dim), Value: aws.String(id)}}})
		}
		must(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: data}))
	}
	put("AWS/EC2", "CPUUtilization", "InstanceId", web, 42)
	put("AWS/EC2", "NetworkOut", "InstanceId", web, 5e8)
	put("AWS/EBS", "VolumeReadOps", "VolumeId", f["orphan-volume"], 0)
	put("AWS/NATGateway", "BytesOutToDestination", "NatGatewayId", f["nat"], 0)
	put("AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", "orders", 0)
	_, dim, _ := strings.Cut(f["alb"], ":loadbalancer/")
	put("AWS/ApplicationELB", "RequestCount", "LoadBalancer", dim, 12)
	return f
}

// buckets creates a bucket with an abort-incomplete-multipart rule and
// one without any lifecycle, tagged.
func buckets(t testing.TB, a account, prefix string) {
	t.Helper()
	ctx := context.Background()
	c := s3.NewFromConfig(a.cfg("us-east-1"))
	for _, b := range []string{prefix + "-logs", prefix + "-raw"} {
		must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))
	}
	must(c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(prefix + "-logs"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{ID: aws.String("abort"), Status: s3types.ExpirationStatusEnabled,
			Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}}}))
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(prefix + "-raw"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}}))
}

func zipped(name, body string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w := must(z.Create(name))
	must(w.Write([]byte(body)))
	must(0, z.Close())
	return b.Bytes()
}
