package manifest

import "fmt"

// Probe is one cheap, read-only call that shows whether a module's policy is
// in place. The verifier makes the call with the connection's credentials:
// success, or one of AllowedErrors, proves the permission.
type Probe struct {
	Module Module
	// Call is the SDK operation, "<iam prefix>:<Operation>"; ActionForCall
	// knows it.
	Call string
	// Input says in words what to send; the verifier builds it.
	Input string
	// AllowedErrors are AWS error codes that still prove the permission:
	// the request was authorized and then failed for another reason.
	AllowedErrors []string
	// Paid probes cost the customer money (Cost Explorer); the verifier
	// runs them only when asked to (--include-paid).
	Paid bool
	// Skip, when set, says why the module has no safe probe; Call is empty
	// and the verifier reports the module as not probed.
	Skip string
	Why  string
}

// Probes returns the probes of the given modules, free ones first within a
// module, in ValidModules order.
func Probes(mods ...Module) []Probe {
	want := map[Module]bool{}
	for _, m := range mods {
		want[m] = true
	}
	pend := pendingIndex()
	var out []Probe
	for _, p := range allProbes() {
		if !want[p.Module] {
			continue
		}
		// The templates do not grant a pending action: probing it would
		// only ever fail.
		if q, ok := ActionForCall(p.Call); ok && p.Call != "" {
			if pa, isPending := pend[moduleAction{p.Module, q.Action}]; isPending {
				p = Probe{Module: p.Module, Skip: fmt.Sprintf("%s is not granted until %s (%s) lands", q.Action, pa.Issue, pa.Feature), Why: p.Why}
			}
		}
		out = append(out, p)
	}
	return out
}

func allProbes() []Probe {
	return []Probe{
		{Module: ModuleCost, Call: "pricing:DescribeServices", Input: "ServiceCode=AmazonEC2, MaxResults=1 (us-east-1 endpoint)",
			Why: "The Price List API is free; it proves the cost policy is attached."},
		{Module: ModuleCost, Call: "ce:GetCostAndUsage", Input: "yesterday to today, DAILY, metric UnblendedCost", Paid: true,
			Why: "Proves Cost Explorer access; costs $0.01, so it runs only with --include-paid."},
		{Module: ModuleCUR, Call: "bcm-data-exports:ListExports", Input: "MaxResults=1 (us-east-1 endpoint)",
			Why: "Proves the CUR stack's policy is attached to the role."},
		{Module: ModuleCommitments, Call: "ec2:DescribeReservedInstances", Input: "no filters",
			Why: "Free read of EC2 reservations."},
		{Module: ModuleInventory, Call: "ec2:DescribeVolumes", Input: "MaxResults=5",
			Why: "Free read of EBS volumes."},
		{Module: ModuleOrg, Call: "organizations:DescribeOrganization", Input: "none",
			AllowedErrors: []string{"AWSOrganizationsNotInUseException"},
			Why:           "Free; an account outside any organization still proves the permission."},
		{Module: ModuleAccessRead, Call: "iam:ListRoles", Input: "MaxItems=1",
			Why: "Free read of IAM roles."},
		{Module: ModuleAccessJIT, Call: "sso:DescribeAccountAssignmentCreationStatus",
			Input:         "InstanceArn=arn:PARTITION:sso:::instance/ssoins-0000000000000000, AccountAssignmentCreationRequestId=00000000-0000-0000-0000-000000000000",
			AllowedErrors: []string{"ResourceNotFoundException", "ValidationException"},
			Why:           "A status read on a made-up request: 'not found' proves the call was authorized. Writes are never probed."},
		{Module: ModuleCommitmentsPurchase, Call: "ec2:DescribeReservedInstancesOfferings", Input: "InstanceType=t3.micro, MaxResults=5",
			Why: "Free read of the offerings purchase plans buy; purchases themselves are never probed."},
		{Module: ModuleRemediation, Skip: "every remediation write is limited to resources tagged crossbill-remediation=allowed, so no call on a made-up resource can prove it; crossbill reports a missing permission at the first remediation instead",
			Why: "Writes are never probed."},
	}
}

// AthenaProbes are the probes of the cur module's Athena option, run only
// for a connection whose tenant's cost queries run in Athena through it:
// the option's policy (CURAthena) is granted only when the CUR stack has
// EnableAthena=true.
func AthenaProbes() []Probe {
	return []Probe{{Module: ModuleCUR, Call: "glue:GetTable", Input: "DatabaseName=" + AthenaDatabase + ", Name=" + AthenaTable + " (us-east-1)",
		Why: "Free; proves the CUR stack's Athena option: its Glue table exists and the role may read it."}}
}
