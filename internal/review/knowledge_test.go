package review

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/iamdata"
)

// TestKnowledgeNamesRealActions checks every action the embedded data names
// against the IAM catalog, so that a typo cannot silently disable a rule.
func TestKnowledgeNamesRealActions(t *testing.T) {
	t.Parallel()
	kb, err := loadKnowledge()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := iamdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, action string) {
		if _, ok := cat.Action(action); !ok {
			t.Errorf("%s: %s is not in the IAM catalog %s", where, action, cat.Version())
		}
	}
	if len(kb.Escalations) < 30 {
		t.Errorf("%d escalation paths; the catalog must hold at least 30", len(kb.Escalations))
	}
	ids := map[string]bool{}
	for _, e := range kb.Escalations {
		if ids[e.ID] || e.Title == "" || e.Description == "" {
			t.Errorf("escalation %q: duplicate id, or no title or description", e.ID)
		}
		ids[e.ID] = true
		for _, group := range e.Requires {
			for _, a := range group {
				check("escalation "+e.ID, a)
			}
		}
	}
	for _, g := range kb.Groups {
		for _, a := range g.Actions {
			check("group "+g.ID, a)
		}
	}
	for _, c := range kb.Capabilities {
		for _, a := range c.Actions {
			check("capability "+c.Text, a)
		}
	}
	for _, a := range kb.SelfModify {
		check("self_modify", a)
	}
	for prefix := range kb.categories {
		if _, ok := cat.Service(prefix); !ok && !strings.EqualFold(prefix, "aws-portal") {
			t.Errorf("categories.yaml: service prefix %q is not in the catalog", prefix)
		}
	}
}
