package manifest

import (
	"sort"
	"sync"
)

// PendingAction is a declared action no crossbill feature calls yet: it
// stays in the manifest (so reviewers see what is coming) but the templates
// do not grant it until the feature that calls it lands, and `make test`
// fails once a test calls it while it is still listed here.
type PendingAction struct {
	Module  Module `json:"module"`
	Action  string `json:"action"`
	Issue   string `json:"issue,omitempty"` // "#14"
	Feature string `json:"feature,omitempty"`
}

// pendingGroup lists the actions of one module that wait for one feature.
type pendingGroup struct {
	module  Module
	issue   string
	feature string
	actions []string
}

// pending is the list. When a feature lands, its test calls an action and
// `make test` asks for the action to be removed here (and the feature named
// in features.go): the list only shrinks.
var pending = []pendingGroup{}

// PendingActions returns the pending list, in ValidModules order then
// action.
func PendingActions() []PendingAction {
	return flattenPending(pending)
}

func flattenPending(groups []pendingGroup) []PendingAction {
	var out []PendingAction
	for _, g := range groups {
		for _, a := range g.actions {
			out = append(out, PendingAction{Module: g.module, Action: a, Issue: g.issue, Feature: g.feature})
		}
	}
	order := moduleOrder()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return order[out[i].Module] < order[out[j].Module]
		}
		return out[i].Action < out[j].Action
	})
	return out
}

type moduleAction struct {
	m Module
	a string
}

// pendingSet indexes list; pendingIndex is the package list's, built once.
func pendingSet(list []PendingAction) func() map[moduleAction]PendingAction {
	return func() map[moduleAction]PendingAction {
		out := map[moduleAction]PendingAction{}
		for _, p := range list {
			out[moduleAction{p.Module, p.Action}] = p
		}
		return out
	}
}

var pendingIndex = sync.OnceValue(pendingSet(PendingActions()))

// Pending reports whether p's action is pending in p's module, and for what.
func (p Permission) Pending() (PendingAction, bool) {
	pa, ok := pendingIndex()[moduleAction{p.Module, p.Action}]
	return pa, ok
}

// Granted returns the permissions of the given modules that the templates
// grant: ByModule without the pending actions.
func Granted(mods ...Module) []Permission {
	pend := pendingIndex()
	var out []Permission
	for _, p := range ByModule(mods...) {
		if _, ok := pend[moduleAction{p.Module, p.Action}]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// PendingOf returns the pending actions of module m.
func PendingOf(m Module) []PendingAction {
	var out []PendingAction
	for _, p := range PendingActions() {
		if p.Module == m {
			out = append(out, p)
		}
	}
	return out
}

func moduleOrder() map[Module]int {
	order := map[Module]int{}
	for i, m := range ValidModules() {
		order[m] = i
	}
	return order
}
