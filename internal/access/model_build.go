package access

import (
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/policy"
)

// Principal kinds.
const (
	KindIAMUser  = "iam-user"
	KindIAMRole  = "iam-role"
	KindIAMGroup = "iam-group"
	KindSSOUser  = "sso-user"
	KindSSOGroup = "sso-group"
)

// Principal is an identity that holds entitlements.
type Principal struct {
	ID       string              `json:"id"` // ARN, or sso-user:ID / sso-group:ID
	Kind     string              `json:"kind"`
	Name     string              `json:"name"`
	Account  crossbill.AccountID `json:"account,omitempty"` // "" for Identity Center principals
	LastUsed *time.Time          `json:"last_used,omitempty"`
	Grants   int                 `json:"grants"`
	Admin    bool                `json:"admin"` // admin-equivalent somewhere
}

// Grant is one entitlement a principal holds in an account, with the path
// that gives it (e.g. user → group → permission set → account).
type Grant struct {
	Principal   string              `json:"principal"`
	Account     crossbill.AccountID `json:"account"`
	Kind        string              `json:"kind"` // policy, inline-policy, group, permission-set
	Entitlement string              `json:"entitlement"`
	Path        []string            `json:"path"`
}

// namedDoc is one identity policy of an actor.
type namedDoc struct {
	name string
	doc  *policy.Document
}

// actor is a principal acting in one account through one path: an IAM user
// or role, or an Identity Center user through one permission set.
type actor struct {
	principal int
	account   crossbill.AccountID
	path      []string
	docs      []namedDoc
	policies  policy.Policies
	// set identifies the policies: actors with the same set (the members
	// of a group through one assignment) get the same decision, so who-can
	// evaluates each set once.
	set int
}

// Model is a snapshot made queryable: principals, grants and the policies
// each principal acts with.
type Model struct {
	Snapshot   *Snapshot
	Principals []Principal
	Grants     []Grant
	// Unparsed lists documents that could not be read (name: error): they
	// grant nothing in the analysis.
	Unparsed []string

	actors []actor
	sets   int
	// allows is, per set, the services its Allow statements name: who-can
	// skips the sets that cannot allow an action's service (built on the
	// first question).
	allows  []serviceSet
	index   map[string]int // principal ID -> index
	docs    map[string]*policy.Document
	org     map[crossbill.AccountID]bool
	awsDocs map[string]string // AWS managed policy ARN -> document, across accounts
	// policyDocs: customer managed policy ARN -> document (ARNs name
	// their account).
	policyDocs map[string]string
	accounts   map[crossbill.AccountID]*Account
}

// administratorAccess is AWS's AdministratorAccess document: permission
// sets name it without it being attached in the account crossbill reads.
const administratorAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// Build makes a Model of a snapshot.
func Build(s *Snapshot) *Model {
	m := &Model{Snapshot: s, index: map[string]int{}, docs: map[string]*policy.Document{}, org: map[crossbill.AccountID]bool{},
		awsDocs: map[string]string{"arn:aws:iam::aws:policy/AdministratorAccess": administratorAccess}, accounts: map[crossbill.AccountID]*Account{}, policyDocs: map[string]string{}}
	for i := range s.Accounts {
		a := &s.Accounts[i]
		m.org[a.ID] = true
		m.accounts[a.ID] = a
		for _, p := range a.Policies {
			if p.AWSManaged && p.Document != "" {
				m.awsDocs[p.ARN] = p.Document
			} else if !p.AWSManaged {
				m.policyDocs[p.ARN] = p.Document
			}
		}
	}
	for i := range s.Accounts {
		m.addAccount(&s.Accounts[i])
	}
	if s.IdentityCenter != nil {
		m.addIdentityCenter(s.IdentityCenter)
	}
	for _, g := range m.Grants {
		m.Principals[m.index[g.Principal]].Grants++
	}
	return m
}

// doc parses a policy document once per distinct text.
func (m *Model) doc(name, text string) *policy.Document {
	if text == "" {
		return nil
	}
	if d, ok := m.docs[text]; ok {
		return d
	}
	d, err := policy.Parse([]byte(text))
	if err != nil {
		m.Unparsed = append(m.Unparsed, name+": "+err.Error())
		d = nil
	}
	m.docs[text] = d
	return d
}

func (m *Model) principal(p Principal) int {
	if i, ok := m.index[p.ID]; ok {
		return i
	}
	m.index[p.ID] = len(m.Principals)
	m.Principals = append(m.Principals, p)
	return len(m.Principals) - 1
}

