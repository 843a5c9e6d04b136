package orgshare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// SCPName is the name of the sharing SCP in the hub's organization: the
// attach finds it by this name, so running it again creates nothing new.
const SCPName = "crossbill-commitment-sharing"

// SCP step actions, in the order they run.
const (
	StepEnableSCPs = "enable-scp-policy-type"
	StepCreate     = "create-policy"
	StepUpdate     = "update-policy"
	StepAttach     = "attach-policy"
)

// SCPStep is one change the attach makes in the hub's organization.
type SCPStep struct {
	Action string `json:"action"`
	Detail string `json:"detail"`
	Done   bool   `json:"done"`
}

// SCPAttachment is the plan (a dry run) or the outcome of attaching the
// sharing SCP to an enrolled account. No steps: it is in place already.
type SCPAttachment struct {
	Account    crossbill.AccountID `json:"account_id"`
	Handshake  string              `json:"handshake_id"`
	PolicyName string              `json:"policy_name"`
	PolicyID   string              `json:"policy_id,omitempty"`
	Root       string              `json:"root_id"`
	DryRun     bool                `json:"dry_run"`
	Steps      []SCPStep           `json:"steps"`
	Policy     string              `json:"policy"`
}

// AttachSCP puts the sharing SCP on account, an account of the tenant
// that accepted its invitation, with the hub's own credentials (the
// organization's management account). It reads first and plans only what
// is missing: SCPs enabled on the root (EnablePolicyType), the policy
// (found by name: created, or updated when its content differs) and its
// attachment to the account. With apply false it only plans; applied, the
// steps done are one audit line "org.scp.attach".
func AttachSCP(ctx context.Context, st *store.Store, hub aws.Config, tenant crossbill.TenantID, account crossbill.AccountID, apply bool, by store.AuditEntry) (SCPAttachment, error) {
	const op = "org scp attach"
	if !account.Valid() {
		return SCPAttachment{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not a 12-digit AWS account ID", account)
	}
	h, err := enrolled(ctx, st, hub, tenant, account, by, op)
	if err != nil {
		return SCPAttachment{}, err
	}
	content := manifest.CommitmentSharingSCP()
	a := SCPAttachment{Account: account, Handshake: h.ID, PolicyName: SCPName, DryRun: !apply, Steps: []SCPStep{}, Policy: content}
	client := organizations.NewFromConfig(hub)
	fail := func(err error) (SCPAttachment, error) { return a, awsclient.Classify(op, err) }

	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return fail(err)
	}
	if len(roots.Roots) == 0 {
		return a, crossbill.Errorf(crossbill.CodeUnavailable, op, "the hub's credentials see no organization root: run with the management account's credentials")
	}
	root := roots.Roots[0]
	a.Root = aws.ToString(root.Id)
	enabled := false
	for _, pt := range root.PolicyTypes {
		// Being enabled counts: enabling again would be refused.
		if pt.Type == orgtypes.PolicyTypeServiceControlPolicy && (pt.Status == orgtypes.PolicyTypeStatusEnabled || pt.Status == orgtypes.PolicyTypeStatusPendingEnable) {
			enabled = true
		}
	}
	if !enabled {
		a.Steps = append(a.Steps, SCPStep{Action: StepEnableSCPs, Detail: "enable service control policies on root " + a.Root})
	}

	var found *orgtypes.PolicySummary
	pages := organizations.NewListPoliciesPaginator(client, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy})
	for pages.HasMorePages() && found == nil {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fail(err)
		}
		for i := range page.Policies {
			if aws.ToString(page.Policies[i].Name) == SCPName {
				found = &page.Policies[i]
				break
			}
		}
	}
	attached := false
	if found == nil {
		a.Steps = append(a.Steps, SCPStep{Action: StepCreate, Detail: "create the SCP " + SCPName})
	} else {
		a.PolicyID = aws.ToString(found.Id)
		d, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: found.Id})
		if err != nil {
			return fail(err)
		}
		if d.Policy == nil || !sameJSON(aws.ToString(d.Policy.Content), content) {
			a.Steps = append(a.Steps, SCPStep{Action: StepUpdate, Detail: fmt.Sprintf("update %s (%s): its content differs from crossbill's", SCPName, a.PolicyID)})
		}
		targets := organizations.NewListPoliciesForTargetPaginator(client, &organizations.ListPoliciesForTargetInput{
			TargetId: aws.String(string(account)), Filter: orgtypes.PolicyTypeServiceControlPolicy})
		for targets.HasMorePages() && !attached {
			page, err := targets.NextPage(ctx)
			if err != nil {
				return fail(err)
			}
			for _, p := range page.Policies {
				attached = attached || aws.ToString(p.Id) == a.PolicyID
			}
		}
	}
	if !attached {
		a.Steps = append(a.Steps, SCPStep{Action: StepAttach, Detail: fmt.Sprintf("attach %s to account %s", SCPName, account)})
	}
	if !apply || len(a.Steps) == 0 {
		return a, nil
	}

	for i := range a.Steps {
		s := &a.Steps[i]
		switch s.Action {
		case StepEnableSCPs:
			_, err = client.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: root.Id, PolicyType: orgtypes.PolicyTypeServiceControlPolicy})
		case StepCreate:
			var out *organizations.CreatePolicyOutput
			out, err = client.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(SCPName), Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(content),
				Description: aws.String("crossbill commitment sharing: enrolled accounts leave only through the " + manifest.OffboardingRoleName + " role, after notice")})
			if err == nil && out.Policy != nil && out.Policy.PolicySummary != nil {
				a.PolicyID = aws.ToString(out.Policy.PolicySummary.Id)
			}
		case StepUpdate:
			_, err = client.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(a.PolicyID), Content: aws.String(content)})
		case StepAttach:
			_, err = client.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(a.PolicyID), TargetId: aws.String(string(account))})
		}
		if err != nil {
			// What was done stays done and on the audit chain; running
			// again plans only the rest.
			_ = audit(ctx, st, tenant, a, by)
			return fail(err)
		}
		s.Done = true
	}
	return a, audit(ctx, st, tenant, a, by)
}

