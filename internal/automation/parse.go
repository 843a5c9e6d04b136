// Package automation runs declarative automation policies: YAML that
// picks recommendations, access findings or real-time events with filters
// and acts on what matches (notify, mark for a later operation,
// remediate), on a schedule. Parse checks a file and names the line of
// each mistake; Run evaluates the policies against a tenant's data, with
// a dry run that shows what each would do and does nothing.
//
//	policies:
//	  - name: new-admins
//	    resource: events
//	    filters:
//	      - event_name: [CreateUser, AttachUserPolicy]
//	      - account: "1111*"
//	    action: notify
//	  - name: idle-volumes
//	    resource: recommendations
//	    filters:
//	      - rule: ebs-unattached
//	      - monthly_savings: ">= 20"
//	    action: mark
//	    mark_days: 7
//	    schedule: daily
package automation

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
)

// Resources a policy can select.
const (
	ResourceRecommendations = "recommendations"
	ResourceFindings        = "findings"
	ResourceEvents          = "events"
)

// Actions.
const (
	ActionNotify    = "notify"
	ActionMark      = "mark"
	ActionRemediate = "remediate"
)

// fields are the filter keys of each resource, and whether a key is
// numeric (compared with <, <=, >, >=, =) or text (exact, list, or * and ?
// wildcards).
var fields = map[string]map[string]bool{
	ResourceRecommendations: {"rule": false, "resource": false, "account": false, "region": false, "monthly_savings": true},
	ResourceFindings:        {"id": false, "severity": false, "account": false, "principal": false, "name": false},
	ResourceEvents:          {"event_name": false, "source": false, "account": false, "region": false, "principal": false},
}

// actions each resource allows: findings and events are not resources
// crossbill changes.
var actions = map[string][]string{
	ResourceRecommendations: {ActionNotify, ActionMark, ActionRemediate},
	ResourceFindings:        {ActionNotify},
	ResourceEvents:          {ActionNotify},
}

// Schedules: how often a policy runs in the server (events policies also
// run on each event).
var schedules = []string{"hourly", "daily", "weekly"}

// Filter is one condition: Field compared with Values (any of them).
type Filter struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"` // =, <, <=, >, >=
	Values []string `json:"values"`
	Number float64  `json:"number,omitempty"`
}

// Policy is one parsed policy.
type Policy struct {
	Name     string   `json:"name"`
	Resource string   `json:"resource"`
	Filters  []Filter `json:"filters"`
	Action   string   `json:"action"`
	Topic    string   `json:"topic,omitempty"`     // notify: the notify topic (default automation.NAME)
	MarkDays int      `json:"mark_days,omitempty"` // mark: days until the operation (default 7)
	Schedule string   `json:"schedule"`            // hourly, daily (default), weekly
	// MaxResources caps what one run acts on (remediate, mark): past it
	// the run stops and says so.
	MaxResources int `json:"max_resources,omitempty"`
	Line         int `json:"line"`
}

// LineError is a mistake in a policy file, with its line.
type LineError struct {
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// maxFile bounds a policy file (and the work of parsing one).
const maxFile = 256 << 10

// Parse reads a policy file. Every mistake found is reported, each with
// its line, in one CodeInvalid error.
func Parse(src []byte) ([]Policy, error) {
	const op = "policy"
	if len(src) > maxFile {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "the file is %d bytes; at most %d", len(src), maxFile)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "not YAML: %v", err)
	}
	p := &parser{}
	out := p.file(&doc)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		msgs := make([]string, 0, len(p.errs))
		for _, e := range p.errs {
			msgs = append(msgs, e.Error())
		}
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s", strings.Join(msgs, "\n"))
	}
	return out, nil
}

type parser struct{ errs []LineError }

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) < 50 {
		p.errs = append(p.errs, LineError{Line: n.Line, Msg: crossbill.Printable(fmt.Sprintf(format, args...))})
	}
}

func (p *parser) file(doc *yaml.Node) []Policy {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		p.errf(doc, "a policy file is a mapping with a policies: list")
		return nil
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "policies" {
			p.errf(k, "unknown key %q: a policy file holds policies:", k.Value)
			continue
		}
		list = v
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errf(root, "policies: must be a list of at least one policy")
		return nil
	}
	if len(list.Content) > 200 {
		p.errf(list, "%d policies; at most 200 a file", len(list.Content))
		return nil
	}
	seen := map[string]int{}
	var out []Policy
	for _, n := range list.Content {
		pol, ok := p.policy(n)
		if !ok {
			continue
		}
		if prev, dup := seen[pol.Name]; dup {
			p.errf(n, "policy name %q is used on line %d too", pol.Name, prev)
			continue
		}
		seen[pol.Name] = pol.Line
		out = append(out, pol)
	}
	return out
}

