package cur

import (
	"testing"

	"github.com/crossbill/crossbill"
)

func TestColumnsUniqueAndSorted(t *testing.T) {
	t.Parallel()
	for name, cols := range map[string][]Column{"cur": Columns(), "focus": FOCUSColumns()} {
		seen := map[string]bool{}
		for _, c := range cols {
			if seen[c.Name] {
				t.Errorf("%s: duplicate column %s", name, c.Name)
			}
			seen[c.Name] = true
			if c.Type == "" {
				t.Errorf("%s: column %s has no type", name, c.Name)
			}
		}
	}
	cols := Columns()
	// 125, plus tags and line_item_iam_principal (IAM principal cost
	// allocation, issue 12).
	if len(cols) != 127 {
		t.Errorf("CUR 2.0 with resources and split cost allocation has 127 columns, got %d", len(cols))
	}
	for i := 1; i < len(cols); i++ {
		if cols[i-1].Name >= cols[i].Name {
			t.Errorf("columns not in dictionary order: %s before %s", cols[i-1].Name, cols[i].Name)
		}
	}
}

func schemaMap(cols []Column) map[string]string {
	m := map[string]string{}
	for _, c := range cols {
		m[c.Name] = c.Type
	}
	return m
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(map[string]string)
		focus  bool
		ok     bool
	}{
		{name: "exact", mutate: func(map[string]string) {}, ok: true},
		{name: "extra column", mutate: func(m map[string]string) { m["tags"] = TypeMapString }, ok: true},
		{name: "optional missing", mutate: func(m map[string]string) { delete(m, "product_comment") }, ok: true},
		{name: "timestamptz", mutate: func(m map[string]string) { m[ColLineItemUsageStartDate] = "TIMESTAMP WITH TIME ZONE" }, ok: true},
		{name: "decimal cost", mutate: func(m map[string]string) { m[ColLineItemUnblendedCost] = "DECIMAL(18,8)" }, ok: true},
		{name: "discount as strings", mutate: func(m map[string]string) { m[ColDiscount] = "MAP(VARCHAR, VARCHAR)" }, ok: true},
		{name: "required missing", mutate: func(m map[string]string) { delete(m, ColLineItemUnblendedCost) }},
		{name: "cost as string", mutate: func(m map[string]string) { m[ColLineItemUnblendedCost] = "VARCHAR" }},
		{name: "tags not a map", mutate: func(m map[string]string) { m[ColResourceTags] = "VARCHAR" }},
		{name: "empty", mutate: func(m map[string]string) { clear(m) }},
		{name: "focus exact", focus: true, mutate: func(map[string]string) {}, ok: true},
		{name: "focus missing BilledCost", focus: true, mutate: func(m map[string]string) { delete(m, FocusBilledCost) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tt.focus {
				m := schemaMap(FOCUSColumns())
				tt.mutate(m)
				err = ValidateFOCUS(m)
			} else {
				m := schemaMap(Columns())
				tt.mutate(m)
				err = Validate(m)
			}
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("Validate error code = %q (%v), want invalid", crossbill.ErrorCode(err), err)
			}
		})
	}
}
