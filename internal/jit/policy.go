// Package jit is just-in-time access: eligibility policies, requests, the
// lease state machine that applies and always removes a time-bound grant
// (an Identity Center account assignment or an IAM group membership), and
// the reconciler that compares active leases with AWS.
package jit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Policy says who may request which targets, for how long, and who
// approves. A tenant has any number of policies; a request names the one
// it relies on.
type Policy struct {
	Name string `json:"name"`
	// People (emails) and Groups (Identity Center group names, read from
	// the latest access sync) who may request.
	People []string `json:"people,omitempty"`
	Groups []string `json:"groups,omitempty"`
	// Targets they may request.
	Targets []TargetRule `json:"targets"`
	// MaxDuration caps a lease ("4h").
	MaxDuration Duration `json:"max_duration"`
	// DecideWithin is how long a request waits for its approvals before
	// it expires (default 24h).
	DecideWithin Duration `json:"decide_within,omitempty"`
	// Approvers (emails; empty: anyone with the approver role) and the
	// two-person rule (two distinct approvers).
	Approvers []string `json:"approvers,omitempty"`
	TwoPerson bool     `json:"two_person,omitempty"`
	// AutoApprove approves at once when a rule matches.
	AutoApprove *AutoApprove `json:"auto_approve,omitempty"`
	// BreakGlass: requests are granted at once and reviewed after (an
	// approval is still opened for the review).
	BreakGlass bool `json:"break_glass,omitempty"`
}

// TargetRule is one target a policy allows: a permission set in the listed
// accounts and in the accounts under the listed OUs (or roots), or an IAM
// group (under /crossbill-jit/) in one account.
type TargetRule struct {
	PermissionSet string                `json:"permission_set,omitempty"` // ARN or name
	Accounts      []crossbill.AccountID `json:"accounts,omitempty"`
	// OUs are organizational units or roots (ou-..., r-...): the accounts
	// under them in the latest access sync.
	OUs     []string            `json:"ous,omitempty"`
	Group   string              `json:"group,omitempty"` // IAM group name
	Account crossbill.AccountID `json:"account,omitempty"`
}

// AutoApprove lists the rules that approve a request at once: during
// business hours, and/or for low-risk permission sets or groups.
type AutoApprove struct {
	BusinessHours *BusinessHours `json:"business_hours,omitempty"`
	// LowRisk targets (permission set ARNs or names, group names) are
	// approved at once; with BusinessHours too, only during them.
	LowRisk []string `json:"low_risk,omitempty"`
}

// BusinessHours is a daily window on weekdays in a time zone.
type BusinessHours struct {
	From     int    `json:"from"` // hour, 0-23
	To       int    `json:"to"`   // hour, 1-24, exclusive
	TimeZone string `json:"time_zone,omitempty"`
	Weekends bool   `json:"weekends,omitempty"`
}

// Duration is a time.Duration written as "90m" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as Go's text form.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90m", "4h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"4h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

var policyName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// MaxLease is the longest lease any policy may allow.
const MaxLease = 7 * 24 * time.Hour

