package cur

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Commitment types the generator buys.
const (
	CommitmentComputeSP = "ComputeSavingsPlans"
	CommitmentEC2SP     = "EC2InstanceSavingsPlans"
	CommitmentEC2RI     = "EC2ReservedInstances"
	CommitmentRDSRI     = "RDSReservedInstances"
)

// Commitment is a Savings Plan or a Reserved Instance purchase.
type Commitment struct {
	ARN       string    `json:"arn"`
	Type      string    `json:"type"`
	AccountID string    `json:"account_id"`
	Term      string    `json:"term"`    // 1yr or 3yr
	Payment   string    `json:"payment"` // No Upfront, Partial Upfront, All Upfront
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	// HourlyCommitment is the Savings Plan's $/hour commitment, or for an RI
	// the effective $/hour of all its reservations (amortized upfront +
	// recurring).
	HourlyCommitment float64 `json:"hourly_commitment"`
	RecurringHourly  float64 `json:"recurring_hourly"`
	UpfrontTotal     float64 `json:"upfront_total"`
	InstanceType     string  `json:"instance_type,omitempty"`
	InstanceFamily   string  `json:"instance_family,omitempty"`
	Region           string  `json:"region,omitempty"`
	Count            int     `json:"count,omitempty"` // reservations of an RI

	id        int
	upfrontH  float64 // amortized upfront per hour (all reservations)
	nf        float64 // normalization factor of the reserved size
	engine    string  // RDS engine of an RDS RI
	eligible  []int   // resources it may cover, in application order
	rateShare float64 // SP rate / on-demand rate for its eligible EC2 usage
	// SP rate / on-demand rate on Lambda and Fargate, which Savings Plans
	// discount less than EC2. They follow the term and payment option as
	// AWS's rates do (and crossbill's rates.json): never less off for more
	// paid upfront or a longer term.
	lambdaShare, fargateShare float64
	feeRes                    int // resource dimension of its fee rows
}

func (c *Commitment) isSP() bool {
	return c.Type == CommitmentComputeSP || c.Type == CommitmentEC2SP
}

func (c *Commitment) active(t time.Time) bool { return !t.Before(c.Start) && t.Before(c.End) }

