package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
)

// DefaultMemberConcurrency is how many member accounts are checked at once:
// enough to check hundreds of accounts in minutes, few enough to stay well
// under STS's request rate for one hub principal.
const DefaultMemberConcurrency = 8

// MembersOptions tunes Members.
type MembersOptions struct {
	// AWS, Tenant, Region, IncludePaid, Progress and Now as for Run.
	Options
	// RoleName is the role the members stack puts into every member
	// account; empty means onboarding.DefaultRoleName.
	RoleName string
	// Verify checks every ACTIVE member's role; without it Members only
	// lists the organization and refreshes the store.
	Verify bool
	// Concurrency bounds the member checks running at once; 0 means
	// DefaultMemberConcurrency.
	Concurrency int
}

// MembersResult is the outcome of one Members run.
type MembersResult struct {
	Tenant            string                 `json:"tenant"`
	ConnectionID      crossbill.ConnectionID `json:"connection_id"`
	OrganizationID    string                 `json:"organization_id"`
	ManagementAccount crossbill.AccountID    `json:"management_account"`
	RoleName          string                 `json:"role_name"`
	Verified          bool                   `json:"verified"` // member roles were checked in this run
	Summary           MembersSummary         `json:"summary"`
	Added             []crossbill.AccountID  `json:"added"`
	Gone              []crossbill.AccountID  `json:"gone"` // left the organization since the last run (kept, marked gone)
	// Unchecked are the members whose check met only passing faults in
	// this run (throttled, unavailable, unreachable, timed out): each kept
	// its previous status.
	Unchecked  []crossbill.AccountID `json:"unchecked"`
	Members    []store.Member        `json:"members"`
	StartedAt  time.Time             `json:"started_at"`
	DurationMS int64                 `json:"duration_ms"`
}

// MembersSummary counts members by status. Members are the accounts to
// check: listed, in the organization, other than the connection's own.
type MembersSummary struct {
	Accounts int `json:"accounts"` // in the organization now, the connection's own included
	Members  int `json:"members"`
	Verified int `json:"verified"`
	Failed   int `json:"failed"`
	Pending  int `json:"pending"`
	Skipped  int `json:"skipped"`
	Conflict int `json:"conflict"`
	Gone     int `json:"gone"` // recorded accounts no longer in the organization
	// Unchecked: members this run could not check for passing AWS faults
	// (counted under their kept status too).
	Unchecked int `json:"unchecked"`
}

// Summarize counts ms for conn's own account self.
func Summarize(ms []store.Member, self crossbill.AccountID) MembersSummary {
	var s MembersSummary
	for _, m := range ms {
		if m.Gone() {
			s.Gone++
			continue
		}
		s.Accounts++
		if m.AccountID == self {
			continue
		}
		s.Members++
		switch m.Status {
		case store.MemberVerified:
			s.Verified++
		case store.MemberFailed:
			s.Failed++
		case store.MemberPending:
			s.Pending++
		case store.MemberSkipped:
			s.Skipped++
		case store.MemberConflict:
			s.Conflict++
		}
	}
	return s
}

