package purchase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

// TenantUsage is what a plan's expected figures are computed from: the
// tenant's eligible on-demand usage over a lookback window (read from
// the cost store with commitments.EligibleUsage) and the discount table.
type TenantUsage struct {
	Window commitments.Window
	Usage  []commitments.Usage
	Rates  *commitments.Rates
}

// UsageReader reads the tenant's usage for a plan; gross counts the usage
// existing commitments cover too (a renewal replaces one of them).
type UsageReader func(ctx context.Context, gross bool) (TenantUsage, error)

// noUsagePrefix starts every reason a plan's expectation is unknown.
const noUsagePrefix = "no usage to estimate from: "

// expect computes the plan's expected utilization, coverage and savings
// from the tenant's own usage, never from what the request claims; with
// no usage to estimate from it returns nil and the reason.
func (a Account) expect(ctx context.Context, p Plan) (*Expectation, string) {
	if a.Usage == nil {
		return nil, noUsagePrefix + "no cost data was read for this plan"
	}
	u, err := a.Usage(ctx, p.Kind == KindRenewal)
	if err != nil {
		return nil, noUsagePrefix + message(err)
	}
	s := commitments.Sizing{Type: p.Type, Term: p.TermYears, Payment: p.Payment, Region: p.Region, Family: p.Family,
		HourlyCommitment: p.HourlyCommitment, Count: p.Count}
	if !isSavingsPlan(p.Type) {
		s.InstanceType = p.InstanceType
		s.UnitHourly = p.Offering.FixedPrice/(8760*float64(p.TermYears)) + p.Offering.HourlyPrice
	}
	r, err := commitments.Expect(u.Usage, u.Rates, s)
	if err != nil {
		return nil, noUsagePrefix + message(err)
	}
	return &Expectation{Utilization: r.Utilization, Coverage: r.Coverage, MonthlySavings: r.MonthlySavings,
			Downside20: r.Downside20, Downside30: r.Downside30, BreakEvenMonth: r.BreakEvenMonth},
		fmt.Sprintf("computed by crossbill from the tenant's usage %s to %s", u.Window.Start.Format(time.DateOnly), u.Window.End.Format(time.DateOnly))
}

// message is an error's message without its operation prefix.
func message(err error) string {
	var e *crossbill.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// ReadUsage reads the tenant's usage over w (from its first hour of data
// when that is later) from the tenant's engine (rd) with
// the discount table layered as recommendations layer it: what the CLI
// and the API give Account.Usage.
func ReadUsage(ctx context.Context, rd commitments.Reader, w commitments.Window, src commitments.RateSources) (TenantUsage, error) {
	// A tenant with less history than the lookback is measured over what
	// it has: hours before its first bill are not hours without usage.
	first, err := commitments.DataStart(ctx, rd, w.Tenant)
	if err != nil {
		return TenantUsage{}, err
	}
	if first.After(w.Start) && first.Before(w.End) {
		w.Start = first
	}
	if err := commitments.CheckData(ctx, rd, w); err != nil {
		return TenantUsage{}, err
	}
	rates, err := commitments.LoadRates(ctx, rd, w, src)
	if err != nil {
		return TenantUsage{}, err
	}
	usage, err := commitments.EligibleUsage(ctx, rd, w)
	if err != nil {
		return TenantUsage{}, err
	}
	return TenantUsage{Window: w, Usage: usage, Rates: rates}, nil
}
