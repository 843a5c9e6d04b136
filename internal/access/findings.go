package access

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/review"
)

// Finding is one thing a security team should act on.
type Finding struct {
	ID        string              `json:"id"` // e.g. "admin-equivalent", "escalation/iam-put-role-policy"
	Severity  policy.Severity     `json:"severity"`
	Principal string              `json:"principal"` // principal ID, or permission set ARN
	Name      string              `json:"name"`
	Account   crossbill.AccountID `json:"account,omitempty"`
	Title     string              `json:"title"`
	Evidence  string              `json:"evidence"`
	Fix       string              `json:"fix"`
	// OutsideAccount is the account an outside-trust finding names.
	OutsideAccount string `json:"outside_account,omitempty"`
}

// Finding IDs.
const (
	FindAdmin            = "admin-equivalent"
	FindEscalation       = "escalation/"
	FindOutsideTrust     = "outside-trust"
	FindDormantUser      = "dormant-user"
	FindUnusedKey        = "unused-access-key"
	FindOldKey           = "old-access-key"
	FindNoMFA            = "console-without-mfa"
	FindUnusedRole       = "unused-role"
	FindUnusedService    = "service-not-accessed"
	FindDirectAssignment = "direct-user-assignment"
	FindAdminSet         = "admin-permission-set"
	FindOrphanSet        = "orphaned-permission-set"
)

// Thresholds tune the findings.
type Thresholds struct {
	Now time.Time
	// Unused is how long without use makes a user dormant, a key, a role or
	// a service unused; 0 means 90 days.
	Unused time.Duration
	// KeyAge is the age past which an active key should be rotated; 0
	// means 90 days.
	KeyAge time.Duration
}

func (t *Thresholds) defaults() {
	if t.Now.IsZero() {
		t.Now = time.Now()
	}
	if t.Unused == 0 {
		t.Unused = 90 * 24 * time.Hour
	}
	if t.KeyAge == 0 {
		t.KeyAge = 90 * 24 * time.Hour
	}
}

// adminProbe is an action no policy names except through "*": an identity
// allowed it on every resource holds every action, as administrators do.
const adminProbe = "crossbill-probe:AnyAction"

// adminOf reports whether an actor is allowed everything, IAM writes
// included (an SCP that denies IAM changes makes it less than admin).
func (m *Model) adminOf(ac *actor) bool {
	for _, a := range []string{adminProbe, "iam:PutRolePolicy"} {
		if res, _ := m.evaluate(ac, policy.Request{Action: a}); res.Decision != policy.Allowed {
			return false
		}
	}
	return true
}

