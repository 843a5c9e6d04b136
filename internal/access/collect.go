package access

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
)

// DefaultConcurrency is how many accounts are read at once; within an
// account, per-user and per-permission-set calls run userConcurrency at
// once. IAM's request quota is per account, so spreading over accounts is
// what scales; the factory's adaptive retryer absorbs throttling.
const (
	DefaultConcurrency = 8
	userConcurrency    = 4
)

// source is one account to read and the role that reads it.
type source struct {
	account crossbill.AccountID
	name    string
	target  awsclient.Target
}

// collector reads one snapshot.
type collector struct {
	opts    CollectOptions
	mu      sync.Mutex // guards errs
	errs    []CollectError
	advisor Advisor
}

// CollectOptions tunes a collection.
type CollectOptions struct {
	AWS *awsclient.Factory
	// Region is where Identity Center lives (its home region); IAM and
	// Organizations are global and use the partition's main region.
	Region      string
	Concurrency int
	// Advisor reads Access Advisor; nil means IAM's own (IAMAdvisor).
	Advisor Advisor
	// APIOptions are added to every client (tests stub what the emulator
	// does not serve).
	APIOptions []func(*middleware.Stack) error
	// CredentialReportWait bounds the wait for IAM to build the credential
	// report; 0 means 30 s.
	CredentialReportWait time.Duration
	Progress             func(string, ...any)
}

func (c *collector) config(t awsclient.Target, region string) aws.Config {
	cfg := c.opts.AWS.Config(t, region)
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), c.opts.APIOptions...)
	return cfg
}

// fail records a partial failure; the sync goes on without that part.
func (c *collector) fail(account crossbill.AccountID, service, operation string, err error) {
	d := awsclient.Diagnose(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, CollectError{Account: account, Service: service, Operation: operation, Class: string(d.Class), Message: d.Message, Fix: d.Fix})
}

// collect reads every source into a snapshot; mgmt (when not nil) also
// reads the organization's policies and Identity Center.
func collect(ctx context.Context, sources []source, mgmt *source, orgModule bool, opts CollectOptions) Snapshot {
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.CredentialReportWait == 0 {
		opts.CredentialReportWait = 30 * time.Second
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	c := &collector{opts: opts, advisor: opts.Advisor}
	if c.advisor == nil {
		c.advisor = IAMAdvisor{}
	}
	snap := Snapshot{Accounts: make([]Account, len(sources))}
	var wg sync.WaitGroup
	sem := make(chan struct{}, opts.Concurrency)
	for i, s := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			snap.Accounts[i] = c.account(ctx, s)
			opts.Progress("account %s: %d users, %d groups, %d roles, %d policies", s.account,
				len(snap.Accounts[i].Users), len(snap.Accounts[i].Groups), len(snap.Accounts[i].Roles), len(snap.Accounts[i].Policies))
		}()
	}
	if mgmt != nil {
		if orgModule {
			ancestors, policies := c.organization(ctx, *mgmt)
			snap.OrgPolicies = policies
			wg.Wait()
			for i := range snap.Accounts {
				snap.Accounts[i].Ancestors = ancestors[snap.Accounts[i].ID]
			}
		}
		var ids []crossbill.AccountID
		for _, s := range sources {
			ids = append(ids, s.account)
		}
		snap.IdentityCenter = c.identityCenter(ctx, *mgmt, ids)
	}
	wg.Wait()
	snap.Errors = c.errs
	slices.SortFunc(snap.Errors, func(a, b CollectError) int {
		return strings.Compare(string(a.Account)+a.Service+a.Operation, string(b.Account)+b.Service+b.Operation)
	})
	return snap
}

// account reads one account's IAM.
func (c *collector) account(ctx context.Context, s source) Account {
	a := Account{ID: s.account, Name: s.name}
	client := iam.NewFromConfig(c.config(s.target, c.opts.Region))
	pages := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			c.fail(s.account, "iam", "GetAccountAuthorizationDetails", err)
			return a
		}
		addAuthorizationDetails(&a, page)
	}
	// Unattached AWS managed policies are AWS's catalogue, not the
	// account's: keep those attached here (permission sets add theirs).
	a.Policies = slices.DeleteFunc(a.Policies, func(p ManagedPolicy) bool { return p.AWSManaged && p.Attached == 0 })

	var wg sync.WaitGroup
	sem := make(chan struct{}, userConcurrency)
	for i := range a.Users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c.credentials(ctx, client, s.account, &a.Users[i])
		}()
	}
	wg.Wait()
	c.credentialReport(ctx, client, &a)
	a.Advisor = c.advise(ctx, s, &a)
	return a
}