func (p *parser) policy(n *yaml.Node) (Policy, bool) {
	pol := Policy{Line: n.Line, Schedule: "daily"}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "a policy is a mapping (name:, resource:, filters:, action:)")
		return pol, false
	}
	before := len(p.errs)
	var filters *yaml.Node
	set := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := set[k.Value]; dup {
			p.errf(k, "%s: given twice", k.Value)
			continue
		}
		set[k.Value] = k
		switch k.Value {
		case "name", "resource", "action", "topic", "schedule":
			s, ok := p.scalar(v, k.Value)
			if !ok {
				continue
			}
			switch k.Value {
			case "name":
				pol.Name = s
			case "resource":
				pol.Resource = s
			case "action":
				pol.Action = s
			case "topic":
				pol.Topic = s
			case "schedule":
				pol.Schedule = s
			}
		case "mark_days", "max_resources":
			s, ok := p.scalar(v, k.Value)
			if !ok {
				continue
			}
			d, err := strconv.Atoi(s)
			if err != nil || d < 1 || d > 365 && k.Value == "mark_days" || d > 10000 {
				p.errf(v, "%s: %q is not a whole number in range (mark_days 1-365, max_resources 1-10000)", k.Value, s)
				continue
			}
			if k.Value == "mark_days" {
				pol.MarkDays = d
			} else {
				pol.MaxResources = d
			}
		case "filters":
			filters = v
		default:
			p.errf(k, "unknown key %q: use name, resource, filters, action, topic, mark_days, max_resources, schedule", k.Value)
		}
	}
	switch {
	case pol.Name == "":
		p.errf(n, "the policy has no name:")
	case !nameRE.MatchString(pol.Name):
		p.errf(set["name"], "name %q: lower-case letters, digits and dashes, at most 63", pol.Name)
	}
	fs, known := fields[pol.Resource]
	if !known {
		p.errf(keyOr(set["resource"], n), "resource %q: use recommendations, findings or events", pol.Resource)
	}
	if pol.Action == "" {
		p.errf(n, "the policy has no action: (notify, mark or remediate)")
	} else if known && !contains(actions[pol.Resource], pol.Action) {
		p.errf(set["action"], "action %q on %s: use %s", pol.Action, pol.Resource, strings.Join(actions[pol.Resource], " or "))
	}
	if pol.Topic != "" && (pol.Action != ActionNotify || !topicRE.MatchString(pol.Topic)) {
		p.errf(set["topic"], "topic %q: only notify takes a topic, lower-case words joined by dots", pol.Topic)
	}
	if pol.MarkDays != 0 && pol.Action != ActionMark {
		p.errf(set["mark_days"], "mark_days is for action mark")
	}
	if pol.Action == ActionMark && pol.MarkDays == 0 {
		pol.MarkDays = 7
	}
	if !contains(schedules, pol.Schedule) {
		p.errf(keyOr(set["schedule"], n), "schedule %q: use hourly, daily or weekly", pol.Schedule)
	}
	if filters != nil && known {
		pol.Filters = p.filters(filters, fs)
	}
	return pol, len(p.errs) == before
}

var topicRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)

func keyOr(k, n *yaml.Node) *yaml.Node {
	if k != nil {
		return k
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) scalar(v *yaml.Node, key string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		p.errf(v, "%s: give a single value", key)
		return "", false
	}
	if len(v.Value) > 300 {
		p.errf(v, "%s: longer than 300 bytes", key)
		return "", false
	}
	if err := crossbill.CheckText("policy", key, v.Value); err != nil {
		p.errf(v, "%v", err)
		return "", false
	}
	return v.Value, true
}

// filters reads "- field: value" items (value a scalar or a list).
func (p *parser) filters(n *yaml.Node, known map[string]bool) []Filter {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "filters: give a list, each item one field: value")
		return nil
	}
	var out []Filter
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			p.errf(item, "a filter is one field: value")
			continue
		}
		k, v := item.Content[0], item.Content[1]
		numeric, ok := known[k.Value]
		if !ok {
			names := make([]string, 0, len(known))
			for f := range known {
				names = append(names, f)
			}
			sort.Strings(names)
			p.errf(k, "unknown filter %q: use %s", k.Value, strings.Join(names, ", "))
			continue
		}
		f := Filter{Field: k.Value, Op: "="}
		var vals []*yaml.Node
		switch v.Kind {
		case yaml.ScalarNode:
			vals = []*yaml.Node{v}
		case yaml.SequenceNode:
			vals = v.Content
		default:
			p.errf(v, "%s: give a value or a list of values", k.Value)
			continue
		}
		if len(vals) == 0 || len(vals) > 100 {
			p.errf(v, "%s: give 1 to 100 values", k.Value)
			continue
		}
		bad := false
		for _, x := range vals {
			s, ok := p.scalar(x, k.Value)
			if !ok {
				bad = true
				continue
			}
			f.Values = append(f.Values, s)
		}
		if bad {
			continue
		}
		if numeric {
			if len(f.Values) != 1 {
				p.errf(v, "%s: give one comparison such as \">= 20\"", k.Value)
				continue
			}
			op, num, err := comparison(f.Values[0])
			if err != nil {
				p.errf(v, "%s: %v", k.Value, err)
				continue
			}
			f.Op, f.Number = op, num
		}
		out = append(out, f)
	}
	return out
}

// comparison reads "20", "> 20", ">=20.5".
func comparison(s string) (string, float64, error) {
	s = strings.TrimSpace(s)
	op := "="
	for _, o := range []string{"<=", ">=", "<", ">", "="} {
		if strings.HasPrefix(s, o) {
			op, s = o, strings.TrimSpace(s[len(o):])
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n != n || n > 1e12 || n < -1e12 {
		return "", 0, fmt.Errorf("%q is not a comparison such as \">= 20\"", s)
	}
	return op, n, nil
}
