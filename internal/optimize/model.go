// Package optimize turns the resource inventory and its utilization into
// recommendations: idle, orphaned, oversized and outdated resources, each
// with an action type, a monthly saving a FinOps team can defend (the
// resource's own amortized cost where the CUR has it, else the labelled
// list price), the evidence behind it and how it interacts with
// commitments. Rules and their default thresholds follow AWS Cost
// Optimization Hub (action types, the 730-hour month), Compute Optimizer
// (14 days of metrics, headroom), Trusted Advisor's cost checks and Cloud
// Custodian's cost policies; every threshold can be changed per tenant.
package optimize

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
)

// Action is what a recommendation asks for, as AWS Cost Optimization Hub
// names it; the remediation feature acts on these.
type Action string

// Action types.
const (
	ActionStop              Action = "Stop"
	ActionDelete            Action = "Delete"
	ActionRightsize         Action = "Rightsize"
	ActionUpgrade           Action = "Upgrade"
	ActionMigrateToGraviton Action = "MigrateToGraviton"
	ActionScaleIn           Action = "ScaleIn"
	ActionSchedule          Action = "Schedule"
)

// Levels of effort and confidence.
const (
	Low    = "low"
	Medium = "medium"
	High   = "high"
)

// Recommendation is one thing to change on one resource.
type Recommendation struct {
	// ID is stable across evaluations: the same rule on the same resource
	// keeps its ID, so an approval or remediation can name it.
	ID           string              `json:"id"`
	Rule         string              `json:"rule"`
	ARN          string              `json:"arn"`
	ResourceID   string              `json:"resource_id"`
	ResourceType string              `json:"resource_type"` // service/type, e.g. ec2/volume
	Name         string              `json:"name,omitempty"`
	AccountID    crossbill.AccountID `json:"account_id"`
	Region       string              `json:"region"`
	Action       Action              `json:"action"`
	Summary      string              `json:"summary"`
	// Current and Target describe the change (m5.2xlarge -> m5.xlarge,
	// gp2 -> gp3 3000 IOPS 125 MiB/s); Target is empty for Stop and Delete.
	Current          string    `json:"current,omitempty"`
	Target           string    `json:"target,omitempty"`
	Savings          Savings   `json:"savings"`
	Effort           string    `json:"effort"`
	RestartNeeded    bool      `json:"restart_needed"`
	RollbackPossible bool      `json:"rollback_possible"`
	Rollback         string    `json:"rollback"`
	Confidence       string    `json:"confidence"`
	Commitment       string    `json:"commitment_interaction"`
	Evidence         Evidence  `json:"evidence"`
	EvaluationID     string    `json:"evaluation_id,omitempty"`
	EvaluatedAt      time.Time `json:"evaluated_at"`
	// State is open, or resolved once an evaluation no longer makes it
	// (the resource changed or is gone); set when read from the store.
	State      string     `json:"state,omitempty"`
	FirstSeen  time.Time  `json:"first_seen,omitzero"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Savings is what a recommendation saves a 730-hour month, stated before
// and after discounts, and which of the two Monthly is.
type Savings struct {
	// Monthly is the headline figure: after discounts when the resource's
	// cost came from the CUR, else before discounts (the list price).
	Monthly float64 `json:"monthly"`
	Basis   string  `json:"basis"` // after-discounts or before-discounts
	// AfterDiscounts is from the resource's amortized cost (0 when only the
	// list price is known); BeforeDiscounts from its on-demand cost.
	AfterDiscounts  float64 `json:"monthly_after_discounts"`
	BeforeDiscounts float64 `json:"monthly_before_discounts"`
	// CurrentMonthly is what the resource (and what the action removes
	// with it, such as a stopped instance's volumes) costs now, on Basis.
	CurrentMonthly float64 `json:"current_monthly"`
	Currency       string  `json:"currency"`
	CostSource     string  `json:"cost_source"` // cur or price-list
	CostLabel      string  `json:"cost_label"`
	Hours          int     `json:"hours_per_month"`
	// Note says what the figure leaves out (requests, data processed...).
	Note string `json:"note,omitempty"`
}

// Evidence is why a rule fired: the test in words, each measured value
// against its threshold, and the metric series read.
type Evidence struct {
	Test   string              `json:"test"`
	Checks []Check             `json:"checks"`
	Series []*inventory.Series `json:"series,omitempty"`
	// Limits are the thresholds to draw over the series they apply to.
	Limits []Limit `json:"limits,omitempty"`
}

// Limit is a threshold on one metric series of the evidence.
type Limit struct {
	Metric string  `json:"metric"`
	Stat   string  `json:"stat"`
	Value  float64 `json:"value"`
	Label  string  `json:"label"`
}

// Check is one measured value against its threshold.
type Check struct {
	Name      string  `json:"name"`
	Observed  float64 `json:"observed"`
	Op        string  `json:"op"` // <=, >=, <, >, =
	Threshold float64 `json:"threshold"`
	Unit      string  `json:"unit,omitempty"`
	Pass      bool    `json:"pass"`
}

// RecommendationID is the stable ID of a rule's recommendation for a
// resource: the same in every evaluation (IDs are scoped to a tenant).
func RecommendationID(rule, arn string) string {
	sum := sha256.Sum256([]byte(rule + "\x00" + arn))
	return "rec_" + hex.EncodeToString(sum[:10])
}
