package access

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
	"github.com/crossbill/crossbill/internal/store"
)

// The read use cases below are what the CLI, the API and the web UI call:
// each loads the newest sync of the tenant's connection (connID, or its one
// connection with access-read) and answers from it.

// View is the sync an answer comes from.
type View struct {
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	SyncID       string                 `json:"sync_id"`
	TakenAt      time.Time              `json:"taken_at"`
	Errors       []CollectError         `json:"errors"` // what that sync could not read
}

func load(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID) (*Model, View, error) {
	conn, err := ConnectionFor(ctx, st, tenant, connID)
	if err != nil {
		return nil, View{}, err
	}
	m, sync, err := Load(ctx, st, tenant, conn.ID)
	if err != nil {
		return nil, View{}, err
	}
	v := View{ConnectionID: conn.ID, SyncID: sync.ID, TakenAt: m.Snapshot.TakenAt, Errors: m.Snapshot.Errors}
	if v.Errors == nil {
		v.Errors = []CollectError{}
	}
	return m, v, nil
}

// PrincipalFilter narrows a principal list; zero values match all.
type PrincipalFilter struct {
	Kind    string
	Account crossbill.AccountID
	Admin   bool   // only admin-equivalent principals
	Search  string // case-insensitive part of the name or ID
}

// PrincipalList is the answer of Principals.
type PrincipalList struct {
	View
	Principals []Principal `json:"principals"`
}

// Principals lists the principals of the newest sync.
func Principals(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID, f PrincipalFilter) (PrincipalList, error) {
	m, v, err := load(ctx, st, tenant, connID)
	if err != nil {
		return PrincipalList{}, err
	}
	m.markAdmins()
	out := PrincipalList{View: v, Principals: []Principal{}}
	search := strings.ToLower(f.Search)
	for _, p := range m.Principals {
		if (f.Kind != "" && p.Kind != f.Kind) || (f.Account != "" && p.Account != f.Account) || (f.Admin && !p.Admin) ||
			(search != "" && !strings.Contains(strings.ToLower(p.Name+" "+p.ID), search)) {
			continue
		}
		out.Principals = append(out.Principals, p)
	}
	slices.SortFunc(out.Principals, func(a, b Principal) int {
		return strings.Compare(string(a.Account)+a.Kind+a.Name+a.ID, string(b.Account)+b.Kind+b.Name+b.ID)
	})
	return out, nil
}

// markAdmins sets Principal.Admin for every principal admin-equivalent
// through some path.
func (m *Model) markAdmins() {
	for i := range m.actors {
		if !m.Principals[m.actors[i].principal].Admin && m.adminOf(&m.actors[i]) {
			m.Principals[m.actors[i].principal].Admin = true
		}
	}
}

// PrincipalDetail is the answer of Show.
type PrincipalDetail struct {
	View
	PrincipalView
}

// ShowPrincipal is one principal's grants with their paths, its effective
// permissions per account and service, and its findings.
func ShowPrincipal(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID, ref string, t Thresholds) (PrincipalDetail, error) {
	m, v, err := load(ctx, st, tenant, connID)
	if err != nil {
		return PrincipalDetail{}, err
	}
	cat, err := iamdata.Load()
	if err != nil {
		return PrincipalDetail{}, err
	}
	fs, err := m.Findings(t)
	if err != nil {
		return PrincipalDetail{}, err
	}
	pv, err := m.Show(ref, cat, fs)
	if err != nil {
		return PrincipalDetail{}, err
	}
	return PrincipalDetail{View: v, PrincipalView: pv}, nil
}

// WhoCanResult is the answer of WhoCanDo.
type WhoCanResult struct {
	View
	Action   string   `json:"action"`
	Resource string   `json:"resource,omitempty"`
	Answers  []Answer `json:"answers"`
}

// WhoCanDo answers who may call action (on resource) across the
// organization, with the path of each answer.
func WhoCanDo(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID, action, resource string) (WhoCanResult, error) {
	m, v, err := load(ctx, st, tenant, connID)
	if err != nil {
		return WhoCanResult{}, err
	}
	as, err := m.WhoCan(action, resource)
	if err != nil {
		return WhoCanResult{}, err
	}
	return WhoCanResult{View: v, Action: action, Resource: resource, Answers: as}, nil
}

// FindingList is the answer of FindingsFor.
type FindingList struct {
	View
	Findings []Finding `json:"findings"`
}

// FindingsFor lists the findings of the newest sync at or above min
// severity ("" for all).
func FindingsFor(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID, t Thresholds, min policy.Severity) (FindingList, error) {
	if min != "" && min.Rank() < 0 {
		return FindingList{}, crossbill.Errorf(crossbill.CodeInvalid, "access findings", "severity %q: use info, low, medium, high or critical", min)
	}
	m, v, err := load(ctx, st, tenant, connID)
	if err != nil {
		return FindingList{}, err
	}
	fs, err := m.Findings(t)
	if err != nil {
		return FindingList{}, err
	}
	out := FindingList{View: v, Findings: []Finding{}}
	for _, f := range fs {
		if f.Severity.Rank() >= min.Rank() {
			out.Findings = append(out.Findings, f)
		}
	}
	return out, nil
}

// ChangeList is the answer of ChangesSince.
type ChangeList struct {
	Since   time.Time            `json:"since"`
	Changes []store.AccessChange `json:"changes"`
}

// ChangesSince lists what the syncs since a time found changed.
func ChangesSince(ctx context.Context, st *store.Store, tenant crossbill.TenantID, connID crossbill.ConnectionID, since time.Time) (ChangeList, error) {
	conn, err := ConnectionFor(ctx, st, tenant, connID)
	if err != nil {
		return ChangeList{}, err
	}
	ch, err := st.AccessChanges(ctx, tenant, conn.ID, since)
	if err != nil {
		return ChangeList{}, err
	}
	return ChangeList{Since: since.UTC(), Changes: ch}, nil
}
