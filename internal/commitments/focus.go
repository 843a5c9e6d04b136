package commitments

// Commitments from FOCUS exports (the cost store's focus_export view), as
// the FOCUS 1.0-1.2 specification models them:
//   - a commitment is a CommitmentDiscountId; CommitmentDiscountCategory
//     "Spend" is a Savings Plan (or any spend-based plan), "Usage" a
//     reservation (or any usage-based one);
//   - Usage rows with CommitmentDiscountStatus "Used" are usage it covered,
//     their EffectiveCost the commitment used and their ListCost what the
//     usage would have cost on demand; rows with status "Unused" are the
//     commitment left unused, in EffectiveCost;
//   - Purchase rows are the payments (EffectiveCost 0): One-Time for the
//     upfront part, Recurring for the monthly fee.
// So utilization is Used / (Used + Unused) in EffectiveCost, for every
// provider, without the CUR's fee lines.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// focusKindSQL is a FOCUS row's commitment kind.
const focusKindSQL = `CASE WHEN CommitmentDiscountCategory = 'Spend' OR CommitmentDiscountType ILIKE '%savings plan%' THEN 'savings_plan' ELSE 'reservation' END`

// focusClassSQL is classSQL over an AWS FOCUS export's x_ columns; other
// providers' usage is classed by service name (see focusCoverage).
var focusClassSQL = strings.NewReplacer("line_item_usage_type", "x_UsageType", "line_item_product_code", "x_ServiceCode").Replace(classSQL)

// focusWhere is Window.where over focus_export.
func (w Window) focusWhere() (string, []any) {
	return w.whereOn("ChargePeriodStart", "SubAccountId")
}