// Findings analyses the model.
func (m *Model) Findings(t Thresholds) ([]Finding, error) {
	t.defaults()
	escalations, err := review.Escalations()
	if err != nil {
		return nil, err
	}
	var out []Finding
	days := func(d time.Duration) int { return int(d.Hours() / 24) }
	stale := func(last *time.Time, created time.Time) bool {
		if last != nil {
			return t.Now.Sub(*last) > t.Unused
		}
		return t.Now.Sub(created) > t.Unused
	}
	dormant := map[string]bool{}

	for _, a := range m.Snapshot.Accounts {
		for _, u := range a.Users {
			active := u.LoginProfile
			for _, k := range u.AccessKeys {
				active = active || k.Status == "Active"
				if k.Status != "Active" {
					continue
				}
				if stale(k.LastUsed, k.CreateDate) {
					out = append(out, Finding{ID: FindUnusedKey, Severity: policy.SeverityMedium, Principal: u.ARN, Name: u.Name, Account: a.ID,
						Title:    "Active access key not used in " + fmt.Sprint(days(t.Unused)) + " days",
						Evidence: fmt.Sprintf("key %s created %s, last used %s", k.ID, k.CreateDate.Format(time.DateOnly), when(k.LastUsed)),
						Fix:      fmt.Sprintf("Deactivate the key (aws iam update-access-key --user-name %s --access-key-id %s --status Inactive), then delete it if nothing breaks.", u.Name, k.ID)})
				}
				if t.Now.Sub(k.CreateDate) > t.KeyAge {
					out = append(out, Finding{ID: FindOldKey, Severity: policy.SeverityMedium, Principal: u.ARN, Name: u.Name, Account: a.ID,
						Title:    "Access key older than " + fmt.Sprint(days(t.KeyAge)) + " days",
						Evidence: fmt.Sprintf("key %s created %s (%d days ago)", k.ID, k.CreateDate.Format(time.DateOnly), days(t.Now.Sub(k.CreateDate))),
						Fix:      "Rotate it: create a second key, move its users to it, deactivate and delete the old one; better, replace long-lived keys with roles."})
				}
			}
			if active && stale(userLastUsed(u), u.CreateDate) {
				dormant[u.ARN] = true
				out = append(out, Finding{ID: FindDormantUser, Severity: policy.SeverityMedium, Principal: u.ARN, Name: u.Name, Account: a.ID,
					Title:    "Dormant user: no sign-in or key use in " + fmt.Sprint(days(t.Unused)) + " days",
					Evidence: fmt.Sprintf("created %s, last activity %s, console password %v, %d access key(s)", u.CreateDate.Format(time.DateOnly), when(userLastUsed(u)), u.LoginProfile, len(u.AccessKeys)),
					Fix:      "Remove the user's console password and access keys, or delete the user, after confirming with its owner."})
			}
			if u.LoginProfile && u.MFADevices == 0 {
				out = append(out, Finding{ID: FindNoMFA, Severity: policy.SeverityHigh, Principal: u.ARN, Name: u.Name, Account: a.ID,
					Title: "Console user without MFA", Evidence: "the user has a console password and no MFA device",
					Fix: "Require an MFA device for the user (or move the user to Identity Center, which enforces MFA centrally)."})
			}
		}
		for _, r := range a.Roles {
			if serviceLinked(r) {
				continue
			}
			if stale(r.LastUsed, r.CreateDate) {
				dormant[r.ARN] = true
				out = append(out, Finding{ID: FindUnusedRole, Severity: policy.SeverityLow, Principal: r.ARN, Name: r.Name, Account: a.ID,
					Title:    "Role not used in " + fmt.Sprint(days(t.Unused)) + " days",
					Evidence: fmt.Sprintf("created %s, last used %s", r.CreateDate.Format(time.DateOnly), when(r.LastUsed)),
					Fix:      "Delete the role if no workload needs it; unused roles are standing access nobody watches."})
			}
			out = append(out, m.trustFindings(a, r)...)
		}
		out = append(out, m.unusedServices(a, t)...)
	}

	// Actors sharing a policy set (a group's members through one
	// assignment) share the answers: each set is evaluated once.
	type held struct {
		esc  review.Escalation
		used []string
	}
	type setResult struct {
		admin bool
		esc   []held
	}
	memo := map[int]*setResult{}
	for i := range m.actors {
		ac := &m.actors[i]
		p := m.Principals[ac.principal]
		r := memo[ac.set]
		if r == nil {
			r = &setResult{admin: m.adminOf(ac)}
			if !r.admin {
				allowed := map[string]bool{} // escalation paths share actions
				for _, e := range escalations {
					if used := m.holds(ac, e, allowed); used != nil {
						r.esc = append(r.esc, held{e, used})
					}
				}
			}
			memo[ac.set] = r
		}
		if r.admin {
			m.Principals[ac.principal].Admin = true
			out = append(out, Finding{ID: FindAdmin, Severity: policy.SeverityHigh, Principal: p.ID, Name: p.Name, Account: ac.account,
				Title: "Admin-equivalent principal", Evidence: "allowed every action on every resource through " + strings.Join(ac.path, " → ") + " → " + strings.Join(namedIdentity(ac), ", "),
				Fix: "Give the principal the permissions its job needs instead, and keep administrators few, named and reviewed."})
			continue // an administrator's escalation paths say nothing more
		}
		if dormant[p.ID] {
			continue // escalation paths are reported for live principals
		}
		for _, h := range r.esc {
			out = append(out, Finding{ID: FindEscalation + h.esc.ID, Severity: policy.Severity(h.esc.Severity), Principal: p.ID, Name: p.Name, Account: ac.account,
				Title:    "Privilege escalation: " + h.esc.Title,
				Evidence: fmt.Sprintf("%s allowed on every resource through %s", strings.Join(h.used, ", "), strings.Join(ac.path, " → ")),
				Fix:      "Remove these actions or limit them to named resources. " + h.esc.Description})
		}
	}
	out = append(out, m.identityCenterFindings()...)
	slices.SortStableFunc(out, func(a, b Finding) int {
		if r := b.Severity.Rank() - a.Severity.Rank(); r != 0 {
			return r
		}
		return strings.Compare(a.ID+string(a.Account)+a.Name, b.ID+string(b.Account)+b.Name)
	})
	if out == nil {
		out = []Finding{}
	}
	return out, nil
}

// holds returns the actions by which an actor completes an escalation
// path on every resource, nil when it does not.
func (m *Model) holds(ac *actor, e review.Escalation, allowed map[string]bool) []string {
	var used []string
	for _, group := range e.Requires {
		found := ""
		for _, act := range group {
			ok, seen := allowed[act]
			if !seen {
				res, _ := m.evaluate(ac, policy.Request{Action: act})
				ok = res.Decision == policy.Allowed
				allowed[act] = ok
			}
			if ok {
				found = act
				break
			}
		}
		if found == "" {
			return nil
		}
		used = append(used, found)
	}
	return used
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.DateOnly)
}

