package manifest

// OffboardingRoleName is the role a member account of a commitment-sharing
// organization leaves it with, once the notice period agreed with the hub
// has passed: the sharing SCP denies LeaveOrganization to everyone else.
const OffboardingRoleName = "crossbill-offboarding"

// CommitmentSharingSCP is the service control policy the hub attaches to
// the OU of the accounts enrolled in its commitment-sharing organization:
// an account cannot leave without notice (the hub's commitments are sized
// on its usage), except through the offboarding role; it restricts
// nothing else. FullAWSAccess stays attached beside it.
func CommitmentSharingSCP() string {
	return `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "LeaveOnlyAfterNotice",
      "Effect": "Deny",
      "Action": "organizations:LeaveOrganization",
      "Resource": "*",
      "Condition": {
        "ArnNotLike": {
          "aws:PrincipalArn": "arn:aws:iam::*:role/` + OffboardingRoleName + `"
        }
      }
    }
  ]
}
`
}

// hubOrgPermissions are the hub's own calls as management account of a
// commitment-sharing organization (the hub's account, not a customer's).
func hubOrgPermissions() []Permission {
	return []Permission{
		{Module: ModuleHub, Action: "organizations:InviteAccountToOrganization", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:organizations::*:account/o-*/*",
			Why:      "Commitment sharing: invites a customer's account into the hub's organization; the customer accepts or declines."},
		{Module: ModuleHub, Action: "organizations:DescribeHandshake", Level: LevelRead,
			Resource: "arn:${AWS::Partition}:organizations::*:handshake/o-*/*/h-*",
			Why:      "Commitment sharing: tracks an invitation (open, accepted, declined, expired)."},
		{Module: ModuleHub, Action: "organizations:CancelHandshake", Level: LevelWrite,
			Resource: "arn:${AWS::Partition}:organizations::*:handshake/o-*/*/h-*",
			Why:      "Commitment sharing: withdraws an open invitation (`crossbill org cancel`)."},
		{Module: ModuleHub, Action: "organizations:ListRoots", Level: LevelList, Resource: "*",
			Why: "Commitment sharing: finds the hub organization's root, to see whether service control policies are enabled on it."},
		{Module: ModuleHub, Action: "organizations:EnablePolicyType", Level: LevelWrite, Resource: "arn:${AWS::Partition}:organizations::*:root/o-*/r-*",
			Why: "Commitment sharing: enables service control policies on the hub organization's root, once, before the sharing SCP is attached."},
		{Module: ModuleHub, Action: "organizations:ListPolicies", Level: LevelList, Resource: "*",
			Why: "Commitment sharing: finds the sharing SCP by name, so attaching again creates no second policy."},
		{Module: ModuleHub, Action: "organizations:DescribePolicy", Level: LevelRead, Resource: "arn:${AWS::Partition}:organizations::*:policy/o-*/service_control_policy/p-*",
			Why: "Commitment sharing: compares the sharing SCP's content with crossbill's, to update it only when it differs."},
		{Module: ModuleHub, Action: "organizations:CreatePolicy", Level: LevelWrite, Resource: "arn:${AWS::Partition}:organizations::*:policy/o-*/service_control_policy/p-*",
			Why: "Commitment sharing: creates the sharing SCP (enrolled accounts leave only through the offboarding role) when the hub's organization lacks it."},
		{Module: ModuleHub, Action: "organizations:UpdatePolicy", Level: LevelPermissions, Resource: "arn:${AWS::Partition}:organizations::*:policy/o-*/service_control_policy/p-*",
			Why: "Commitment sharing: brings the sharing SCP back to crossbill's content when it differs."},
		{Module: ModuleHub, Action: "organizations:ListPoliciesForTarget", Level: LevelList, Resource: "*",
			Why: "Commitment sharing: sees whether the sharing SCP is attached to an enrolled account already."},
		{Module: ModuleHub, Action: "organizations:AttachPolicy", Level: LevelPermissions,
			Resource:       "arn:${AWS::Partition}:organizations::*:policy/o-*/service_control_policy/p-*",
			ExtraResources: []string{"arn:${AWS::Partition}:organizations::*:account/o-*/*"},
			Why:            "Commitment sharing: attaches the sharing SCP to an account that accepted the hub's invitation (`crossbill org scp attach`)."},
	}
}