// orgPolicies are the SCPs or RCPs that apply in an account, one merged
// document per level (root, each OU, the account). The management account
// is exempt from both.
func (m *Model) orgPolicies(a *Account, typ string) []*policy.Document {
	if a.ID == m.Snapshot.ManagementAccount || len(a.Ancestors) == 0 {
		return nil
	}
	var levels []*policy.Document
	for _, target := range append(append([]string{}, a.Ancestors...), string(a.ID)) {
		var docs []*policy.Document
		for _, p := range m.Snapshot.OrgPolicies {
			if p.Type != typ {
				continue
			}
			for _, t := range p.Targets {
				if t == target {
					if d := m.doc(p.Name, p.Document); d != nil {
						docs = append(docs, d)
					}
				}
			}
		}
		if len(docs) == 0 {
			// No RCP at a level means no restriction (RCPFullAWSAccess).
			// AWS keeps at least one SCP on every level (FullAWSAccess by
			// default), so none means it could not be read: no restriction
			// is assumed rather than a deny of everything.
			continue
		}
		levels = append(levels, policy.Merge(docs...))
	}
	return levels
}

func policyName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func (m *Model) managedDoc(a *Account, arn string) string {
	if d, ok := m.policyDocs[arn]; ok {
		return d
	}
	return m.awsDocs[arn]
}

// addAccount adds an account's IAM users, groups and roles.
func (m *Model) addAccount(a *Account) {
	scps, rcps := m.orgPolicies(a, TypeSCP), m.orgPolicies(a, TypeRCP)
	type held struct {
		kind, name string
		doc        *policy.Document
	}
	policiesOf := func(attached []string, inl []InlinePolicy) []held {
		var out []held
		for _, arn := range attached {
			out = append(out, held{"policy", policyName(arn), m.doc(arn, m.managedDoc(a, arn))})
		}
		for _, p := range inl {
			out = append(out, held{"inline-policy", p.Name, m.doc(p.Name, p.Document)})
		}
		return out
	}
	groups := map[string]Group{}
	for _, g := range a.Groups {
		groups[g.Name] = g
		pi := m.principal(Principal{ID: g.ARN, Kind: KindIAMGroup, Name: g.Name, Account: a.ID})
		for _, h := range policiesOf(g.Attached, g.Inline) {
			m.Grants = append(m.Grants, Grant{Principal: m.Principals[pi].ID, Account: a.ID, Kind: h.kind, Entitlement: h.name, Path: []string{g.Name, h.name}})
		}
	}
	newActor := func(pi int, boundaryARN string) actor {
		m.sets++
		ac := actor{principal: pi, account: a.ID, path: []string{m.Principals[pi].Name}, policies: policy.Policies{SCPs: scps, RCPs: rcps}, set: m.sets}
		if boundaryARN != "" {
			ac.policies.Boundary = m.doc(boundaryARN, m.managedDoc(a, boundaryARN))
			if ac.policies.Boundary == nil {
				// An unreadable boundary allows nothing, as an empty one would.
				ac.policies.Boundary = &policy.Document{}
			}
		}
		return ac
	}
	for _, u := range a.Users {
		pi := m.principal(Principal{ID: u.ARN, Kind: KindIAMUser, Name: u.Name, Account: a.ID, LastUsed: userLastUsed(u)})
		ac := newActor(pi, u.Boundary)
		for _, h := range policiesOf(u.Attached, u.Inline) {
			m.Grants = append(m.Grants, Grant{Principal: u.ARN, Account: a.ID, Kind: h.kind, Entitlement: h.name, Path: []string{u.Name, h.name}})
			ac.docs = append(ac.docs, namedDoc{h.name, h.doc})
		}
		for _, gn := range u.Groups {
			m.Grants = append(m.Grants, Grant{Principal: u.ARN, Account: a.ID, Kind: "group", Entitlement: gn, Path: []string{u.Name, gn}})
			g := groups[gn]
			for _, h := range policiesOf(g.Attached, g.Inline) {
				m.Grants = append(m.Grants, Grant{Principal: u.ARN, Account: a.ID, Kind: h.kind, Entitlement: h.name, Path: []string{u.Name, gn, h.name}})
				ac.docs = append(ac.docs, namedDoc{gn + " → " + h.name, h.doc})
			}
		}
		m.actors = append(m.actors, ac)
	}
	for _, r := range a.Roles {
		pi := m.principal(Principal{ID: r.ARN, Kind: KindIAMRole, Name: r.Name, Account: a.ID, LastUsed: r.LastUsed})
		ac := newActor(pi, r.Boundary)
		for _, h := range policiesOf(r.Attached, r.Inline) {
			m.Grants = append(m.Grants, Grant{Principal: r.ARN, Account: a.ID, Kind: h.kind, Entitlement: h.name, Path: []string{r.Name, h.name}})
			ac.docs = append(ac.docs, namedDoc{h.name, h.doc})
		}
		m.actors = append(m.actors, ac)
	}
}

// userLastUsed is the user's last activity: console or any key.
func userLastUsed(u User) *time.Time {
	last := u.PasswordLastUsed
	for _, k := range u.AccessKeys {
		if k.LastUsed != nil && (last == nil || k.LastUsed.After(*last)) {
			last = k.LastUsed
		}
	}
	return last
}

// SSO principal IDs.
func ssoUserID(id string) string  { return "sso-user:" + id }
func ssoGroupID(id string) string { return "sso-group:" + id }

