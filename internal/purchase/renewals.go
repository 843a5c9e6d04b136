package purchase

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

// AlertDays are the days before expiry at which a renewal alert is sent.
var AlertDays = []int{90, 60, 30}

// Renewal is an expiring commitment, the alert it is due, and the plan
// that would renew it.
type Renewal struct {
	Commitment commitments.Commitment `json:"commitment"`
	DaysLeft   int                    `json:"days_left"`
	// Alert is the threshold (90, 60 or 30 days) the commitment has
	// crossed: one alert per threshold.
	Alert int `json:"alert_days"`
	// Utilization is the expiring commitment's use over the window (from
	// the CUR); -1 when the CUR does not show it.
	Utilization float64 `json:"utilization"`
	// Plan is the renewal, pre-sized; nil when the commitment cannot be
	// renewed by crossbill (a service it does not buy yet), Why says so.
	Plan *Request `json:"plan,omitempty"`
	Why  string   `json:"why,omitempty"`
}

// Renewals lists the commitments of inv that end within 90 days of now,
// soonest first, each with its alert threshold and a renewal plan sized
// gross: when a commitment ends, the usage it covered becomes eligible
// again, so a recommendation over today's net eligible usage cannot see
// it. The renewal buys back what the commitment actually used
// (commitment × utilization), starting when it ends, same type, term and
// payment. utilization maps a commitment's ARN (or ID) to its use.
func Renewals(inv []commitments.Commitment, utilization map[string]float64, conn crossbill.ConnectionID, now time.Time) []Renewal {
	var out []Renewal
	for _, c := range commitments.Expiring(inv, now, AlertDays[0]) {
		r := Renewal{Commitment: c, DaysLeft: int(math.Ceil(c.End.Sub(now).Hours() / 24)), Utilization: -1}
		for _, d := range AlertDays {
			if r.DaysLeft <= d {
				r.Alert = d
			}
		}
		u, known := utilization[c.ARN]
		if !known {
			u, known = utilization[c.ID]
		}
		if known {
			r.Utilization = u
		} else {
			// Without the CUR's view, renew at the same size and say so.
			u = 1
			r.Why = "utilization unknown (no CUR data for it): the renewal keeps the same size"
		}
		r.Plan = renewalPlan(c, u, conn)
		if r.Plan == nil {
			r.Why = fmt.Sprintf("crossbill cannot buy %s commitments yet: renew it in the AWS console", c.Type)
		}
		out = append(out, r)
	}
	return out
}

func renewalPlan(c commitments.Commitment, u float64, conn crossbill.ConnectionID) *Request {
	term := int(math.Round(c.TermYears))
	if term != 1 && term != 3 {
		term = 1
	}
	pay := c.Payment
	if pay == "" {
		pay = commitments.NoUpfront
	}
	r := &Request{Connection: conn, Kind: KindRenewal, Type: c.Type, TermYears: term, Payment: pay, Region: c.Region, Family: c.Family,
		Start: c.End, Source: "renewal of " + firstNonEmpty(c.ID, c.ARN),
		// Sized to the part used, it is fully used if usage holds.
		Expected: &Expectation{Utilization: 1}}
	switch {
	case isSavingsPlan(c.Type):
		r.HourlyCommitment = math.Floor(c.HourlyCommitment*u/MinSavingsPlanCommitment+1e-9) * MinSavingsPlanCommitment
		if r.HourlyCommitment < MinSavingsPlanCommitment {
			return nil
		}
	case c.Type == commitments.TypeEC2RI:
		r.InstanceType, r.Count = c.InstanceType, int(math.Floor(float64(c.Count)*u+1e-9))
		if r.Count < 1 {
			return nil
		}
	default:
		return nil
	}
	return r
}

// Message is a notification: the shape internal/notify takes.
type Message struct {
	Tenant   crossbill.TenantID `json:"tenant"`
	Topic    string             `json:"topic"`
	Subject  string             `json:"subject"`
	Text     string             `json:"text"`
	Data     any                `json:"data,omitempty"`
	DedupKey string             `json:"dedup_key"`
}

// TopicRenewal is the notification topic of renewal alerts.
const TopicRenewal = "commitments.renewal"

// RenewalAlerts returns the alerts due for renewals: one per commitment
// and threshold (the dedup key), so a daily run alerts at 90, 60 and 30
// days once each.
func RenewalAlerts(tenant crossbill.TenantID, rs []Renewal) []Message {
	var out []Message
	for _, r := range rs {
		if r.Alert == 0 {
			continue
		}
		c := r.Commitment
		size := fmt.Sprintf("$%.3f/h", c.HourlyCommitment)
		if c.Count > 0 {
			size = fmt.Sprintf("%d × %s", c.Count, c.InstanceType)
		}
		text := fmt.Sprintf("%s %s (%s) ends on %s, in %d days.", c.Type, firstNonEmpty(c.ID, c.ARN), size, c.End.Format(time.DateOnly), r.DaysLeft)
		if r.Plan != nil {
			text += fmt.Sprintf(" Pre-sized renewal: `crossbill commitments renewals --plan %s --connection CONNECTION`.", firstNonEmpty(c.ID, c.ARN))
		} else {
			text += " " + r.Why
		}
		out = append(out, Message{Tenant: tenant, Topic: TopicRenewal, Subject: fmt.Sprintf("Commitment ending in %d days", r.DaysLeft),
			Text: text, Data: r, DedupKey: fmt.Sprintf("renewal/%s/%d", firstNonEmpty(c.ARN, c.ID), r.Alert)})
	}
	return out
}

// Notifier sends a notification; internal/notify's Enqueue is one.
type Notifier func(context.Context, Message) error

// SendRenewalAlerts sends each due alert through send.
func SendRenewalAlerts(ctx context.Context, send Notifier, tenant crossbill.TenantID, rs []Renewal) (int, error) {
	msgs := RenewalAlerts(tenant, rs)
	for _, m := range msgs {
		if err := send(ctx, m); err != nil {
			return 0, fmt.Errorf("sending the renewal alert %s: %w", m.DedupKey, err)
		}
	}
	return len(msgs), nil
}
