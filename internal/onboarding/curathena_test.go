package onboarding_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
)

// The CUR stack's Athena option: off by default, every resource of it
// under the condition, the role's policy exactly manifest.CURAthena, and a
// Glue table holding every column the Athena cost queries read.
func TestCURTemplateAthenaOption(t *testing.T) {
	t.Parallel()
	body, err := onboarding.CURTemplate(onboarding.CUROptions{Format: onboarding.FormatJSON})
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Parameters map[string]struct {
			Default       any
			AllowedValues []string
		}
		Resources map[string]struct {
			Type       string
			Condition  string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(body, &tpl); err != nil {
		t.Fatal(err)
	}
	if p := tpl.Parameters["EnableAthena"]; p.Default != "false" || !slices.Equal(p.AllowedValues, []string{"false", "true"}) {
		t.Fatalf("EnableAthena: %+v", p)
	}
	athena := 0
	for name, r := range tpl.Resources {
		isAthena := strings.HasPrefix(r.Type, "AWS::Glue::") || strings.HasPrefix(r.Type, "AWS::Athena::") || name == "CurAthenaPolicy"
		if isAthena {
			athena++
			if r.Condition != "AthenaEnabled" {
				t.Errorf("%s (%s) is created without the Athena option", name, r.Type)
			}
		}
	}
	if athena != 4 {
		t.Fatalf("%d Athena resources, want database, table, workgroup and policy", athena)
	}
	doc, _ := json.Marshal(tpl.Resources["CurAthenaPolicy"].Properties["PolicyDocument"])
	for _, p := range manifest.CURAthena() {
		if !strings.Contains(string(doc), `"`+p.Action+`"`) {
			t.Errorf("the Athena policy lacks %s", p.Action)
		}
	}
	if strings.Contains(string(doc), "s3:") {
		t.Errorf("the Athena policy grants S3 access (results are Athena-managed): %s", doc)
	}
	table, _ := json.Marshal(tpl.Resources["CurGlueTable"].Properties)
	if !strings.Contains(string(table), "BILLING_PERIOD=${!billing_period}") {
		t.Errorf("the table's location template does not project billing_period: %s", table)
	}
	// Every column the Athena SQL reads is a column of the table.
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var sql strings.Builder
	for _, m := range costs.Metrics() {
		for _, d := range []costs.Dim{{Kind: costs.DimService}, {Kind: costs.DimAccount}, {Kind: costs.DimRegion}, {Kind: costs.DimUsageType},
			{Kind: costs.DimOperation}, {Kind: costs.DimChargeType}, {Kind: costs.DimTag, Key: "team"}, {Kind: costs.DimCostCategory, Key: "env"}} {
			s, err := costs.AthenaSQL(costs.Query{Metric: m, GroupBy: d, From: jan, To: jan.AddDate(0, 1, 0)}, manifest.AthenaDatabase+"."+manifest.AthenaTable)
			if err != nil {
				t.Fatal(err)
			}
			sql.WriteString(s)
		}
	}
	for _, col := range slices.Compact(slices.Sorted(slices.Values(regexp.MustCompile(`\b(?:line_item|savings_plan|reservation|pricing|product|resource|cost)_[a-z_]+\b`).FindAllString(sql.String(), -1)))) {
		if !strings.Contains(string(table), `"Name":"`+col+`"`) {
			t.Errorf("the Athena SQL reads %s, which the Glue table lacks", col)
		}
	}
}
