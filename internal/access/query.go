package access

import (
	"slices"
	"strconv"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

// evaluate decides a request for one actor; via names the identity
// policies whose statements allow it.
func (m *Model) evaluate(ac *actor, req policy.Request) (policy.Result, []string) {
	p := ac.policies
	if p.Identity == nil {
		for _, d := range ac.docs {
			if d.doc != nil {
				p.Identity = append(p.Identity, d.doc)
			}
		}
		ac.policies.Identity = p.Identity
		if p.Identity == nil {
			ac.policies.Identity = []*policy.Document{}
		}
	}
	if len(p.Identity) == 0 {
		return policy.Result{Decision: policy.ImplicitDeny}, nil
	}
	res := policy.Evaluate(req, p)
	var via []string
	if res.Decision == policy.Allowed || res.Decision == policy.AllowedUnderConditions {
		named := namedIdentity(ac)
		for _, d := range res.Deciding {
			if i, ok := strings.CutPrefix(d.Policy, "identity["); ok {
				if n, err := strconv.Atoi(strings.TrimSuffix(i, "]")); err == nil && n < len(named) && !slices.Contains(via, named[n]) {
					via = append(via, named[n])
				}
			}
		}
	}
	return res, via
}

// namedIdentity are the names of an actor's parsed identity policies, in
// the order evaluate passes them.
func namedIdentity(ac *actor) []string {
	var out []string
	for _, d := range ac.docs {
		if d.doc != nil {
			out = append(out, d.name)
		}
	}
	return out
}

// Answer is one principal that may make a request, and how.
type Answer struct {
	Principal string              `json:"principal"`
	Kind      string              `json:"kind"`
	Name      string              `json:"name"`
	Account   crossbill.AccountID `json:"account"`
	Decision  policy.Decision     `json:"decision"`
	Path      []string            `json:"path"`
	Via       []string            `json:"via"` // the policies that allow it
	// MissingKeys are condition keys an "allowed-under-conditions" answer
	// depends on.
	MissingKeys []string `json:"missing_keys,omitempty"`
}

// WhoCan answers who may call action (on resource, "" for any) across the
// organization: identity policies, boundaries, SCPs and RCPs, explicit
// denies. A resource ARN naming an account narrows the answer to that
// account's principals (resource policies that let other accounts in are
// not evaluated).
func (m *Model) WhoCan(action, resource string) ([]Answer, error) {
	const op = "access who-can"
	if !strings.Contains(action, ":") {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "action %q: give SERVICE:Action, e.g. s3:GetObject", action)
	}
	var account crossbill.AccountID
	if resource != "" && resource != "*" {
		a, err := awsarn.Parse(resource)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "resource %q is not an ARN: %v", resource, err)
		}
		account = crossbill.AccountID(a.Account)
	}
	req := policy.Request{Action: action, Resource: resource}
	out := []Answer{}
	type decided struct {
		res policy.Result
		via []string
	}
	memo := map[int]decided{}
	service, _, _ := strings.Cut(strings.ToLower(action), ":")
	m.indexAllows()
	for i := range m.actors {
		ac := &m.actors[i]
		if account != "" && ac.account != account {
			continue
		}
		if !m.allows[ac.set].may(service) {
			continue // no Allow statement names the service: an implicit deny
		}
		d, ok := memo[ac.set]
		if !ok {
			d.res, d.via = m.evaluate(ac, req)
			memo[ac.set] = d
		}
		res, via := d.res, d.via
		if res.Decision != policy.Allowed && res.Decision != policy.AllowedUnderConditions {
			continue
		}
		p := m.Principals[ac.principal]
		out = append(out, Answer{Principal: p.ID, Kind: p.Kind, Name: p.Name, Account: ac.account, Decision: res.Decision,
			Path: append(slices.Clone(ac.path), via...), Via: via, MissingKeys: res.MissingKeys})
	}
	slices.SortFunc(out, func(a, b Answer) int {
		return strings.Compare(string(a.Account)+a.Kind+a.Name+strings.Join(a.Path, ">"), string(b.Account)+b.Kind+b.Name+strings.Join(b.Path, ">"))
	})
	return out, nil
}

// serviceSet is the services a set's Allow statements may name.
type serviceSet struct {
	any      bool // a wildcard service or a NotAction
	services map[string]bool
}

func (s serviceSet) may(service string) bool { return s.any || s.services[service] }

// indexAllows fills m.allows once: per set, the services of its identity
// policies' Allow statements. An action outside them is implicitly denied
// whatever the boundaries, SCPs and RCPs say, so who-can evaluates only
// the sets that may allow it.
func (m *Model) indexAllows() {
	if m.allows != nil {
		return
	}
	m.allows = make([]serviceSet, m.sets+1)
	done := make([]bool, m.sets+1)
	for i := range m.actors {
		ac := &m.actors[i]
		if done[ac.set] {
			continue
		}
		done[ac.set] = true
		s := serviceSet{services: map[string]bool{}}
		for _, d := range ac.docs {
			if d.doc == nil {
				continue
			}
			for _, st := range d.doc.Statements {
				if st.Effect != policy.Allow {
					continue
				}
				if st.NotAction != nil {
					s.any = true
				}
				for _, a := range st.Action {
					svc, _, ok := strings.Cut(strings.ToLower(a), ":")
					if !ok || strings.ContainsAny(svc, "*?") {
						s.any = true
						continue
					}
					s.services[svc] = true
				}
			}
		}
		m.allows[ac.set] = s
	}
}

