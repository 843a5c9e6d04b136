package policy

import (
	"fmt"
	"strings"

	"github.com/crossbill/crossbill/internal/iamdata"
)

// Request is one API request to evaluate.
type Request struct {
	Action    string // e.g. "s3:GetObject"
	Resource  string // ARN; "" means "*" (actions without resource-level permissions)
	Principal string // caller ARN, account ID or service; used only by statements with Principal
	// Context holds condition keys (case-insensitive) and their values.
	// A key mapped to nil or an empty list is known to be absent from the
	// request; a key missing from the map is unknown, and a condition on
	// it makes the outcome "allowed under conditions", never a plain allow.
	Context map[string][]string
}

// Policies are the policies that apply to one principal's request.
type Policies struct {
	Identity []*Document // identity-based policies (inline and managed); an allow in any of them
	Boundary *Document   // permissions boundary, nil if none
	// SCPs has one document per level of the organization (root, each OU,
	// the account): each level must allow. Merge the SCPs attached at one
	// level with Merge. Empty: no Organizations policies apply.
	SCPs []*Document
	// RCPs, like SCPs, for resource control policies.
	RCPs []*Document
	// Catalog, when set, limits RCPs to the services that support them
	// (iamdata Service.RCP), as AWS does; without it RCPs apply to every
	// request.
	Catalog *iamdata.Catalog
}

// Decision is the outcome of an evaluation.
type Decision string

// Decisions.
const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicit-deny"
	ImplicitDeny Decision = "implicit-deny"
	// AllowedUnderConditions: allowed only if conditions whose keys the
	// request context did not give hold (or deny conditions do not).
	AllowedUnderConditions Decision = "allowed-under-conditions"
)

// StatementRef names one statement of one of the evaluated policies.
type StatementRef struct {
	Policy string `json:"policy"` // "identity[0]", "boundary", "scp[1]", "rcp[0]"
	Index  int    `json:"index"`
	Sid    string `json:"sid,omitempty"`
	Effect Effect `json:"effect"`
	// Conditional is set when the statement applies only under
	// conditions on context the request did not give.
	Conditional bool `json:"conditional,omitempty"`
}

func (r StatementRef) String() string {
	s := fmt.Sprintf("%s Statement[%d]", r.Policy, r.Index)
	if r.Sid != "" {
		s += " (" + r.Sid + ")"
	}
	return s
}

// Result is a decision with the statements that made it.
type Result struct {
	Decision Decision `json:"decision"`
	// Deciding lists the matching deny statements for a deny, and the
	// allow statements of each policy type for an allow.
	Deciding []StatementRef `json:"deciding,omitempty"`
	// MissingKeys are condition keys (and policy variables) the outcome
	// depends on that the request context did not give.
	MissingKeys []string `json:"missingKeys,omitempty"`
	Reason      string   `json:"reason"`
}

// Evaluate decides a request as AWS's policy evaluation logic does for a
// principal and resource in one account: an explicit deny in any policy
// wins; otherwise every SCP level, every RCP level, the permissions
// boundary (if any) and the identity policies must each allow.
// Resource-based policies are not evaluated.
func Evaluate(req Request, p Policies) Result {
	return evaluate(req, p, "identity")
}

// EvaluateTrust decides whether a role's trust policy lets req.Principal
// assume the role: req.Action defaults to sts:AssumeRole, and
// req.Context carries sts:ExternalId, aws:MultiFactorAuthPresent and the
// like (a nil value: known absent). It checks the trust policy alone; a
// caller in another account also needs its own policies to allow
// sts:AssumeRole on the role.
func EvaluateTrust(trust *Document, req Request) Result {
	if req.Action == "" {
		req.Action = "sts:AssumeRole"
	}
	return evaluate(req, Policies{Identity: []*Document{trust}}, "trust")
}

// EvaluateResource decides a request against a resource-based policy
// alone (a bucket, key or queue policy): whether it allows or denies
// req.Principal the action on req.Resource. Combine it with Evaluate for
// the caller's side: within one account either may allow (a deny in
// either wins); across accounts both must allow.
func EvaluateResource(doc *Document, req Request) Result {
	return evaluate(req, Policies{Identity: []*Document{doc}}, "resource")
}

