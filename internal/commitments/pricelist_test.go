package commitments

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func readPriceDoc(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pricelist", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestParsePriceList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		onDemand float64
		reserved []reservedOffer
	}{
		// The 3-year convertible term is skipped.
		{"ec2-m5.large-us-east-1.json", 0.096, []reservedOffer{
			{Term: 1, Payment: NoUpfront, Hourly: 0.06}, {Term: 1, Payment: PartialUpfront, Upfront: 256, Hourly: 0.029},
			{Term: 3, Payment: AllUpfront, Upfront: 1095}}},
		// Redshift names no OfferingClass.
		{"redshift-ra3.xlplus-eu-west-1.json", 1.086, []reservedOffer{
			{Term: 1, Payment: NoUpfront, Hourly: 0.869}, {Term: 1, Payment: AllUpfront, Upfront: 6136}}},
		// No on-demand term; a legacy option with a negative and a NaN price.
		{"elasticache-no-ondemand.json", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := parsePriceList(readPriceDoc(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got.OnDemand != tt.onDemand || len(got.Reserved) != len(tt.reserved) {
				t.Fatalf("got %+v, want on-demand %v and %+v", got, tt.onDemand, tt.reserved)
			}
			for i, o := range tt.reserved {
				g := got.Reserved[i]
				if g.Term != o.Term || g.Payment != o.Payment || math.Abs(g.Upfront-o.Upfront) > 1e-9 || math.Abs(g.Hourly-o.Hourly) > 1e-9 {
					t.Errorf("offer %d: %+v, want %+v", i, g, o)
				}
			}
		})
	}
	// 1y Partial Upfront m5.large: 256/8760 + 0.029 = $0.058224/h, 39.35% off $0.096.
	got, err := parsePriceList(readPriceDoc(t, "ec2-m5.large-us-east-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d := 1 - got.Reserved[1].Effective()/got.OnDemand; math.Abs(d-(1-(256.0/8760+0.029)/0.096)) > 1e-12 {
		t.Errorf("partial upfront discount %v", d)
	}
	for _, bad := range []string{"", "{", "[1,2]", `{"terms":{"OnDemand":[]}}`} {
		if _, err := parsePriceList(bad); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}

// FuzzParsePriceList: any input either fails or yields finite,
// non-negative prices and offers of a known term and payment option.
func FuzzParsePriceList(f *testing.F) {
	for _, name := range []string{"ec2-m5.large-us-east-1.json", "redshift-ra3.xlplus-eu-west-1.json", "elasticache-no-ondemand.json"} {
		f.Add(readPriceDoc(f, name))
	}
	f.Add(`{"terms":{"OnDemand":{"a":{"priceDimensions":{"b":{"unit":"Hrs","pricePerUnit":{"USD":"1e308"}}}}}}}`)
	f.Add(`{"terms":{"Reserved":{"a":{"priceDimensions":{"b":{"unit":"Quantity","pricePerUnit":{"USD":"0"}}},"termAttributes":{"LeaseContractLength":"3yr","PurchaseOption":"All Upfront"}}}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		pl, err := parsePriceList(s)
		if err != nil {
			return
		}
		if math.IsNaN(pl.OnDemand) || math.IsInf(pl.OnDemand, 0) || pl.OnDemand < 0 {
			t.Fatalf("on-demand %v", pl.OnDemand)
		}
		seen := map[[2]any]bool{}
		for _, o := range pl.Reserved {
			k := [2]any{o.Term, o.Payment}
			if (o.Term != 1 && o.Term != 3) || o.Payment.UpfrontShare() < 0 || seen[k] {
				t.Fatalf("offer %+v", o)
			}
			seen[k] = true
			if o.Payment != NoUpfront && o.Payment != PartialUpfront && o.Payment != AllUpfront {
				t.Fatalf("payment %q", o.Payment)
			}
			if e := o.Effective(); math.IsNaN(e) || e <= 0 || o.Upfront < 0 || o.Hourly < 0 {
				t.Fatalf("offer %+v effective %v", o, e)
			}
		}
	})
}
