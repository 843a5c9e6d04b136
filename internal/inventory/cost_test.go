package inventory

import (
	"math"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/costs"
)

func TestPriceList(t *testing.T) {
	t.Parallel()
	vol := func(typ string, gb, iops, tput float64) Resource {
		return Resource{Service: "ec2", Type: "volume", Metadata: map[string]any{"volume_type": typ, "size_gb": gb, "iops": iops, "throughput_mibps": tput}}
	}
	cases := []struct {
		name string
		r    Resource
		want float64
		ok   bool
	}{
		{"running m5.large", Resource{Service: "ec2", Type: "instance", State: "running", Metadata: map[string]any{"instance_type": "m5.large"}}, 0.096 * 730, true},
		{"stopped m5.large", Resource{Service: "ec2", Type: "instance", State: "stopped", Metadata: map[string]any{"instance_type": "m5.large"}}, 0, true},
		{"unknown type", Resource{Service: "ec2", Type: "instance", State: "running", Metadata: map[string]any{"instance_type": "x9.huge"}}, 0, false},
		{"gp2 100 GB", vol("gp2", 100, 300, 0), 10, true},
		// gp3: 3,000 IOPS and 125 MiB/s included; above, per IOPS and MiB/s.
		{"gp3 100 GB baseline", vol("gp3", 100, 3000, 125), 8, true},
		{"gp3 100 GB 4000 IOPS 250 MiB/s", vol("gp3", 100, 4000, 250), 8 + 1000*0.005 + 125*0.04, true},
		{"io1 50 GB 1000 IOPS", vol("io1", 50, 1000, 0), 50*0.125 + 1000*0.065, true},
		{"snapshot 20 GB", Resource{Service: "ec2", Type: "snapshot", Metadata: map[string]any{"size_gb": 20}}, 1, true},
		{"Elastic IP", Resource{Service: "ec2", Type: "elastic-ip"}, 0.005 * 730, true},
		{"NAT gateway", Resource{Service: "ec2", Type: "natgateway", State: "available"}, 0.045 * 730, true},
		{"deleted NAT gateway", Resource{Service: "ec2", Type: "natgateway", State: "deleted"}, 0, true},
		{"classic ELB", Resource{Service: "elasticloadbalancing", Type: "loadbalancer", Metadata: map[string]any{"lb_type": "classic"}}, 0.025 * 730, true},
		{"Multi-AZ db.t3.micro", Resource{Service: "rds", Type: "db", State: "available", Metadata: map[string]any{"instance_class": "db.t3.micro", "multi_az": true}}, 2 * 0.017 * 730, true},
		{"Lambda", Resource{Service: "lambda", Type: "function"}, 0, false},
	}
	for _, c := range cases {
		got, ok := priceList(c.r)
		if ok != c.ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestAssignCosts: the CUR's figure (by ID or ARN) wins over the price
// list; a kind neither knows has none.
func TestAssignCosts(t *testing.T) {
	t.Parallel()
	rs := []Resource{
		{ARN: "arn:aws:ec2:us-east-1:1:instance/i-1", ID: "i-1", Service: "ec2", Type: "instance", State: "running", Metadata: map[string]any{"instance_type": "t3.micro"}},
		{ARN: "arn:aws:ec2:us-east-1:1:instance/i-2", ID: "i-2", Service: "ec2", Type: "instance", State: "running", Metadata: map[string]any{"instance_type": "t3.micro"}},
		{ARN: "arn:aws:lambda:us-east-1:1:function:f", ID: "f", Service: "lambda", Type: "function"},
		{ARN: "arn:aws:dynamodb:us-east-1:1:table/t", ID: "t", Service: "dynamodb", Type: "table"},
	}
	assignCosts(rs, map[string]costs.ResourceCost{
		"i-1":                                   {MonthlyAmortized: 5, MonthlyOnDemand: 7.59, Currency: "USD", Covered: true},
		"arn:aws:lambda:us-east-1:1:function:f": {MonthlyAmortized: 0.4, MonthlyOnDemand: 0.4, Currency: "USD"},
	})
	if c := rs[0].Cost; c == nil || c.Source != CostFromCUR || c.MonthlyAmortized != 5 || !c.CoveredByCommitment {
		t.Errorf("i-1 = %+v", c)
	}
	if c := rs[1].Cost; c == nil || c.Source != CostFromPriceList || math.Abs(c.MonthlyOnDemand-0.0104*730) > 1e-9 {
		t.Errorf("i-2 = %+v", c)
	}
	if c := rs[2].Cost; c == nil || c.Source != CostFromCUR || c.MonthlyAmortized != 0.4 {
		t.Errorf("function = %+v", c)
	}
	if rs[3].Cost != nil {
		t.Errorf("table = %+v, want no cost", rs[3].Cost)
	}
}

// FuzzParseTime: the stamps some APIs return as strings never panic the
// parser, and what it accepts is UTC.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-03T10:00:00.000Z", "2026-11-03T10:00:00.000+0000", "2026-11-03T10:00:00Z", "", "not a time", "2026-13-40T99:00:00.000+0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := parseTime(s)
		if !got.IsZero() && got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, not UTC", s, got)
		}
	})
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-11-03T10:00:00.000+0100", "2026-11-03T09:00:00.000Z", "2026-11-03T09:00:00Z"} {
		if got := parseTime(s); !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestWindowIsWholeDays(t *testing.T) {
	t.Parallel()
	from, to := Window(time.Date(2026, 11, 20, 15, 4, 5, 0, time.FixedZone("x", 3600)), DefaultWindow)
	if !to.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) || !from.Equal(to.AddDate(0, 0, -14)) {
		t.Errorf("window = %v .. %v", from, to)
	}
}