// String is the one-line summary, e.g. "2 of 3 members verified, 1 failed".
func (s MembersSummary) String() string {
	parts := []string{fmt.Sprintf("%d of %d members verified", s.Verified, s.Members)}
	for _, p := range []struct {
		n    int
		what string
	}{{s.Failed, "failed"}, {s.Unchecked, "could not be checked now (passing AWS faults; previous status kept)"}, {s.Pending, "not checked"}, {s.Skipped, "skipped (not ACTIVE)"}, {s.Conflict, "owned by another tenant"}, {s.Gone, "gone from the organization"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// Err is nil when every member checked is verified (or nothing was
// checked); AccessDenied (exit 5) when some failed; Unavailable (exit 6)
// when the only failures were passing AWS faults (throttling, outages:
// never reported as denials); Conflict (exit 4) when the only problem is
// accounts owned by another tenant.
func (r MembersResult) Err() error {
	const op = "connect members"
	if !r.Verified {
		return nil
	}
	s := r.Summary
	var first *store.Member
	for i, m := range r.Members {
		if m.Status == store.MemberFailed && !m.Gone() && !slices.Contains(r.Unchecked, m.AccountID) {
			first = &r.Members[i]
			break
		}
	}
	if first != nil {
		return crossbill.Errorf(crossbill.CodeAccessDenied, op, "%s. First failure, account %s: %s", s, first.AccountID, first.Fix)
	}
	if len(r.Unchecked) > 0 {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%s. AWS throttled or failed the checks of %d member(s) after every retry; their previous status is kept: run again later (the server retries by itself)",
			s, len(r.Unchecked))
	}
	if s.Conflict > 0 {
		return crossbill.Errorf(crossbill.CodeConflict, op, "%s: %s", s, strings.TrimSuffix(store.MemberConflictFix, "."))
	}
	return nil
}

// MembersOf finds the connection whose organization to list: connID when
// given (it must be the tenant's), else the tenant's one connection with
// the org module and a role. It refuses a connection that cannot list
// its organization.
func MembersOf(ctx context.Context, st *store.Store, tenant store.Tenant, connID crossbill.ConnectionID) (store.Connection, error) {
	const op = "connect members"
	var err error
	var conn store.Connection
	if connID != "" {
		if conn, err = st.TenantConnection(ctx, tenant.ID, connID); err != nil {
			return store.Connection{}, err
		}
	} else {
		all, err := st.ConnectionsByTenant(ctx, tenant.ID)
		if err != nil {
			return store.Connection{}, err
		}
		var orgs []store.Connection
		for _, c := range all {
			if slices.Contains(c.Modules, manifest.ModuleOrg) && c.RoleARN != "" {
				orgs = append(orgs, c)
			}
		}
		switch len(orgs) {
		case 0:
			return store.Connection{}, crossbill.Errorf(crossbill.CodeNotFound, op, "tenant %s has no connection with the org module and a role: run `crossbill connect init --tenant %s` (the org module is on by default), deploy its account role stack in the management account, then `crossbill connect verify`", tenant.Name, tenant.Name)
		case 1:
			conn = orgs[0]
		default:
			ids := make([]string, len(orgs))
			for i, c := range orgs {
				ids[i] = string(c.ID)
			}
			return store.Connection{}, crossbill.Errorf(crossbill.CodeInvalid, op, "tenant %s has %d connections with the org module: pass --connection, one of %s", tenant.Name, len(orgs), strings.Join(ids, ", "))
		}
	}
	if err := orgConnection(conn); err != nil {
		return store.Connection{}, err
	}
	return conn, nil
}

// orgConnection refuses a connection that cannot list its organization.
func orgConnection(conn store.Connection) error {
	const op = "connect members"
	if conn.RoleARN == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no role yet: deploy its account role stack in the management account and run `crossbill connect verify` first", conn.ID)
	}
	if !slices.Contains(conn.Modules, manifest.ModuleOrg) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s does not have the org module, so its role may not list the organization: run `crossbill connect init` with the org module for the management account (or a delegated administrator)", conn.ID)
	}
	return nil
}

