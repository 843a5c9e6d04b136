package commitments

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// FromCUR lists the Savings Plans and reservations that appear in the
// window's CUR lines, and the commitments of its FOCUS rows (see
// fromFOCUS): every one that was billed, including those of
// accounts crossbill has no role in. The hourly commitment of a Savings
// Plan is its savings_plan_total_commitment_to_date per hour; that of a
// reservation its RIFee recurring and amortized upfront fees per hour billed.
func FromCUR(ctx context.Context, r Reader, w Window) ([]Commitment, error) {
	t := r.Table()
	q := `SELECT 'savings_plan', savings_plan_savings_plan_a_r_n,
	    coalesce(max(savings_plan_offering_type), ''), coalesce(max(savings_plan_purchase_term), ''),
	    coalesce(max(savings_plan_payment_option), ''), coalesce(max(savings_plan_region), ''),
	    coalesce(max(savings_plan_instance_type_family), ''), '', CAST(0 AS DOUBLE),
	    min(` + isoTime("savings_plan_start_time") + `), max(` + isoTime("savings_plan_end_time") + `),
	    coalesce(max(line_item_usage_account_id), ''), coalesce(max(savings_plan_total_commitment_to_date), 0)
	  FROM ` + t.Name + ` WHERE line_item_line_item_type = 'SavingsPlanRecurringFee' AND ` + w.where(t) + ` GROUP BY 2
	UNION ALL
	  SELECT 'reservation', reservation_reservation_a_r_n,
	    coalesce(max(line_item_product_code), ''), coalesce(max(pricing_lease_contract_length), ''),
	    coalesce(max(pricing_purchase_option), ''), coalesce(max(product_region_code), ''),
	    '', coalesce(max(product_instance_type), ''), coalesce(max(TRY_CAST(reservation_number_of_reservations AS DOUBLE)), 0),
	    min(` + isoTime("reservation_start_time") + `), max(` + isoTime("reservation_end_time") + `),
	    coalesce(max(line_item_usage_account_id), ''),
	    coalesce(sum(coalesce(line_item_unblended_cost, 0) + coalesce(reservation_amortized_upfront_fee_for_billing_period, 0))
	      / nullif(sum(date_diff('hour', line_item_usage_start_date, line_item_usage_end_date)), 0), 0)
	  FROM ` + t.Name + ` WHERE line_item_line_item_type = 'RIFee' AND ` + w.overlapping(t) + ` GROUP BY 2
	ORDER BY 2`
	rows, err := r.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading commitments from the CUR: %w", err)
	}
	defer rows.Close()
	var out []Commitment
	for rows.Next() {
		var c Commitment
		var term, pay, account string
		var count, hourly float64
		var start, end sql.NullTime
		if err := rows.Scan(&c.Kind, &c.ARN, &c.Type, &term, &pay, &c.Region, &c.Family, &c.InstanceType, &count, &start, &end, &account, &hourly); err != nil {
			return nil, fmt.Errorf("reading commitments from the CUR: %w", err)
		}
		c.ID = c.ARN[strings.LastIndexAny(c.ARN, "/:")+1:]
		c.TermYears = parseTerm(term)
		c.Payment, _ = ParsePayment(pay)
		c.Count = int(count)
		c.HourlyCommitment = hourly
		c.Start, c.End = start.Time.UTC(), end.Time.UTC()
		if !start.Valid {
			c.Start = time.Time{}
		}
		if !end.Valid {
			c.End = time.Time{}
		}
		c.Account = crossbill.AccountID(account)
		c.Source = "cur"
		c.Region = regionCode(c.Region)
		if c.Kind == KindReservation {
			c.Type = reservationType(c.Type)
			c.Family = family(c.InstanceType)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading commitments from the CUR: %w", err)
	}
	if t.DB != nil {
		if ok, err := hasFOCUS(ctx, t.DB); err != nil {
			return nil, err
		} else if ok {
			fromFOCUS, err := fromFOCUS(ctx, t.DB, w)
			if err != nil {
				return nil, err
			}
			out = append(out, fromFOCUS...)
		}
	}
	return out, nil
}

// isoTime reads a CUR time column of text ("2026-01-01T00:00:00.000Z") as
// a timestamp, NULL when it is not one: the ISO 8601 T and Z dropped,
// which both engines' casts then read.
func isoTime(col string) string {
	return "TRY_CAST(replace(replace(" + col + ", 'T', ' '), 'Z', '') AS TIMESTAMP)"
}

// parseTerm reads "1yr", "3yr", "1 year", "3".
func parseTerm(s string) float64 {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "1"):
		return 1
	case strings.HasPrefix(s, "3"):
		return 3
	}
	return 0
}

// ObservedRates measures the discounts existing commitments actually get,
// per option type, usage class, term and payment option: one minus the
// effective cost over the public on-demand cost of the usage they covered.
// Classes with less than minSpend of covered on-demand spend are skipped
// as too thin to trust.
func ObservedRates(ctx context.Context, r Reader, w Window, minSpend float64) ([]Rate, error) {
	t := r.Table()
	q := `SELECT typ, class, term, pay, sum(eff), sum(od) FROM (
	    SELECT ` + classSQL + ` AS class, ` + odSQL + ` AS od,
	      CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_offering_type, '')
	           ELSE line_item_product_code END AS typ,
	      CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_purchase_term, '')
	           ELSE coalesce(pricing_lease_contract_length, '') END AS term,
	      CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_payment_option, '')
	           ELSE coalesce(pricing_purchase_option, '') END AS pay,
	      CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage' THEN coalesce(savings_plan_savings_plan_effective_cost, 0)
	           ELSE coalesce(reservation_effective_cost, 0) END AS eff
	    FROM ` + t.Name + ` WHERE line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') AND ` + w.where(t) + `) lines
	  WHERE class <> '' GROUP BY 1, 2, 3, 4`
	rows, err := r.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("measuring observed commitment discounts: %w", err)
	}
	defer rows.Close()
	var out []Rate
	for rows.Next() {
		var typ, class, term, pay string
		var eff, od float64
		if err := rows.Scan(&typ, &class, &term, &pay, &eff, &od); err != nil {
			return nil, fmt.Errorf("measuring observed commitment discounts: %w", err)
		}
		p, ok := ParsePayment(pay)
		option := optionOf(typ)
		if !ok || option == "" || od < minSpend || parseTerm(term) == 0 {
			continue
		}
		d := 1 - eff/od
		if !(d > 0 && d < 1) {
			continue
		}
		out = append(out, Rate{Type: option, Class: class, Term: int(parseTerm(term)), Payment: p, Discount: d, Source: "cur"})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("measuring observed commitment discounts: %w", err)
	}
	return out, nil
}

// optionOf maps a CUR offering type or product code to an option type.
func optionOf(s string) string {
	switch s {
	case TypeComputeSP, "Compute":
		return OptionComputeSP
	case TypeEC2InstanceSP, "EC2Instance":
		return OptionEC2InstanceSP
	case "AmazonRDS":
		return OptionRDSRI
	case "AmazonElastiCache":
		return OptionElastiCacheRI
	case "AmazonES":
		return OptionOpenSearchRI
	case "AmazonRedshift":
		return OptionRedshiftRI
	}
	return ""
}
