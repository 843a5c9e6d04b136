package optimize

import (
	"math"
	"strings"
)

// PriceListLabel names where a figure comes from when the resource has no
// cost of its own from the CUR: crossbill's embedded table of on-demand
// list prices (us-east-1, Linux, no discounts). Figures from it are
// before discounts and region-blind, and the label says so.
const PriceListLabel = "price list: AWS on-demand list price (us-east-1, Linux), crossbill's embedded table; before discounts"

// CURLabel names the CUR source of a resource's cost.
const CURLabel = "CUR: amortized cost of the resource's own line items (after Savings Plans and reservations)"

// HoursPerMonth is the month every monthly figure is stated over, as AWS
// Cost Optimization Hub states its savings.
const HoursPerMonth = 730

// sizeUnits is each instance size's share of its family, as vCPUs (and
// price, which scales linearly within a family): large = 2.
var sizeUnits = map[string]float64{
	"nano": 0.25, "micro": 0.5, "small": 1, "medium": 1, "large": 2, "xlarge": 4,
	"2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64, "24xlarge": 96,
}

// sizeOrder lists sizes from small to big, for stepping down.
var sizeOrder = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"}

// familyLargeHourly is each family's on-demand price of its .large size
// (us-east-1, Linux); sizes scale linearly. Burstable families (t*) are
// listed with their exact per-size prices in burstableHourly.
var familyLargeHourly = map[string]float64{
	// current generation
	"m5": 0.096, "m5a": 0.086, "m6i": 0.096, "m6a": 0.0864, "m7i": 0.1008, "m6g": 0.077, "m7g": 0.0816,
	"c5": 0.085, "c5a": 0.077, "c6i": 0.085, "c6a": 0.0765, "c7i": 0.08925, "c6g": 0.068, "c7g": 0.0725,
	"r5": 0.126, "r5a": 0.113, "r6i": 0.126, "r6a": 0.1134, "r7i": 0.1323, "r6g": 0.1008, "r7g": 0.1071,
	"i3": 0.156, "i4i": 0.172, "d3": 0.2495, // d3.xlarge 0.499
	// previous generation
	"m4": 0.10, "m3": 0.133, "c4": 0.10, "c3": 0.105, "r4": 0.133, "r3": 0.166, "i2": 0.4265, "d2": 0.345,
}

// burstableHourly holds the t families' per-size prices: their sizes do not
// scale with vCPUs (nano to medium all have 2).
var burstableHourly = map[string]map[string]float64{
	"t2":  {"nano": 0.0058, "micro": 0.0116, "small": 0.023, "medium": 0.0464, "large": 0.0928, "xlarge": 0.1856, "2xlarge": 0.3712},
	"t3":  {"nano": 0.0052, "micro": 0.0104, "small": 0.0208, "medium": 0.0416, "large": 0.0832, "xlarge": 0.1664, "2xlarge": 0.3328},
	"t3a": {"nano": 0.0047, "micro": 0.0094, "small": 0.0188, "medium": 0.0376, "large": 0.0752, "xlarge": 0.1504, "2xlarge": 0.3008},
	"t4g": {"nano": 0.0042, "micro": 0.0084, "small": 0.0168, "medium": 0.0336, "large": 0.0672, "xlarge": 0.1344, "2xlarge": 0.2688},
}

