package cur

import (
	"math"
	"math/rand/v2"
	"time"
)

// Anomaly is an unusual burst of usage the generator injected, so that tests
// can check that anomaly detection finds it.
type Anomaly struct {
	Kind        string    `json:"kind"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Service     string    `json:"service"` // line_item_product_code
	UsageType   string    `json:"usage_type"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Factor      float64   `json:"factor"` // usage multiplier
	Description string    `json:"description"`

	kinds []kind
}

// addAnomalies injects a few bursts after the first ten days, so that
// detection has a baseline before each one.
func (o *org) addAnomalies(rng *rand.Rand, months int) {
	type spec struct {
		kind, desc string
		kinds      []kind
		factor     float64
		hours      int
	}
	specs := []spec{
		{"ec2_runaway_scaling", "an auto scaling group stuck at its maximum size", []kind{kEC2}, 4, 72},
		{"data_transfer_spike", "a burst of data transfer out to the internet", []kind{kDataOut}, 12, 48},
		{"lambda_runaway", "a Lambda function invoked in a loop", []kind{kLambdaGBs, kLambdaReq}, 15, 24},
		{"nat_gateway_spike", "NAT gateway traffic from a misrouted batch job", []kind{kNATBytes}, 10, 36},
	}
	n := len(specs)
	if months == 1 {
		n = 3
	}
	window := o.end.Sub(o.start).Hours()
	for i := 0; i < n; i++ {
		s := specs[i]
		// Distinct accounts, preferring the large ones; a runaway scaling
		// group is the organization's largest one.
		a := o.accounts[(i*3+rng.IntN(2))%len(o.accounts)]
		if s.kinds[0] == kEC2 {
			a = o.largestGroup().acct
		}
		lo := 10 * 24.0
		hi := window - float64(s.hours) - 24
		startH := lo
		if hi > lo {
			startH = lo + float64(int((hi-lo)*(float64(i)+rng.Float64())/float64(n)))
		}
		start := o.start.Add(time.Duration(startH) * time.Hour)
		an := Anomaly{Kind: s.kind, AccountID: a.ID, AccountName: a.Name, Start: start, End: start.Add(time.Duration(s.hours) * time.Hour),
			Factor: s.factor, Description: s.desc, kinds: s.kinds}
		for _, r := range o.res {
			if r.acct == a && r.kind == s.kinds[0] && (r.kind != kEC2 || r == o.largestGroup()) {
				an.Service, an.UsageType = r.productCode, r.usageType
				break
			}
		}
		if an.Service == "" {
			continue // the account has no such resource
		}
		o.anomalies = append(o.anomalies, an)
	}
}

// largestGroup is the first instance of the auto scaling group that can
// burst (the first account always has one), else of the largest group.
func (o *org) largestGroup() *resource {
	var best *resource
	for _, r := range o.res {
		if r.kind == kEC2 && r.slot == 0 && r.slots > 1 && (best == nil || r.burst && !best.burst || r.burst == best.burst && r.slots > best.slots) {
			best = r
		}
	}
	return best
}

// lineItem indexes into lineItemTypes; the fact table stores the index.
const (
	litUsage uint8 = iota
	litSPCovered
	litSPNegation
	litSPRecurring
	litSPUpfront
	litDiscounted
	litRIFee
	litFee
	litTax
	litCredit
	litRefund
)

func lineItemTypes() []string {
	return []string{LineItemUsage, LineItemSavingsPlanCoveredUsage, LineItemSavingsPlanNegation, LineItemSavingsPlanRecurringFee,
		LineItemSavingsPlanUpfrontFee, LineItemDiscountedUsage, LineItemRIFee, LineItemFee, LineItemTax, LineItemCredit, LineItemRefund}
}

// fact is one line item in the narrow form the generator appends; SQL joins
// it with the resource and commitment dimensions to make the CUR row. The
// meaning of eff, a, b and c depends on lit (see curExpressions).
type fact struct {
	res, h, n int32
	lit       uint8
	cmt       int32
	usage     float64
	cost      float64
	rate      float64
	od        float64
	eff       float64
	a, b, c   float64
}

