package access

import (
	"slices"
	"strings"

	"github.com/crossbill/crossbill/internal/store"
)

// Change kinds.
const (
	ChangeGained       = "gained"
	ChangeLost         = "lost"
	ChangeOutsideTrust = "new-outside-trust"
)

// Diff lists what changed from old to cur: entitlements gained and lost
// (with the path), and roles newly trusting an outside account.
func Diff(old, cur *Model) []store.AccessChange {
	key := func(g Grant) string {
		return g.Principal + "\x00" + string(g.Account) + "\x00" + g.Kind + "\x00" + g.Entitlement + "\x00" + strings.Join(g.Path, "\x00")
	}
	before, after := map[string]Grant{}, map[string]Grant{}
	for _, g := range old.Grants {
		before[key(g)] = g
	}
	for _, g := range cur.Grants {
		after[key(g)] = g
	}
	out := []store.AccessChange{}
	add := func(kind string, g Grant) {
		out = append(out, store.AccessChange{Kind: kind, Principal: g.Principal, Account: g.Account, Entitlement: g.Kind + ":" + g.Entitlement,
			Detail: strings.Join(g.Path, " → ")})
	}
	for k, g := range after {
		if _, ok := before[k]; !ok {
			add(ChangeGained, g)
		}
	}
	for k, g := range before {
		if _, ok := after[k]; !ok {
			add(ChangeLost, g)
		}
	}
	was := old.outsideTrusts()
	for k, c := range cur.outsideTrusts() {
		if _, ok := was[k]; !ok {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.AccessChange) int {
		return strings.Compare(a.Kind+a.Principal+string(a.Account)+a.Entitlement+a.Detail, b.Kind+b.Principal+string(b.Account)+b.Entitlement+b.Detail)
	})
	return out
}

// outsideTrusts are the (role, outside account) pairs of the model.
func (m *Model) outsideTrusts() map[string]store.AccessChange {
	out := map[string]store.AccessChange{}
	for _, a := range m.Snapshot.Accounts {
		for _, r := range a.Roles {
			for _, f := range m.trustFindings(a, r) {
				acct := f.OutsideAccount
				out[r.ARN+"\x00"+acct] = store.AccessChange{Kind: ChangeOutsideTrust, Principal: r.ARN, Account: a.ID,
					Entitlement: "trust:" + acct, Detail: f.Evidence}
			}
		}
	}
	return out
}
