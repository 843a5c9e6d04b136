package review

import (
	"fmt"
	"strings"

	"github.com/crossbill/crossbill/internal/wildcard"
)

// What the vendor can reach. A role only the account's own Lambda code
// assumes, running code written in the template, is not the vendor's
// access; a role the vendor assumes, a function whose package the vendor
// ships, or a function the vendor may invoke is.

// lambdaDrivers are the actions that make a function run, or run other
// code, with its role: whoever holds them on the function holds the role's
// permissions.
var lambdaDrivers = []string{"lambda:invokefunction", "lambda:invokefunctionurl", "lambda:updatefunctioncode", "lambda:updatefunctionconfiguration"}

// policyWriters let a function change IAM permissions.
var policyWriters = []string{"iam:attachrolepolicy", "iam:putrolepolicy", "iam:createpolicy", "iam:createpolicyversion", "iam:attachuserpolicy", "iam:putuserpolicy", "iam:updateassumerolepolicy"}

// reach decides which identities the vendor can use, lowers the findings of
// the others by one level, and reports what the vendor can trigger.
func (a *analyzer) reach(ids []*analyzed, inv *inventory) {
	byID := map[*identity]*analyzed{}
	for _, x := range ids {
		byID[x.id] = x
	}
	roleOf := func(fn *function) *analyzed {
		if id, ok := inv.Local[fn.Role]; ok {
			return byID[id]
		}
		return nil
	}
	usedBy := map[*analyzed][]*function{}
	for _, fn := range inv.Functions {
		if r := roleOf(fn); r != nil {
			usedBy[r] = append(usedBy[r], fn)
		}
	}
	for changed := true; changed; {
		changed = false
		for _, x := range ids {
			if !x.vendor && a.reachable(x, usedBy[x], byID, inv, ids) {
				x.vendor, changed = true, true
			}
		}
	}
	for _, x := range ids {
		if x.vendor {
			continue
		}
		for i := range a.findings {
			f := &a.findings[i]
			if f.Identity != x.label || strings.HasPrefix(f.ID, "template/") || f.Severity.Rank() < SeverityLow.Rank() {
				continue
			}
			f.Severity = f.Severity.lower()
			f.Why += " Only the account's own code can use this " + x.id.Kind + " (no vendor principal, no vendor code, no vendor trigger), so this is rated one level lower than the same grant to the vendor."
		}
	}
	for _, fn := range inv.Functions {
		role := roleOf(fn)
		if role == nil {
			continue
		}
		if fn.Inline != "" && fetchesAtRuntime(fn.Inline) {
			var writers []string
			for _, k := range policyWriters {
				if h, ok := role.held[k]; ok {
					writers = append(writers, h.action.String())
				}
			}
			if len(writers) > 0 {
				a.add(Finding{ID: "template/runtime-permissions", Severity: SeverityHigh, Title: "Permissions decided at deploy time, not in the template", Identity: "function " + fn.Name, Actions: writers, Location: fn.Where,
					Why: "The function downloads something when it runs and its role may write IAM policies (" + strings.Join(writers, ", ") + "): what the vendor ends up allowed is whatever the download says on the day of deployment, which this review cannot see. Ask for the permission list as a policy in the template."})
			}
		}
		highest := Severity("")
		for _, f := range a.findings {
			if f.Identity == role.label {
				highest = maxSeverity(highest, f.Severity)
			}
		}
		if highest.Rank() < SeverityLow.Rank() {
			continue
		}
		for _, x := range ids {
			if !x.vendor || x == role {
				continue
			}
			if hs := a.drives(x, fn); len(hs) > 0 {
				a.add(Finding{ID: "escalation/invoke-function", Severity: highest, Title: "The vendor can run function " + fn.Name + " with the permissions of " + role.label, Identity: x.label,
					Actions: actionNames(hs), Resources: a.describeScopes(hs), Scoped: true, Location: firstLocation(hs),
					Why: fmt.Sprintf("%s lets the vendor run %s, which acts with %s's permissions (highest finding there: %s); invoking a function is using its role.", strings.Join(actionNames(hs), ", "), fn.Name, role.label, highest)})
			}
		}
	}
}

// reachable reports whether the vendor can use x, given what is known so far.
func (a *analyzer) reachable(x *analyzed, fns []*function, byID map[*identity]*analyzed, inv *inventory, ids []*analyzed) bool {
	if x.id.Kind != kindRole {
		return true // users, groups, standalone and resource policies
	}
	if x.id.Service == "" && len(x.trusted) == 0 {
		return true // trust not seen or not readable: assume the worst
	}
	for _, fn := range fns {
		if fn.Inline == "" {
			return true // the vendor's package runs with this role
		}
		for _, y := range ids {
			if y.vendor && y != x && len(a.drives(y, fn)) > 0 {
				return true
			}
		}
	}
	for _, p := range x.trusted {
		switch {
		case p.Kind == "same-template":
			if y := byID[inv.Local[p.Value]]; y != nil && y.vendor {
				return true
			}
		case p.Kind == "service":
			// Compute other than Lambda runs code the template does not
			// show (instances, tasks): count it as the vendor's.
			if !strings.EqualFold(p.Value, "lambda.amazonaws.com") && ownCompute(p.Value) {
				return true
			}
		case strings.Contains(p.Value, "${AWS::AccountId}"):
		default:
			return true
		}
	}
	return false
}

func ownCompute(service string) bool {
	switch strings.ToLower(service) {
	case "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "eks.amazonaws.com", "batch.amazonaws.com", "codebuild.amazonaws.com", "build.apprunner.amazonaws.com", "tasks.apprunner.amazonaws.com", "pods.eks.amazonaws.com":
		return true
	}
	return false
}

// drives returns x's grants that let it run fn.
func (a *analyzer) drives(x *analyzed, fn *function) []*held {
	var out []*held
	for _, k := range lambdaDrivers {
		h, ok := x.held[k]
		if !ok {
			continue
		}
	refs:
		for _, r := range h.refs {
			if len(r.scope.Resources) == 0 {
				out = append(out, h)
				break
			}
			for _, res := range r.scope.Resources {
				for _, arn := range fn.ARNs {
					if res == arn || wildcard.Match(arnPattern(res), arn, false) {
						out = append(out, h)
						break refs
					}
				}
			}
		}
	}
	return out
}

// serviceTokens reports custom resources served from another account.
func (a *analyzer) serviceTokens(ts []serviceToken) {
	for _, t := range ts {
		who := "account " + t.Account
		if v, ok := a.known.Lookup(t.Account); ok {
			who = v + " (account " + t.Account + ")"
		}
		a.add(Finding{ID: "custom-resource/external-service-token", Severity: SeverityMedium, Title: "Custom resource runs in another account", Identity: "custom resource " + t.Resource, Resources: []string{t.Token}, Location: t.Where,
			Why: "CloudFormation sends this resource's properties (role ARNs, external IDs, whatever the template passes) to " + who + " on every create, update and delete, and its code's answer decides the stack's outputs; what that code does is not in the input."})
	}
}
