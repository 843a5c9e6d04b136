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
			Why: "Stops an idle tagged DB instance (AWS restarts it after 7 days)."},
	}
}
