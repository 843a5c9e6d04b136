package purchase

import (
	"fmt"
	"math"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

// Price is one step of a Reserved Instance Marketplace price schedule:
// the upfront price asked while Months or fewer months remain (AWS's
// PriceScheduleSpecification: Term in months, Price, CurrencyCode).
type Price struct {
	Months int     `json:"months_remaining"`
	Price  float64 `json:"price"`
}

// Sale is a Marketplace listing plan for an unused Standard Reserved
// Instance.
type Sale struct {
	Reservation     commitments.Commitment `json:"reservation"`
	Utilization     float64                `json:"utilization"`
	MonthsRemaining int                    `json:"months_remaining"`
	// Discount is the share below the remaining upfront value asked, so
	// the listing sells before buyers find a cheaper one.
	Discount float64 `json:"discount"`
	Schedule []Price `json:"price_schedule"`
	Currency string  `json:"currency"`
}

// MaxSaleUtilization is the utilization under which a Standard
// reservation counts as unused and gets a listing plan.
const MaxSaleUtilization = 0.5

// SalePlan prices a listing of reservation c: for each number of months
// that can remain while it is listed, the remaining share of its upfront
// price, less discount, so the asked price falls month by month as the
// reservation's value does. AWS sells only EC2 Standard reservations held
// at least 30 days with at least a month left, and pays the seller the
// upfront price (a reservation bought without upfront has nothing to
// sell).
func SalePlan(c commitments.Commitment, utilization, discount float64, now time.Time) (Sale, error) {
	const op = "marketplace sale"
	bad := func(format string, args ...any) (Sale, error) {
		return Sale{}, crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	switch {
	case c.Type != commitments.TypeEC2RI:
		return bad("%s %s is not an EC2 reservation: only EC2 Standard Reserved Instances can be sold on the Marketplace", c.Type, c.ID)
	case discount < 0 || discount >= 1:
		return bad("a discount of %v: use a fraction from 0 to below 1 (0.1 for 10%%)", discount)
	case now.Sub(c.Start) < 30*24*time.Hour:
		return bad("reservation %s was bought on %s: AWS lets a reservation be sold 30 days after purchase", c.ID, c.Start.Format(time.DateOnly))
	case c.Upfront <= 0:
		return bad("reservation %s was bought without upfront payment: the Marketplace sells the upfront part, so there is nothing to sell", c.ID)
	case utilization > MaxSaleUtilization:
		return bad("reservation %s is %.0f%% used: only reservations used under %.0f%% get a sale plan", c.ID, utilization*100, MaxSaleUtilization*100)
	}
	total := int(math.Round(c.TermYears * 12))
	remaining := 0 // whole calendar months left
	for !now.AddDate(0, remaining+1, 0).After(c.End) {
		remaining++
	}
	if remaining < 1 || total < 1 {
		return bad("reservation %s ends on %s: less than a month remains, too little to list", c.ID, c.End.Format(time.DateOnly))
	}
	s := Sale{Reservation: c, Utilization: utilization, MonthsRemaining: remaining, Discount: discount, Currency: "USD"}
	for m := remaining; m >= 1; m-- {
		s.Schedule = append(s.Schedule, Price{Months: m, Price: round2(c.Upfront * float64(m) / float64(total) * (1 - discount))})
	}
	return s, nil
}

// UnusedReservations returns sale plans for the EC2 reservations of inv
// used under MaxSaleUtilization, and says why each other low-use
// reservation cannot be listed.
func UnusedReservations(inv []commitments.Commitment, utilization map[string]float64, discount float64, now time.Time) ([]Sale, []string) {
	var sales []Sale
	var skipped []string
	for _, c := range inv {
		if c.Type != commitments.TypeEC2RI || !c.End.After(now) {
			continue
		}
		u, ok := utilization[c.ARN]
		if !ok {
			u, ok = utilization[c.ID]
		}
		if !ok || u > MaxSaleUtilization {
			continue
		}
		s, err := SalePlan(c, u, discount, now)
		if err != nil {
			skipped = append(skipped, fmt.Sprint(err))
			continue
		}
		sales = append(sales, s)
	}
	return sales, skipped
}