// addCommitments buys the organization's Savings Plans and RIs in the
// management account, sized from a dry run of the first week so that some
// hours are under-utilized.
func (o *org) addCommitments(rng *rand.Rand, months int) {
	mid := o.start.AddDate(0, (months-1)/2, 14)
	newID := func() string {
		return hexID(rng, 8) + "-" + hexID(rng, 4) + "-" + hexID(rng, 4) + "-" + hexID(rng, 4) + "-" + hexID(rng, 12)
	}
	add := func(c *Commitment) *Commitment {
		c.id = len(o.commitments)
		c.AccountID = o.payer.ID
		years := 1
		if c.Term == "3yr" {
			years = 3
		}
		c.End = c.Start.AddDate(years, 0, 0)
		o.commitments = append(o.commitments, c)
		return c
	}
	// RIs first: AWS applies them before Savings Plans.
	var c6i, rds []int
	for i, r := range o.res {
		if r.kind == kEC2 && r.itype == "c6i.xlarge" && r.region.code == "us-east-1" && r.os == "Linux" && r.slots == 1 {
			c6i = append(c6i, i)
		}
		if r.kind == kRDS && r.itype == "db.r6g.large" && r.engine == "PostgreSQL" && r.region.code == "us-east-1" {
			rds = append(rds, i)
		}
	}
	hours := func(c *Commitment) float64 { return c.End.Sub(c.Start).Hours() }
	if len(c6i) > 0 {
		od, _, _, nf := ec2Price("c6i.xlarge")
		c := add(&Commitment{ARN: "arn:aws:ec2:us-east-1:" + o.payer.ID + ":reserved-instances/" + newID(), Type: CommitmentEC2RI,
			Term: "1yr", Payment: "Partial Upfront", Start: o.start.AddDate(0, -3, 0).Add(9 * time.Hour),
			InstanceType: "c6i.xlarge", InstanceFamily: "c6i", Region: "us-east-1", Count: len(c6i) + 1, nf: nf, eligible: c6i})
		eff := od * 0.62 // per instance-hour
		c.UpfrontTotal = math.Round(eff/2*float64(c.Count)*hours(c)*100) / 100
		c.upfrontH = c.UpfrontTotal / hours(c)
		c.RecurringHourly = eff / 2 * float64(c.Count)
		c.HourlyCommitment = c.upfrontH + c.RecurringHourly
	}
	if len(rds) > 0 {
		od := rdsPrice("db.r6g.large")
		_, _, _, nf := ec2Price("r6g.large")
		c := add(&Commitment{ARN: "arn:aws:rds:us-east-1:" + o.payer.ID + ":ri:" + strings.ToLower(o.name) + "-pg-" + hexID(rng, 6), Type: CommitmentRDSRI,
			Term: "1yr", Payment: "All Upfront", Start: mid.Add(-7 * 24 * time.Hour).Add(15 * time.Hour),
			InstanceType: "db.r6g.large", InstanceFamily: "r6g", Region: "us-east-1", Count: len(rds), nf: nf, engine: "PostgreSQL", eligible: rds})
		c.UpfrontTotal = math.Round(od*0.66*float64(c.Count)*hours(c)*100) / 100
		c.upfrontH = c.UpfrontTotal / hours(c)
		c.HourlyCommitment = c.upfrontH
	}
	// EC2 Instance SP: m5 in us-east-1, any size and OS.
	var m5, compute []int
	for i, r := range o.res {
		if r.kind == kEC2 && r.ifamily == "m5" && r.region.code == "us-east-1" {
			m5 = append(m5, i)
		}
		if r.compute {
			compute = append(compute, i)
		}
	}
	ec2sp := add(&Commitment{ARN: "arn:aws:savingsplans::" + o.payer.ID + ":savingsplan/" + newID(), Type: CommitmentEC2SP,
		Term: "3yr", Payment: "Partial Upfront", Start: o.start.AddDate(0, -2, 0).Add(-4 * time.Hour),
		InstanceFamily: "m5", Region: "us-east-1", eligible: m5, rateShare: 0.52, lambdaShare: 1, fargateShare: 1})
	csp := add(&Commitment{ARN: "arn:aws:savingsplans::" + o.payer.ID + ":savingsplan/" + newID(), Type: CommitmentComputeSP,
		Term: "3yr", Payment: "No Upfront", Start: o.start.AddDate(0, -5, 0).Add(2 * time.Hour), eligible: compute,
		rateShare: 0.66, lambdaShare: 0.85, fargateShare: 0.55})
	// A 1-year All Upfront plan gets at least what 1-year No Upfront gets
	// (rates.json: 27% EC2, 20% Fargate, 10% Lambda): 32%, 23% and 12%.
	csp2 := add(&Commitment{ARN: "arn:aws:savingsplans::" + o.payer.ID + ":savingsplan/" + newID(), Type: CommitmentComputeSP,
		Term: "1yr", Payment: "All Upfront", Start: mid.Add(11 * time.Hour), eligible: compute,
		rateShare: 0.68, lambdaShare: 0.88, fargateShare: 0.77})

	// Size the plans from a dry run of the first week.
	sim := newSimulator(o)
	var ec2spUse, cspUse []float64
	for h := 0; h < 7*24; h++ {
		t := o.start.Add(time.Duration(h) * time.Hour)
		sim.usage(t)
		sim.applyRIs(t, nil)
		ec2spUse = append(ec2spUse, sim.eligibleCost(ec2sp))
		cspUse = append(cspUse, sim.eligibleCost(csp))
	}
	ec2sp.HourlyCommitment = roundCents(percentile(ec2spUse, 0.3))
	for i := range cspUse {
		cspUse[i] -= min(cspUse[i]*ec2sp.rateShare/csp.rateShare, ec2spUse[i]*csp.rateShare/ec2sp.rateShare)
	}
	csp.HourlyCommitment = roundCents(percentile(cspUse, 0.25))
	csp2.HourlyCommitment = roundCents(csp.HourlyCommitment * 0.15)
	for _, c := range []*Commitment{ec2sp, csp, csp2} {
		if c.HourlyCommitment < 0.01 {
			c.HourlyCommitment = 0.01
		}
		switch c.Payment {
		case "No Upfront":
			c.RecurringHourly = c.HourlyCommitment
		case "Partial Upfront":
			c.upfrontH = c.HourlyCommitment / 2
			c.RecurringHourly = c.HourlyCommitment - c.upfrontH
		case "All Upfront":
			c.upfrontH = c.HourlyCommitment
		}
		c.UpfrontTotal = c.upfrontH * hours(c)
	}
	// AWS applies EC2 Instance Savings Plans before Compute Savings Plans.
	sort.SliceStable(o.commitments, func(i, j int) bool { return applyOrder(o.commitments[i]) < applyOrder(o.commitments[j]) })
	for i, c := range o.commitments {
		c.id = i
	}
}