// trustFindings reports a role that accounts outside the organization may
// assume.
func (m *Model) trustFindings(a Account, r Role) []Finding {
	doc := m.doc(r.Name+" trust", r.Trust)
	if doc == nil {
		return nil
	}
	rep := policy.AnalyzeTrust(doc, nil, string(a.ID))
	var out []Finding
	seen := map[string]bool{}
	for _, p := range rep.Principals {
		if p.Account == "" || p.SameAccount || m.org[crossbill.AccountID(p.Account)] || seen[p.Account] {
			continue
		}
		seen[p.Account] = true
		hasExt := true
		for _, f := range rep.Findings {
			if f.Statement == p.Statement && f.ID == policy.FindingNoExternalID {
				hasExt = false
			}
		}
		// The known-accounts list is not part of a sync: every outside
		// account is named by its ID and flagged unknown.
		f := Finding{ID: FindOutsideTrust, Principal: r.ARN, Name: r.Name, Account: a.ID, OutsideAccount: p.Account,
			Title: "Role trusts an outside account (unknown outside account " + p.Account + ")"}
		if hasExt {
			f.Severity = policy.SeverityMedium
			f.Evidence = fmt.Sprintf("trust policy statement %d lets %s assume the role, with an sts:ExternalId condition", p.Statement, p.Value)
			f.Fix = "Confirm who owns account " + p.Account + " and that the access is still needed; remove the statement otherwise."
		} else {
			f.Severity = policy.SeverityHigh
			f.Evidence = fmt.Sprintf("trust policy statement %d lets %s assume the role without an sts:ExternalId condition (confused-deputy risk: any customer of that account's service can make it act here)", p.Statement, p.Value)
			f.Fix = "Add a Condition StringEquals sts:ExternalId with the value the third party gave you, or remove the statement if the access is not needed."
		}
		out = append(out, f)
	}
	return out
}

// unusedServices reports services a principal's policies grant that
// Access Advisor says it has not used within the threshold.
func (m *Model) unusedServices(a Account, t Thresholds) []Finding {
	var out []Finding
	for arn, svcs := range a.Advisor {
		var unused []string
		for _, s := range svcs {
			if s.LastAuthenticated == nil || t.Now.Sub(*s.LastAuthenticated) > t.Unused {
				unused = append(unused, s.Namespace)
			}
		}
		if len(unused) == 0 {
			continue
		}
		slices.Sort(unused)
		name := arn[strings.LastIndex(arn, "/")+1:]
		out = append(out, Finding{ID: FindUnusedService, Severity: policy.SeverityLow, Principal: arn, Name: name, Account: a.ID,
			Title:    fmt.Sprintf("%d service(s) granted but not accessed in %d days", len(unused), int(t.Unused.Hours()/24)),
			Evidence: "Access Advisor: " + strings.Join(unused, ", "),
			Fix:      "Remove these services from the principal's policies (least privilege); Access Advisor shows when each was last used."})
	}
	slices.SortFunc(out, func(x, y Finding) int { return strings.Compare(x.Principal, y.Principal) })
	return out
}

// identityCenterFindings: permission sets with admin, orphaned ones, and
// direct user assignments where groups are the norm.
func (m *Model) identityCenterFindings() []Finding {
	ic := m.Snapshot.IdentityCenter
	if ic == nil {
		return nil
	}
	var out []Finding
	assigned := map[string]int{}
	users, groups := 0, 0
	for _, as := range ic.Assignments {
		assigned[as.PermissionSetARN]++
		if as.PrincipalType == "USER" {
			users++
		} else {
			groups++
		}
	}
	var any *Account
	for i := range m.Snapshot.Accounts {
		any = &m.Snapshot.Accounts[i]
		break
	}
	for i := range ic.PermissionSets {
		ps := &ic.PermissionSets[i]
		if assigned[ps.ARN] == 0 {
			out = append(out, Finding{ID: FindOrphanSet, Severity: policy.SeverityLow, Principal: ps.ARN, Name: ps.Name,
				Title: "Permission set assigned to nobody", Evidence: "no account assignment in any account crossbill reads",
				Fix: "Delete the permission set if it is no longer needed, so it cannot be assigned by mistake."})
		}
		if any != nil {
			docs, boundary := m.permissionSetDocs(any, ps)
			ac := actor{docs: docs, policies: policy.Policies{Boundary: boundary}}
			if m.adminOf(&ac) {
				out = append(out, Finding{ID: FindAdminSet, Severity: policy.SeverityHigh, Principal: ps.ARN, Name: ps.Name,
					Title: "Permission set grants administrator access", Evidence: "its policies allow every action on every resource: " + strings.Join(namedIdentity(&ac), ", "),
					Fix: "Keep admin permission sets few, assign them to a small group only, and prefer just-in-time assignment."})
			}
		}
	}
	if groups > users {
		for _, as := range ic.Assignments {
			if as.PrincipalType != "USER" {
				continue
			}
			name := as.PrincipalID
			if i, ok := m.index[ssoUserID(as.PrincipalID)]; ok {
				name = m.Principals[i].Name
			}
			psName := as.PermissionSetARN
			for _, ps := range ic.PermissionSets {
				if ps.ARN == as.PermissionSetARN {
					psName = ps.Name
				}
			}
			out = append(out, Finding{ID: FindDirectAssignment, Severity: policy.SeverityLow, Principal: ssoUserID(as.PrincipalID), Name: name, Account: as.Account,
				Title:    "Permission set assigned to a user directly",
				Evidence: fmt.Sprintf("%s holds %s in %s directly, while %d of %d assignments go through groups", name, psName, as.Account, groups, groups+users),
				Fix:      "Assign the permission set to a group and put the user in it, so access is reviewed with the group."})
		}
	}
	return out
}
