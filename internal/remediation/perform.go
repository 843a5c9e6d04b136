package remediation

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// waitMax bounds each wait for an instance to stop.
var waitMax = 10 * time.Minute

// stepRef names a step for the AWS side: the tag that finds what it made.
func stepRef(planID string, item int) string { return planID + "/" + strconv.Itoa(item) }

// snapshotName is the RDS snapshot an item's stop or delete takes.
func snapshotName(planID string, item int) string {
	return strings.ReplaceAll("crossbill-"+planID+"-"+strconv.Itoa(item), "_", "-")
}

// dryRun asks AWS whether item's EC2 steps would be allowed (DryRun), or
// says what was checked instead where AWS offers no dry run. ok is false
// when AWS refused.
func dryRun(ctx context.Context, c *clients, planID string, it Item) (string, bool) {
	var out []string
	for _, s := range it.Steps {
		if !strings.HasPrefix(s.Op, "ec2:") {
			out = append(out, fmt.Sprintf("%s: AWS offers no dry run; crossbill checked its state (%s), tags and protection", s.Op, it.State))
			continue
		}
		_, err := perform(ctx, c, planID, it, s, nil, true)
		switch code := apiCode(err); {
		case code == "DryRunOperation":
			out = append(out, s.Op+": DryRunOperation (AWS would allow it)")
		case code == "UnauthorizedOperation" || code == "AccessDenied":
			return s.Op + ": " + code + ": the role may not do this (is the remediation module deployed, and the resource tagged?)", false
		case err != nil:
			return s.Op + ": " + err.Error(), false
		default:
			out = append(out, s.Op+": AWS answered without DryRunOperation")
		}
	}
	return strings.Join(out, "; "), true
}

// perform makes step s of item it. prior are the outputs of the item's
// steps already done (a later step reads what an earlier one made). With
// dry it sets DryRun and returns AWS's answer as the error.
func perform(ctx context.Context, c *clients, planID string, it Item, s Step, prior map[string]string, dry bool) (map[string]string, error) {
	id := it.ID
	var dr *bool
	if dry {
		dr = aws.Bool(true)
	}
	out := map[string]string{}
	switch s.Op {
	case "ec2:StopInstances":
		if _, err := c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, DryRun: dr}); err != nil {
			return nil, err
		}
		if err := ec2.NewInstanceStoppedWaiter(c.ec2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay = time.Second }).
			Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, waitMax); err != nil {
			return nil, fmt.Errorf("waiting for %s to stop: %w", id, err)
		}
		out["state"] = "stopped"
	case "ec2:StartInstances":
		if _, err := c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}, DryRun: dr}); err != nil {
			return nil, err
		}
		out["state"] = "pending"
	case "ec2:ModifyInstanceAttribute":
		if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DryRun: dr,
			InstanceType: &ec2types.AttributeValue{Value: aws.String(s.Args["instance_type"])}}); err != nil {
			return nil, err
		}
		out["instance_type"], out["previous_instance_type"] = s.Args["instance_type"], s.Args["from"]
	case "ec2:CreateSnapshot":
		ref := stepRef(planID, it.Index)
		if !dry {
			// A run killed after CreateSnapshot answered but before the step
			// was recorded finds its snapshot by tag instead of taking two.
			found, err := c.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
				Filters: []ec2types.Filter{{Name: aws.String("tag:" + PlanTag), Values: []string{ref}}}})
			if err != nil {
				return nil, err
			}
			if len(found.Snapshots) > 0 {
				out["snapshot_id"] = aws.ToString(found.Snapshots[0].SnapshotId)
				return out, nil
			}
		}
		snap, err := c.ec2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(id), DryRun: dr,
			Description: aws.String("crossbill remediation " + ref + ": taken before deleting " + id),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
				Tags: []ec2types.Tag{{Key: aws.String(PlanTag), Value: aws.String(ref)}}}}})
		if err != nil {
			return nil, err
		}
		out["snapshot_id"] = aws.ToString(snap.SnapshotId)
	case "ec2:DeleteVolume":
		_, err := c.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id), DryRun: dr})
		if err != nil && !(apiCode(err) == "InvalidVolume.NotFound" && !dry) {
			return nil, err
		}
		out["restore"] = "aws ec2 create-volume --snapshot-id " + prior["snapshot_id"]
	case "ec2:ModifyVolume":
		if _, err := c.ec2.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(id), DryRun: dr, VolumeType: ec2types.VolumeType(s.Args["volume_type"])}); err != nil {
			return nil, err
		}
		out["volume_type"] = s.Args["volume_type"]
	case "ec2:DeleteSnapshot":
		_, err := c.ec2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id), DryRun: dr})
		if err != nil && !(apiCode(err) == "InvalidSnapshot.NotFound" && !dry) {
			return nil, err
		}
	case "ec2:ReleaseAddress":
		_, err := c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(id), DryRun: dr})
		if err != nil && !(apiCode(err) == "InvalidAllocationID.NotFound" && !dry) {
			return nil, err
		}
	case "elasticloadbalancing:DeleteLoadBalancer":
		if _, err := c.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(id)}); err != nil && apiCode(err) != "LoadBalancerNotFound" {
			return nil, err
		}
	case "rds:StopDBInstance":
		snap := snapshotName(planID, it.Index)
		_, err := c.rds.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String(id), DBSnapshotIdentifier: aws.String(snap)})
		if err != nil && !(apiCode(err) == "InvalidDBInstanceState" && dbStopped(ctx, c, id)) {
			return nil, err
		}
		out["snapshot_id"], out["restore"] = snap, "aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier "+snap
	case "rds:StartDBInstance":
		if _, err := c.rds.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String(id)}); err != nil {
			return nil, err
		}
	case "rds:DeleteDBInstance":
		snap := snapshotName(planID, it.Index)
		_, err := c.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), FinalDBSnapshotIdentifier: aws.String(snap)})
		if err != nil && apiCode(err) != "DBInstanceNotFound" {
			return nil, err
		}
		out["snapshot_id"], out["restore"] = snap, "aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier "+snap
	case "s3:PutLifecycleConfiguration":
		return putLifecycle(ctx, c, id, s, prior)
	default:
		return nil, fmt.Errorf("unknown step %s", s.Op)
	}
	return out, nil
}