// amortized is the fact's contribution to amortized (effective) cost, by the
// usual CUR formula: covered usage at its effective cost, unused
// commitment on the fee rows, and upfront purchases not counted again.
func (f *fact) amortized() float64 {
	switch f.lit {
	case litSPCovered, litDiscounted:
		return f.eff
	case litSPNegation, litSPUpfront, litFee:
		return 0
	case litSPRecurring:
		return f.eff - f.a // total commitment - used
	case litRIFee:
		return f.b + f.c
	}
	return f.cost
}

// simulator computes hourly usage and applies commitments.
type simulator struct {
	o         *org
	use       []float64 // usage this hour per resource
	rem       []float64 // not yet covered by a commitment
	anomalies [][]int   // per resource: indexes into o.anomalies
	riUnused  []float64 // per commitment: unused reservation-hours this month
}

func newSimulator(o *org) *simulator {
	s := &simulator{o: o, use: make([]float64, len(o.res)), rem: make([]float64, len(o.res)),
		anomalies: make([][]int, len(o.res)), riUnused: make([]float64, len(o.commitments))}
	for i, r := range o.res {
		for j, an := range o.anomalies {
			if r.acct.ID != an.AccountID {
				continue
			}
			for _, k := range an.kinds {
				if r.kind == k {
					s.anomalies[i] = append(s.anomalies[i], j)
				}
			}
		}
	}
	return s
}

// unit is a deterministic uniform number in [0,1) for (seed, resource, hour).
func (s *simulator) unit(res int, hour int64) float64 {
	x := s.o.seed ^ uint64(res)*0x9E3779B97F4A7C15 ^ uint64(hour)*0xC2B2AE3D27D4EB4F
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func hoursInMonth(t time.Time) float64 {
	m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return m.AddDate(0, 1, 0).Sub(m).Hours()
}

// usage sets use and rem for hour t.
func (s *simulator) usage(t time.Time) {
	o := s.o
	abs := int64(t.Sub(o.start).Hours())
	monthsIn := t.Sub(o.start).Hours() / 730
	diur := math.Cos(2 * math.Pi * (float64(t.Hour()) - 15) / 24) // peak at 15:00 UTC
	week := 1.0
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		week = 0.72
	}
	him := hoursInMonth(t)
	for i, r := range o.res {
		if r.kind == kFee {
			s.use[i], s.rem[i] = 0, 0
			continue
		}
		// Days differ a little from each other, per account.
		growth := math.Pow(1+r.acct.growth, monthsIn) * (0.94 + 0.12*s.unit(1<<24+r.acct.idx, abs/24))
		factor := 1.0
		for _, j := range s.anomalies[i] {
			an := &o.anomalies[j]
			if !t.Before(an.Start) && t.Before(an.End) {
				factor *= an.Factor
			}
		}
		var u float64
		switch r.kind {
		case kEC2:
			if r.slots <= 1 {
				u = 1
				break
			}
			frac := (0.5 + 0.4*diur) * week * growth * factor * (0.95 + 0.1*s.unit(r.group, abs))
			need := int(math.Ceil(frac * float64(r.slots)))
			if need < 1 {
				need = 1
			}
			if r.slot < need {
				u = 1
			}
		case kRDS, kNATHours, kIPv4:
			u = r.base
		case kEBS, kRDSStorage, kCWMetrics, kSnapshot:
			u = r.base / him
		case kS3Storage:
			u = r.base * growth / him
		default:
			level := (1 + r.diurnal*diur) * week * growth * factor
			u = r.base * level * (1 + r.noise*(2*s.unit(i, abs)-1))
			if u < 0 {
				u = 0
			}
		}
		s.use[i], s.rem[i] = u, u
	}
}

