package purchase

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Guardrails are a tenant's limits on new commitments; 0 is no limit.
type Guardrails = store.PurchaseGuardrails

// SetGuardrails validates and replaces a tenant's guardrails.
func SetGuardrails(ctx context.Context, st *store.Store, tenant crossbill.TenantID, g Guardrails, by store.AuditEntry) (Guardrails, error) {
	const op = "purchase guardrails"
	for name, v := range map[string]float64{"max hourly commitment per month": g.MaxHourlyPerMonth, "max upfront": g.MaxUpfront, "min expected utilization": g.MinUtilization} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return Guardrails{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s is %v: use a positive number, or 0 for no limit", name, v)
		}
	}
	if g.MinUtilization > 1 {
		return Guardrails{}, crossbill.Errorf(crossbill.CodeInvalid, op, "min expected utilization is %v: it is a fraction between 0 and 1 (0.9 for 90%%)", g.MinUtilization)
	}
	return st.SetPurchaseGuardrails(ctx, tenant, g, by)
}

// GetGuardrails returns a tenant's guardrails.
func GetGuardrails(ctx context.Context, st *store.Store, tenant crossbill.TenantID) (Guardrails, error) {
	return st.PurchaseGuardrails(ctx, tenant)
}

// live are plan states whose commitments count against the monthly limit.
var live = map[string]bool{StatePending: true, StateApproved: true, StateExecuting: true, StateDone: true}

// checkGuardrails refuses plan (whose ID is self, "" while a draft) when
// it breaks one of the tenant's guardrails, saying which and by how much.
// The monthly limit counts the tranches of the tenant's other live plans
// that start in the same calendar month.
func checkGuardrails(ctx context.Context, st *store.Store, tenant crossbill.TenantID, plan Plan, self string) error {
	const op = "purchase guardrails"
	g, err := st.PurchaseGuardrails(ctx, tenant)
	if err != nil {
		return err
	}
	if plan.Kind == KindSale {
		return nil // selling lowers commitment
	}
	var refusals []string
	if g.MaxUpfront > 0 && plan.Upfront > g.MaxUpfront+1e-9 {
		refusals = append(refusals, fmt.Sprintf("its upfront payment of $%.2f is over the tenant's maximum of $%.2f", plan.Upfront, g.MaxUpfront))
	}
	if g.MinUtilization > 0 {
		switch {
		case plan.Expected == nil:
			refusals = append(refusals, fmt.Sprintf("its expected utilization is unknown (%s) and the tenant requires at least %.0f%%: ingest the account's CUR, or plan what its usage can fill",
				firstNonEmpty(plan.ExpectedBasis, "no usage to estimate from"), g.MinUtilization*100))
		case plan.Expected.Utilization+1e-9 < g.MinUtilization:
			refusals = append(refusals, fmt.Sprintf("its expected utilization of %.1f%% is below the tenant's minimum of %.0f%%", plan.Expected.Utilization*100, g.MinUtilization*100))
		}
	}
	if g.MaxHourlyPerMonth > 0 {
		perMonth := map[string]float64{}
		for _, t := range plan.Ladder {
			perMonth[t.Due.Format("2006-01")] += t.HourlyEquivalent
		}
		others, err := st.PurchasePlans(ctx, tenant)
		if err != nil {
			return err
		}
		booked := map[string]float64{}
		for _, o := range others {
			if o.ID == self || !live[o.State] {
				continue
			}
			var p Plan
			if err := json.Unmarshal(o.Spec, &p); err != nil {
				return crossbill.Errorf(crossbill.CodeInternal, op, "plan %s: %w", o.ID, err)
			}
			for i, t := range p.Ladder {
				if i < len(o.Tranches) && (o.Tranches[i].State == TrancheCancelled || o.Tranches[i].State == TrancheFailed) {
					continue
				}
				booked[t.Due.Format("2006-01")] += t.HourlyEquivalent
			}
		}
		for _, t := range plan.Ladder {
			m := t.Due.Format("2006-01")
			if total := perMonth[m] + booked[m]; total > g.MaxHourlyPerMonth+1e-9 {
				refusals = append(refusals, fmt.Sprintf("it adds $%.3f/h of new commitment in %s (with $%.3f/h already planned that month: $%.3f/h) over the tenant's maximum of $%.3f/h a month",
					perMonth[m], m, booked[m], total, g.MaxHourlyPerMonth))
				break
			}
		}
	}
	if len(refusals) > 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "the plan is refused by the tenant's guardrails: %s; change the plan (smaller, more tranches) or ask an admin to change the guardrails (`crossbill commitments guardrails`)", strings.Join(refusals, "; "))
	}
	return nil
}
