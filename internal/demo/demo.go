// Package demo prepares a self-contained crossbill for a first look, with
// no AWS account: a tenant with a synthetic organization's bills ingested,
// commitments to analyze, and the seed vendors' policies reviewed.
package demo

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// TenantName is the demo's tenant.
const TenantName = "demo"

// Options tune the demo data.
type Options struct {
	DataDir   string
	Accounts  int       // default 10
	Months    int       // default 3
	Start     time.Time // first billing month; default three months before the current one
	Seed      int64
	Resources int // resources per account; default 4 (the generator's smallest fleet)
	Progress  func(format string, args ...any)
	// Costs is the open cost store LoadCosts writes to.
	Costs *costs.Store
}

// Report says what Prepare did and how long each step took.
type Report struct {
	Tenant store.Tenant `json:"tenant"`
	Steps  []Step       `json:"steps"`
}

// Step is one timed preparation step.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	Skipped bool    `json:"skipped,omitempty"`
	Detail  string  `json:"detail,omitempty"`
}

// TokenName names the operator token each demo start prints.
const TokenName = "demo"

// OperatorToken makes the operator token a demo start prints, revoking the
// one of the previous start: only its hash is stored, so it cannot be shown
// again, and it must not stay valid forever once nobody knows it is there.
func OperatorToken(ctx context.Context, st *store.Store) (store.Secret, error) {
	if _, err := st.RevokeTokensNamed(ctx, "", TokenName); err != nil {
		return "", err
	}
	_, secret, err := st.CreateToken(ctx, "", TokenName, store.ScopeAdmin)
	return secret, err
}

// JobKind is the scheduler job that loads the demo's cost data.
const JobKind = "demo-data"

// Prepare makes the demo tenant and reviews the seed policies, skipping
// what an earlier run already made. Cost data is LoadCosts' job.
func Prepare(ctx context.Context, st *store.Store, o Options) (Report, error) {
	return run(ctx, st, o, quickSteps())
}

// LoadCosts generates the synthetic organization (once), ingests it into
// o.Costs for the demo tenant and computes recommendations.
func LoadCosts(ctx context.Context, st *store.Store, o Options) (Report, error) {
	if o.Costs == nil {
		return Report{}, crossbill.Errorf(crossbill.CodeInternal, "demo", "no cost store given")
	}
	return run(ctx, st, o, costSteps())
}

func run(ctx context.Context, st *store.Store, o Options, steps []step) (Report, error) {
	if o.Accounts == 0 {
		o.Accounts = 10
	}
	if o.Months == 0 {
		o.Months = 3
	}
	if o.Start.IsZero() {
		now := time.Now().UTC()
		o.Start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -o.Months, 0)
	}
	if o.Resources == 0 {
		o.Resources = 4
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	var rep Report
	t, err := st.TenantByName(ctx, TenantName)
	if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
		t, err = st.CreateTenant(ctx, TenantName)
	}
	if err != nil {
		return Report{}, err
	}
	rep.Tenant = t
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return Report{}, crossbill.Errorf(crossbill.CodeUnavailable, "demo", "interrupted: %w", err)
		}
		start := time.Now()
		o.Progress("demo: %s…", step.name)
		detail, skipped, err := step.run(ctx, st, t, o, &rep)
		if err != nil {
			return Report{}, err
		}
		s := Step{Name: step.name, Seconds: time.Since(start).Seconds(), Skipped: skipped, Detail: detail}
		rep.Steps = append(rep.Steps, s)
		if skipped {
			o.Progress("demo: %s: already done", step.name)
		} else {
			o.Progress("demo: %s: %s (%.1fs)", step.name, detail, s.Seconds)
		}
	}
	return rep, nil
}

type step struct {
	name string
	run  func(ctx context.Context, st *store.Store, t store.Tenant, o Options, rep *Report) (detail string, skipped bool, err error)
}
