package remediation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/crossbill/crossbill/internal/remediation"
)

func TestModifyVolumeGP2ToGP3(t *testing.T) {
	w := newWorld(t, "us-west-1")
	ec := ec2.NewFromConfig(w.aws)
	newVol := func(typ ec2types.VolumeType) string {
		v := must(ec.CreateVolume(w.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-west-1a"), Size: aws.Int32(20), VolumeType: typ,
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: ec2Tags(allowed())}}}))
		return aws.ToString(v.VolumeId)
	}
	gp2, gp3 := newVol(ec2types.VolumeTypeGp2), newVol(ec2types.VolumeTypeGp3)
	arn := func(id string) string { return "arn:aws:ec2:us-west-1:" + account + ":volume/" + id }
	p := w.plan(nil, target(remediation.ModifyVolumeGP3, arn(gp2), nil), target(remediation.ModifyVolumeGP3, arn(gp3), nil))
	if !strings.Contains(p.Items[0].DryRun, "ec2:ModifyVolume: DryRunOperation") || p.Items[1].Status != remediation.ItemSkipped || !strings.Contains(p.Items[1].Reason, "compliant") {
		t.Fatalf("plan: %+v", p.Items)
	}
	w.approveAndRun(p)
	out := must(ec.DescribeVolumes(w.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{gp2}}))
	if out.Volumes[0].VolumeType != ec2types.VolumeTypeGp3 {
		t.Errorf("after run: %s", out.Volumes[0].VolumeType)
	}
}

func TestDeleteOldSnapshot(t *testing.T) {
	w := newWorld(t, "us-west-2")
	ec := ec2.NewFromConfig(w.aws)
	v := must(ec.CreateVolume(w.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-west-2a"), Size: aws.Int32(8)}))
	snap := must(ec.CreateSnapshot(w.ctx, &ec2.CreateSnapshotInput{VolumeId: v.VolumeId,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: ec2Tags(allowed())}}}))
	arn := "arn:aws:ec2:us-west-2::snapshot/" + aws.ToString(snap.SnapshotId)
	// Taken just now: younger than 90 days, the state guard skips it.
	young := w.plan(nil, target(remediation.DeleteSnapshot, arn, nil))
	if young.State != remediation.StateEmpty || !strings.Contains(young.Items[0].Reason, "younger than 90 days") {
		t.Fatalf("young snapshot: %s %+v", young.State, young.Items[0])
	}
	w.env.Now = func() time.Time { return time.Now().Add(100 * 24 * time.Hour) }
	p := w.plan(nil, target(remediation.DeleteSnapshot, arn, nil))
	if !strings.Contains(p.Items[0].DryRun, "ec2:DeleteSnapshot: DryRunOperation") || p.Items[0].UndoNote == "" {
		t.Fatalf("old snapshot: %+v", p.Items[0])
	}
	w.approveAndRun(p)
	if _, err := ec.DescribeSnapshots(w.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(snap.SnapshotId)}}); err == nil {
		t.Error("the snapshot still exists")
	}
}

func TestReleaseElasticIP(t *testing.T) {
	w := newWorld(t, "ca-central-1")
	ec := ec2.NewFromConfig(w.aws)
	eip := must(ec.AllocateAddress(w.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeElasticIp, Tags: ec2Tags(allowed())}}}))
	p := w.plan(nil, target(remediation.ReleaseAddress, "arn:aws:ec2:ca-central-1:"+account+":elastic-ip/"+aws.ToString(eip.AllocationId), nil))
	if !strings.Contains(p.Items[0].DryRun, "ec2:ReleaseAddress: DryRunOperation") || !strings.Contains(p.Items[0].Restore, aws.ToString(eip.PublicIp)) {
		t.Fatalf("plan: %+v", p.Items[0])
	}
	w.approveAndRun(p)
	out := must(ec.DescribeAddresses(w.ctx, &ec2.DescribeAddressesInput{}))
	if len(out.Addresses) != 0 {
		t.Errorf("%d addresses left", len(out.Addresses))
	}
}

