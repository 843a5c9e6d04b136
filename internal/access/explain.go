package access

import (
	"fmt"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/policy"
)

// Denial names the organization policy, and the statement of it, that
// denies an action in an account.
type Denial struct {
	PolicyID   string `json:"policy_id"`
	PolicyName string `json:"policy_name"`
	Type       string `json:"type"`   // SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY
	Target     string `json:"target"` // the root, OU or account it is attached to
	// Statement is the index of the denying statement (-1 when no
	// statement denies but no policy of the level allows); Sid its Sid.
	Statement int    `json:"statement"`
	Sid       string `json:"sid,omitempty"`
	Text      string `json:"text"`
}

// allowAll stands for the identity side: only the organization's
// policies are judged.
var allowAll = func() *policy.Document {
	d, _ := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	return d
}()

// ExplainDeny says which SCP or RCP of the model's organization denies
// action on resource ("" for "*") in account: the first policy, from the
// root down to the account, with a statement that explicitly denies it,
// or else the first level where no attached policy allows it. False when
// the organization's policies allow it (the deny is elsewhere) or were not
// read; the management account is exempt from both.
func (m *Model) ExplainDeny(account crossbill.AccountID, action, resource string) (Denial, bool) {
	var a *Account
	for i := range m.Snapshot.Accounts {
		if m.Snapshot.Accounts[i].ID == account {
			a = &m.Snapshot.Accounts[i]
		}
	}
	if a == nil || a.ID == m.Snapshot.ManagementAccount || len(a.Ancestors) == 0 {
		return Denial{}, false
	}
	req := policy.Request{Action: action, Resource: resource}
	levels := append(append([]string{}, a.Ancestors...), string(a.ID))
	var implicit *Denial
	for _, typ := range []string{TypeSCP, TypeRCP} {
		for _, target := range levels {
			attached, allows := 0, false
			for _, p := range m.Snapshot.OrgPolicies {
				if p.Type != typ || !targets(p, target) {
					continue
				}
				d := m.doc(p.Name, p.Document)
				if d == nil {
					continue
				}
				attached++
				pols := policy.Policies{Identity: []*policy.Document{allowAll}, SCPs: []*policy.Document{d}}
				if typ == TypeRCP {
					pols = policy.Policies{Identity: []*policy.Document{allowAll}, RCPs: []*policy.Document{d}}
				}
				res := policy.Evaluate(req, pols)
				switch res.Decision {
				case policy.ExplicitDeny:
					for _, ref := range res.Deciding {
						if ref.Effect == policy.Deny {
							return denial(p, target, ref.Index, ref.Sid, action), true
						}
					}
				case policy.Allowed, policy.AllowedUnderConditions:
					allows = true
				}
			}
			if attached > 0 && !allows && implicit == nil {
				var names []string
				for _, p := range m.Snapshot.OrgPolicies {
					if p.Type == typ && targets(p, target) {
						names = append(names, p.Name)
					}
				}
				dn := Denial{Type: typ, Target: target, Statement: -1,
					Text: fmt.Sprintf("no %s attached to %s allows %s (attached: %v): add an Allow for it there", kindName(typ), target, action, names)}
				implicit = &dn
			}
		}
	}
	if implicit != nil {
		return *implicit, true
	}
	return Denial{}, false
}

func targets(p OrgPolicy, target string) bool {
	for _, t := range p.Targets {
		if t == target {
			return true
		}
	}
	return false
}

func kindName(typ string) string {
	if typ == TypeRCP {
		return "resource control policy"
	}
	return "service control policy"
}

func denial(p OrgPolicy, target string, index int, sid, action string) Denial {
	st := fmt.Sprintf("Statement[%d]", index)
	if sid != "" {
		st += fmt.Sprintf(" (Sid %q)", sid)
	}
	return Denial{PolicyID: p.ID, PolicyName: p.Name, Type: p.Type, Target: target, Statement: index, Sid: sid,
		Text: fmt.Sprintf("%s %q (%s), attached to %s, denies %s in %s: ask the organization's administrators to exempt crossbill's role from it (a Condition on aws:PrincipalArn) or to detach it",
			kindName(p.Type), p.Name, p.ID, target, action, st)}
}