// Members lists the organization of conn (its role must be in the
// management account or a delegated administrator and have the org
// module), stores its accounts, and with opts.Verify checks that every
// ACTIVE member other than conn's own account has a working crossbill
// role: the hub assumes it with conn's external ID, the session must be in
// that account, the role must refuse a missing or wrong external ID, and
// each member module's probe must pass. Member failures are findings in
// the result; the error is for a connection or organization that cannot
// be listed at all, and for cancellation.
func Members(ctx context.Context, st *store.Store, conn store.Connection, opts MembersOptions) (MembersResult, error) {
	const op = "connect members"
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	if opts.RoleName == "" {
		opts.RoleName = onboarding.DefaultRoleName
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultMemberConcurrency
	}
	if opts.TransientWait == 0 {
		opts.TransientWait = DefaultTransientWait
	}
	if opts.Concurrency < 1 || opts.Concurrency > 64 {
		return MembersResult{}, crossbill.Errorf(crossbill.CodeInvalid, op, "concurrency %d: use 1 to 64", opts.Concurrency)
	}
	if err := orgConnection(conn); err != nil {
		return MembersResult{}, err
	}
	role, err := awsarn.ParseRole(string(conn.RoleARN), "")
	if err != nil {
		return MembersResult{}, err
	}
	if opts.AWS == nil {
		return MembersResult{}, errNoFactory(op)
	}
	if err := awsclient.CheckHub(ctx, opts.AWS.Hub()); err != nil {
		return MembersResult{}, err
	}
	start := opts.Now()
	res := MembersResult{Tenant: opts.Tenant, ConnectionID: conn.ID, RoleName: opts.RoleName, StartedAt: start.UTC()}
	factory := opts.AWS
	target := awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: conn.RoleARN, ExternalID: conn.ExternalID}
	env := probeEnv{factory: factory, target: target, partition: role.Partition}
	client := organizations.NewFromConfig(env.config(env.globalRegion()))

	opts.Progress("reading the organization of account %s through %s", role.Account, conn.RoleARN)
	var org *organizations.DescribeOrganizationOutput
	err = retryTransient(ctx, opts.Options, "describe organization", func() (err error) {
		org, err = client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	})
	if err != nil {
		return MembersResult{}, orgError(factory, target, role.Account, "describe organization", err)
	}
	if org.Organization == nil {
		return MembersResult{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "DescribeOrganization answered no organization for account %s: try again", role.Account)
	}
	res.OrganizationID = aws.ToString(org.Organization.Id)
	res.ManagementAccount = crossbill.AccountID(aws.ToString(org.Organization.MasterAccountId))
	var accounts []store.OrgAccount
	err = retryTransient(ctx, opts.Options, "list accounts", func() (err error) {
		accounts, err = listAccounts(ctx, client)
		return err
	})
	if err != nil {
		return MembersResult{}, orgError(factory, target, role.Account, "list accounts", err)
	}
	if len(accounts) == 0 {
		// AWS always lists the management account; an empty list means the
		// caller sees the organization without being allowed to list it
		// (moto answers a member account this way).
		return MembersResult{}, notAdmin(role.Account, res.ManagementAccount, res.OrganizationID)
	}
	opts.Progress("organization %s (management account %s): %d accounts", res.OrganizationID, res.ManagementAccount, len(accounts))
	sync, err := st.SyncMembers(ctx, conn, opts.RoleName, accounts)
	if err != nil {
		return MembersResult{}, err
	}
	res.Added, res.Gone = sync.Added, sync.Gone
	for _, id := range sync.Gone {
		opts.Progress("account %s is no longer in the organization: marked gone (its record is kept)", id)
	}
	if opts.Verify {
		if res.Unchecked, err = checkMembers(ctx, st, conn, opts); err != nil {
			return MembersResult{}, err
		}
		res.Verified = true
	}
	if res.Members, err = st.Members(ctx, conn.ID); err != nil {
		return MembersResult{}, err
	}
	res.Summary = Summarize(res.Members, conn.AccountID)
	res.Summary.Unchecked = len(res.Unchecked)
	res.DurationMS = opts.Now().Sub(start).Milliseconds()
	if res.Added == nil {
		res.Added = []crossbill.AccountID{}
	}
	if res.Gone == nil {
		res.Gone = []crossbill.AccountID{}
	}
	if res.Unchecked == nil {
		res.Unchecked = []crossbill.AccountID{}
	}
	return res, nil
}

// listAccounts reads every page of ListAccounts.
func listAccounts(ctx context.Context, client *organizations.Client) ([]store.OrgAccount, error) {
	var out []store.OrgAccount
	pages := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Accounts {
			out = append(out, orgAccount(a))
		}
	}
	return out, nil
}

