package review

// Finding is one thing a reviewer should know about the vendor's access.
type Finding struct {
	// ID is a stable rule identifier, e.g. "escalation/passrole-ec2-runinstances".
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Identity names the role, user, group or policy the finding is about,
	// e.g. "role FrustCloudformation".
	Identity  string   `json:"identity,omitempty"`
	Actions   []string `json:"actions,omitempty"`
	Resources []string `json:"resources,omitempty"`
	// Scoped is true when every grant behind the finding is limited to
	// named resources or by conditions, or the action always also acts on
	// a resource type that is granted only that way.
	Scoped   bool     `json:"scoped"`
	Location Location `json:"location"`
	Why      string   `json:"why"`
}

// Principal is someone a role trusts, as the review understood it.
type Principal struct {
	Kind       string `json:"kind"`
	Value      string `json:"value"`
	Vendor     string `json:"vendor,omitempty"`
	ExternalID bool   `json:"external_id"`
}

// Identity summarizes one role, user, group or policy that was reviewed.
type Identity struct {
	Kind      string         `json:"kind"`
	Name      string         `json:"name"`
	Location  Location       `json:"location"`
	TrustedBy []Principal    `json:"trusted_by,omitempty"`
	Actions   int            `json:"actions"`
	ByLevel   map[string]int `json:"by_level"`
	// Writes lists every allowed action that is not Read or List (Write,
	// Tagging, Permissions management), sorted, so that a caller can check
	// each one against its own explanation of why it is needed.
	Writes  []string `json:"writes,omitempty"`
	Highest Severity `json:"highest"`
}

// LevelCount counts distinct allowed actions of one IAM access level.
type LevelCount struct {
	Level   string `json:"level"`
	Actions int    `json:"actions"`
}

// CategoryCount counts grants in one service category. Grants counts
// (action pattern, resource) pairs as written, the way vendors count their
// own permission tables; Actions counts distinct actions after wildcard
// expansion; Writes counts those that are not Read or List.
type CategoryCount struct {
	Category string `json:"category"`
	Grants   int    `json:"grants"`
	Actions  int    `json:"actions"`
	Writes   int    `json:"writes"`
}

// Summary is what a reviewer reads first.
type Summary struct {
	Highest    Severity         `json:"highest"`
	BySeverity map[Severity]int `json:"by_severity"`
	Actions    int              `json:"actions"`
	ByLevel    []LevelCount     `json:"by_level"`
	ByCategory []CategoryCount  `json:"by_category"`
	Can        []string         `json:"can"`
	Cannot     []string         `json:"cannot"`
	// Unknown lists capabilities the review cannot rule in or out: a
	// managed policy it does not expand, or a part not in the input.
	Unknown  []string `json:"unknown"`
	TopRisks []string `json:"top_risks"`
}

// Report is the result of a review.
type Report struct {
	Files      []string   `json:"files"`
	Catalog    string     `json:"catalog_version"`
	Summary    Summary    `json:"summary"`
	Identities []Identity `json:"identities"`
	// Findings are sorted highest severity first.
	Findings []Finding `json:"findings"`
}

// Highest returns the highest severity among the findings ("" when none).
func (r Report) Highest() Severity {
	var h Severity
	for _, f := range r.Findings {
		h = maxSeverity(h, f.Severity)
	}
	return h
}
