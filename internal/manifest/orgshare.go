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
	}
}
