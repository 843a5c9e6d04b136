package manifest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Exercised is what a test suite's crossbill code called: SDK operations
// ("s3:ListObjectsV2") and how each was answered.
type Exercised map[string]Outcomes

// Outcomes says how the calls of one operation were answered.
type Outcomes struct {
	// Sent: at least one call reached an HTTP server (moto, a fault proxy)
	// and got an answer, an error included.
	Sent bool
	// Stubbed: at least one call was answered inside the SDK (a stub for
	// what moto cannot serve) or got no answer at all.
	Stubbed bool
	// HubOnly: every call was signed with the hub's own credentials, none
	// through a customer role (or a test's own configuration).
	HubOnly bool
}

func (o Outcomes) merge(p Outcomes, first bool) Outcomes {
	if first {
		return p
	}
	return Outcomes{Sent: o.Sent || p.Sent, Stubbed: o.Stubbed || p.Stubbed, HubOnly: o.HubOnly && p.HubOnly}
}

// ReadExercised reads the files the processes of a test run wrote to dir
// (awsclient.EnvRecordOps): lines of "<operation>\t<sent|stubbed>\t<role|hub|test>".
func ReadExercised(dir string) (Exercised, error) {
	files, err := filepath.Glob(filepath.Join(dir, "ops-*.tsv"))
	if err != nil {
		return nil, err
	}
	ex := Exercised{}
	for _, name := range files {
		if err := readOpsFile(name, ex); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

func readOpsFile(name string, ex Exercised) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 || !strings.Contains(f[0], ":") || (f[1] != "sent" && f[1] != "stubbed") || (f[2] != "role" && f[2] != "hub" && f[2] != "test") {
			return fmt.Errorf("%s:%d: want <operation>\\t<sent|stubbed>\\t<role|hub|test>, got %q", name, n, sc.Text())
		}
		o, seen := ex[f[0]]
		ex[f[0]] = o.merge(Outcomes{Sent: f[1] == "sent", Stubbed: f[1] == "stubbed", HubOnly: f[2] == "hub"}, !seen)
	}
	return sc.Err()
}

// exercises reports whether ex holds a call that needs p's action.
func (ex Exercised) exercises(p Permission) (Outcomes, bool) {
	var got Outcomes
	found := false
	for _, c := range append([]string{p.Action}, p.Calls...) {
		if o, ok := ex[c]; ok {
			got = got.merge(o, !found)
			found = true
		}
	}
	return got, found
}

// ModuleUsage counts one module's declared actions (distinct action names;
// an action on two statements counts once).
type ModuleUsage struct {
	Module   Module
	Declared int
	// Exercised actions were called by the suite; StubbedOnly of them only
	// ever reached a stub (moto cannot serve them).
	Exercised   int
	StubbedOnly int
	Pending     int
}

// UsageReport compares a suite's calls with the manifest in the direction
// the middleware test does not: every declared action must be called.
type UsageReport struct {
	Modules []ModuleUsage
	// Unused are granted actions no test called.
	Unused []ActionRef
	// PendingUsed are pending actions a test called: their feature has
	// landed, so they belong in the templates now.
	PendingUsed []PendingAction
	// HubOnly are granted actions the suite called only with the hub's own
	// credentials: the customer's grant is not what they used (a note, not
	// a failure: some are meant to, like the public Price List).
	HubOnly []ActionRef
}

// ActionRef names one module's action.
type ActionRef struct {
	Module Module
	Action string
}

// CheckUsage compares ex with the customer modules' declared actions (the
// CUR stack's Athena option's included) and the pending list.
func CheckUsage(ex Exercised) UsageReport {
	return checkUsage(append(All(), CURAthena()...), PendingActions(), ex)
}

func checkUsage(perms []Permission, pending []PendingAction, ex Exercised) UsageReport {
	var r UsageReport
	pend := pendingSet(pending)()
	type key = moduleAction
	// A call does not say which module's statement allowed it: a pending
	// action that another module grants is not reported as used.
	grantedSomewhere := map[string]bool{}
	for _, p := range perms {
		if _, ok := pend[key{p.Module, p.Action}]; !ok {
			grantedSomewhere[p.Action] = true
		}
	}
	seen := map[key]bool{}
	counts := map[Module]*ModuleUsage{}
	var order []Module
	for _, p := range perms {
		if p.NoPermission || p.OnBehalf {
			continue
		}
		k := key{p.Module, p.Action}
		// Statements of one action are one action: any of them exercised
		// counts for all (a call does not say which statement allowed it).
		if seen[k] {
			continue
		}
		seen[k] = true
		var o Outcomes
		used := false
		for _, q := range perms {
			if q.Module == p.Module && q.Action == p.Action {
				if qo, ok := ex.exercises(q); ok {
					o = o.merge(qo, !used)
					used = true
				}
			}
		}
		mu := counts[p.Module]
		if mu == nil {
			mu = &ModuleUsage{Module: p.Module}
			counts[p.Module] = mu
			order = append(order, p.Module)
		}
		mu.Declared++
		if used {
			mu.Exercised++
			if !o.Sent {
				mu.StubbedOnly++
			}
			if o.HubOnly {
				r.HubOnly = append(r.HubOnly, ActionRef{Module: p.Module, Action: p.Action})
			}
		}
		pa, isPending := pend[k]
		switch {
		case isPending:
			mu.Pending++
			if used && !grantedSomewhere[p.Action] {
				r.PendingUsed = append(r.PendingUsed, pa)
			}
		case !used:
			r.Unused = append(r.Unused, ActionRef{Module: p.Module, Action: p.Action})
		}
	}
	for _, m := range order {
		r.Modules = append(r.Modules, *counts[m])
	}
	return r
}

// Problems are the report's failures, each saying what to do; none means
// the manifest asks for exactly what the tested code calls.
func (r UsageReport) Problems() []string {
	var out []string
	for _, u := range r.Unused {
		out = append(out, fmt.Sprintf("%s (module %s) is declared but no test calls it: exercise it in an integration test (moto, or a stub where moto cannot serve it), or add it to the pending list in internal/manifest/pending.go with the issue that will use it (it then leaves the templates until that lands)", u.Action, u.Module))
	}
	for _, p := range r.PendingUsed {
		out = append(out, fmt.Sprintf("%s (module %s) is pending for %s (%s) but a test calls it: remove it from internal/manifest/pending.go so the templates grant it, and name the feature in internal/manifest/features.go", p.Action, p.Module, p.Issue, p.Feature))
	}
	sort.Strings(out)
	return out
}

// Summary is one line per module: declared, exercised, pending.
func (r UsageReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %8s %9s %12s %7s\n", "module", "declared", "exercised", "stubbed-only", "pending")
	for _, m := range r.Modules {
		fmt.Fprintf(&b, "%-12s %8d %9d %12d %7d\n", m.Module, m.Declared, m.Exercised, m.StubbedOnly, m.Pending)
	}
	for _, h := range r.HubOnly {
		fmt.Fprintf(&b, "note: %s (module %s) was called only with the hub's own credentials, never through a customer role\n", h.Action, h.Module)
	}
	return b.String()
}