// credentials reads a user's access keys, MFA devices and console password.
func (c *collector) credentials(ctx context.Context, client *iam.Client, account crossbill.AccountID, u *User) {
	keys := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: aws.String(u.Name)})
	for keys.HasMorePages() {
		page, err := keys.NextPage(ctx)
		if err != nil {
			c.fail(account, "iam", "ListAccessKeys", err)
			break
		}
		for _, k := range page.AccessKeyMetadata {
			key := AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreateDate: aws.ToTime(k.CreateDate)}
			last, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
			if err != nil {
				c.fail(account, "iam", "GetAccessKeyLastUsed", err)
			} else if l := last.AccessKeyLastUsed; l != nil && l.LastUsedDate != nil && !l.LastUsedDate.IsZero() {
				key.LastUsed, key.LastUsedService = l.LastUsedDate, aws.ToString(l.ServiceName)
			}
			u.AccessKeys = append(u.AccessKeys, key)
		}
	}
	mfa := iam.NewListMFADevicesPaginator(client, &iam.ListMFADevicesInput{UserName: aws.String(u.Name)})
	for mfa.HasMorePages() {
		page, err := mfa.NextPage(ctx)
		if err != nil {
			c.fail(account, "iam", "ListMFADevices", err)
			break
		}
		u.MFADevices += len(page.MFADevices)
	}
	_, err := client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(u.Name)})
	var none *iamtypes.NoSuchEntityException
	switch {
	case err == nil:
		u.LoginProfile = true
	case errors.As(err, &none):
	default:
		c.fail(account, "iam", "GetLoginProfile", err)
	}
}

