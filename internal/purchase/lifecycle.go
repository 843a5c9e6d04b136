package purchase

import (
	"context"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

// The renewals and sale use cases, as the CLI (commitments renewals,
// commitments sell), the API (.../commitments/renewals, .../sales) and the
// daily renewals job call them: each reads the tenant's portfolio over a
// window of its CUR (plus what the APIs reported, fromAPI) and answers.

// RenewalsReport is the renewals use case's answer.
type RenewalsReport struct {
	Renewals []Renewal `json:"renewals"`
	// Notified is how many 90/60/30-day alerts were queued (each
	// threshold of a commitment once: the outbox de-duplicates).
	Notified int `json:"notified,omitempty"`
}

// RenewalsQuery says whose renewals to read, as of when, and whether to
// queue their alerts.
type RenewalsQuery struct {
	Tenant crossbill.TenantID
	// Connection is stamped on the renewal plans (the account that would
	// buy them); may be empty.
	Connection crossbill.ConnectionID
	// AsOf is the day the days left are counted from (zero: now).
	AsOf time.Time
	// Notify, when set, receives the due alerts.
	Notify Notifier
}

// ListRenewals is the renewals use case: the commitments ending within 90
// days of q.AsOf with their alert and pre-sized renewal plan, alerts
// queued through q.Notify when set.
func ListRenewals(ctx context.Context, rd commitments.Reader, w commitments.Window, fromAPI []commitments.Commitment, q RenewalsQuery) (RenewalsReport, error) {
	pf, err := ReadPortfolio(ctx, rd, w, fromAPI)
	if err != nil {
		return RenewalsReport{}, err
	}
	at := q.AsOf
	if at.IsZero() {
		at = time.Now().UTC()
	}
	rep := RenewalsReport{Renewals: pf.Renewals(q.Connection, at)}
	if rep.Renewals == nil {
		rep.Renewals = []Renewal{}
	}
	if q.Notify != nil {
		if rep.Notified, err = SendRenewalAlerts(ctx, q.Notify, q.Tenant, rep.Renewals); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Outbox is a Notifier queuing to the tenant's notification channels
// (internal/notify's durable outbox, which drops a dedup key it has seen).
func Outbox(st *store.Store) Notifier {
	return func(ctx context.Context, m Message) error {
		return notify.Enqueue(ctx, st, notify.Message{Tenant: m.Tenant, Topic: m.Topic, Subject: m.Subject, Text: m.Text, Data: m.Data, DedupKey: m.DedupKey})
	}
}

// PlanRenewal turns the renewal of commitment id (its ID or ARN), found
// in rep, into a purchase plan bought through acct's connection conn:
// Draft with the pre-sized request, so the offering, guardrails and
// approval are a purchase's.
func PlanRenewal(ctx context.Context, st *store.Store, acct Account, tenant crossbill.TenantID, conn crossbill.ConnectionID, rep RenewalsReport, id, note string, by store.AuditEntry) (View, error) {
	const op = "renewal plan"
	for _, r := range rep.Renewals {
		if r.Commitment.ID != id && r.Commitment.ARN != id {
			continue
		}
		if r.Plan == nil {
			return View{}, crossbill.Errorf(crossbill.CodeInvalid, op, "commitment %s has no renewal plan: %s", id, r.Why)
		}
		req := *r.Plan
		req.Tenant, req.Connection, req.Note = tenant, conn, note
		return Draft(ctx, st, acct, req, by)
	}
	return View{}, crossbill.Errorf(crossbill.CodeNotFound, op, "commitment %s does not end within %d days: `crossbill commitments renewals` lists those that do", id, AlertDays[0])
}

// SalesReport is the sale use case's answer: listing plans, and why each
// other low-use reservation cannot be listed.
type SalesReport struct {
	Sales   []Sale   `json:"sales"`
	Skipped []string `json:"skipped"`
}

// ListSales is the sale use case: listing plans for the EC2 reservations
// used under MaxSaleUtilization over the window, priced with discount.
func ListSales(ctx context.Context, rd commitments.Reader, w commitments.Window, fromAPI []commitments.Commitment, discount float64, now time.Time) (SalesReport, error) {
	if discount < 0 || discount >= 1 {
		return SalesReport{}, crossbill.Errorf(crossbill.CodeInvalid, "marketplace sale", "a discount of %v: use a fraction from 0 to below 1 (0.1 for 10%%)", discount)
	}
	pf, err := ReadPortfolio(ctx, rd, w, fromAPI)
	if err != nil {
		return SalesReport{}, err
	}
	rep := SalesReport{Sales: []Sale{}, Skipped: []string{}}
	sales, skipped := pf.Sales(discount, now)
	rep.Sales = append(rep.Sales, sales...)
	rep.Skipped = append(rep.Skipped, skipped...)
	return rep, nil
}

// PlanSale stores the listing plan of reservation id (its ID or ARN),
// found in rep, and opens its approval (DraftSale).
func PlanSale(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID, rep SalesReport, id, note string, by store.AuditEntry) (View, error) {
	const op = "commitments sell"
	if conn == "" {
		return View{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a listing plan needs the connection whose account lists the reservation")
	}
	for _, s := range rep.Sales {
		if s.Reservation.ID == id || s.Reservation.ARN == id {
			return DraftSale(ctx, st, tenant, conn, s, note, by)
		}
	}
	for _, s := range rep.Skipped {
		if strings.Contains(s, id) {
			return View{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s", s)
		}
	}
	return View{}, crossbill.Errorf(crossbill.CodeNotFound, op, "reservation %s has no listing plan: it is not an EC2 reservation used under %.0f%% over the lookback (list the candidates without naming one)", id, MaxSaleUtilization*100)
}