func audit(ctx context.Context, st *store.Store, tenant crossbill.TenantID, a SCPAttachment, by store.AuditEntry) error {
	var done []SCPStep
	for _, s := range a.Steps {
		if s.Done {
			done = append(done, s)
		}
	}
	if len(done) == 0 {
		return nil
	}
	by.Action, by.TenantID, by.Subject = "org.scp.attach", tenant, string(a.Account)
	return st.AppendAudit(ctx, by, map[string]any{"policy": a.PolicyName, "policy_id": a.PolicyID, "root": a.Root, "handshake": a.Handshake, "steps": done})
}

// enrolled is the tenant's accepted invitation of account.
// Open invitations are read from AWS first: the customer accepts in their
// account, crossbill learns it by asking.
func enrolled(ctx context.Context, st *store.Store, hub aws.Config, tenant crossbill.TenantID, account crossbill.AccountID, by store.AuditEntry, op string) (store.OrgHandshake, error) {
	invs, err := Handshakes(ctx, st, hub, tenant, by)
	if err != nil {
		return store.OrgHandshake{}, err
	}
	hs := make([]store.OrgHandshake, len(invs))
	for i := range invs {
		hs[i] = invs[i].OrgHandshake
	}
	var last *store.OrgHandshake
	for i := range hs {
		if hs[i].AccountID != account {
			continue
		}
		if hs[i].State == Accepted {
			return hs[i], nil
		}
		if last == nil {
			last = &hs[i]
		}
	}
	if last == nil {
		return store.OrgHandshake{}, crossbill.Errorf(crossbill.CodeNotFound, op, "account %s was not invited by this tenant: `crossbill org invite %s` first", account, account)
	}
	return store.OrgHandshake{}, crossbill.Errorf(crossbill.CodeConflict, op, "account %s has not joined: its invitation %s is %s ; the SCP is attached once the customer accepts", account, last.ID, last.State)
}

// sameJSON compares two policy documents ignoring formatting.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(bx, by)
}

// DescribeSCP renders an attachment's plan or outcome for people.
func DescribeSCP(a SCPAttachment) string {
	var b strings.Builder
	verb := "applied"
	if a.DryRun {
		verb = "planned (dry run: nothing changed)"
	}
	fmt.Fprintf(&b, "SCP %s on account %s (root %s): ", a.PolicyName, a.Account, a.Root)
	if len(a.Steps) == 0 {
		b.WriteString("in place, nothing to do\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%d step(s) %s\n", len(a.Steps), verb)
	for _, s := range a.Steps {
		mark := "-"
		if s.Done {
			mark = "done"
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, s.Detail)
	}
	if a.DryRun {
		b.WriteString("Apply with --dry-run=false (API: dry_run=false).\n")
	}
	return b.String()
}
