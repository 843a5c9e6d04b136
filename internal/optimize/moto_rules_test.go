package optimize_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
)

// TestEveryRuleAgainstMoto: for each rule moto can serve, a pair of
// resources created in the emulated account, one just past the rule's
// default threshold and one just inside it, synced by the real collectors
// through the connection's role; the rule fires on the first only.
//
// ec2-idle, ebs-unattached and eip-unassociated are in
// TestEvaluateAfterSyncAgainstMoto.
func TestEveryRuleAgainstMoto(t *testing.T) {
	ctx := context.Background()
	const acct = "355555555555"
	root, cfg := motoAccount(t, acct)
	e := ec2.NewFromConfig(cfg)
	run := func(typ ec2types.InstanceType, tags ...string) string {
		in := &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: typ, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		if len(tags) == 2 {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String(tags[0]), Value: aws.String(tags[1])}}}}
		}
		return aws.ToString(must(e.RunInstances(ctx, in)).Instances[0].InstanceId)
	}
	cpu := func(id string, max float64) {
		putDaily(t, cfg, "AWS/EC2", "InstanceId", id, "CPUUtilization", max)
	}

	// Rightsizing: m5.2xlarge fits m5.xlarge with 20% headroom while its
	// peak CPU is at most 40%.
	small, big := run(ec2types.InstanceTypeM52xlarge), run(ec2types.InstanceTypeM52xlarge)
	cpu(small, 39)
	cpu(big, 41)
	// Graviton: m5 has m7g 15% cheaper; m7g is Graviton already.
	x86, arm := run(ec2types.InstanceTypeM5Large), run(ec2types.InstanceTypeM7gLarge)
	// Previous generation: m4 vs m5.
	m4 := run(ec2types.InstanceTypeM4Large)
	// Off-hours: a dev-tagged instance vs a production one.
	dev, prod := run(ec2types.InstanceTypeM7gLarge, "Environment", "dev"), run(ec2types.InstanceTypeM7gLarge, "Environment", "production")
	// Stopped: one stopped, one running (the age is checked with a later
	// clock below: moto stamps StateTransitionReason with the present).
	stopped, up := run(ec2types.InstanceTypeM7gLarge), run(ec2types.InstanceTypeM7gLarge)
	must(e.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}))

	// gp2 vs gp3; io1 at exactly half its IOPS (fires) vs just above.
	vol := func(typ ec2types.VolumeType, iops int32) string {
		in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(100), VolumeType: typ}
		if iops > 0 {
			in.Iops = aws.Int32(iops)
		}
		return aws.ToString(must(e.CreateVolume(ctx, in)).VolumeId)
	}
	gp2, gp3 := vol(ec2types.VolumeTypeGp2, 0), vol(ec2types.VolumeTypeGp3, 0)
	ioLow, ioBusy := vol(ec2types.VolumeTypeIo1, 1000), vol(ec2types.VolumeTypeIo1, 1000)
	for id, perSec := range map[string]float64{ioLow: 250, ioBusy: 251} { // reads + writes: 500 vs 502 IOPS of 1000
		putDaily(t, cfg, "AWS/EBS", "VolumeId", id, "VolumeReadOps", perSec*86400)
		putDaily(t, cfg, "AWS/EBS", "VolumeId", id, "VolumeWriteOps", perSec*86400)
	}

	// Snapshots: one of a volume, one behind an AMI of an instance.
	loose := aws.ToString(must(e.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(gp3)})).SnapshotId)
	img := must(e.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(up), Name: aws.String("golden")}))
	imgs := must(e.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}}))
	var amiSnap string
	for _, b := range imgs.Images[0].BlockDeviceMappings {
		if b.Ebs != nil && aws.ToString(b.Ebs.SnapshotId) != "" {
			amiSnap = aws.ToString(b.Ebs.SnapshotId)
		}
	}
	if amiSnap == "" {
		t.Fatalf("moto's AMI has no EBS snapshot: %+v", imgs.Images[0].BlockDeviceMappings)
	}

	// Network: a VPC with two subnets for the load balancers and a NAT gateway.
	vpc := must(e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId
	sub := func(cidr, az string) string {
		return aws.ToString(must(e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})).Subnet.SubnetId)
	}
	subA, subB := sub("10.0.1.0/24", "us-east-1a"), sub("10.0.2.0/24", "us-east-1b")
	nat := func() string {
		eip := must(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
		return aws.ToString(must(e.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subA), AllocationId: eip.AllocationId})).NatGateway.NatGatewayId)
	}
	natIdle, natBusy := nat(), nat()
	for id, half := range map[string]float64{natIdle: 5e5, natBusy: 5.5e5} { // 1 MB a day (idle) vs 1.1 MB
		putDaily(t, cfg, "AWS/NATGateway", "NatGatewayId", id, "BytesOutToDestination", half)
		putDaily(t, cfg, "AWS/NATGateway", "NatGatewayId", id, "BytesInFromDestination", half)
	}

	// Load balancers: one without targets; two with a healthy target, at 99
	// and 100 requests a day.
	lb := elbv2.NewFromConfig(cfg)
	target := run(ec2types.InstanceTypeM7gLarge)
	alb := func(name string, targets bool) (string, string) {
		out := must(lb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: []string{subA, subB}, Type: elbtypes.LoadBalancerTypeEnumApplication}))
		arn := aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
		if targets {
			tg := must(lb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name + "-tg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: vpc, TargetType: elbtypes.TargetTypeEnumInstance}))
			tgARN := tg.TargetGroups[0].TargetGroupArn
			must(lb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(arn), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
				DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}}}))
			must(lb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: []elbtypes.TargetDescription{{Id: aws.String(target), Port: aws.Int32(80)}}}))
		}
		dim := arn[len("arn:aws:elasticloadbalancing:us-east-1:"+acct+":loadbalancer/"):]
		return name, dim
	}
	empty, _ := alb("empty", false)
	quiet, quietDim := alb("quiet", true)
	busyLB, busyDim := alb("busy", true)
	putDaily(t, cfg, "AWS/ApplicationELB", "LoadBalancer", quietDim, "RequestCount", 99)
	putDaily(t, cfg, "AWS/ApplicationELB", "LoadBalancer", busyDim, "RequestCount", 100)

	// RDS: no connection in the window vs one; the idle one at 39% peak
	// CPU fits db.m5.xlarge with 20% headroom, the used one at 41% does not.
	db := rds.NewFromConfig(cfg)
	mkdb := func(id string) string {
		must(db.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.m5.2xlarge"), Engine: aws.String("postgres"),
			AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123")}))
		return id
	}
	dbIdle, dbUsed := mkdb("idle-db"), mkdb("used-db")
	putDaily(t, cfg, "AWS/RDS", "DBInstanceIdentifier", dbIdle, "DatabaseConnections", 0)
	putDaily(t, cfg, "AWS/RDS", "DBInstanceIdentifier", dbUsed, "DatabaseConnections", 1)
	putDaily(t, cfg, "AWS/RDS", "DBInstanceIdentifier", dbIdle, "CPUUtilization", 39)
	putDaily(t, cfg, "AWS/RDS", "DBInstanceIdentifier", dbUsed, "CPUUtilization", 41)

	// S3: a bucket without lifecycle vs one aborting incomplete uploads.
	s := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bare, kept := "cb-moto-bare-"+acct, "cb-moto-kept-"+acct
	for _, b := range []string{bare, kept} {
		must(s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))
	}
	must(s.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(kept), LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
		Rules: []s3types.LifecycleRule{{ID: aws.String("abort"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}}}))

	st, tenant := syncInventory(t, root, acct)
	if _, err := optimize.Evaluate(ctx, st, tenant.ID, optimize.InventoryStore{Store: st}); err != nil {
		t.Fatal(err)
	}
	got := byRule(must(optimize.List(ctx, st, tenant.ID, optimize.Filter{})).Recommendations)

	// Snapshots and stopped instances are judged by age, and moto stamps
	// both with the present (CreateSnapshot's StartTime, StopInstances'
	// StateTransitionReason); neither can be back-dated. The synced
	// inventory is evaluated again with the clock 91 days ahead (the
	// snapshot rule's default is 90 days, the stopped rule's 30).
	res := must(inventory.Resources(ctx, st, tenant.ID, inventory.Filter{}))
	later := byRule(optimize.Run(res, nil, optimize.DefaultSettings(), time.Now().Add(91*24*time.Hour)))
	soon := byRule(optimize.Run(res, nil, optimize.DefaultSettings(), time.Now().Add(29*24*time.Hour)))

	pairs := []struct {
		rule, fires, silent string
		from                map[string]map[string]*optimize.Recommendation
	}{
		{"ec2-rightsize", small, big, got},
		{"ec2-graviton", x86, arm, got},
		{"ec2-previous-generation", m4, x86, got},
		{"off-hours", dev, prod, got},
		{"ebs-gp2-to-gp3", gp2, gp3, got},
		{"ebs-io-low-iops", ioLow, ioBusy, got},
		{"nat-idle", natIdle, natBusy, got},
		{"elb-idle", empty, busyLB, got},
		{"elb-idle", quiet, busyLB, got},
		{"rds-idle", dbIdle, dbUsed, got},
		{"rds-rightsize", dbIdle, dbUsed, got},
		{"s3-abort-multipart", bare, kept, got},
		{"snapshot-old", loose, amiSnap, later},
		{"ec2-stopped", stopped, up, later},
	}
	// A new rule must get its pair here (or in the other moto test).
	covered := map[string]bool{"ec2-idle": true, "ebs-unattached": true, "eip-unassociated": true}
	for _, c := range pairs {
		covered[c.rule] = true
	}
	for _, r := range optimize.RuleNames() {
		if !covered[r] {
			t.Errorf("rule %s has no pair against moto", r)
		}
	}
	for _, c := range pairs {
		if c.from[c.rule][c.fires] == nil {
			t.Errorf("%s did not fire on %s: %v", c.rule, c.fires, keys(c.from[c.rule]))
		}
		if c.from[c.rule][c.silent] != nil {
			t.Errorf("%s fired on %s", c.rule, c.silent)
		}
	}
	for _, r := range []string{"ec2-rightsize", "rds-rightsize", "elb-idle", "ebs-io-low-iops", "rds-idle", "nat-idle"} {
		for id, rec := range got[r] {
			t.Logf("%s %s: %s", r, id, rec.Summary)
		}
	}
	// Just inside the age thresholds: 29 days stopped, a snapshot 29 days old.
	if soon["ec2-stopped"][stopped] != nil || soon["snapshot-old"][loose] != nil {
		t.Errorf("age rules fired before their threshold: %v %v", keys(soon["ec2-stopped"]), keys(soon["snapshot-old"]))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