// credentialReport adds when each user's password was last used: the one
// fact only the credential report gives for every user at once.
func (c *collector) credentialReport(ctx context.Context, client *iam.Client, a *Account) {
	if len(a.Users) == 0 {
		return
	}
	deadline := time.Now().Add(c.opts.CredentialReportWait)
	var report []byte
	for {
		gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			c.fail(a.ID, "iam", "GenerateCredentialReport", err)
			return
		}
		if gen.State == iamtypes.ReportStateTypeComplete {
			out, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			if err != nil {
				c.fail(a.ID, "iam", "GetCredentialReport", err)
				return
			}
			report = out.Content
			break
		}
		if time.Now().After(deadline) {
			c.fail(a.ID, "iam", "GenerateCredentialReport", fmt.Errorf("the credential report was not ready after %s", c.opts.CredentialReportWait))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	used, err := passwordLastUsed(report)
	if err != nil {
		c.fail(a.ID, "iam", "GetCredentialReport", err)
		return
	}
	for i := range a.Users {
		if t, ok := used[a.Users[i].Name]; ok {
			a.Users[i].PasswordLastUsed = &t
		}
	}
}

// passwordLastUsed reads the credential report's password_last_used
// column (a time, or "N/A", "no_information", "not_supported").
func passwordLastUsed(report []byte) (map[string]time.Time, error) {
	rows, err := csv.NewReader(strings.NewReader(string(report))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("credential report is not CSV: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	user, col := slices.Index(rows[0], "user"), slices.Index(rows[0], "password_last_used")
	if user < 0 || col < 0 {
		return nil, fmt.Errorf("credential report lacks the user or password_last_used column")
	}
	out := map[string]time.Time{}
	for _, r := range rows[1:] {
		if len(r) <= max(user, col) {
			continue
		}
		if t, err := time.Parse(time.RFC3339, r[col]); err == nil {
			out[r[user]] = t
		}
	}
	return out, nil
}

// advise reads Access Advisor for every user and role.
func (c *collector) advise(ctx context.Context, s source, a *Account) map[string][]ServiceAccess {
	var arns []string
	for _, u := range a.Users {
		arns = append(arns, u.ARN)
	}
	for _, r := range a.Roles {
		if !serviceLinked(r) {
			arns = append(arns, r.ARN)
		}
	}
	if len(arns) == 0 {
		return nil
	}
	out := map[string][]ServiceAccess{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, userConcurrency)
	cfg := c.config(s.target, c.opts.Region)
	for _, arn := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			svcs, err := c.advisor.LastAccessed(ctx, cfg, arn)
			if err != nil {
				c.fail(s.account, "iam", "GetServiceLastAccessedDetails", err)
				return
			}
			mu.Lock()
			out[arn] = svcs
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// organization reads the OU tree (which targets sit above each account) and
// the SCPs and RCPs attached to each target.
func (c *collector) organization(ctx context.Context, mgmt source) (map[crossbill.AccountID][]string, []OrgPolicy) {
	client := organizations.NewFromConfig(c.config(mgmt.target, c.opts.Region))
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		c.fail(mgmt.account, "organizations", "ListRoots", err)
		return nil, nil
	}
	ancestors := map[crossbill.AccountID][]string{}
	var targets []string
	var walk func(parent string, path []string)
	walk = func(parent string, path []string) {
		targets = append(targets, parent)
		path = append(slices.Clone(path), parent)
		accts := organizations.NewListAccountsForParentPaginator(client, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for accts.HasMorePages() {
			page, err := accts.NextPage(ctx)
			if err != nil {
				c.fail(mgmt.account, "organizations", "ListAccountsForParent", err)
				break
			}
			for _, a := range page.Accounts {
				id := aws.ToString(a.Id)
				ancestors[crossbill.AccountID(id)] = path
				targets = append(targets, id)
			}
		}
		ous := organizations.NewListOrganizationalUnitsForParentPaginator(client, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
		for ous.HasMorePages() {
			page, err := ous.NextPage(ctx)
			if err != nil {
				c.fail(mgmt.account, "organizations", "ListOrganizationalUnitsForParent", err)
				break
			}
			for _, ou := range page.OrganizationalUnits {
				walk(aws.ToString(ou.Id), path)
			}
		}
	}
	for _, r := range roots.Roots {
		walk(aws.ToString(r.Id), nil)
	}
	byID := map[string]*OrgPolicy{}
	var order []string
	for _, typ := range []orgtypes.PolicyType{orgtypes.PolicyTypeServiceControlPolicy, orgtypes.PolicyTypeResourceControlPolicy} {
	targets:
		for _, t := range targets {
			pages := organizations.NewListPoliciesForTargetPaginator(client, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(t), Filter: typ})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					c.fail(mgmt.account, "organizations", "ListPoliciesForTarget "+string(typ), err)
					break targets // the same failure would repeat on every target
				}
				for _, p := range page.Policies {
					id := aws.ToString(p.Id)
					if byID[id] == nil {
						byID[id] = &OrgPolicy{ID: id, Name: aws.ToString(p.Name), Type: string(typ)}
						order = append(order, id)
					}
					byID[id].Targets = append(byID[id].Targets, t)
				}
			}
		}
	}
	var out []OrgPolicy
	for _, id := range order {
		p := byID[id]
		d, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
		if err != nil {
			c.fail(mgmt.account, "organizations", "DescribePolicy", err)
			continue
		}
		if d.Policy != nil {
			p.Document = aws.ToString(d.Policy.Content)
		}
		out = append(out, *p)
	}
	return ancestors, out
}

// identityCenter reads the Identity Center instance the management account
// (or a delegated administrator) runs: nil when there is none.
func (c *collector) identityCenter(ctx context.Context, mgmt source, accounts []crossbill.AccountID) *IdentityCenter {
	cfg := c.config(mgmt.target, c.opts.Region)
	sso := ssoadmin.NewFromConfig(cfg)
	fail := func(op string, err error) { c.fail(mgmt.account, "sso", op, err) }
	inst, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		fail("ListInstances", err)
		return nil
	}
	if len(inst.Instances) == 0 {
		return nil
	}
	ic := &IdentityCenter{InstanceARN: aws.ToString(inst.Instances[0].InstanceArn), IdentityStoreID: aws.ToString(inst.Instances[0].IdentityStoreId)}
	instance := aws.String(ic.InstanceARN)
	var psARNs []string
	pages := ssoadmin.NewListPermissionSetsPaginator(sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: instance})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			fail("ListPermissionSets", err)
			break
		}
		psARNs = append(psARNs, page.PermissionSets...)
	}
	ic.PermissionSets = make([]PermissionSet, len(psARNs))
	assignments := make([][]Assignment, len(psARNs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, userConcurrency)
	for i, arn := range psARNs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ic.PermissionSets[i] = c.permissionSet(ctx, sso, instance, arn, fail)
			assignments[i] = c.assignments(ctx, sso, instance, arn, accounts, fail)
		}()
	}
	wg.Wait()
	for _, as := range assignments {
		ic.Assignments = append(ic.Assignments, as...)
	}
	c.identityStore(ctx, identitystore.NewFromConfig(cfg), ic, mgmt.account)
	return ic
}