// addIdentityCenter adds Identity Center users and groups and what their
// permission set assignments give them in each account.
func (m *Model) addIdentityCenter(ic *IdentityCenter) {
	users := map[string]int{}
	for _, u := range ic.Users {
		users[u.ID] = m.principal(Principal{ID: ssoUserID(u.ID), Kind: KindSSOUser, Name: u.UserName})
	}
	groups := map[string]int{}
	members := map[string][]string{}
	for _, g := range ic.Groups {
		groups[g.ID] = m.principal(Principal{ID: ssoGroupID(g.ID), Kind: KindSSOGroup, Name: g.Name})
	}
	for _, ms := range ic.Memberships {
		members[ms.GroupID] = append(members[ms.GroupID], ms.UserID)
		if ui, ok := users[ms.UserID]; ok {
			if gi, ok := groups[ms.GroupID]; ok {
				m.Grants = append(m.Grants, Grant{Principal: m.Principals[ui].ID, Kind: "group", Entitlement: m.Principals[gi].Name,
					Path: []string{m.Principals[ui].Name, m.Principals[gi].Name}})
			}
		}
	}
	sets := map[string]*PermissionSet{}
	for i := range ic.PermissionSets {
		sets[ic.PermissionSets[i].ARN] = &ic.PermissionSets[i]
	}
	for _, as := range ic.Assignments {
		ps := sets[as.PermissionSetARN]
		if ps == nil {
			continue
		}
		a := m.accounts[as.Account]
		var docs []namedDoc
		var pols policy.Policies
		if a != nil {
			var boundary *policy.Document
			docs, boundary = m.permissionSetDocs(a, ps)
			pols = policy.Policies{Boundary: boundary, SCPs: m.orgPolicies(a, TypeSCP), RCPs: m.orgPolicies(a, TypeRCP)}
			for _, d := range docs {
				if d.doc != nil {
					pols.Identity = append(pols.Identity, d.doc)
				}
			}
			if pols.Identity == nil {
				pols.Identity = []*policy.Document{}
			}
		}
		m.sets++
		set := m.sets
		give := func(ui int, path []string) {
			m.Grants = append(m.Grants, Grant{Principal: m.Principals[ui].ID, Account: as.Account, Kind: "permission-set", Entitlement: ps.Name, Path: path})
			if a == nil {
				return // an account crossbill does not read: no policies to evaluate
			}
			ac := actor{principal: ui, account: as.Account, path: path, docs: docs, policies: pols, set: set}
			m.actors = append(m.actors, ac)
		}
		switch as.PrincipalType {
		case "USER":
			if ui, ok := users[as.PrincipalID]; ok {
				give(ui, []string{m.Principals[ui].Name, ps.Name, string(as.Account)})
			}
		case "GROUP":
			gi, ok := groups[as.PrincipalID]
			if !ok {
				continue
			}
			m.Grants = append(m.Grants, Grant{Principal: m.Principals[gi].ID, Account: as.Account, Kind: "permission-set", Entitlement: ps.Name,
				Path: []string{m.Principals[gi].Name, ps.Name, string(as.Account)}})
			for _, uid := range members[as.PrincipalID] {
				if ui, ok := users[uid]; ok {
					give(ui, []string{m.Principals[ui].Name, m.Principals[gi].Name, ps.Name, string(as.Account)})
				}
			}
		}
	}
}

// permissionSetDocs resolves a permission set's policies in an account:
// AWS managed ones by ARN, customer managed references by name and path in
// that account (as Identity Center does when it provisions the set).
func (m *Model) permissionSetDocs(a *Account, ps *PermissionSet) ([]namedDoc, *policy.Document) {
	var docs []namedDoc
	for _, arn := range ps.Managed {
		docs = append(docs, namedDoc{ps.Name + " → " + policyName(arn), m.doc(arn, m.awsDocs[arn])})
	}
	if ps.Inline != "" {
		docs = append(docs, namedDoc{ps.Name + " → inline", m.doc(ps.Name+" inline", ps.Inline)})
	}
	byRef := func(r PolicyRef) string {
		path := r.Path
		if path == "" {
			path = "/"
		}
		for _, p := range a.Policies {
			if !p.AWSManaged && p.Name == r.Name && (p.Path == path || p.Path == "") {
				return p.Document
			}
		}
		return ""
	}
	for _, r := range ps.CustomerManaged {
		docs = append(docs, namedDoc{ps.Name + " → " + r.Name, m.doc(r.Name, byRef(r))})
	}
	var boundary *policy.Document
	switch {
	case ps.BoundaryARN != "":
		boundary = m.doc(ps.BoundaryARN, m.awsDocs[ps.BoundaryARN])
	case ps.BoundaryRef != nil:
		boundary = m.doc(ps.BoundaryRef.Name, byRef(*ps.BoundaryRef))
	}
	if (ps.BoundaryARN != "" || ps.BoundaryRef != nil) && boundary == nil {
		boundary = &policy.Document{}
	}
	return docs, boundary
}