func TestDeleteIdleLoadBalancer(t *testing.T) {
	w := newWorld(t, "eu-north-1")
	ec := ec2.NewFromConfig(w.aws)
	vpc := must(ec.CreateVpc(w.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	var subnets []string
	for i, az := range []string{"eu-north-1a", "eu-north-1b"} {
		s := must(ec.CreateSubnet(w.ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String([]string{"10.0.1.0/24", "10.0.2.0/24"}[i]), AvailabilityZone: aws.String(az)}))
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	lbc := elb.NewFromConfig(w.aws)
	newLB := func(name string, protect bool) string {
		out := must(lbc.CreateLoadBalancer(w.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets,
			Tags: []elbtypes.Tag{{Key: aws.String("crossbill-remediation"), Value: aws.String("allowed")}}}))
		arn := aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
		if protect {
			must(lbc.ModifyLoadBalancerAttributes(w.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn),
				Attributes: []elbtypes.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}}))
		}
		return arn
	}
	idle, kept := newLB("idle", false), newLB("kept", true)
	p := w.plan(nil, target(remediation.DeleteLoadBalancer, idle, nil), target(remediation.DeleteLoadBalancer, kept, nil))
	if p.Items[0].Status != remediation.ItemReady || !strings.Contains(p.Items[0].DryRun, "AWS offers no dry run") || !strings.Contains(p.Items[0].Restore, "idle") {
		t.Fatalf("idle: %+v", p.Items[0])
	}
	if p.Items[1].Status != remediation.ItemSkipped || !strings.Contains(p.Items[1].Reason, "deletion protection") {
		t.Fatalf("protected: %+v", p.Items[1])
	}
	w.approveAndRun(p)
	out := must(lbc.DescribeLoadBalancers(w.ctx, &elb.DescribeLoadBalancersInput{}))
	if len(out.LoadBalancers) != 1 || aws.ToString(out.LoadBalancers[0].LoadBalancerArn) != kept {
		t.Errorf("load balancers left: %d", len(out.LoadBalancers))
	}
}

func TestStopDBWithSnapshotUndoAndDeleteDBWithFinalSnapshot(t *testing.T) {
	w := newWorld(t, "ap-south-1")
	rc := rds.NewFromConfig(w.aws)
	newDB := func(name string) string {
		out := must(rc.CreateDBInstance(w.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(name), Engine: aws.String("postgres"),
			DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin1"), MasterUserPassword: aws.String("Secret-password-1"),
			Tags: []rdstypes.Tag{{Key: aws.String("crossbill-remediation"), Value: aws.String("allowed")}}}))
		return aws.ToString(out.DBInstance.DBInstanceArn)
	}
	status := func(name string) string {
		out, err := rc.DescribeDBInstances(w.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(name)})
		if err != nil {
			return "gone"
		}
		return aws.ToString(out.DBInstances[0].DBInstanceStatus)
	}
	idle, old := newDB("idle-db"), newDB("old-db")
	p := w.plan(nil, target(remediation.StopDB, idle, nil), target(remediation.DeleteDB, old, nil))
	for _, it := range p.Items {
		if it.Status != remediation.ItemReady || !strings.Contains(it.DryRun, "AWS offers no dry run") {
			t.Fatalf("plan item: %+v", it)
		}
	}
	done := w.approveAndRun(p)
	if s := status("idle-db"); s != "stopped" {
		t.Errorf("idle-db %s", s)
	}
	if s := status("old-db"); s != "gone" {
		t.Errorf("old-db %s", s)
	}
	snaps := must(rc.DescribeDBSnapshots(w.ctx, &rds.DescribeDBSnapshotsInput{}))
	names := map[string]bool{}
	for _, s := range snaps.DBSnapshots {
		names[aws.ToString(s.DBSnapshotIdentifier)] = true
	}
	for _, it := range done.Items {
		snap := it.Steps[0].Output["snapshot_id"]
		if !names[snap] || !strings.Contains(it.Restore, snap) {
			t.Errorf("%s: snapshot %q not found among %v, restore %q", it.ID, snap, names, it.Restore)
		}
	}
	undone := must(remediation.Undo(w.ctx, w.env, w.tenant, p.ID, w.requester))
	if s := status("idle-db"); s != "available" || undone.Items[0].Status != remediation.ItemUndone || undone.Items[1].Status != remediation.ItemDone {
		t.Errorf("after undo: idle-db %s, items %s %s", s, undone.Items[0].Status, undone.Items[1].Status)
	}
}

func TestS3AbortMultipartRuleKeepsOtherRulesAndUndoes(t *testing.T) {
	w := newWorld(t, "eu-south-1")
	sc := s3.NewFromConfig(w.aws)
	bucket, untagged := "logs-remediation-test", "untagged-remediation-test"
	for _, b := range []string{bucket, untagged} {
		must(sc.CreateBucket(w.ctx, &s3.CreateBucketInput{Bucket: aws.String(b),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint("eu-south-1")}}))
	}
	must(sc.PutBucketTagging(w.ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bucket), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
		{Key: aws.String("crossbill-remediation"), Value: aws.String("allowed")}}}}))
	expire := s3types.LifecycleRule{ID: aws.String("expire-tmp"), Status: s3types.ExpirationStatusEnabled,
		Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")}, Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)}}
	must(sc.PutBucketLifecycleConfiguration(w.ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{expire}}}))

	p := w.plan(nil, inRegion(target(remediation.AbortMultipart, "arn:aws:s3:::"+bucket, map[string]string{"days": "3"}), "eu-south-1"),
		inRegion(target(remediation.AbortMultipart, "arn:aws:s3:::"+untagged, nil), "eu-south-1"))
	if p.Items[0].Status != remediation.ItemReady || !strings.Contains(p.Items[0].Steps[0].Says, "keeping its 1 other rule") {
		t.Fatalf("tagged bucket: %+v", p.Items[0])
	}
	if p.Items[1].Status != remediation.ItemRefused || !strings.Contains(p.Items[1].Fix, "crossbill-remediation=allowed") {
		t.Fatalf("untagged bucket: %+v", p.Items[1])
	}
	w.approveAndRun(p)
	rules := func() map[string]s3types.LifecycleRule {
		out := map[string]s3types.LifecycleRule{}
		lc, err := sc.GetBucketLifecycleConfiguration(w.ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil {
			return out
		}
		for _, r := range lc.Rules {
			out[aws.ToString(r.ID)] = r
		}
		return out
	}
	got := rules()
	abort, ok := got["crossbill-abort-incomplete-multipart"]
	if _, kept := got["expire-tmp"]; !ok || !kept || aws.ToInt32(abort.AbortIncompleteMultipartUpload.DaysAfterInitiation) != 3 {
		t.Fatalf("rules after run: %v", got)
	}
	// Planned again: compliant now.
	if again := w.plan(nil, inRegion(target(remediation.AbortMultipart, "arn:aws:s3:::"+bucket, nil), "eu-south-1")); again.State != remediation.StateEmpty {
		t.Errorf("second plan: %s %+v", again.State, again.Items[0])
	}
	must(remediation.Undo(w.ctx, w.env, w.tenant, p.ID, w.requester))
	got = rules()
	if _, ok := got["crossbill-abort-incomplete-multipart"]; ok || len(got) != 1 {
		t.Errorf("rules after undo: %v", got)
	}
}

