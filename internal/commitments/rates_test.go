package commitments_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

func TestRatesOverride(t *testing.T) {
	t.Parallel()
	r, err := commitments.DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.All()) != 48 {
		t.Errorf("default table has %d rates, want 48 (6 types × classes × 2 terms × 3 payments)", len(r.All()))
	}
	file := filepath.Join(t.TempDir(), "rates.json")
	if err := os.WriteFile(file, []byte(`{"rates": [{"type": "COMPUTE_SP", "class": "ec2", "term": 1, "payment": "NO_UPFRONT", "discount": 0.3}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.ReadRates(file); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Lookup(commitments.OptionComputeSP, "ec2", 1, commitments.NoUpfront); !ok || got.Discount != 0.3 || got.Source != "file" {
		t.Errorf("override: %+v", got)
	}
	for _, bad := range []string{
		`{"rates": [{"type": "COMPUTE_SP", "class": "ec2", "term": 2, "payment": "No Upfront", "discount": 0.3}]}`,
		`{"rates": [{"type": "COMPUTE_SP", "class": "ec2", "term": 1, "payment": "later", "discount": 0.3}]}`,
		`{"rates": [{"type": "COMPUTE_SP", "class": "ec2", "term": 1, "payment": "No Upfront", "discount": 1.3}]}`,
		`{"rates": [{"type": "FREE_SP", "class": "ec2", "term": 1, "payment": "No Upfront", "discount": 0.3}]}`,
		`{"rates": `,
	} {
		if _, err := commitments.ParseRates([]byte(bad)); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: %v, want Invalid", bad, err)
		}
	}
	if err := r.ReadRates(filepath.Join(t.TempDir(), "missing.json")); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseRates(f *testing.F) {
	f.Add([]byte(`{"rates": [{"type": "COMPUTE_SP", "class": "ec2", "term": 1, "payment": "No Upfront", "discount": 0.27}]}`))
	f.Add([]byte(`{"rates": [{"type": "RDS_RI", "class": "rds", "term": 3, "payment": "all", "discount": 0.5}]}`))
	f.Add([]byte(`{"rates": []}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := commitments.ParseRates(b)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %s: %v", crossbill.ErrorCode(err), err)
			}
			return
		}
		for _, x := range r.All() {
			if !(x.Discount > 0 && x.Discount < 1) || (x.Term != 1 && x.Term != 3) {
				t.Fatalf("accepted %+v", x)
			}
			if _, ok := commitments.ParsePayment(string(x.Payment)); !ok {
				t.Fatalf("accepted payment %q", x.Payment)
			}
		}
	})
}

func FuzzParsePayment(f *testing.F) {
	for _, s := range []string{"No Upfront", "NO_UPFRONT", "Partial Upfront", "AllUpfront", "Heavy Utilization", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := commitments.ParsePayment(s)
		if ok != (p != "") {
			t.Fatalf("%q: %q %v", s, p, ok)
		}
		if ok {
			if again, ok2 := commitments.ParsePayment(string(p)); !ok2 || again != p {
				t.Fatalf("%q does not round-trip", p)
			}
		}
	})
}
