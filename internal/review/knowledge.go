package review

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/wildcard"
)

//go:embed data/*.yaml
var dataFS embed.FS

// escalation is one known privilege escalation path.
type escalation struct {
	ID             string     `yaml:"id"`
	Title          string     `yaml:"title"`
	Severity       Severity   `yaml:"severity"`
	ScopedSeverity Severity   `yaml:"scoped_severity"`
	Requires       [][]string `yaml:"requires"`
	Description    string     `yaml:"description"`
}

// sensitiveGroup is a set of actions that deserve their own finding.
type sensitiveGroup struct {
	ID             string   `yaml:"id"`
	Category       string   `yaml:"category"`
	Title          string   `yaml:"title"`
	Severity       Severity `yaml:"severity"`
	ScopedSeverity Severity `yaml:"scoped_severity"`
	Actions        []string `yaml:"actions"`
	Why            string   `yaml:"why"`
}

type deprecation struct {
	Pattern string `yaml:"pattern"`
	Why     string `yaml:"why"`
}

type managedPolicy struct {
	Name     string   `yaml:"name"`
	Severity Severity `yaml:"severity"`
	Meaning  string   `yaml:"meaning"`
	// Can lists the summary capabilities (their text, or "*" for all) the
	// policy grants; Complete says that list is all of them, so the
	// summary may say "cannot" for the others instead of "unknown".
	Can      []string `yaml:"can"`
	Complete bool     `yaml:"complete"`
}

type capability struct {
	Text    string   `yaml:"text"`
	Actions []string `yaml:"actions"`
}

// knowledge is the review's embedded data, read once.
type knowledge struct {
	Escalations  []escalation
	Groups       []sensitiveGroup `yaml:"groups"`
	Deprecated   []deprecation    `yaml:"deprecated"`
	Managed      []managedPolicy  `yaml:"managed"`
	SelfModify   []string         `yaml:"self_modify"`
	NonScoping   []string         `yaml:"non_scoping_conditions"`
	Capabilities []capability     `yaml:"capabilities"`

	categories map[string]string // lower-case service prefix -> category
	groupOf    map[string][]int  // lower-case action -> indexes into Groups
	selfModify map[string]bool
	nonScoping map[string]bool
}

// loadKnowledge parses the embedded data once; the result is never modified.
var loadKnowledge = sync.OnceValues(func() (*knowledge, error) {
	k, err := parseKnowledge()
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "review", "reading embedded review data: %w", err)
	}
	return k, nil
})

func parseKnowledge() (*knowledge, error) {
	k := &knowledge{}
	read := func(name string, v any) error {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := read("escalation.yaml", &k.Escalations); err != nil {
		return nil, err
	}
	if err := read("sensitive.yaml", k); err != nil {
		return nil, err
	}
	var cats map[string][]string
	if err := read("categories.yaml", &cats); err != nil {
		return nil, err
	}
	k.categories = map[string]string{}
	for cat, prefixes := range cats {
		for _, p := range prefixes {
			k.categories[strings.ToLower(p)] = cat
		}
	}
	k.groupOf = map[string][]int{}
	for i, g := range k.Groups {
		if !g.Severity.valid() || !g.ScopedSeverity.valid() {
			return nil, fmt.Errorf("group %s: bad severity", g.ID)
		}
		for _, a := range g.Actions {
			k.groupOf[strings.ToLower(a)] = append(k.groupOf[strings.ToLower(a)], i)
		}
	}
	for i, e := range k.Escalations {
		if e.ScopedSeverity == "" {
			k.Escalations[i].ScopedSeverity = e.Severity.lower()
		}
		if !e.Severity.valid() || len(e.Requires) == 0 {
			return nil, fmt.Errorf("escalation %s: needs a valid severity and requires", e.ID)
		}
	}
	for _, m := range k.Managed {
		if !m.Severity.valid() {
			return nil, fmt.Errorf("managed policy %s: bad severity", m.Name)
		}
	}
	k.selfModify = lowerSet(k.SelfModify)
	k.nonScoping = lowerSet(k.NonScoping)
	return k, nil
}

func lowerSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[strings.ToLower(s)] = true
	}
	return m
}

// catalogCategories maps the IAM catalog's service categories to ours.
func catalogCategory(c string) string {
	switch c {
	case "cloud-financial-management":
		return "Cost & Billing"
	case "compute":
		return "Compute"
	case "containers":
		return "Containers"
	case "storage":
		return "Storage"
	case "databases":
		return "Database"
	case "networking-and-content-delivery":
		return "Networking & CDN"
	case "analytics":
		return "Analytics"
	case "machine-learning-and-ai":
		return "AI/ML"
	case "management-and-governance":
		return "Management & Governance"
	case "security-identity-and-compliance":
		return "Security & Identity"
	case "application-integration":
		return "Application Integration"
	case "developer-tools":
		return "Developer Tools"
	}
	return "Other"
}

// deprecation returns why an action pattern is deprecated, or "".
func (k *knowledge) deprecation(pattern string) string {
	p := strings.ToLower(pattern)
	for _, d := range k.Deprecated {
		dp := strings.ToLower(d.Pattern)
		if prefix, ok := strings.CutSuffix(dp, ":*"); ok {
			if svc, _, _ := strings.Cut(p, ":"); svc == prefix {
				return d.Why
			}
			continue
		}
		if wildcard.Match(dp, p, true) {
			return d.Why
		}
	}
	return ""
}

// managed returns what is known of an AWS managed policy ARN.
func (k *knowledge) managed(arn string) (managedPolicy, bool) {
	_, name, ok := strings.Cut(arn, ":iam::aws:policy/")
	if !ok {
		return managedPolicy{}, false
	}
	for _, m := range k.Managed {
		if strings.EqualFold(m.Name, name) || strings.EqualFold(m.Name, name[strings.LastIndex(name, "/")+1:]) && !strings.Contains(m.Name, "/") && !strings.Contains(name, "/") {
			return m, true
		}
	}
	return managedPolicy{Name: name}, false
}

// Escalation is one privilege escalation path of the review's catalog, for
// other analyses (the access inventory checks it against live principals).
type Escalation struct {
	ID          string
	Title       string
	Severity    Severity
	Requires    [][]string // every group must be granted; a group is granted when one of its actions is
	Description string
}

// Escalations returns the review's escalation catalog.
func Escalations() ([]Escalation, error) {
	k, err := loadKnowledge()
	if err != nil {
		return nil, err
	}
	out := make([]Escalation, len(k.Escalations))
	for i, e := range k.Escalations {
		out[i] = Escalation{ID: e.ID, Title: e.Title, Severity: e.Severity, Requires: e.Requires, Description: e.Description}
	}
	return out, nil
}