func orgAccount(a orgtypes.Account) store.OrgAccount {
	// Status is retired in favour of State (September 2026); older
	// endpoints and emulators may still send only Status.
	state := string(a.State)
	if state == "" {
		state = string(a.Status)
	}
	return store.OrgAccount{AccountID: crossbill.AccountID(aws.ToString(a.Id)), Name: aws.ToString(a.Name), Email: aws.ToString(a.Email),
		State: state, JoinedMethod: string(a.JoinedMethod), JoinedAt: aws.ToTime(a.JoinedTimestamp)}
}

// orgError explains why the organization could not be read.
func orgError(f *awsclient.Factory, t awsclient.Target, account crossbill.AccountID, what string, err error) error {
	const op = "connect members"
	var notInUse *orgtypes.AWSOrganizationsNotInUseException
	if errors.As(err, &notInUse) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "account %s is not in an AWS Organization: connect the organization's management account (or a delegated administrator) with the org module to list member accounts: %w", account, err)
	}
	d := awsclient.Diagnose(err)
	switch {
	case d.Class == awsclient.ClassRoleTrust:
		return crossbill.Errorf(d.Code, op, "crossbill could not assume the connection's role: run `crossbill connect verify` and fix what it reports first. %s: %w", d.Fix, err)
	case d.Class == awsclient.ClassNoIdentityPolicy && what == "list accounts":
		return crossbill.Errorf(d.Code, op, "account %s may not list the organization's accounts: it is neither the management account nor a delegated administrator, or its role lacks organizations:ListAccounts. Connect the management account, or register %s as a delegated administrator (aws organizations register-delegated-administrator) and redeploy its role with the org module: %w", account, account, err)
	case d.Class == awsclient.ClassNoIdentityPolicy:
		return crossbill.Errorf(d.Code, op, "the connection's role in account %s may not read the organization: redeploy its account role stack with the org module (it grants organizations:DescribeOrganization and ListAccounts): %w", account, err)
	}
	return f.Check(op+": "+what, t, err)
}

func notAdmin(account, management crossbill.AccountID, org string) error {
	return crossbill.Errorf(crossbill.CodeAccessDenied, "connect members", "account %s is a member of organization %s, not its management account (%s) nor a delegated administrator, so it cannot list the accounts: connect the management account, or register %s as a delegated administrator (aws organizations register-delegated-administrator)",
		account, org, management, account)
}

// checkMembers checks every pending, failed or verified member still in the
// organization, at most opts.Concurrency at once, storing each outcome as
// it comes. It returns the members whose check was inconclusive.
func checkMembers(ctx context.Context, st *store.Store, conn store.Connection, opts MembersOptions) ([]crossbill.AccountID, error) {
	ms, err := st.Members(ctx, conn.ID)
	if err != nil {
		return nil, err
	}
	var todo []store.Member
	for _, m := range ms {
		if !m.Gone() && (m.Status == store.MemberPending || m.Status == store.MemberFailed || m.Status == store.MemberVerified) {
			todo = append(todo, m)
		}
	}
	modules := onboarding.MemberModules(conn.Modules)
	opts.Progress("checking %d member account(s), %d at a time, role %s, modules %v", len(todo), opts.Concurrency, opts.RoleName, modules)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex // serialises store writes, progress lines and the counts
		done      int
		first     error
		unchecked []crossbill.AccountID
	)
	sem := make(chan struct{}, opts.Concurrency)
loop:
	for _, m := range todo {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Add(1)
		go func(m store.Member) {
			defer wg.Done()
			defer func() { <-sem }()
			check, err := checkMember(ctx, conn, m, modules, opts)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				m, err = st.SetMemberCheck(ctx, conn.ID, m.AccountID, check)
			}
			if err != nil {
				if first == nil {
					first = err
				}
				cancel()
				return
			}
			done++
			status := string(m.Status)
			if check.Inconclusive {
				unchecked = append(unchecked, m.AccountID)
				status = "unchecked (kept " + status + ")"
			}
			line := fmt.Sprintf("[%d/%d] %s %-20s %s (%d ms)", done, len(todo), m.AccountID, clip(m.Name, 20), status, m.DurationMS)
			if m.Status != store.MemberVerified || check.Inconclusive {
				line += ": " + m.Class + ": " + m.Message
			}
			opts.Progress("%s", line)
			if m.Fix != "" && (m.Status != store.MemberVerified || check.Inconclusive) {
				opts.Progress("       fix: %s", m.Fix)
			}
		}(m)
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeUnavailable, "connect members", "interrupted: %w", err)
	}
	slices.Sort(unchecked)
	return unchecked, nil
}