func applyOrder(c *Commitment) int {
	switch c.Type {
	case CommitmentEC2RI, CommitmentRDSRI:
		return 0
	case CommitmentEC2SP:
		return 1
	}
	return 2
}

func roundCents(x float64) float64 { return math.Round(x*1000) / 1000 }

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[int(p*float64(len(s)-1))]
}

// addFeeDims adds the dimensions of fee, tax, credit and refund rows.
func (o *org) addFeeDims() {
	for _, c := range o.commitments {
		r := &resource{acct: o.payer, kind: kFee, resourceID: c.ARN, region: regions()[0], tags: map[string]string{}}
		switch c.Type {
		case CommitmentComputeSP, CommitmentEC2SP:
			r.productCode, r.servicecode, r.productName, r.family = "ComputeSavingsPlans", "ComputeSavingsPlans", "Savings Plans for AWS Compute usage", "Savings Plans"
			pay := strings.ReplaceAll(c.Payment, " ", "")
			if c.Type == CommitmentComputeSP {
				r.usageType = "ComputeSP:" + c.Term + pay
			} else {
				r.usageType = "EC2SP:" + c.InstanceFamily + "." + c.Term + pay
			}
			r.operation = "None"
			r.unit = "Hrs"
			r.description = fmt.Sprintf("%s %s %s", c.Term, c.Payment, map[string]string{CommitmentComputeSP: "Compute Savings Plan", CommitmentEC2SP: "EC2 Instance Savings Plan"}[c.Type])
			r.region = region{}
		case CommitmentEC2RI:
			r.productCode, r.servicecode, r.productName, r.family = "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance"
			r.usageType, r.operation, r.unit = "HeavyUsage:"+c.InstanceType, "RunInstances", "Hrs"
			r.itype, r.ifamily, r.nf = c.InstanceType, c.InstanceFamily, c.nf
			r.description = fmt.Sprintf("USD %.4g hourly fee per Linux/UNIX (Amazon VPC), %s instance", c.RecurringHourly/float64(c.Count), c.InstanceType)
		case CommitmentRDSRI:
			r.productCode, r.servicecode, r.productName, r.family = "AmazonRDS", "AmazonRDS", "Amazon Relational Database Service", "Database Instance"
			r.usageType, r.operation, r.unit = "HeavyUsage:"+c.InstanceType, "CreateDBInstance:0014", "Hrs"
			r.itype, r.ifamily, r.nf = c.InstanceType, c.InstanceFamily, c.nf
			r.description = fmt.Sprintf("USD 0.0 hourly fee per PostgreSQL, %s instance", c.InstanceType)
		}
		r.productMap = map[string]string{"product_name": r.productName}
		c.feeRes = o.add(r)
	}
	for _, a := range append([]*Account{o.payer}, o.accounts...) {
		seen := map[string]bool{}
		for _, r := range o.res {
			if r.acct != a || r.kind == kFee || seen[r.productCode] {
				continue
			}
			seen[r.productCode] = true
			o.taxRes[a.ID+"/"+r.productCode] = o.add(&resource{acct: a, kind: kFee, productCode: r.productCode, servicecode: r.servicecode,
				productName: r.productName, family: "Sales Tax", usageType: "Tax", operation: "", taxType: "Sales Tax",
				description: "Tax for product code " + r.productCode, productMap: map[string]string{"product_name": r.productName}, tags: map[string]string{}})
		}
		o.refundRes = append(o.refundRes, o.add(&resource{acct: a, kind: kFee, productCode: "AmazonEC2", servicecode: "AmazonEC2",
			productName: "Amazon Elastic Compute Cloud", usageType: "Refund", billType: "Refund",
			description: "Refund for service disruption (case 1042)", productMap: map[string]string{"product_name": "Amazon Elastic Compute Cloud"}, tags: map[string]string{}}))
	}
	o.creditRes = o.add(&resource{acct: o.accounts[0], kind: kFee, productCode: "AmazonEC2", servicecode: "AmazonEC2",
		productName: "Amazon Elastic Compute Cloud", usageType: "Credit", description: "AWS Credits - Migration Acceleration Program",
		productMap: map[string]string{"product_name": "Amazon Elastic Compute Cloud"}, tags: map[string]string{}})
}