// ServicePermissions is what a principal may do in one service of one
// account through one path.
type ServicePermissions struct {
	Account crossbill.AccountID `json:"account"`
	Path    []string            `json:"path"`
	Service string              `json:"service"`
	Allowed int                 `json:"allowed"`           // actions allowed (possibly under conditions) on every resource or some
	Of      int                 `json:"of"`                // actions the service has
	Denied  int                 `json:"denied"`            // granted by identity policies but denied by a boundary, SCP or RCP
	Actions []string            `json:"actions"`           // the allowed actions when fewer than all
	DenyBy  []string            `json:"deny_by,omitempty"` // what denies the others
}

// PrincipalView is one principal's entitlements and effective permissions.
type PrincipalView struct {
	Principal   Principal            `json:"principal"`
	Grants      []Grant              `json:"grants"`
	Permissions []ServicePermissions `json:"permissions"`
	Findings    []Finding            `json:"findings"`
}

// Show finds a principal by ID, ARN or name (the name must then be unique)
// and computes its effective permissions: every action its identity
// policies grant, kept when boundaries, SCPs and RCPs allow it on some
// resource.
func (m *Model) Show(ref string, cat *iamdata.Catalog, findings []Finding) (PrincipalView, error) {
	pi, err := m.find(ref)
	if err != nil {
		return PrincipalView{}, err
	}
	v := PrincipalView{Principal: m.Principals[pi], Grants: []Grant{}, Permissions: []ServicePermissions{}, Findings: []Finding{}}
	for _, g := range m.Grants {
		if g.Principal == v.Principal.ID {
			v.Grants = append(v.Grants, g)
		}
	}
	for _, f := range findings {
		if f.Principal == v.Principal.ID {
			v.Findings = append(v.Findings, f)
		}
	}
	for i := range m.actors {
		ac := &m.actors[i]
		if ac.principal != pi {
			continue
		}
		v.Permissions = append(v.Permissions, m.effective(ac, cat)...)
	}
	return v, nil
}

func (m *Model) find(ref string) (int, error) {
	if i, ok := m.index[ref]; ok {
		return i, nil
	}
	var hits []int
	for i, p := range m.Principals {
		if p.Name == ref {
			hits = append(hits, i)
		}
	}
	switch len(hits) {
	case 0:
		return 0, crossbill.Errorf(crossbill.CodeNotFound, "access show", "no principal %q: give an ARN, an ID from `crossbill access principals`, or a name", ref)
	case 1:
		return hits[0], nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = m.Principals[h].ID
	}
	return 0, crossbill.Errorf(crossbill.CodeInvalid, "access show", "%d principals are named %q: give one of %s", len(hits), ref, strings.Join(ids, ", "))
}

// effective lists an actor's permissions per service.
func (m *Model) effective(ac *actor, cat *iamdata.Catalog) []ServicePermissions {
	granted := map[int]iamdata.Action{}
	for _, d := range ac.docs {
		if d.doc == nil {
			continue
		}
		for _, g := range policy.EffectiveActions(d.doc, cat).Grants {
			granted[g.Action.ID] = g.Action
		}
	}
	ids := make([]int, 0, len(granted))
	for id := range granted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []ServicePermissions
	var cur *ServicePermissions
	for _, id := range ids {
		a := granted[id]
		if cur == nil || cur.Service != a.Service {
			out = append(out, ServicePermissions{Account: ac.account, Path: ac.path, Service: a.Service, Of: len(cat.Actions(a.Service)), Actions: []string{}})
			cur = &out[len(out)-1]
		}
		name := a.Service + ":" + a.Name
		// Any resource: a grant limited to some resources still counts.
		res, _ := m.evaluate(ac, policy.Request{Action: name, Resource: "arn:aws:" + a.Service + ":us-east-1:" + string(ac.account) + ":*"})
		if res.Decision == policy.ImplicitDeny {
			res, _ = m.evaluate(ac, policy.Request{Action: name})
		}
		switch res.Decision {
		case policy.Allowed, policy.AllowedUnderConditions:
			cur.Allowed++
			cur.Actions = append(cur.Actions, a.Name)
		default:
			cur.Denied++
			for _, d := range res.Deciding {
				if !slices.Contains(cur.DenyBy, d.Policy) {
					cur.DenyBy = append(cur.DenyBy, d.Policy)
				}
			}
			if res.Decision == policy.ImplicitDeny && !slices.Contains(cur.DenyBy, "not allowed by a boundary, SCP or RCP") {
				cur.DenyBy = append(cur.DenyBy, "not allowed by a boundary, SCP or RCP")
			}
		}
	}
	for i := range out {
		if out[i].Allowed == out[i].Of {
			out[i].Actions = []string{"*"}
		}
	}
	return out
}