// Check validates a policy and fills its defaults.
func (p *Policy) Check() error {
	const op = "jit policy"
	bad := func(format string, args ...any) error {
		return crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	if !policyName.MatchString(p.Name) {
		return bad("policy name %q: use 1-63 lower-case letters, digits, '-' or '_'", p.Name)
	}
	if len(p.People) == 0 && len(p.Groups) == 0 {
		return bad("policy %s names nobody: give people (emails) or groups", p.Name)
	}
	for _, e := range append(slices.Clone(p.People), p.Approvers...) {
		if !strings.Contains(e, "@") || len(e) > 254 {
			return bad("%q is not an email address", e)
		}
		if err := crossbill.CheckText(op, "email", e); err != nil {
			return err
		}
	}
	for _, g := range p.Groups {
		if g == "" || len(g) > 128 {
			return bad("group name %q: 1-128 characters", g)
		}
		if err := crossbill.CheckText(op, "group", g); err != nil {
			return err
		}
	}
	if len(p.Targets) == 0 {
		return bad("policy %s allows no target: add a permission set with accounts, or a crossbill-jit/ group with its account", p.Name)
	}
	for i, t := range p.Targets {
		switch {
		case t.PermissionSet != "" && t.Group != "":
			return bad("target %d names both a permission set and a group: one per target", i+1)
		case t.PermissionSet != "":
			if len(t.Accounts) == 0 && len(t.OUs) == 0 {
				return bad("target %d (permission set %s) needs accounts or OUs", i+1, t.PermissionSet)
			}
			for _, ou := range t.OUs {
				if !ouID.MatchString(ou) {
					return bad("target %d: %q is not an OU or root ID (ou-xxxx-xxxxxxxx, r-xxxx)", i+1, ou)
				}
			}
			for _, a := range t.Accounts {
				if !a.Valid() {
					return bad("target %d: %q is not a 12-digit account ID", i+1, a)
				}
			}
			if err := crossbill.CheckText(op, "permission set", t.PermissionSet); err != nil {
				return err
			}
		case t.Group != "":
			if !t.Account.Valid() {
				return bad("target %d (group %s) needs the 12-digit account that holds the group", i+1, t.Group)
			}
			if !groupName.MatchString(t.Group) {
				return bad("target %d: %q is not an IAM group name", i+1, t.Group)
			}
		default:
			return bad("target %d names neither a permission set nor a group", i+1)
		}
	}
	d := time.Duration(p.MaxDuration)
	if d < time.Minute || d > MaxLease {
		return bad("max_duration %s: between 1m and %s", d, MaxLease)
	}
	if p.DecideWithin == 0 {
		p.DecideWithin = Duration(24 * time.Hour)
	}
	if w := time.Duration(p.DecideWithin); w < time.Second || w > 7*24*time.Hour {
		return bad("decide_within %s: between 1s and 168h", w)
	}
	if p.TwoPerson && len(p.Approvers) == 1 {
		return bad("the two-person rule needs at least two approvers (or none: anyone with the approver role)")
	}
	if a := p.AutoApprove; a != nil && a.BusinessHours != nil {
		h := a.BusinessHours
		if h.From < 0 || h.From > 23 || h.To < 1 || h.To > 24 || h.From >= h.To {
			return bad("business hours %d-%d: from 0-23, to 1-24, from before to", h.From, h.To)
		}
		if _, err := time.LoadLocation(h.TimeZone); err != nil {
			return bad("time zone %q: %v", h.TimeZone, err)
		}
	}
	return nil
}

var (
	groupName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	ouID      = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

// eligible reports whether the person (email, Identity Center groups) may
// use the policy.
func (p *Policy) eligible(email string, groups []string) bool {
	for _, e := range p.People {
		if strings.EqualFold(e, email) {
			return true
		}
	}
	for _, g := range p.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// rule finds the policy's rule allowing the target (permission set by ARN
// or name; the account listed, or under one of the rule's OUs: ancestors
// are the account's OUs and root), or nil.
func (p *Policy) rule(t Target, ancestors []string) *TargetRule {
	for i, r := range p.Targets {
		switch t.Kind {
		case KindPermissionSet:
			in := slices.Contains(r.Accounts, t.Account)
			for _, ou := range r.OUs {
				in = in || slices.Contains(ancestors, ou)
			}
			if r.PermissionSet != "" && (r.PermissionSet == t.PermissionSet || r.PermissionSet == t.PermissionSetName) && in {
				return &p.Targets[i]
			}
		case KindGroup:
			if r.Group == t.Group && r.Account == t.Account {
				return &p.Targets[i]
			}
		}
	}
	return nil
}

// autoApproval returns why a request is approved at once by the policy
// ("" when it is not).
func (p *Policy) autoApproval(t Target, now time.Time) string {
	if p.BreakGlass {
		return "break-glass: granted at once, reviewed after"
	}
	a := p.AutoApprove
	if a == nil {
		return ""
	}
	inHours := true
	if h := a.BusinessHours; h != nil {
		loc, err := time.LoadLocation(h.TimeZone)
		if err != nil {
			return ""
		}
		l := now.In(loc)
		wd := l.Weekday()
		inHours = l.Hour() >= h.From && l.Hour() < h.To && (h.Weekends || wd != time.Saturday && wd != time.Sunday)
	}
	if len(a.LowRisk) > 0 {
		low := slices.Contains(a.LowRisk, t.PermissionSet) || t.PermissionSetName != "" && slices.Contains(a.LowRisk, t.PermissionSetName) ||
			t.Group != "" && slices.Contains(a.LowRisk, t.Group)
		if low && inHours {
			return "auto-approved: low-risk target" + map[bool]string{true: " during business hours", false: ""}[a.BusinessHours != nil]
		}
		return ""
	}
	if a.BusinessHours != nil && inHours {
		return "auto-approved: during business hours"
	}
	return ""
}
