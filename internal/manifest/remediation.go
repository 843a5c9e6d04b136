package manifest

// RemediationTagKey and RemediationTagValue mark the resources a customer
// lets crossbill change. Every remediation write is conditioned on them: a
// resource without the tag cannot be touched, whatever crossbill asks.
const (
	RemediationTagKey   = "crossbill-remediation"
	RemediationTagValue = "allowed"
)

func tagged() map[string]map[string]any {
	return map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + RemediationTagKey: RemediationTagValue}}
}

// markTags limits a tagging grant to resources tagged for remediation and
// to crossbill's own mark-for-op tag: it can write no other tag.
func markTags() map[string]map[string]any {
	c := tagged()
	c["ForAllValues:StringEquals"] = map[string]any{"aws:TagKeys": []string{"crossbill:marked-for-op"}}
	return c
}

func ec2ARN(kind string) string {
	return "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:" + kind + "/*"
}

// remediation: opt-in writes (Octo-style), each limited to resources the
// customer tagged crossbill-remediation=allowed.
func remediationPermissions() []Permission {
	return []Permission{
		{Module: ModuleRemediation, Action: "ec2:DeleteVolume", Level: LevelWrite, Resource: ec2ARN("volume"), Condition: tagged(),
			Why: "Deletes an unattached EBS volume the customer tagged and approved in crossbill."},
		{Module: ModuleRemediation, Action: "ec2:CreateSnapshot", Level: LevelWrite, Resource: ec2ARN("volume"), Condition: tagged(),
			Why: "Snapshots a tagged volume before it is deleted or changed."},
		// The snapshot being created has no tags yet, so its side of
		// CreateSnapshot cannot carry the tag condition.
		{Module: ModuleRemediation, Action: "ec2:CreateSnapshot", Level: LevelWrite, Resource: "arn:${AWS::Partition}:ec2:*::snapshot/*",
			Why: "The new snapshot's side of the same call."},
		{Module: ModuleRemediation, Action: "ec2:CreateTags", Level: LevelTagging, Resource: "arn:${AWS::Partition}:ec2:*::snapshot/*",
			Condition: map[string]map[string]any{"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}},
			Why:       "Tags a snapshot crossbill creates, at creation only, so its origin is visible."},
		{Module: ModuleRemediation, Action: "ec2:DeleteSnapshot", Level: LevelWrite, Resource: "arn:${AWS::Partition}:ec2:*::snapshot/*", Condition: tagged(),
			Why: "Deletes an old snapshot the customer tagged and approved."},
		{Module: ModuleRemediation, Action: "ec2:ModifyVolume", Level: LevelWrite, Resource: ec2ARN("volume"), Condition: tagged(),
			Why: "Changes a tagged volume's type or size (gp2 to gp3, for instance)."},
		{Module: ModuleRemediation, Action: "ec2:StopInstances", Level: LevelWrite, Resource: ec2ARN("instance"), Condition: tagged(),
			Why: "Stops an idle tagged instance, or stops it to change its type."},
		{Module: ModuleRemediation, Action: "ec2:StartInstances", Level: LevelWrite, Resource: ec2ARN("instance"), Condition: tagged(),
			Why: "Starts a tagged instance again after crossbill stopped it to change its type."},
		{Module: ModuleRemediation, Action: "ec2:ModifyInstanceAttribute", Level: LevelWrite, Resource: ec2ARN("instance"), Condition: tagged(),
			Why: "Changes a stopped tagged instance's type (rightsizing)."},
		{Module: ModuleRemediation, Action: "ec2:ReleaseAddress", Level: LevelWrite, Resource: ec2ARN("elastic-ip"), Condition: tagged(),
			Why: "Releases an unassociated tagged Elastic IP."},
		{Module: ModuleRemediation, Action: "rds:StopDBInstance", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*", Condition: tagged(),
			Why: "Stops an idle tagged DB instance (AWS restarts it after 7 days), taking a snapshot as it stops."},
		{Module: ModuleRemediation, Action: "rds:StartDBInstance", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*", Condition: tagged(),
			Why: "Starts a tagged DB instance crossbill stopped, when its remediation is undone."},
		{Module: ModuleRemediation, Action: "rds:DeleteDBInstance", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*", Condition: tagged(),
			Why: "Deletes an unused tagged DB instance, always after a final snapshot (deletion protection is respected)."},
		// StopDBInstance's snapshot and DeleteDBInstance's final snapshot
		// need CreateDBSnapshot on the instance and on the new snapshot.
		{Module: ModuleRemediation, Action: "rds:CreateDBSnapshot", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*", Condition: tagged(),
			Calls: []string{"rds:StopDBInstance", "rds:DeleteDBInstance"},
			Why:   "The snapshot a tagged DB instance gets as crossbill stops it, or before it deletes it (what restores it)."},
		{Module: ModuleRemediation, Action: "rds:CreateDBSnapshot", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:snapshot:crossbill-*",
			Calls:    []string{"rds:StopDBInstance", "rds:DeleteDBInstance"},
			Why:      "The new snapshot's side of the same call, only under crossbill-* names."},
		{Module: ModuleRemediation, Action: "rds:AddTagsToResource", Level: LevelTagging,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*", Condition: markTags(),
			Why: "Marks a tagged DB instance for a later action (crossbill:marked-for-op, with the date), and no other tag."},
		{Module: ModuleRemediation, Action: "rds:RemoveTagsFromResource", Level: LevelTagging,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*", Condition: markTags(),
			Why: "Removes that mark once the DB instance is compliant."},
		{Module: ModuleRemediation, Action: "ec2:CreateTags", Level: LevelTagging, Resource: ec2ARN("instance"),
			ExtraResources: []string{ec2ARN("volume"), ec2ARN("elastic-ip"), "arn:${AWS::Partition}:ec2:*::snapshot/*"}, Condition: markTags(),
			Why: "Marks a tagged instance, volume, snapshot or Elastic IP for a later action (crossbill:marked-for-op, with the date), and no other tag."},
		{Module: ModuleRemediation, Action: "ec2:DeleteTags", Level: LevelTagging, Resource: ec2ARN("instance"),
			ExtraResources: []string{ec2ARN("volume"), ec2ARN("elastic-ip"), "arn:${AWS::Partition}:ec2:*::snapshot/*"}, Condition: markTags(),
			Why: "Removes that mark once the resource is compliant."},
		{Module: ModuleRemediation, Action: "elasticloadbalancing:DeleteLoadBalancer", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:elasticloadbalancing:*:${AWS::AccountId}:loadbalancer/*", Condition: tagged(),
			Why: "Deletes an idle tagged load balancer (deletion protection is respected)."},
		{Module: ModuleRemediation, Action: "elasticloadbalancing:AddTags", Level: LevelTagging,
			Resource: "arn:${AWS::Partition}:elasticloadbalancing:*:${AWS::AccountId}:loadbalancer/*", Condition: markTags(),
			Why: "Marks a tagged load balancer for a later action, and no other tag."},
		{Module: ModuleRemediation, Action: "elasticloadbalancing:RemoveTags", Level: LevelTagging,
			Resource: "arn:${AWS::Partition}:elasticloadbalancing:*:${AWS::AccountId}:loadbalancer/*", Condition: markTags(),
			Why: "Removes that mark once the load balancer is compliant."},
		{Module: ModuleRemediation, Action: "s3:PutLifecycleConfiguration", Level: LevelWrite, Resource: "arn:${AWS::Partition}:s3:::*", Condition: tagged(),
			Calls: []string{"s3:PutBucketLifecycleConfiguration", "s3:DeleteBucketLifecycle"},
			Why:   "Adds a rule that aborts incomplete multipart uploads to a tagged bucket (keeping its other rules), or puts its previous rules back on undo."},
		// Reads: what a plan checks before it proposes anything (state,
		// tags, protection) and what the blast-radius percentage counts.
		// The same describes are in the inventory module; a customer who
		// enables remediation alone needs them too.
		{Module: ModuleRemediation, Action: "ec2:DescribeInstances", Level: LevelList, Resource: "*",
			Why: "Reads an instance's state, type and tags before a plan proposes to stop, start or resize it."},
		{Module: ModuleRemediation, Action: "ec2:DescribeInstanceAttribute", Level: LevelList, Resource: "*",
			Why: "Reads an instance's termination protection, which crossbill respects."},
		{Module: ModuleRemediation, Action: "ec2:DescribeVolumes", Level: LevelList, Resource: "*",
			Why: "Reads a volume's state, type and tags before a plan proposes to snapshot and delete or modify it."},
		{Module: ModuleRemediation, Action: "ec2:DescribeSnapshots", Level: LevelList, Resource: "*",
			Why: "Reads a snapshot's age and tags before deleting it, and finds the snapshot a resumed run already took."},
		{Module: ModuleRemediation, Action: "ec2:DescribeAddresses", Level: LevelList, Resource: "*",
			Why: "Reads whether an Elastic IP is associated before releasing it."},
		{Module: ModuleRemediation, Action: "elasticloadbalancing:DescribeLoadBalancers", Level: LevelList, Resource: "*",
			Why: "Reads a load balancer's state before deleting it."},
		{Module: ModuleRemediation, Action: "elasticloadbalancing:DescribeTags", Level: LevelRead, Resource: "*",
			Why: "Reads a load balancer's tags (the remediation tag, crossbill:protect)."},
		{Module: ModuleRemediation, Action: "elasticloadbalancing:DescribeLoadBalancerAttributes", Level: LevelRead, Resource: "*",
			Why: "Reads a load balancer's deletion protection, which crossbill respects."},
		{Module: ModuleRemediation, Action: "rds:DescribeDBInstances", Level: LevelList,
			Resource: "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*",
			Why:      "Reads a DB instance's status, tags and deletion protection before stopping or deleting it."},
		{Module: ModuleRemediation, Action: "s3:GetBucketTagging", Level: LevelRead, Resource: "arn:${AWS::Partition}:s3:::*",
			Why: "Reads a bucket's tags (the remediation tag, crossbill:protect) before changing its lifecycle."},
		{Module: ModuleRemediation, Action: "s3:GetLifecycleConfiguration", Level: LevelRead, Resource: "arn:${AWS::Partition}:s3:::*",
			Calls: []string{"s3:GetBucketLifecycleConfiguration"},
			Why:   "Reads a bucket's lifecycle rules, to keep them when adding the abort-multipart rule."},
	}
}
