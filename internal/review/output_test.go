package review

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestSARIFStructure checks the parts of SARIF 2.1.0 that code-scanning
// tools require: schema, version, one run with a driver and its rules, and
// results pointing at rules with a level, a message and a file location.
func TestSARIFStructure(t *testing.T) {
	t.Parallel()
	rep := reviewFiles(t, "002-alphaus-octo.yaml", "004-flexera-policy.json")
	var buf bytes.Buffer
	if err := rep.WriteSARIF(&buf, "test"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("header: version %q schema %q runs %d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "crossbill" || len(run.Tool.Driver.Rules) == 0 {
		t.Fatalf("driver %+v", run.Tool.Driver)
	}
	if len(run.Results) != len(rep.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(rep.Findings))
	}
	ids := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if ids[r.ID] || r.ShortDescription.Text == "" {
			t.Fatalf("rule %q duplicated or without description", r.ID)
		}
		ids[r.ID] = true
	}
	withLine := 0
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Fatalf("result %s points at rule %d", res.RuleID, res.RuleIndex)
		}
		switch res.Level {
		case "error", "warning", "note":
		default:
			t.Fatalf("result level %q", res.Level)
		}
		if res.Message.Text == "" || len(res.Locations) != 1 {
			t.Fatalf("result %s: empty message or no location", res.RuleID)
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "002-alphaus-octo.yaml" && loc.ArtifactLocation.URI != "004-flexera-policy.json" {
			t.Fatalf("artifact uri %q", loc.ArtifactLocation.URI)
		}
		if loc.Region != nil && loc.Region.StartLine > 0 {
			withLine++
		}
	}
	if withLine != len(run.Results) {
		t.Fatalf("%d of %d results have a start line; every finding in these files has one", withLine, len(run.Results))
	}
}

func TestTextAndMarkdown(t *testing.T) {
	t.Parallel()
	rep := reviewFiles(t, "003-wiv.yaml")
	for _, format := range []string{FormatText, FormatMarkdown, FormatJSON} {
		var buf bytes.Buffer
		if err := rep.Write(&buf, format, "test"); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := buf.String()
		for _, s := range []string{"secretsmanager:GetSecretValue", "Application Integration", "iam:PutRolePolicy"} {
			if !strings.Contains(out, s) {
				t.Errorf("%s output lacks %q", format, s)
			}
		}
	}
	if err := rep.Write(&bytes.Buffer{}, "pdf", ""); err == nil {
		t.Fatal("unknown format accepted")
	}
}