func (c *collector) permissionSet(ctx context.Context, sso *ssoadmin.Client, instance *string, arn string, fail func(string, error)) PermissionSet {
	ps := PermissionSet{ARN: arn}
	d, err := sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(arn)})
	if err != nil {
		fail("DescribePermissionSet", err)
	} else if d.PermissionSet != nil {
		ps.Name = aws.ToString(d.PermissionSet.Name)
	}
	in, err := sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(arn)})
	if err != nil {
		fail("GetInlinePolicyForPermissionSet", err)
	} else {
		ps.Inline = aws.ToString(in.InlinePolicy)
	}
	managed := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(sso, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(arn)})
	for managed.HasMorePages() {
		page, err := managed.NextPage(ctx)
		if err != nil {
			fail("ListManagedPoliciesInPermissionSet", err)
			break
		}
		for _, p := range page.AttachedManagedPolicies {
			ps.Managed = append(ps.Managed, aws.ToString(p.Arn))
		}
	}
	refs := ssoadmin.NewListCustomerManagedPolicyReferencesInPermissionSetPaginator(sso, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(arn)})
	for refs.HasMorePages() {
		page, err := refs.NextPage(ctx)
		if err != nil {
			fail("ListCustomerManagedPolicyReferencesInPermissionSet", err)
			break
		}
		for _, r := range page.CustomerManagedPolicyReferences {
			ps.CustomerManaged = append(ps.CustomerManaged, PolicyRef{Name: aws.ToString(r.Name), Path: aws.ToString(r.Path)})
		}
	}
	b, err := sso.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: instance, PermissionSetArn: aws.String(arn)})
	var none *ssotypes.ResourceNotFoundException
	switch {
	case errors.As(err, &none): // no boundary
	case err != nil:
		fail("GetPermissionsBoundaryForPermissionSet", err)
	case b.PermissionsBoundary != nil:
		ps.BoundaryARN = aws.ToString(b.PermissionsBoundary.ManagedPolicyArn)
		if r := b.PermissionsBoundary.CustomerManagedPolicyReference; r != nil {
			ps.BoundaryRef = &PolicyRef{Name: aws.ToString(r.Name), Path: aws.ToString(r.Path)}
		}
	}
	return ps
}

// assignments lists who holds a permission set in every account.
func (c *collector) assignments(ctx context.Context, sso *ssoadmin.Client, instance *string, arn string, accounts []crossbill.AccountID, fail func(string, error)) []Assignment {
	var out []Assignment
	for _, acct := range accounts {
		pages := ssoadmin.NewListAccountAssignmentsPaginator(sso, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: instance, PermissionSetArn: aws.String(arn), AccountId: aws.String(string(acct))})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				fail("ListAccountAssignments", err)
				break
			}
			for _, a := range page.AccountAssignments {
				out = append(out, Assignment{Account: acct, PermissionSetARN: arn, PrincipalType: string(a.PrincipalType), PrincipalID: aws.ToString(a.PrincipalId)})
			}
		}
	}
	return out
}

// identityStore reads the users, groups and memberships of the instance's
// identity store.
func (c *collector) identityStore(ctx context.Context, ids *identitystore.Client, ic *IdentityCenter, account crossbill.AccountID) {
	fail := func(op string, err error) { c.fail(account, "identitystore", op, err) }
	store := aws.String(ic.IdentityStoreID)
	users := identitystore.NewListUsersPaginator(ids, &identitystore.ListUsersInput{IdentityStoreId: store})
	for users.HasMorePages() {
		page, err := users.NextPage(ctx)
		if err != nil {
			fail("ListUsers", err)
			break
		}
		for _, u := range page.Users {
			ic.Users = append(ic.Users, ICUser{ID: aws.ToString(u.UserId), UserName: aws.ToString(u.UserName), DisplayName: aws.ToString(u.DisplayName)})
		}
	}
	groups := identitystore.NewListGroupsPaginator(ids, &identitystore.ListGroupsInput{IdentityStoreId: store})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			fail("ListGroups", err)
			break
		}
		for _, g := range page.Groups {
			ic.Groups = append(ic.Groups, ICGroup{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.DisplayName)})
		}
	}
	for _, g := range ic.Groups {
		ms := identitystore.NewListGroupMembershipsPaginator(ids, &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(g.ID)})
		for ms.HasMorePages() {
			page, err := ms.NextPage(ctx)
			if err != nil {
				fail("ListGroupMemberships", err)
				break
			}
			for _, m := range page.GroupMemberships {
				if u, ok := m.MemberId.(*idstypes.MemberIdMemberUserId); ok {
					ic.Memberships = append(ic.Memberships, ICMembership{GroupID: g.ID, UserID: u.Value})
				}
			}
		}
	}
}

// serviceLinked reports whether a role is service-linked: AWS owns its
// policies and it is never "unused" in a way the customer can act on.
func serviceLinked(r Role) bool { return strings.HasPrefix(r.Path, "/aws-service-role/") }