func dbStopped(ctx context.Context, c *clients, id string) bool {
	out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil || len(out.DBInstances) == 0 {
		return false
	}
	s := aws.ToString(out.DBInstances[0].DBInstanceStatus)
	return s == "stopped" || s == "stopping"
}

// putLifecycle adds the abort-multipart rule to the bucket's rules (read
// now, so a rule added since the plan is kept), or with restore=previous
// puts back the rules the adding step recorded.
func putLifecycle(ctx context.Context, c *clients, bucket string, s Step, prior map[string]string) (map[string]string, error) {
	if s.Args["restore"] == "previous" {
		var rules []s3types.LifecycleRule
		if err := json.Unmarshal([]byte(prior["previous_rules"]), &rules); err != nil {
			return nil, fmt.Errorf("the step that added the rule recorded no previous rules: %w", err)
		}
		if len(rules) == 0 {
			// DeleteBucketLifecycle needs s3:PutLifecycleConfiguration.
			_, err := c.s3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
			return map[string]string{"rules": "0"}, err
		}
		_, err := c.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}})
		return map[string]string{"rules": strconv.Itoa(len(rules))}, err
	}
	var rules []s3types.LifecycleRule
	lc, err := c.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	switch {
	case apiCode(err) == "NoSuchLifecycleConfiguration":
	case err != nil:
		return nil, err
	default:
		rules = lc.Rules
	}
	var previous []s3types.LifecycleRule
	for _, r := range rules {
		if aws.ToString(r.ID) != abortMultipartRuleID {
			previous = append(previous, r)
		}
	}
	prev, err := json.Marshal(previous)
	if err != nil {
		return nil, err
	}
	days, _ := strconv.Atoi(s.Args["days"])
	next := append(append([]s3types.LifecycleRule{}, previous...), s3types.LifecycleRule{
		ID: aws.String(abortMultipartRuleID), Status: s3types.ExpirationStatusEnabled,
		Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
		AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(days))},
	})
	if _, err := c.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: next}}); err != nil {
		return nil, err
	}
	return map[string]string{"previous_rules": string(prev), "rule_id": abortMultipartRuleID}, nil
}

// ruleCoversBucket: a rule with no filter, or an empty prefix and nothing
// else, applies to every object.
func ruleCoversBucket(r s3types.LifecycleRule) bool {
	if r.Filter == nil {
		// The rule's top-level Prefix is deprecated but still what older
		// rules carry; read it as AWS does.
		return aws.ToString(r.Prefix) == "" //lint:ignore SA1019 older rules still set it
	}
	return r.Filter.And == nil && r.Filter.Tag == nil && aws.ToString(r.Filter.Prefix) == "" &&
		r.Filter.ObjectSizeGreaterThan == nil && r.Filter.ObjectSizeLessThan == nil
}
