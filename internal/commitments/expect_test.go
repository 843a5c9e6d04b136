package commitments

import (
	"math"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
)

// A reservation's expected utilization is exact in units: 2 instances
// half the hours and none the rest fill 2 reservations half the time, 1
// reservation half the time too, and 4 a quarter.
func TestExpectReservation(t *testing.T) {
	u := Usage{Class: ClassRDS, InstanceType: "db.r5.large", Region: "us-east-1", Spend: make([]float64, 100), Units: make([]float64, 100)}
	for h := range 50 {
		u.Units[h], u.Spend[h] = 2, 2*0.25
	}
	other := Usage{Class: ClassRDS, InstanceType: "db.r5.xlarge", Region: "us-east-1", Spend: []float64{9}, Units: []float64{9}}
	for count, want := range map[int]float64{1: 0.5, 2: 0.5, 4: 0.25} {
		r, err := Expect([]Usage{u, other}, nil, Sizing{Type: TypeRDSRI, Term: 1, Payment: NoUpfront, Region: "us-east-1", InstanceType: "db.r5.large", Count: count, UnitHourly: 0.15})
		if err != nil || math.Abs(r.Utilization-want) > 1e-9 {
			t.Errorf("%d reservations: utilization %v, want %v (%v)", count, r.Utilization, want, err)
		}
	}
	// Two reservations cover all the usage: 50 hours × 2 units at $0.25,
	// for 100 hours × 2 × $0.15.
	r, _ := Expect([]Usage{u}, nil, Sizing{Type: TypeRDSRI, Term: 1, Payment: NoUpfront, Region: "us-east-1", InstanceType: "db.r5.large", Count: 2, UnitHourly: 0.15})
	if math.Abs(r.Coverage-1) > 1e-9 || math.Abs(r.MonthlySavings-(25-30)/100.0*HoursPerMonth) > 1e-6 {
		t.Errorf("coverage %v, monthly savings %v", r.Coverage, r.MonthlySavings)
	}
	_, err := Expect([]Usage{u}, nil, Sizing{Type: TypeRDSRI, Term: 1, Payment: NoUpfront, Region: "eu-west-1", InstanceType: "db.r5.large", Count: 1, UnitHourly: 0.15})
	if crossbill.ErrorCode(err) != crossbill.CodeNotFound || !strings.Contains(err.Error(), "no eligible on-demand usage of RDS db.r5.large in eu-west-1") {
		t.Errorf("no usage: %v", err)
	}
	_, err = Expect([]Usage{u}, nil, Sizing{Type: TypeRDSRI, Term: 1, Payment: NoUpfront, Region: "us-east-1", InstanceType: "db.r5.large", Count: 1, UnitHourly: 0.3})
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "would save nothing") {
		t.Errorf("dearer than on demand: %v", err)
	}
}

// A Savings Plan's expectation is Simulate's arithmetic on the usage it
// covers: an EC2 Instance SP sees only its family and region.
func TestExpectSavingsPlan(t *testing.T) {
	rates, err := DefaultRates()
	if err != nil {
		t.Fatal(err)
	}
	m5 := Usage{Class: ClassEC2, InstanceType: "m5.large", Family: "m5", Region: "us-east-1", Spend: []float64{1, 1, 1, 1}, Units: []float64{10, 10, 10, 10}}
	c5 := Usage{Class: ClassEC2, InstanceType: "c5.large", Family: "c5", Region: "us-east-1", Spend: []float64{5, 5, 5, 5}, Units: []float64{50, 50, 50, 50}}
	rate, _ := rates.Lookup(OptionEC2InstanceSP, ClassEC2, 1, NoUpfront)
	full := 1 * (1 - rate.Discount)
	r, err := Expect([]Usage{m5, c5}, rates, Sizing{Type: TypeEC2InstanceSP, Term: 1, Payment: NoUpfront, Region: "us-east-1", Family: "m5", HourlyCommitment: 2 * full})
	if err != nil || math.Abs(r.Utilization-0.5) > 1e-9 || math.Abs(r.Coverage-1) > 1e-9 {
		t.Fatalf("twice the m5 usage: %+v, %v", r, err)
	}
	if _, err := Expect([]Usage{m5}, rates, Sizing{Type: TypeEC2InstanceSP, Term: 1, Payment: NoUpfront, Region: "us-east-1", Family: "r5", HourlyCommitment: 1}); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("no r5 usage: %v", err)
	}
}
