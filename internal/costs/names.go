package costs

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
)

// AccountNamer gives the names of a tenant's AWS accounts as its
// organizations list them (the members crossbill recorded through
// Organizations): *store.Store.
type AccountNamer interface {
	AccountNames(ctx context.Context, tenant crossbill.TenantID) (map[crossbill.AccountID]string, error)
}

// QueryNamed is Query with the account groups of the answer named
// (Result.Names) from the tenant's organizations, so that the CLI, the API
// and the web UI show "prod (111122223333)" rather than a bare ID. A nil
// namer names nothing.
func (s *Store) QueryNamed(ctx context.Context, q Query, namer AccountNamer) (Result, error) {
	res, err := s.Query(ctx, q)
	if err != nil {
		return res, err
	}
	return NameAccounts(ctx, res, q, namer)
}

// NameAccounts names the account groups of res, an answer to q, as
// QueryNamed does: the answers of every query engine are named alike.
func NameAccounts(ctx context.Context, res Result, q Query, namer AccountNamer) (Result, error) {
	if namer == nil || q.GroupBy.Kind != DimAccount {
		return res, nil
	}
	names, err := namer.AccountNames(ctx, q.Tenant)
	if err != nil {
		return Result{}, err
	}
	for _, t := range res.Totals {
		if n := names[crossbill.AccountID(t.Group)]; n != "" {
			if res.Names == nil {
				res.Names = map[string]string{}
			}
			res.Names[t.Group] = n
		}
	}
	return res, nil
}

// Label is a group as shown to a person: "name (group)" when the group has
// a name, else the group.
func (r Result) Label(group string) string { return label(r.Names, group) }

func label(names map[string]string, group string) string {
	if n := names[group]; n != "" {
		return n + " (" + group + ")"
	}
	return group
}

// MonthOverMonthNamed is MonthOverMonth with the account groups named
// (MoM.Names) as QueryNamed names them. A nil namer names nothing.
func (s *Store) MonthOverMonthNamed(ctx context.Context, q Query, month time.Time, namer AccountNamer) (MoM, error) {
	m, err := s.MonthOverMonth(ctx, q, month)
	if err != nil {
		return m, err
	}
	return NameMoM(ctx, m, q, namer)
}

// NameMoM names the account groups of m, a comparison by q.GroupBy, as
// MonthOverMonthNamed does, whichever engine computed it.
func NameMoM(ctx context.Context, m MoM, q Query, namer AccountNamer) (MoM, error) {
	if namer == nil || q.GroupBy.Kind != DimAccount {
		return m, nil
	}
	names, err := namer.AccountNames(ctx, q.Tenant)
	if err != nil {
		return MoM{}, err
	}
	for _, c := range m.Changes {
		if n := names[crossbill.AccountID(c.Group)]; n != "" {
			if m.Names == nil {
				m.Names = map[string]string{}
			}
			m.Names[c.Group] = n
		}
	}
	return m, nil
}

// AnomaliesNamed is Anomalies with the anomalies of account groups named
// (Anomaly.Name). A nil namer names nothing.
func (s *Store) AnomaliesNamed(ctx context.Context, o AnomalyOptions, namer AccountNamer) ([]Anomaly, error) {
	as, err := s.Anomalies(ctx, o)
	if err != nil {
		return as, err
	}
	return NameAnomalies(ctx, as, o.Tenant, namer)
}

// NameAnomalies names the account anomalies of as as AnomaliesNamed does.
func NameAnomalies(ctx context.Context, as []Anomaly, tenant crossbill.TenantID, namer AccountNamer) ([]Anomaly, error) {
	if namer == nil || len(as) == 0 {
		return as, nil
	}
	names, err := namer.AccountNames(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].Dim == DimAccount {
			as[i].Name = names[crossbill.AccountID(as[i].Group)]
		}
	}
	return as, nil
}