// spRate is what a Savings Plan charges per unit of a resource's usage: the
// plan discounts compute, not the Windows license.
func spRate(r *resource, c *Commitment) float64 {
	switch r.kind {
	case kEC2:
		return r.linuxRate*c.rateShare + (r.odRate - r.linuxRate)
	case kLambdaGBs:
		return r.odRate * c.lambdaShare
	case kFargateCPU, kFargateMem:
		return r.odRate * c.fargateShare
	}
	return r.odRate * c.rateShare
}

// eligibleCost is the cost at the plan's rates of the usage it could still
// cover this hour.
func (s *simulator) eligibleCost(c *Commitment) float64 {
	var sum float64
	for _, i := range c.eligible {
		sum += s.rem[i] * spRate(s.o.res[i], c)
	}
	return sum
}

type emitFunc func(f *fact) error

// applyRIs covers matching instance-hours with reservations.
func (s *simulator) applyRIs(t time.Time, emit emitFunc) error {
	h := int32(t.Sub(monthStart(t)).Hours())
	for _, c := range s.o.commitments {
		if c.isSP() || !c.active(t) {
			continue
		}
		used := 0
		for _, i := range c.eligible {
			if used == c.Count || s.rem[i] < 1 {
				continue
			}
			s.rem[i] = 0
			used++
			if emit != nil {
				r := s.o.res[i]
				n := float64(c.Count)
				f := fact{res: int32(i), h: h, n: 1, lit: litDiscounted, cmt: int32(c.id), usage: 1, od: r.odRate,
					eff: (c.upfrontH + c.RecurringHourly) / n, a: c.RecurringHourly / n, b: c.upfrontH / n}
				if err := emit(&f); err != nil {
					return err
				}
			}
		}
		s.riUnused[c.id] += float64(c.Count - used)
	}
	return nil
}

