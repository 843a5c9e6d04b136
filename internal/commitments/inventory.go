// Package commitments knows every Savings Plan and reservation of the
// connected accounts, measures how well they are used, and recommends what
// to buy next, from the AWS APIs and from the CUR in the cost store.
package commitments

import (
	"sort"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Kind separates Savings Plans from reservations.
type Kind string

// Kinds.
const (
	KindSavingsPlan Kind = "savings_plan"
	KindReservation Kind = "reservation"
)

// Commitment types, as AWS names them (Savings Plans) or by service
// (reservations).
const (
	TypeComputeSP     = "ComputeSavingsPlans"
	TypeEC2InstanceSP = "EC2InstanceSavingsPlans"
	TypeSageMakerSP   = "SageMakerSavingsPlans"
	TypeDatabaseSP    = "DatabaseSavingsPlans"
	TypeEC2RI         = "EC2"
	TypeRDSRI         = "RDS"
	TypeElastiCacheRI = "ElastiCache"
	TypeRedshiftRI    = "Redshift"
	TypeOpenSearchRI  = "OpenSearch"
)

// Payment is a payment option, spelled as the Savings Plans API does.
type Payment string

// Payment options.
const (
	NoUpfront      Payment = "No Upfront"
	PartialUpfront Payment = "Partial Upfront"
	AllUpfront     Payment = "All Upfront"
)

// ParsePayment reads the spellings the APIs and the CUR use ("No Upfront",
// "NO_UPFRONT", "NoUpfront", "no", legacy "Heavy Utilization").
func ParsePayment(s string) (Payment, bool) {
	k := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s))
	switch k {
	case "noupfront", "no":
		return NoUpfront, true
	case "partialupfront", "partial", "heavyutilization", "mediumutilization", "lightutilization":
		return PartialUpfront, true
	case "allupfront", "all":
		return AllUpfront, true
	}
	return "", false
}

// UpfrontShare is the part of the total commitment paid at purchase.
func (p Payment) UpfrontShare() float64 {
	switch p {
	case AllUpfront:
		return 1
	case PartialUpfront:
		return 0.5
	}
	return 0
}

// Commitment is one Savings Plan or reservation.
type Commitment struct {
	ARN  string `json:"arn"`
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Type is one of the Type* constants.
	Type      string  `json:"type"`
	TermYears float64 `json:"term_years"`
	Payment   Payment `json:"payment_option"`
	// HourlyCommitment is, for a Savings Plan, the commitment in dollars per
	// hour; for a reservation, its recurring plus amortized upfront charge
	// per hour when known.
	HourlyCommitment float64 `json:"hourly_commitment"`
	Upfront          float64 `json:"upfront,omitempty"`
	// InstanceType and Count describe a reservation.
	InstanceType string `json:"instance_type,omitempty"`
	Count        int    `json:"count,omitempty"`
	// Region and Family are set where the commitment is scoped to them
	// (EC2 Instance Savings Plans, reservations).
	Region  string              `json:"region,omitempty"`
	Family  string              `json:"family,omitempty"`
	Start   time.Time           `json:"start"`
	End     time.Time           `json:"end"`
	Account crossbill.AccountID `json:"account"`
	State   string              `json:"state,omitempty"`
	// Source says where crossbill learned of it: "api" or "cur".
	Source string `json:"source"`
}

// termYears turns a duration in seconds into years, rounded to the 1- or
// 3-year terms AWS sells.
func termYears(seconds int64) float64 {
	if seconds <= 0 {
		return 0
	}
	y := float64(seconds) / (365 * 24 * 3600)
	switch {
	case y > 0.9 && y < 1.1:
		return 1
	case y > 2.9 && y < 3.1:
		return 3
	}
	return y
}

// Merge combines what the APIs and the CUR report, keyed by ARN (or ID when
// the ARN is unknown): the API's description wins, the CUR fills in what the
// API left empty and adds commitments of accounts crossbill cannot call.
func Merge(fromAPI, fromCUR []Commitment) []Commitment {
	byKey := map[string]int{}
	out := make([]Commitment, 0, len(fromAPI)+len(fromCUR))
	key := func(c Commitment) string {
		if c.ARN != "" {
			return c.ARN
		}
		return c.Type + "/" + c.ID
	}
	for _, c := range fromAPI {
		byKey[key(c)] = len(out)
		out = append(out, c)
	}
	for _, c := range fromCUR {
		i, ok := byKey[key(c)]
		if !ok {
			byKey[key(c)] = len(out)
			out = append(out, c)
			continue
		}
		a := &out[i]
		if a.Account == "" {
			a.Account = c.Account
		}
		if a.Region == "" {
			a.Region = c.Region
		}
		if a.Family == "" {
			a.Family = c.Family
		}
		if a.HourlyCommitment == 0 {
			a.HourlyCommitment = c.HourlyCommitment
		}
		if a.End.IsZero() {
			a.End = c.End
		}
		if a.Start.IsZero() {
			a.Start = c.Start
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].End.Equal(out[j].End) {
			return out[i].End.Before(out[j].End)
		}
		return out[i].ARN < out[j].ARN
	})
	return out
}

// Expiring returns the active commitments that end within days of now,
// soonest first.
func Expiring(cs []Commitment, now time.Time, days int) []Commitment {
	limit := now.AddDate(0, 0, days)
	var out []Commitment
	for _, c := range cs {
		if !c.End.IsZero() && c.End.After(now) && !c.End.After(limit) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].End.Before(out[j].End) })
	return out
}

// ExpirationBuckets counts commitments ending in the next 30, 60 and 90
// days (cumulative) and the hourly commitment that lapses with them.
type ExpirationBuckets struct {
	Days       int     `json:"days"`
	Count      int     `json:"count"`
	HourlyLost float64 `json:"hourly_commitment_ending"`
}

// Expirations summarizes Expiring for 30, 60 and 90 days.
func Expirations(cs []Commitment, now time.Time) []ExpirationBuckets {
	var out []ExpirationBuckets
	for _, d := range []int{30, 60, 90} {
		b := ExpirationBuckets{Days: d}
		for _, c := range Expiring(cs, now, d) {
			b.Count++
			b.HourlyLost += c.HourlyCommitment
		}
		out = append(out, b)
	}
	return out
}