// checkMember verifies one member's role with Run, as `connect verify`
// does for the connection itself, and condenses the checks.
func checkMember(ctx context.Context, conn store.Connection, m store.Member, modules []manifest.Module, opts MembersOptions) (store.MemberCheck, error) {
	o := opts.Options
	// The members StackSet deployed the role long ago or not at all:
	// waiting for propagation would only slow down the missing ones.
	o.PropagationWait = -1
	o.Progress = nil
	res, err := Run(ctx, store.Connection{ID: conn.ID, TenantID: conn.TenantID, ExternalID: conn.ExternalID, HubPrincipal: conn.HubPrincipal,
		Modules: modules, RoleARN: m.RoleARN, AccountID: m.AccountID}, o)
	if err != nil {
		return store.MemberCheck{}, err
	}
	c := store.MemberCheck{Status: store.MemberVerified, CheckedAt: res.FinishedAt, DurationMS: res.DurationMS}
	failed := res.Failed()
	if len(failed) == 0 {
		return c, nil
	}
	f := failed[0]
	c.Status, c.Class, c.Message, c.Fix = store.MemberFailed, f.Class, f.Name+": "+f.Message, f.Advice
	if res.Status == store.VerificationInconclusive {
		// Nothing was learnt about the role: the member keeps its status.
		c.Inconclusive, c.Message = true, "could not check: "+c.Message
	}
	if len(failed) > 1 {
		names := make([]string, 0, len(failed)-1)
		for _, g := range failed[1:] {
			names = append(names, g.Name)
		}
		c.Message += fmt.Sprintf(" (also failed: %s)", strings.Join(names, ", "))
	}
	c.Fix = MemberFix(f, opts.RoleName)
	return c, nil
}

// MemberFix turns the advice of a failed check, written for a role the
// customer deployed with its own stack, into one for a role the members
// StackSet deployed.
func MemberFix(f store.VerificationCheck, roleName string) string {
	switch {
	case f.Name == CheckAssumeRole && f.Class == string(awsclient.ClassRoleTrust):
		return MemberRoleFix(roleName)
	case f.Class == string(ClassExternalIDNotEnforced):
		return fmt.Sprintf("The role %s in this account can be assumed without this connection's external ID, so it is not the one the members stack deploys: update the members stack in the management account (its template requires sts:ExternalId) or delete the hand-made role so the StackSet can create it; until then anyone who learns the role ARN can make crossbill act in this account.", roleName)
	case f.Class == string(awsclient.ClassNoIdentityPolicy) && strings.HasPrefix(f.Name, "probe:"):
		return f.Advice + " For member accounts that stack is the members stack in the management account: update it with the connection's modules; the StackSet then updates every member."
	}
	return f.Advice
}

// MemberRoleFix is the fix for a member role that cannot be assumed. From
// the hub, AWS answers the same AccessDenied for a role that does not
// exist and for one whose trust policy does not match; the first is the
// usual case for members.
func MemberRoleFix(roleName string) string {
	return fmt.Sprintf("The role %s could not be assumed in this account: most likely the members StackSet has not reached it. Add its OU to the members stack's targets (OrganizationalUnitIds) or wait for auto-deployment to finish; if the role exists, its trust policy must name crossbill's hub principal and this connection's external ID, so update the members stack with the parameters `crossbill connect show` gives.", roleName)
}

// clip shortens s to n runes for a progress column.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