// hasFOCUS reports whether db has the cost store's focus_export view (the
// commitments tests' plain DuckDB holds only a cur table).
func hasFOCUS(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'focus_export'`).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for FOCUS data: %w", err)
	}
	return n > 0, nil
}

// fromFOCUS lists the commitments of the window's FOCUS rows. The hourly
// commitment is the used and unused EffectiveCost over the hours the rows
// span; the payment option follows from the purchase rows seen.
func fromFOCUS(ctx context.Context, db *sql.DB, w Window) ([]Commitment, error) {
	where, args := w.focusWhere()
	q := `SELECT CommitmentDiscountId, any_value(` + focusKindSQL + `), coalesce(any_value(CommitmentDiscountType), ''),
	    coalesce(any_value(RegionId), ''), coalesce(max(CommitmentDiscountQuantity) FILTER (WHERE ChargeCategory = 'Purchase'), 0),
	    coalesce(any_value(SubAccountId) FILTER (WHERE ChargeCategory = 'Purchase' OR CommitmentDiscountStatus = 'Unused'), any_value(SubAccountId), ''),
	    coalesce(sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage' AND CommitmentDiscountStatus IN ('Used', 'Unused')), 0),
	    date_diff('hour', min(ChargePeriodStart) FILTER (WHERE ChargeCategory = 'Usage'), max(ChargePeriodEnd) FILTER (WHERE ChargeCategory = 'Usage')),
	    coalesce(sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase' AND ChargeFrequency = 'One-Time'), 0),
	    count(*) FILTER (WHERE ChargeCategory = 'Purchase' AND ChargeFrequency = 'Recurring')
	  FROM focus_export WHERE coalesce(CommitmentDiscountId, '') <> '' AND ` + where + `
	  GROUP BY 1 ORDER BY 1`
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading commitments from FOCUS data: %w", err)
	}
	defer rows.Close()
	var out []Commitment
	for rows.Next() {
		var c Commitment
		var account string
		var qty, amortized, upfront float64
		var hours sql.NullInt64
		var recurring int
		if err := rows.Scan(&c.ARN, &c.Kind, &c.Type, &c.Region, &qty, &account, &amortized, &hours, &upfront, &recurring); err != nil {
			return nil, fmt.Errorf("reading commitments from FOCUS data: %w", err)
		}
		c.ID = c.ARN[strings.LastIndexAny(c.ARN, "/:")+1:]
		if c.Type == "" {
			c.Type = string(c.Kind)
		}
		if hours.Int64 > 0 {
			c.HourlyCommitment = amortized / float64(hours.Int64)
		}
		c.Upfront = upfront
		switch {
		case upfront > 0 && recurring > 0:
			c.Payment = PartialUpfront
		case upfront > 0:
			c.Payment = AllUpfront
		case recurring > 0:
			c.Payment = NoUpfront
		}
		if c.Kind == KindReservation {
			c.Count = int(qty)
		}
		c.Region = regionCode(c.Region)
		c.Account = crossbill.AccountID(account)
		c.Source = "focus"
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading commitments from FOCUS data: %w", err)
	}
	return out, nil
}

// focusUtilization is Utilization over FOCUS rows.
func focusUtilization(ctx context.Context, db *sql.DB, w Window, g Granularity) ([]UtilizationRow, error) {
	where, args := w.focusWhere()
	q := `SELECT date_trunc('` + string(g) + `', ChargePeriodStart) AS period, CommitmentDiscountId, any_value(` + focusKindSQL + `),
	    coalesce(any_value(CommitmentDiscountType), ''),
	    coalesce(any_value(SubAccountId) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), any_value(SubAccountId), ''),
	    coalesce(sum(EffectiveCost), 0),
	    coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0),
	    coalesce(sum(ListCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0)
	  FROM focus_export WHERE ChargeCategory = 'Usage' AND CommitmentDiscountStatus IN ('Used', 'Unused')
	    AND coalesce(CommitmentDiscountId, '') <> '' AND ` + where + `
	  GROUP BY 1, 2 ORDER BY 1, 2`
	rows, err := db.QueryContext(ctx, q, args...)
	return scanUtilization("reading commitment utilization from FOCUS data", func(r *UtilizationRow) {
		if r.Type == "" {
			r.Type = string(r.Kind)
		}
	}, rows, err)
}

// focusCoverage is Coverage over FOCUS rows, at list price: AWS usage is
// classed as in the CUR (x_ServiceCode, x_UsageType); other providers'
// usage by ServiceName, for the services some commitment covered in the
// window (FOCUS does not say which usage a commitment could cover).
// Dynamic (spot) pricing and unused commitment rows are not eligible.
func focusCoverage(ctx context.Context, db *sql.DB, w Window, g Granularity, byAccount bool) ([]CoverageRow, error) {
	where, args := w.focusWhere()
	acct := "''"
	if byAccount {
		acct = "SubAccountId"
	}
	q := `SELECT period, account, class,
	    sum(od) FILTER (WHERE covered = ''), sum(od) FILTER (WHERE covered = 'savings_plan'), sum(od) FILTER (WHERE covered = 'reservation')
	  FROM (SELECT date_trunc('` + string(g) + `', ChargePeriodStart) AS period, coalesce(` + acct + `, '') AS account,
	      CASE WHEN x_ServiceCode IS NOT NULL THEN ` + focusClassSQL + `
	           WHEN ServiceName IN (SELECT ServiceName FROM focus_export WHERE CommitmentDiscountStatus = 'Used' AND ` + where + `) THEN ServiceName
	           ELSE '' END AS class,
	      CASE WHEN coalesce(CommitmentDiscountId, '') = '' THEN '' ELSE ` + focusKindSQL + ` END AS covered,
	      coalesce(ListCost, BilledCost, 0) AS od
	    FROM focus_export WHERE ChargeCategory = 'Usage' AND coalesce(CommitmentDiscountStatus, '') <> 'Unused'
	      AND coalesce(PricingCategory, '') <> 'Dynamic' AND ` + where + `)
	  WHERE class <> '' GROUP BY ALL ORDER BY 1, 2, 3`
	rows, err := db.QueryContext(ctx, q, append(append([]any{}, args...), args...)...)
	return scanCoverage("reading commitment coverage from FOCUS data", rows, err)
}

// focusSpan is the first and last ChargePeriodStart of the tenant's FOCUS
// rows before end (end zero: all); invalid when there are none.
func focusSpan(ctx context.Context, db *sql.DB, tenant crossbill.TenantID, end time.Time) (lo, hi sql.NullTime, err error) {
	ok, err := hasFOCUS(ctx, db)
	if err != nil || !ok {
		return lo, hi, err
	}
	q := "SELECT min(ChargePeriodStart), max(ChargePeriodStart) FROM focus_export WHERE true"
	var args []any
	if !end.IsZero() {
		q += " AND ChargePeriodStart < ?"
		args = append(args, end)
	}
	if tenant != "" {
		q += " AND tenant = ?"
		args = append(args, string(tenant))
	}
	if err := db.QueryRowContext(ctx, q, args...).Scan(&lo, &hi); err != nil {
		return lo, hi, fmt.Errorf("checking the FOCUS data in the cost store: %w", err)
	}
	return lo, hi, nil
}

// widen merges the span [lo2, hi2] into [lo, hi].
func widen(lo, hi, lo2, hi2 sql.NullTime) (sql.NullTime, sql.NullTime) {
	if lo2.Valid && (!lo.Valid || lo2.Time.Before(lo.Time)) {
		lo = lo2
	}
	if hi2.Valid && (!hi.Valid || hi2.Time.After(hi.Time)) {
		hi = hi2
	}
	return lo, hi
}
