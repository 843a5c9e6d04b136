package purchase

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/store"
)

// Open returns the account of one of the tenant's connections, reached
// through its role with its external ID; the connection must be verified
// and hold the commitments-purchase module.
func Open(ctx context.Context, st *store.Store, f *awsclient.Factory, tenant crossbill.TenantID, conn crossbill.ConnectionID) (Account, error) {
	t, err := st.TenantByID(ctx, tenant)
	if err != nil {
		return Account{}, err
	}
	c, err := st.TenantConnection(ctx, tenant, conn)
	if err != nil {
		return Account{}, err
	}
	if err := checkConnection(c); err != nil {
		return Account{}, err
	}
	target := awsclient.Target{Tenant: t.Name, Connection: c.ID, RoleARN: c.RoleARN, ExternalID: c.ExternalID}
	return Account{Config: func(region string) aws.Config { return f.Config(target, region) }}, nil
}

// Portfolio is the tenant's commitments with their use over a window:
// the CUR's view merged with what the APIs reported (fromAPI, may be nil).
type Portfolio struct {
	Commitments []commitments.Commitment
	Utilization map[string]float64 // by ARN
}

// ReadPortfolio reads the commitments of the window from the CUR, merges
// fromAPI and measures each one's utilization.
func ReadPortfolio(ctx context.Context, rd commitments.Reader, w commitments.Window, fromAPI []commitments.Commitment) (Portfolio, error) {
	fromCUR, err := commitments.FromCUR(ctx, rd, w)
	if err != nil {
		return Portfolio{}, err
	}
	rows, err := commitments.Utilization(ctx, rd, w, commitments.Daily)
	if err != nil {
		return Portfolio{}, err
	}
	p := Portfolio{Commitments: commitments.Merge(fromAPI, fromCUR), Utilization: map[string]float64{}}
	for _, s := range commitments.Summarize(rows, func(r commitments.UtilizationRow) string { return r.ARN }) {
		if s.Commitment > 0 {
			p.Utilization[s.Key] = s.Utilization
		}
	}
	return p, nil
}

// Renewals is the portfolio's renewals (see the Renewals function).
func (p Portfolio) Renewals(conn crossbill.ConnectionID, now time.Time) []Renewal {
	return Renewals(p.Commitments, p.Utilization, conn, now)
}

// Sales is the portfolio's Marketplace sale plans (see UnusedReservations).
func (p Portfolio) Sales(discount float64, now time.Time) ([]Sale, []string) {
	return UnusedReservations(p.Commitments, p.Utilization, discount, now)
}