// evaluate runs the evaluation; first names the first gate's policies in
// results ("identity" or "trust").
func evaluate(req Request, p Policies, first string) Result {
	ctx := newContext(req.Context)
	resource := req.Resource
	if resource == "" {
		resource = "*"
	}
	e := evaluator{req: req, resource: resource, ctx: ctx}

	type gate struct {
		name string
		docs []*Document
	}
	gates := []gate{{first, p.Identity}}
	if p.Boundary != nil {
		gates = append(gates, gate{"boundary", []*Document{p.Boundary}})
	}
	for i, d := range p.SCPs {
		gates = append(gates, gate{fmt.Sprintf("scp[%d]", i), []*Document{d}})
	}
	if rcpApplies(p.Catalog, req.Action) {
		for i, d := range p.RCPs {
			gates = append(gates, gate{fmt.Sprintf("rcp[%d]", i), []*Document{d}})
		}
	}

	var denies, maybeDenies, allows []StatementRef
	allow := yes
	var failed []string
	for _, g := range gates {
		gateAllow := no
		var gateAllows []StatementRef
		for i, d := range g.docs {
			name := g.name
			if g.name == "identity" {
				name = fmt.Sprintf("identity[%d]", i)
			}
			if d == nil {
				continue
			}
			for _, st := range d.Statements {
				m := e.match(d, st)
				if m == no {
					continue
				}
				ref := StatementRef{Policy: name, Index: st.Index, Sid: st.Sid, Effect: st.Effect, Conditional: m == maybe}
				switch {
				case st.Effect == Deny && m == yes:
					denies = append(denies, ref)
				case st.Effect == Deny:
					maybeDenies = append(maybeDenies, ref)
				default:
					gateAllow = or(gateAllow, m)
					gateAllows = append(gateAllows, ref)
				}
			}
		}
		if gateAllow == no {
			failed = append(failed, g.name)
		}
		allow = and(allow, gateAllow)
		// Report the unconditional allows when there are some: they decide.
		for _, r := range gateAllows {
			if gateAllow == maybe || !r.Conditional {
				allows = append(allows, r)
			}
		}
	}

	res := Result{MissingKeys: ctx.order}
	switch {
	case len(denies) > 0:
		res.Decision, res.Deciding = ExplicitDeny, denies
		res.Reason = "explicitly denied by " + joinRefs(denies)
		res.MissingKeys = nil
	case allow == no:
		res.Decision = ImplicitDeny
		res.Reason = "no statement allows it in " + describeGates(failed)
		res.MissingKeys = nil
	case allow == yes && len(maybeDenies) == 0:
		res.Decision, res.Deciding = Allowed, allows
		res.Reason = "allowed by " + joinRefs(allows)
		res.MissingKeys = nil
	default:
		res.Decision = AllowedUnderConditions
		res.Deciding = append(allows, maybeDenies...)
		var why []string
		if allow == maybe {
			why = append(why, "the allow depends on conditions")
		}
		if len(maybeDenies) > 0 {
			why = append(why, "a deny may apply ("+joinRefs(maybeDenies)+")")
		}
		res.Reason = strings.Join(why, " and ")
		if len(ctx.order) > 0 {
			res.Reason += "; context not given: " + strings.Join(ctx.order, ", ")
		}
	}
	return res
}

// rcpApplies reports whether RCPs govern the action's service.
func rcpApplies(cat *iamdata.Catalog, action string) bool {
	if cat == nil {
		return true
	}
	svc, _, _ := strings.Cut(action, ":")
	s, ok := cat.Service(svc)
	return !ok || s.RCP
}

func joinRefs(refs []StatementRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

func describeGates(failed []string) string {
	names := make([]string, len(failed))
	for i, f := range failed {
		switch {
		case f == "identity":
			names[i] = "the identity policies"
		case f == "trust":
			names[i] = "the trust policy"
		case f == "resource":
			names[i] = "the resource policy"
		case f == "boundary":
			names[i] = "the permissions boundary"
		default:
			names[i] = strings.ToUpper(f[:3]) + f[3:]
		}
	}
	return strings.Join(names, ", ")
}

type evaluator struct {
	req      Request
	resource string
	ctx      *context
}

// match decides whether one statement applies to the request.
func (e *evaluator) match(d *Document, st Statement) tri {
	var m tri
	if st.Action != nil {
		m = matchAny(st.Action, func(p string) tri { return boolTri(matchAction(p, e.req.Action)) })
	} else {
		m = matchAny(st.NotAction, func(p string) tri { return boolTri(matchAction(p, e.req.Action)) }).not()
	}
	if m == no {
		return no
	}
	switch {
	case st.Resource != nil:
		m = and(m, matchAny(st.Resource, func(p string) tri { return matchResource(p, e.resource, d.Version, e.ctx) }))
	case st.NotResource != nil:
		m = and(m, matchAny(st.NotResource, func(p string) tri { return matchResource(p, e.resource, d.Version, e.ctx) }).not())
	}
	if m == no {
		return no
	}
	switch {
	case st.Principal != nil:
		m = and(m, matchPrincipal(st.Principal, e.req.Principal))
	case st.NotPrincipal != nil:
		m = and(m, matchPrincipal(st.NotPrincipal, e.req.Principal).not())
	}
	if m == no {
		return no
	}
	return and(m, evalConditions(st.Conditions, d.Version, e.ctx))
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// Merge joins documents into one (the SCPs attached at one level of an
// organization: any of them may allow). Statement indexes restart in the
// result; Sids are kept.
func Merge(docs ...*Document) *Document {
	out := &Document{Version: Version2012}
	for _, d := range docs {
		if d == nil {
			continue
		}
		if d.Version != Version2012 {
			out.Version = d.Version
		}
		for _, st := range d.Statements {
			st.Index = len(out.Statements)
			out.Statements = append(out.Statements, st)
		}
	}
	return out
}
