package automation

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Apply validates a policy file and keeps it as the tenant's policies,
// which the server runs on their schedules (events policies also on each
// event).
func Apply(ctx context.Context, st *store.Store, tenant crossbill.TenantID, src []byte, by string) ([]Policy, error) {
	ps, err := Parse(src)
	if err != nil {
		return nil, err
	}
	if err := st.SetAutomationFile(ctx, tenant, string(src), by); err != nil {
		return nil, err
	}
	return ps, nil
}

// Applied is the tenant's policy file and its parsed policies.
func Applied(ctx context.Context, st *store.Store, tenant crossbill.TenantID) (store.AutomationFile, []Policy, error) {
	f, err := st.AutomationFile(ctx, tenant)
	if err != nil {
		return f, nil, err
	}
	ps, err := Parse([]byte(f.Source))
	return f, ps, err
}

// every is how often a schedule runs.
func every(schedule string) time.Duration {
	switch schedule {
	case "hourly":
		return time.Hour
	case "weekly":
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// RunDue runs the tenant's applied policies that are due (their schedule
// elapsed since their last run), and its events policies whenever
// onEvent (a new event came: their notifications are deduplicated per
// event, so running again is harmless), and records the runs.
func RunDue(ctx context.Context, st *store.Store, tenant crossbill.TenantID, src Sources, onEvent bool) (Report, error) {
	f, ps, err := Applied(ctx, st, tenant)
	if err != nil {
		return Report{}, err
	}
	now := st.Now()
	var due []Policy
	for _, p := range ps {
		last, ran := f.LastRuns[p.Name]
		if !ran || now.Sub(last) >= every(p.Schedule) || onEvent && p.Resource == ResourceEvents {
			due = append(due, p)
		}
	}
	rep, err := Run(ctx, st, tenant, due, src, false)
	if err != nil {
		return Report{}, err
	}
	runs := map[string]time.Time{}
	for _, p := range ps {
		if t, ok := f.LastRuns[p.Name]; ok {
			runs[p.Name] = t
		}
	}
	for _, p := range due {
		runs[p.Name] = now
	}
	return rep, st.RecordAutomationRuns(ctx, tenant, runs)
}
