package costs_test

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

// FuzzParseFilter checks that any --filter either parses into a dimension
// the query layer knows, with values, or fails with CodeInvalid.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"service=AmazonEC2", "tag:team=web,api", "cost-category:env=", "region", "=x",
		"tag:=x", "account=1,2,3", "usage-type=a=b", "TAG:Team=x", "operation=\x00", "charge-type=Usage"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := costs.ParseFilter(s)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("%q: error %v has code %q, want invalid", s, err, crossbill.ErrorCode(err))
			}
			return
		}
		if len(flt.Values) == 0 {
			t.Fatalf("%q: parsed with no values", s)
		}
		again, err := costs.ParseDim(flt.Dim.String())
		if err != nil || again != flt.Dim {
			t.Fatalf("%q: dimension %+v does not round-trip (%+v, %v)", s, flt.Dim, again, err)
		}
	})
}

// FuzzParseDim checks --group-by values the same way.
func FuzzParseDim(f *testing.F) {
	for _, s := range []string{"service", "tag:team", "cost-category:Env Name", "tag:", "colour", "tag:a:b", " Account "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := costs.ParseDim(s)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("%q: code %q", s, crossbill.ErrorCode(err))
			}
			return
		}
		if (d.Kind == costs.DimTag || d.Kind == costs.DimCostCategory) != (d.Key != "") {
			t.Fatalf("%q: kind %q with key %q", s, d.Kind, d.Key)
		}
		if strings.ContainsAny(d.Key, "\x00\n") {
			t.Fatalf("%q: key with control characters accepted", s)
		}
	})
}