// burstableVCPU: every t size below xlarge has 2 vCPUs.
var burstableVCPU = map[string]float64{"nano": 2, "micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8}

// previousGeneration maps a previous-generation family to the current one
// that replaces it at the same size (AWS's "previous generation instances"
// page lists them).
var previousGeneration = map[string]string{
	"t2": "t3", "m3": "m5", "m4": "m5", "c3": "c5", "c4": "c5", "r3": "r5", "r4": "r5", "i2": "i3", "d2": "d3",
	"t1": "t3", "m1": "m5", "m2": "r5", "c1": "c5",
}

// graviton maps an x86 family to its Graviton counterpart of the same
// shape (vCPUs and memory per size).
var graviton = map[string]string{
	"m5": "m7g", "m5a": "m7g", "m6i": "m7g", "m6a": "m7g", "m7i": "m7g", "m6g": "m7g",
	"c5": "c7g", "c5a": "c7g", "c6i": "c7g", "c6a": "c7g", "c7i": "c7g", "c6g": "c7g",
	"r5": "r7g", "r5a": "r7g", "r6i": "r7g", "r6a": "r7g", "r7i": "r7g", "r6g": "r7g",
	"t3": "t4g", "t3a": "t4g",
}

// splitType splits "m5.xlarge" (or "db.m5.xlarge") into family and size.
func splitType(t string) (family, size string) {
	t = strings.TrimPrefix(t, "db.")
	family, size, ok := strings.Cut(t, ".")
	if !ok {
		return "", ""
	}
	return family, size
}

// hourlyPrice is an EC2 instance type's on-demand price, 0 when unknown.
func hourlyPrice(instanceType string) float64 {
	f, s := splitType(instanceType)
	if b, ok := burstableHourly[f]; ok {
		return b[s]
	}
	base, ok := familyLargeHourly[f]
	u, ok2 := sizeUnits[s]
	if !ok || !ok2 || u < 2 {
		return 0
	}
	return round4(base * u / 2)
}

// vcpus is an instance type's vCPU count, 0 when unknown.
func vcpus(instanceType string) float64 {
	f, s := splitType(instanceType)
	if _, ok := burstableHourly[f]; ok {
		return burstableVCPU[s]
	}
	if _, ok := familyLargeHourly[f]; !ok {
		if _, ok := rdsLargeHourly[f]; !ok {
			return 0
		}
	}
	u := sizeUnits[s]
	if u < 2 {
		return 0
	}
	return u
}

// rdsLargeHourly is each RDS instance class family's single-AZ MySQL /
// PostgreSQL on-demand price of its .large size (us-east-1).
var rdsLargeHourly = map[string]float64{
	"m5": 0.171, "m6i": 0.171, "m6g": 0.152, "m7g": 0.168, "r5": 0.25, "r6i": 0.25, "r6g": 0.225, "r7g": 0.239,
	"t3": 0.136, "t4g": 0.129,
}

// rdsHourly is an RDS class's price (db.m5.large), 0 when unknown;
// Multi-AZ doubles it.
func rdsHourly(class string, multiAZ bool) float64 {
	f, s := splitType(class)
	base, ok := rdsLargeHourly[f]
	u, ok2 := sizeUnits[s]
	if !ok || !ok2 {
		return 0
	}
	p := base * u / 2
	if multiAZ {
		p *= 2
	}
	return round4(p)
}

// EBS, snapshot, address, load balancer and NAT gateway list prices
// (us-east-1), per month unless named hourly.
const (
	gp2PerGB          = 0.10
	gp3PerGB          = 0.08
	gp3PerIOPS        = 0.005 // above 3,000
	gp3PerMiBps       = 0.04  // above 125 MiB/s
	io1PerGB          = 0.125
	io1PerIOPS        = 0.065
	st1PerGB          = 0.045
	sc1PerGB          = 0.015
	standardPerGB     = 0.05
	snapshotPerGB     = 0.05
	publicIPv4Hourly  = 0.005
	albHourly         = 0.0225
	clbHourly         = 0.025
	natHourly         = 0.045
	gp3BaselineIOPS   = 3000
	gp3BaselineMiBps  = 125
	gp3MaxIOPS        = 16000
	gp2MaxIOPS        = 16000
	gp2MinIOPS        = 100
	gp2SmallMiBps     = 128 // 170 GiB and below
	gp2LargeMiBps     = 250
	gp2SmallMaxSizeGB = 170
)

// gp2Performance is what a gp2 volume of size GiB delivers: 3 IOPS per GiB
// (100 to 16,000) and 128 or 250 MiB/s.
func gp2Performance(sizeGB float64) (iops, mibps float64) {
	iops = math.Min(math.Max(3*sizeGB, gp2MinIOPS), gp2MaxIOPS)
	mibps = gp2LargeMiBps
	if sizeGB <= gp2SmallMaxSizeGB {
		mibps = gp2SmallMiBps
	}
	return iops, mibps
}

// gp3Monthly is a gp3 volume's list price with the IOPS and throughput
// given (at least the baseline).
func gp3Monthly(sizeGB, iops, mibps float64) float64 {
	return sizeGB*gp3PerGB + math.Max(0, iops-gp3BaselineIOPS)*gp3PerIOPS + math.Max(0, mibps-gp3BaselineMiBps)*gp3PerMiBps
}

// volumeMonthly is an EBS volume's list price per month.
func volumeMonthly(volType string, sizeGB, iops, mibps float64) float64 {
	switch volType {
	case "gp2":
		return sizeGB * gp2PerGB
	case "gp3":
		return gp3Monthly(sizeGB, math.Max(iops, gp3BaselineIOPS), math.Max(mibps, gp3BaselineMiBps))
	case "io1", "io2":
		return sizeGB*io1PerGB + iops*io1PerIOPS
	case "st1":
		return sizeGB * st1PerGB
	case "sc1":
		return sizeGB * sc1PerGB
	case "standard":
		return sizeGB * standardPerGB
	}
	return 0
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round4(v float64) float64 { return math.Round(v*10000) / 10000 }