// applySPs covers eligible usage with each active Savings Plan in turn, up to
// its hourly commitment, and writes its recurring fee row with the
// commitment used. A line the plan covers partly is split into covered
// usage and on-demand usage, as AWS does.
func (s *simulator) applySPs(t time.Time, emit emitFunc) error {
	h := int32(t.Sub(monthStart(t)).Hours())
	for _, c := range s.o.commitments {
		if !c.isSP() || !c.active(t) {
			continue
		}
		budget := c.HourlyCommitment
		var used float64
		for _, i := range c.eligible {
			if budget <= 1e-12 {
				break
			}
			if s.rem[i] <= 0 {
				continue
			}
			r := s.o.res[i]
			rate := spRate(r, c)
			cov := s.rem[i]
			if cov*rate > budget {
				cov = budget / rate
			}
			s.rem[i] -= cov
			budget -= cov * rate
			used += cov * rate
			if emit != nil {
				cost := cov * r.odRate
				cf := fact{res: int32(i), h: h, n: 1, lit: litSPCovered, cmt: int32(c.id), usage: cov, cost: cost, rate: r.odRate, od: cost, eff: cov * rate, a: rate}
				if err := emit(&cf); err != nil {
					return err
				}
				nf := fact{res: int32(i), h: h, n: 1, lit: litSPNegation, cmt: int32(c.id), cost: -cost}
				if err := emit(&nf); err != nil {
					return err
				}
			}
		}
		if emit != nil {
			f := fact{res: int32(c.feeRes), h: h, n: 1, lit: litSPRecurring, cmt: int32(c.id), usage: 1,
				cost: c.RecurringHourly, rate: c.RecurringHourly, eff: c.HourlyCommitment, a: used}
			if err := emit(&f); err != nil {
				return err
			}
		}
	}
	return nil
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// month simulates one billing period and emits all its line items.
func (s *simulator) month(period time.Time, revision int, emit emitFunc, canceled func() error) error {
	o := s.o
	hours := int(hoursInMonth(period))
	clear(s.riUnused)
	// Net usage cost per account and product: what tax, credits and
	// refunds are computed from.
	byAcctProduct := map[string]float64{}
	track := func(f *fact) error {
		switch f.lit {
		case litUsage, litSPCovered, litSPNegation:
			r := o.res[f.res]
			byAcctProduct[r.acct.ID+"/"+r.productCode] += f.cost
		}
		return emit(f)
	}
	periodEnd := period.AddDate(0, 1, 0)
	for hi := 0; hi < hours; hi++ {
		if hi%24 == 0 {
			if err := canceled(); err != nil {
				return err
			}
		}
		t := period.Add(time.Duration(hi) * time.Hour)
		s.usage(t)
		if err := s.applyRIs(t, track); err != nil {
			return err
		}
		if err := s.applySPs(t, track); err != nil {
			return err
		}
		for i, u := range s.rem {
			if u <= 0 {
				continue
			}
			r := o.res[i]
			cost := u * r.odRate
			f := fact{res: int32(i), h: int32(hi), n: 1, lit: litUsage, cmt: -1, usage: u, cost: cost, rate: r.odRate, od: cost}
			if err := track(&f); err != nil {
				return err
			}
		}
	}
	// Purchases made this month: upfront fees at the purchase hour.
	for _, c := range o.commitments {
		if c.Start.Before(period) || !c.Start.Before(periodEnd) || c.UpfrontTotal == 0 {
			continue
		}
		lit := litFee
		if c.isSP() {
			lit = litSPUpfront
		}
		f := fact{res: int32(c.feeRes), h: int32(c.Start.Sub(period).Hours()), n: 1, lit: lit, cmt: int32(c.id), usage: 1, cost: c.UpfrontTotal, rate: c.UpfrontTotal}
		if err := emit(&f); err != nil {
			return err
		}
	}
	// RI fees: one row per reservation per month for the hours it was active.
	for _, c := range o.commitments {
		if c.isSP() {
			continue
		}
		from, to := maxTime(c.Start, period), minTime(c.End, periodEnd)
		if !to.After(from) {
			continue
		}
		n := float64(c.Count)
		active := to.Sub(from).Hours()
		unused := s.riUnused[c.id]
		f := fact{res: int32(c.feeRes), h: int32(from.Sub(period).Hours()), n: int32(active), lit: litRIFee, cmt: int32(c.id),
			usage: n * active, cost: c.RecurringHourly * active, rate: c.RecurringHourly / n,
			a: unused, b: unused * c.RecurringHourly / n, c: unused * c.upfrontH / n}
		if err := emit(&f); err != nil {
			return err
		}
	}
	// Sales tax on each account's usage of each service.
	monthH := int32(hours)
	for _, a := range append([]*Account{o.payer}, o.accounts...) {
		for _, code := range []string{"AmazonEC2", "AmazonRDS", "AmazonS3", "AWSLambda", "AmazonECS", "AmazonCloudWatch"} {
			res, ok := o.taxRes[a.ID+"/"+code]
			base := byAcctProduct[a.ID+"/"+code]
			if !ok || base <= 0 {
				continue
			}
			f := fact{res: int32(res), n: monthH, lit: litTax, cmt: -1, cost: math.Round(base*0.06*100) / 100}
			if err := emit(&f); err != nil {
				return err
			}
		}
	}
	// A credit for the first linked account, and a refund for one account
	// (for every account when the month is restated).
	first := o.accounts[0]
	credit := -math.Min(2500, math.Round(byAcctProduct[first.ID+"/AmazonEC2"]*0.1*100)/100)
	if credit < 0 {
		f := fact{res: int32(o.creditRes), n: monthH, lit: litCredit, cmt: -1, cost: credit}
		if err := emit(&f); err != nil {
			return err
		}
	}
	all := append([]*Account{o.payer}, o.accounts...)
	for i, a := range all {
		if revision == 0 && i != int(period.Month())%len(all) {
			continue
		}
		amount := -math.Round((byAcctProduct[a.ID+"/AmazonEC2"]*0.02+12.5)*100) / 100
		f := fact{res: int32(o.refundRes[i]), h: int32(hours - 24), n: 1, lit: litRefund, cmt: -1, cost: amount}
		if err := emit(&f); err != nil {
			return err
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