func inRegion(t remediation.Target, region string) remediation.Target {
	t.Region = region
	return t
}

// TestMarkLoadBalancerAndDB: mark-for-op tags through ELBv2's and RDS's own
// tagging calls, removed by unmark (the DB once stopped, the load balancer
// once no recommendation names it).
func TestMarkLoadBalancerAndDB(t *testing.T) {
	w := newWorld(t, "eu-west-3")
	ec := ec2.NewFromConfig(w.aws)
	vpc := must(ec.CreateVpc(w.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}))
	var subnets []string
	for i, az := range []string{"eu-west-3a", "eu-west-3b"} {
		s := must(ec.CreateSubnet(w.ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String([]string{"10.1.1.0/24", "10.1.2.0/24"}[i]), AvailabilityZone: aws.String(az)}))
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	lbc := elb.NewFromConfig(w.aws)
	lb := must(lbc.CreateLoadBalancer(w.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("quiet"), Subnets: subnets,
		Tags: []elbtypes.Tag{{Key: aws.String("crossbill-remediation"), Value: aws.String("allowed")}}}))
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	rc := rds.NewFromConfig(w.aws)
	db := must(rc.CreateDBInstance(w.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("quiet-db"), Engine: aws.String("postgres"),
		DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin1"), MasterUserPassword: aws.String("Secret-password-1"),
		Tags: []rdstypes.Tag{{Key: aws.String("crossbill-remediation"), Value: aws.String("allowed")}}}))
	dbARN := aws.ToString(db.DBInstance.DBInstanceArn)
	lbTag := func() string {
		out := must(lbc.DescribeTags(w.ctx, &elb.DescribeTagsInput{ResourceArns: []string{lbARN}}))
		for _, tg := range out.TagDescriptions[0].Tags {
			if aws.ToString(tg.Key) == remediation.MarkTag {
				return aws.ToString(tg.Value)
			}
		}
		return ""
	}
	dbTag := func() string {
		out := must(rc.ListTagsForResource(w.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(dbARN)}))
		for _, tg := range out.TagList {
			if aws.ToString(tg.Key) == remediation.MarkTag {
				return aws.ToString(tg.Value)
			}
		}
		return ""
	}
	res := must(remediation.Mark(w.ctx, w.env, remediation.MarkRequest{Tenant: w.tenant, Days: 3, By: w.requester, Targets: []remediation.Target{
		target(remediation.DeleteLoadBalancer, lbARN, nil), target(remediation.StopDB, dbARN, nil)}}))
	if len(res) != 2 || res[0].Status != remediation.MarkMarked || res[1].Status != remediation.MarkMarked {
		t.Fatalf("mark: %+v", res)
	}
	if !strings.HasPrefix(lbTag(), "delete-load-balancer@") || !strings.HasPrefix(dbTag(), "stop-db@") {
		t.Fatalf("tags: lb %q db %q", lbTag(), dbTag())
	}
	must(rc.StopDBInstance(w.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("quiet-db")}))
	out := must(remediation.Unmark(w.ctx, w.env, w.tenant, "", []remediation.Target{target(remediation.DeleteLoadBalancer, lbARN, nil)}, w.requester))
	if len(out) != 2 || dbTag() != "" || lbTag() == "" {
		t.Fatalf("unmark with the load balancer still recommended: %+v, lb %q db %q", out, lbTag(), dbTag())
	}
	must(remediation.Unmark(w.ctx, w.env, w.tenant, "", []remediation.Target{}, w.requester))
	if lbTag() != "" {
		t.Errorf("load balancer still marked %q", lbTag())
	}
}
