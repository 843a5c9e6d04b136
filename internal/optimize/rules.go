package optimize

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
)

// Param is one configurable threshold of a rule.
type Param struct {
	Name    string  `json:"name"`
	Default float64 `json:"default"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Unit    string  `json:"unit,omitempty"`
	Desc    string  `json:"description"`
}

// Thresholds are a rule's parameter values by name.
type Thresholds map[string]float64

// Rule is one optimization check over one resource type.
type Rule struct {
	Name     string   `json:"name"`
	Title    string   `json:"title"`
	Resource string   `json:"resource_type"` // service/type
	Action   Action   `json:"action"`
	Anchor   string   `json:"anchor"` // where the default thresholds come from
	Params   []Param  `json:"params"`
	eval     evalFunc `json:"-"`
}

type evalFunc func(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation

// Every rule also has these two parameters.
var commonParams = []Param{
	{Name: "enabled", Default: 1, Min: 0, Max: 1, Desc: "1 runs the rule, 0 turns it off"},
	{Name: "min_monthly_savings", Default: 0, Min: 0, Max: 1e6, Unit: "USD", Desc: "drop recommendations saving less a month"},
}

// Resource types the rules read (service/type, as inventory names them).
const (
	typeInstance  = "ec2/instance"
	typeVolume    = "ec2/volume"
	typeSnapshot  = "ec2/snapshot"
	typeAddress   = "ec2/elastic-ip"
	typeNAT       = "ec2/natgateway"
	typeLB        = "elasticloadbalancing/loadbalancer"
	typeRDS       = "rds/db"
	typeBucket    = "s3/bucket"
	typeImage     = "ec2/image"
	typeLaunchTpl = "ec2/launch-template"
)

// Rules lists every rule with its defaults, in a fixed order.
func Rules() []Rule {
	day := "days"
	return []Rule{
		{Name: "ec2-idle", Title: "Idle EC2 instance", Resource: typeInstance, Action: ActionStop, Anchor: "Trusted Advisor: Low Utilization Amazon EC2 Instances",
			Params: []Param{{Name: "cpu_percent", Default: 10, Max: 100, Unit: "%", Desc: "a low day's average CPU at most"},
				{Name: "network_mb", Default: 5, Max: 1e6, Unit: "MB", Desc: "a low day's network in+out at most (10^6 bytes)"},
				{Name: "min_low_days", Default: 4, Min: 1, Max: 90, Unit: day, Desc: "low days needed in the window"},
				{Name: "window_days", Default: 14, Min: 1, Max: 90, Unit: day, Desc: "days of metrics read"}},
			eval: evalIdleEC2},
		{Name: "ec2-rightsize", Title: "Oversized EC2 instance (smaller size in its family)", Resource: typeInstance, Action: ActionRightsize, Anchor: "Compute Optimizer: 14 days of maximum CPU, with headroom",
			Params: []Param{{Name: "headroom_percent", Default: 20, Max: 90, Unit: "%", Desc: "CPU kept free on the smaller size at the window's peak"},
				{Name: "window_days", Default: 14, Min: 1, Max: 90, Unit: day, Desc: "days of metrics read"},
				{Name: "min_days", Default: 7, Min: 1, Max: 90, Unit: day, Desc: "days of data needed"}},
			eval: evalRightsizeEC2},
		{Name: "ec2-graviton", Title: "x86 instance with a cheaper Graviton equivalent", Resource: typeInstance, Action: ActionMigrateToGraviton, Anchor: "Cost Optimization Hub: MigrateToGraviton",
			Params: []Param{{Name: "min_savings_percent", Default: 10, Max: 100, Unit: "%", Desc: "price cut needed to recommend the move"}},
			eval:   evalGraviton},
		{Name: "ec2-stopped", Title: "Instance stopped for long (its volumes and addresses still cost)", Resource: typeInstance, Action: ActionDelete, Anchor: "Cloud Custodian: stopped instances older than 30 days",
			Params: []Param{{Name: "min_stopped_days", Default: 30, Min: 1, Max: 3650, Unit: day, Desc: "days stopped"}},
			eval:   evalStopped},
		{Name: "ec2-previous-generation", Title: "Previous-generation instance type", Resource: typeInstance, Action: ActionUpgrade, Anchor: "AWS previous generation instances; Cost Optimization Hub: Upgrade",
			eval: evalPreviousGen},
		{Name: "ebs-unattached", Title: "Unattached EBS volume", Resource: typeVolume, Action: ActionDelete, Anchor: "Trusted Advisor / Cloud Custodian: unattached volumes",
			Params: []Param{{Name: "min_age_days", Default: 7, Max: 3650, Unit: day, Desc: "volume age before it is reported"}},
			eval:   evalUnattached},
		{Name: "ebs-gp2-to-gp3", Title: "gp2 volume: gp3 gives the same IOPS and throughput for less", Resource: typeVolume, Action: ActionUpgrade, Anchor: "Cost Optimization Hub: EBS Upgrade; AWS gp3 pricing",
			eval: evalGP2},
		{Name: "ebs-io-low-iops", Title: "Provisioned-IOPS volume using few of its IOPS", Resource: typeVolume, Action: ActionRightsize, Anchor: "Compute Optimizer: EBS volumes, 14 days",
			Params: []Param{{Name: "max_used_percent", Default: 50, Max: 100, Unit: "%", Desc: "peak consumed IOPS at most this share of the provisioned"},
				{Name: "headroom_percent", Default: 20, Max: 500, Unit: "%", Desc: "IOPS kept above the peak on the new volume"},
				{Name: "window_days", Default: 14, Min: 1, Max: 90, Unit: day, Desc: "days of metrics read"}},
			eval: evalIOLow},
		{Name: "snapshot-old", Title: "Old snapshot no AMI or launch template uses", Resource: typeSnapshot, Action: ActionDelete, Anchor: "Cloud Custodian: old unused snapshots",
			Params: []Param{{Name: "min_age_days", Default: 90, Min: 1, Max: 3650, Unit: day, Desc: "snapshot age"}},
			eval:   evalOldSnapshot},
		{Name: "eip-unassociated", Title: "Unassociated Elastic IP", Resource: typeAddress, Action: ActionDelete, Anchor: "Trusted Advisor: Unassociated Elastic IP Addresses",
			eval: evalEIP},
		{Name: "elb-idle", Title: "Idle load balancer", Resource: typeLB, Action: ActionDelete, Anchor: "Trusted Advisor: Idle Load Balancers",
			Params: []Param{{Name: "requests_per_day", Default: 100, Max: 1e9, Desc: "a day is idle below this many requests (new flows for NLB)"},
				{Name: "window_days", Default: 7, Min: 1, Max: 90, Unit: day, Desc: "every day of the window must be idle"}},
			eval: evalIdleLB},
		{Name: "nat-idle", Title: "Idle NAT gateway", Resource: typeNAT, Action: ActionDelete, Anchor: "Trusted Advisor / Cloud Custodian: idle NAT gateways",
			Params: []Param{{Name: "max_mb_per_day", Default: 1, Max: 1e6, Unit: "MB", Desc: "a day is idle with at most this traffic (out to and in from destinations)"},
				{Name: "window_days", Default: 7, Min: 1, Max: 90, Unit: day, Desc: "every day of the window must be idle"}},
			eval: evalIdleNAT},
		{Name: "rds-idle", Title: "Idle RDS instance", Resource: typeRDS, Action: ActionDelete, Anchor: "Trusted Advisor: Amazon RDS Idle DB Instances (no connection in 7 days)",
			Params: []Param{{Name: "max_connections", Default: 0, Max: 1e6, Desc: "a day is idle with at most this many connections"},
				{Name: "window_days", Default: 7, Min: 1, Max: 90, Unit: day, Desc: "every day of the window must be idle"}},
			eval: evalIdleRDS},
		{Name: "rds-rightsize", Title: "Oversized RDS instance", Resource: typeRDS, Action: ActionRightsize, Anchor: "Compute Optimizer: RDS, 14 days of maximum CPU with headroom",
			Params: []Param{{Name: "headroom_percent", Default: 20, Max: 90, Unit: "%", Desc: "CPU kept free on the smaller class at the window's peak"},
				{Name: "window_days", Default: 14, Min: 1, Max: 90, Unit: day, Desc: "days of metrics read"},
				{Name: "min_days", Default: 7, Min: 1, Max: 90, Unit: day, Desc: "days of data needed"}},
			eval: evalRightsizeRDS},
		{Name: "s3-abort-multipart", Title: "S3 bucket keeps incomplete multipart uploads", Resource: typeBucket, Action: ActionUpgrade, Anchor: "AWS S3 best practice; Trusted Advisor: S3 Incomplete Multipart Upload Abort Configuration",
			Params: []Param{{Name: "days_after_initiation", Default: 7, Min: 1, Max: 365, Unit: day, Desc: "the lifecycle rule recommended"}},
			eval:   evalS3Abort},
		{Name: "off-hours", Title: "Non-production resource running around the clock", Resource: typeInstance + "," + typeRDS, Action: ActionSchedule, Anchor: "AWS Instance Scheduler: office hours",
			Params: []Param{{Name: "on_hours_per_week", Default: 60, Min: 1, Max: 167, Unit: "hours", Desc: "hours a week the schedule keeps it running (12 h x 5 days)"}},
			eval:   evalOffHours},
	}
}

// paramsOf is a rule's parameters with the common ones first.
func (r Rule) paramsOf() []Param {
	return append(append([]Param{}, commonParams...), r.Params...)
}

// nonProduction tag values that make a resource an off-hours candidate,
// under the tag keys envTagKeys.
var (
	nonProduction = map[string]bool{"dev": true, "development": true, "test": true, "testing": true, "qa": true, "staging": true, "stage": true, "sandbox": true, "nonprod": true, "non-prod": true, "uat": true}
	envTagKeys    = []string{"environment", "env", "stage"}
)

// evalCtx is what rules read besides the resource: the clock, the
// utilization, and the relations between resources.
type evalCtx struct {
	now  time.Time
	util func(arn string) *inventory.Utilization
	// volumes and addresses by the instance (ID or ARN) they belong to;
	// used: snapshot IDs/ARNs some AMI or launch template uses.
	volumes   map[string][]*inventory.Resource
	addresses map[string][]*inventory.Resource
	used      map[string]bool
	bufs      [4][]day
}

func typeOf(r *inventory.Resource) string { return r.Service + "/" + r.Type }

func (c *evalCtx) window(days float64) (time.Time, time.Time) {
	to := c.now.UTC().Truncate(24 * time.Hour)
	return to.Add(-time.Duration(days) * 24 * time.Hour), to
}

func newRec(rule *Rule, r *inventory.Resource) *Recommendation {
	return &Recommendation{Rule: rule.Name, ARN: r.ARN, ResourceID: r.ID, ResourceType: typeOf(r), Name: r.Name, AccountID: r.AccountID, Region: r.Region, Action: rule.Action}
}

func check(name string, observed float64, op string, threshold float64, unit string) Check {
	var pass bool
	switch op {
	case "<=":
		pass = observed <= threshold
	case "<":
		pass = observed < threshold
	case ">=":
		pass = observed >= threshold
	case ">":
		pass = observed > threshold
	default:
		pass = observed == threshold
	}
	return Check{Name: name, Observed: round4(observed), Op: op, Threshold: threshold, Unit: unit, Pass: pass}
}

// running says whether an instance or database is up (costing compute);
// a resource whose collector recorded no state counts as up.
func running(r *inventory.Resource) bool {
	s := strings.ToLower(r.State)
	return s == "running" || s == "available" || s == ""
}

func dataConfidence(have, want float64, c Savings) string {
	switch {
	case have < want:
		return Medium
	case c.CostSource != "cur":
		return Medium
	}
	return High
}

func evalIdleEC2(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if !running(r) {
		return nil
	}
	from, to := c.window(th["window_days"])
	u := c.util(r.ARN)
	cpuS := findSeries(u, "AWS/EC2", "CPUUtilization", "Average")
	inS, outS := findSeries(u, "AWS/EC2", "NetworkIn", "Sum"), findSeries(u, "AWS/EC2", "NetworkOut", "Sum")
	cpu := c.daily(0, cpuS, from, to)
	net := c.sumDaily(3, c.daily(1, inS, from, to), c.daily(2, outS, from, to))
	if len(cpu) == 0 || len(net) == 0 {
		return nil
	}
	low := 0
	for i, j := 0, 0; i < len(cpu) && j < len(net); {
		switch {
		case cpu[i].at < net[j].at:
			i++
		case net[j].at < cpu[i].at:
			j++
		default:
			if cpu[i].value <= th["cpu_percent"] && net[j].value <= th["network_mb"]*1e6 {
				low++
			}
			i++
			j++
		}
	}
	if float64(low) < th["min_low_days"] {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current = r.MetaString("instance_type")
	rec.Savings = c.savings(r, hourlyPrice(rec.Current)*HoursPerMonth, 1, "compute only: its EBS volumes keep costing while it is stopped")
	rec.Summary = fmt.Sprintf("Stop idle instance %s (%s): low CPU and network on %d of %d days", r.ID, rec.Current, low, len(cpu))
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "start the instance again (its EBS volumes keep the data)"
	rec.Evidence = Evidence{Test: fmt.Sprintf("daily average CPU <= %g%% and network in+out <= %g MB on at least %g of the last %g days", th["cpu_percent"], th["network_mb"], th["min_low_days"], th["window_days"]),
		Checks: []Check{check("low days", float64(low), ">=", th["min_low_days"], "days"), check("days with data", float64(len(cpu)), ">=", th["min_low_days"], "days")},
		Series: seriesOf(cpuS, inS, outS), Limits: []Limit{{Metric: "CPUUtilization", Stat: "Average", Value: th["cpu_percent"], Label: fmt.Sprintf("low day: <= %g%%", th["cpu_percent"])}}}
	rec.Confidence = dataConfidence(float64(len(cpu)), th["window_days"], rec.Savings)
	rec.Commitment = computeCommitment(r)
	return rec
}

// stepDown is the smallest size of the same family whose vCPUs still run
// peak CPU under the ceiling (fewer vCPUs at each step), with its price;
// "" when no smaller size fits or is priced.
func stepDown(instanceType string, peak, ceiling float64, price func(string) float64) (string, float64) {
	fam, size := splitType(instanceType)
	prefix := ""
	if strings.HasPrefix(instanceType, "db.") {
		prefix = "db."
	}
	cur := vcpus(instanceType)
	if cur == 0 || price(instanceType) == 0 {
		return "", 0
	}
	i := sortIndex(size)
	best, bestPrice := "", 0.0
	last := cur
	for j := i - 1; j >= 0; j-- {
		t := prefix + fam + "." + sizeOrder[j]
		v := vcpus(t)
		if v == 0 || v < 2 || price(t) == 0 {
			break
		}
		if v >= last {
			continue // same vCPUs, less memory: CPU does not justify it
		}
		if peak*cur/v > ceiling {
			break
		}
		best, bestPrice, last = t, price(t), v
	}
	return best, bestPrice
}

func sortIndex(size string) int {
	for i, s := range sizeOrder {
		if s == size {
			return i
		}
	}
	return -1
}

func evalRightsizeEC2(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	return rightsize(c, r, th, rule, "AWS/EC2", r.MetaString("instance_type"), hourlyPrice, computeCommitment(r))
}

func evalRightsizeRDS(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	multi := r.Metadata["multi_az"] == true
	price := func(t string) float64 { return rdsHourly(t, multi) }
	return rightsize(c, r, th, rule, "AWS/RDS", r.MetaString("instance_class"), price, rdsCommitment(r))
}

func rightsize(c *evalCtx, r *inventory.Resource, th Thresholds, rule *Rule, ns, typ string, price func(string) float64, commitment string) *Recommendation {
	if !running(r) || typ == "" {
		return nil
	}
	from, to := c.window(th["window_days"])
	cpuS := findSeries(c.util(r.ARN), ns, "CPUUtilization", "Maximum")
	days := c.daily(0, cpuS, from, to)
	if float64(len(days)) < th["min_days"] {
		return nil
	}
	peak := maxOf(days)
	ceiling := 100 - th["headroom_percent"]
	target, tp := stepDown(typ, peak, ceiling, price)
	if target == "" {
		return nil
	}
	cp := price(typ)
	rec := newRec(rule, r)
	rec.Current, rec.Target = typ, target
	rec.Savings = c.savings(r, cp*HoursPerMonth, 1-tp/cp, "")
	rec.Summary = fmt.Sprintf("Resize %s from %s to %s: peak CPU %.1f%% over %d days would be %.1f%% on %s", r.ID, typ, target, peak, len(days), peak*vcpus(typ)/vcpus(target), target)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Medium, true, true, "resize back to "+typ+" (another restart)"
	rec.Evidence = Evidence{Test: fmt.Sprintf("maximum CPU over %d days x vCPUs(%s)/vCPUs(%s) <= 100%% - %g%% headroom", len(days), typ, target, th["headroom_percent"]),
		Checks: []Check{check("peak CPU on the current size", peak, "<=", round4(ceiling*vcpus(target)/vcpus(typ)), "%"),
			check("peak CPU projected on "+target, peak*vcpus(typ)/vcpus(target), "<=", ceiling, "%"),
			check("days with data", float64(len(days)), ">=", th["min_days"], "days")},
		Series: seriesOf(cpuS), Limits: []Limit{{Metric: "CPUUtilization", Stat: "Maximum", Value: round4(ceiling * vcpus(target) / vcpus(typ)), Label: "fits " + target}}}
	rec.Confidence = dataConfidence(float64(len(days)), th["window_days"], rec.Savings)
	if rec.Confidence == High {
		rec.Confidence = Medium // CPU only: memory is not in CloudWatch's default metrics
	}
	rec.Commitment = commitment
	return rec
}

func evalGraviton(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	typ := r.MetaString("instance_type")
	fam, size := splitType(typ)
	g, ok := graviton[fam]
	// platform is EC2's PlatformDetails ("Linux/UNIX", "Windows with SQL
	// Server Standard"...): Windows does not run on Graviton.
	if !ok || !running(r) || strings.Contains(strings.ToLower(r.MetaString("platform")), "windows") {
		return nil
	}
	target := g + "." + size
	cp, tp := hourlyPrice(typ), hourlyPrice(target)
	if cp == 0 || tp == 0 {
		return nil
	}
	cut := (1 - tp/cp) * 100
	if cut < th["min_savings_percent"] {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current, rec.Target = typ, target
	rec.Savings = c.savings(r, cp*HoursPerMonth, 1-tp/cp, "")
	rec.Summary = fmt.Sprintf("Move %s from %s to Graviton %s: %.0f%% cheaper at the same size", r.ID, typ, target, cut)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = High, true, true, "resize back to "+typ+" with the x86 image"
	rec.Evidence = Evidence{Test: fmt.Sprintf("on-demand price of %s is at least %g%% below %s", target, th["min_savings_percent"], typ),
		Checks: []Check{check("price cut", cut, ">=", th["min_savings_percent"], "%")}}
	rec.Confidence = Medium // the workload must build for arm64
	rec.Commitment = computeCommitment(r) + " An EC2 Instance Savings Plan or reservation for the " + fam + " family does not cover " + g + "; a Compute Savings Plan does."
	return rec
}

// stoppedSince reads when an instance stopped: metadata stopped_at
// (RFC 3339), else EC2's StateTransitionReason "User initiated (2024-05-01
// 10:00:00 GMT)" (as state_reason or state_transition_reason).
func stoppedSince(r *inventory.Resource) (time.Time, bool) {
	if s := r.MetaString("stopped_at"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, true
		}
	}
	reason := firstNonEmpty(r.MetaString("state_reason"), r.MetaString("state_transition_reason"))
	if i, j := strings.Index(reason, "("), strings.LastIndex(reason, ")"); i >= 0 && j > i {
		if t, err := time.Parse("2006-01-02 15:04:05 MST", reason[i+1:j]); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func evalStopped(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if strings.ToLower(r.State) != "stopped" {
		return nil
	}
	since, ok := stoppedSince(r)
	if !ok {
		return nil
	}
	days := c.now.Sub(since).Hours() / 24
	if days < th["min_stopped_days"] {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current = r.MetaString("instance_type")
	var parts []Savings
	var names []string
	for _, v := range c.related(c.volumes, r) {
		parts = append(parts, c.savings(v, volumeList(v), 1, ""))
		names = append(names, v.ID)
	}
	for _, a := range c.related(c.addresses, r) {
		parts = append(parts, c.savings(a, publicIPv4Hourly*HoursPerMonth, 1, ""))
		names = append(names, a.ID)
	}
	rec.Savings = sumSavings(parts, "its EBS volumes and Elastic IPs: a stopped instance's compute is free")
	rec.Summary = fmt.Sprintf("Terminate %s, stopped %.0f days: %d volume(s) and address(es) still cost", r.ID, days, len(names))
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "create an AMI (snapshots its volumes) before terminating; launch from it to roll back"
	rec.Evidence = Evidence{Test: fmt.Sprintf("stopped since %s, at least %g days; still paying for %s", since.Format("2006-01-02"), th["min_stopped_days"], strings.Join(names, ", ")),
		Checks: []Check{check("days stopped", days, ">=", th["min_stopped_days"], "days")}}
	rec.Confidence = High
	if rec.Savings.CostSource != "cur" {
		rec.Confidence = Medium
	}
	rec.Commitment = noCommitment
	return rec
}

// related lists the resources of idx that belong to instance r.
func (c *evalCtx) related(idx map[string][]*inventory.Resource, r *inventory.Resource) []*inventory.Resource {
	out := append([]*inventory.Resource{}, idx[r.ID]...)
	if r.ARN != r.ID {
		out = append(out, idx[r.ARN]...)
	}
	return out
}

func evalPreviousGen(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	typ := r.MetaString("instance_type")
	fam, size := splitType(typ)
	next, ok := previousGeneration[fam]
	if !ok || strings.ToLower(r.State) == "terminated" {
		return nil
	}
	target := next + "." + size
	cp, tp := hourlyPrice(typ), hourlyPrice(target)
	if cp == 0 || tp == 0 {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current, rec.Target = typ, target
	rec.Savings = c.savings(r, cp*HoursPerMonth, math.Max(0, 1-tp/cp), "and the current generation is faster per vCPU")
	rec.Summary = fmt.Sprintf("Upgrade %s from previous-generation %s to %s", r.ID, typ, target)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Medium, true, true, "resize back to "+typ
	rec.Evidence = Evidence{Test: fmt.Sprintf("family %s is a previous generation; %s replaces it", fam, next), Checks: []Check{check("previous generation", 1, "=", 1, "")}}
	rec.Confidence = High
	rec.Commitment = computeCommitment(r)
	return rec
}

func volumeList(v *inventory.Resource) float64 {
	return volumeMonthly(v.MetaString("volume_type"), v.MetaNumber("size_gb"), v.MetaNumber("iops"), max(v.MetaNumber("throughput_mibps"), v.MetaNumber("throughput")))
}

// attached says whether a volume is attached to an instance.
func attached(r *inventory.Resource) bool {
	for _, rel := range r.Relations {
		if rel.Kind == "attached-to" {
			return true
		}
	}
	return r.MetaString("attached_instance") != "" || strings.EqualFold(r.State, "in-use")
}

func evalUnattached(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if attached(r) || !strings.EqualFold(r.State, "available") {
		return nil
	}
	age := th["min_age_days"] // unknown creation: old enough
	if !r.Created.IsZero() {
		age = c.now.Sub(r.Created).Hours() / 24
	}
	if age < th["min_age_days"] {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current = fmt.Sprintf("%s %g GiB", r.MetaString("volume_type"), r.MetaNumber("size_gb"))
	rec.Savings = c.savings(r, volumeList(r), 1, "")
	rec.Summary = fmt.Sprintf("Delete unattached volume %s (%s)", r.ID, rec.Current)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "snapshot it before deleting; restore a volume from the snapshot"
	rec.Evidence = Evidence{Test: fmt.Sprintf("state available (attached to nothing), at least %g days old", th["min_age_days"]),
		Checks: []Check{check("age", age, ">=", th["min_age_days"], "days"), check("attachments", 0, "=", 0, "")}}
	rec.Confidence = High
	rec.Commitment = noCommitment
	return rec
}

func evalGP2(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if r.MetaString("volume_type") != "gp2" {
		return nil
	}
	size := r.MetaNumber("size_gb")
	iops, mibps := gp2Performance(size)
	iops, mibps = math.Max(iops, gp3BaselineIOPS), math.Max(mibps, gp3BaselineMiBps)
	cur, next := size*gp2PerGB, gp3Monthly(size, iops, mibps)
	if cur <= 0 || next >= cur {
		return nil
	}
	rec := newRec(rule, r)
	gi, gm := gp2Performance(size)
	rec.Current = fmt.Sprintf("gp2 %g GiB (%g IOPS, %g MiB/s)", size, gi, gm)
	rec.Target = fmt.Sprintf("gp3 %g GiB, %g IOPS, %g MiB/s", size, iops, mibps)
	rec.Savings = c.savings(r, cur, 1-next/cur, "")
	rec.Summary = fmt.Sprintf("Change %s from gp2 to gp3 with the same IOPS and throughput", r.ID)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "modify back to gp2 (after EBS's 6-hour wait between modifications)"
	rec.Evidence = Evidence{Test: "gp3 provisioned with at least gp2's IOPS (3/GiB, 100 to 16,000) and throughput (128 or 250 MiB/s) costs less",
		Checks: []Check{check("gp3 monthly list price", next, "<", round4(cur), "USD"), check("gp3 IOPS", iops, ">=", gi, "IOPS"), check("gp3 throughput", mibps, ">=", gm, "MiB/s")}}
	rec.Confidence = High
	rec.Commitment = noCommitment
	return rec
}

func evalIOLow(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	vt := r.MetaString("volume_type")
	if vt != "io1" && vt != "io2" {
		return nil
	}
	prov, size := r.MetaNumber("iops"), r.MetaNumber("size_gb")
	if prov <= 0 {
		return nil
	}
	from, to := c.window(th["window_days"])
	u := c.util(r.ARN)
	rd, wr := findSeries(u, "AWS/EBS", "VolumeReadOps", "Sum"), findSeries(u, "AWS/EBS", "VolumeWriteOps", "Sum")
	peak, n := peakRate(rd, wr, from, to)
	if n == 0 {
		return nil
	}
	limit := prov * th["max_used_percent"] / 100
	if peak > limit {
		return nil
	}
	want := math.Ceil(peak * (1 + th["headroom_percent"]/100))
	cur := volumeMonthly(vt, size, prov, 0)
	var target string
	var next float64
	if want <= gp3MaxIOPS {
		iops := math.Max(want, gp3BaselineIOPS)
		target, next = fmt.Sprintf("gp3 %g GiB, %g IOPS", size, iops), gp3Monthly(size, iops, gp3BaselineMiBps)
	} else {
		target, next = fmt.Sprintf("%s %g GiB, %g IOPS", vt, size, want), volumeMonthly(vt, size, want, 0)
	}
	if next >= cur {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current, rec.Target = fmt.Sprintf("%s %g GiB, %g IOPS", vt, size, prov), target
	rec.Savings = c.savings(r, cur, 1-next/cur, "")
	rec.Summary = fmt.Sprintf("Reduce %s: peak %.0f of %g provisioned IOPS used", r.ID, peak, prov)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "modify back (after EBS's 6-hour wait between modifications)"
	rec.Evidence = Evidence{Test: fmt.Sprintf("peak consumed IOPS ((VolumeReadOps + VolumeWriteOps) / period) over %g days <= %g%% of provisioned", th["window_days"], th["max_used_percent"]),
		Checks: []Check{check("peak consumed IOPS", peak, "<=", limit, "IOPS")}, Series: seriesOf(rd, wr)}
	rec.Confidence = High
	if rd.Period >= 3600 {
		rec.Confidence = Medium // hourly or daily sums hide shorter peaks
	}
	rec.Commitment = noCommitment
	return rec
}

func evalOldSnapshot(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if r.Created.IsZero() || c.used[r.ID] || c.used[r.ARN] {
		return nil
	}
	for _, rel := range r.Relations {
		if rel.Kind == "used-by" {
			return nil
		}
	}
	age := c.now.Sub(r.Created).Hours() / 24
	if age < th["min_age_days"] {
		return nil
	}
	rec := newRec(rule, r)
	size := r.MetaNumber("size_gb")
	rec.Current = fmt.Sprintf("%g GiB snapshot", size)
	rec.Savings = c.savings(r, size*snapshotPerGB, 1, "")
	if rec.Savings.CostSource != "cur" {
		rec.Savings.Note = "upper bound: the list price of the volume's full size; snapshots are incremental and may share blocks"
	}
	rec.Summary = fmt.Sprintf("Delete snapshot %s, %.0f days old, used by no AMI or launch template", r.ID, age)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, false, "none: a deleted snapshot cannot be restored (archive it instead to keep it at a quarter of the price)"
	rec.Evidence = Evidence{Test: fmt.Sprintf("at least %g days old and no AMI or launch template names it", th["min_age_days"]),
		Checks: []Check{check("age", age, ">=", th["min_age_days"], "days"), check("AMIs and launch templates using it", 0, "=", 0, "")}}
	rec.Confidence = High
	if rec.Savings.CostSource != "cur" {
		rec.Confidence = Medium
	}
	rec.Commitment = noCommitment
	return rec
}

func evalEIP(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if r.MetaString("association_id") != "" || r.MetaString("instance_id") != "" || r.MetaString("network_interface_id") != "" {
		return nil
	}
	for _, rel := range r.Relations {
		if rel.Kind == "associated-with" {
			return nil
		}
	}
	rec := newRec(rule, r)
	rec.Current = r.MetaString("public_ip")
	rec.Savings = c.savings(r, publicIPv4Hourly*HoursPerMonth, 1, "")
	rec.Summary = fmt.Sprintf("Release unassociated Elastic IP %s", firstNonEmpty(rec.Current, r.ID))
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, false, "none: a released address may not be recovered (allocate a new one)"
	rec.Evidence = Evidence{Test: "associated with no instance or network interface", Checks: []Check{check("associations", 0, "=", 0, "")}}
	rec.Confidence = High
	rec.Commitment = noCommitment
	return rec
}

func evalIdleLB(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	kind := firstNonEmpty(r.MetaString("lb_type"), r.MetaString("type")) // application, network, gateway, classic
	list := albHourly * HoursPerMonth
	if kind == "classic" {
		list = clbHourly * HoursPerMonth
	}
	rec := newRec(rule, r)
	rec.Current = kind + " load balancer"
	_, hasTargets := r.Metadata["healthy_targets"]
	if hasTargets && r.MetaNumber("healthy_targets") == 0 {
		rec.Evidence = Evidence{Test: "no healthy target behind it", Checks: []Check{check("healthy targets", 0, "=", 0, "")}}
	} else {
		ns, metric := "AWS/ApplicationELB", "RequestCount"
		switch kind {
		case "classic":
			ns = "AWS/ELB"
		case "network":
			ns, metric = "AWS/NetworkELB", "NewFlowCount"
		case "gateway":
			ns, metric = "AWS/GatewayELB", "NewFlowCount"
		}
		from, to := c.window(th["window_days"])
		s := findSeries(c.util(r.ARN), ns, metric, "Sum")
		days := c.daily(0, s, from, to)
		if float64(len(days)) < th["window_days"] {
			return nil
		}
		peak := maxOf(days)
		if peak >= th["requests_per_day"] {
			return nil
		}
		rec.Evidence = Evidence{Test: fmt.Sprintf("fewer than %g %s a day on each of the last %g days", th["requests_per_day"], metric, th["window_days"]),
			Checks: []Check{check("busiest day's "+metric, peak, "<", th["requests_per_day"], "")}, Series: seriesOf(s),
			Limits: []Limit{{Metric: metric, Stat: "Sum", Value: th["requests_per_day"], Label: fmt.Sprintf("idle: < %g a day", th["requests_per_day"])}}}
	}
	rec.Savings = c.savings(r, list, 1, "the hourly charge; capacity units (LCUs) of an idle load balancer are near zero")
	rec.Summary = fmt.Sprintf("Delete idle load balancer %s: %s", firstNonEmpty(r.Name, r.ID), rec.Evidence.Test)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Medium, false, false, "recreate it from its configuration (listeners, rules, targets); its DNS name changes"
	rec.Confidence = High
	rec.Commitment = noCommitment
	return rec
}

func evalIdleNAT(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if s := strings.ToLower(r.State); s != "" && s != "available" {
		return nil
	}
	from, to := c.window(th["window_days"])
	u := c.util(r.ARN)
	outS, inS := findSeries(u, "AWS/NATGateway", "BytesOutToDestination", "Sum"), findSeries(u, "AWS/NATGateway", "BytesInFromDestination", "Sum")
	days := c.sumDaily(2, c.daily(0, outS, from, to), c.daily(1, inS, from, to))
	if float64(len(days)) < th["window_days"] {
		return nil
	}
	peak := maxOf(days) / 1e6
	if peak > th["max_mb_per_day"] {
		return nil
	}
	rec := newRec(rule, r)
	rec.Savings = c.savings(r, natHourly*HoursPerMonth, 1, "the hourly charge; data processed is near zero when idle")
	rec.Summary = fmt.Sprintf("Delete idle NAT gateway %s: at most %.2f MB a day for %d days", r.ID, peak, len(days))
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Medium, false, true, "create a NAT gateway again and point the route tables at it"
	rec.Evidence = Evidence{Test: fmt.Sprintf("bytes out to and in from destinations at most %g MB on each of the last %g days", th["max_mb_per_day"], th["window_days"]),
		Checks: []Check{check("busiest day", peak, "<=", th["max_mb_per_day"], "MB")}, Series: seriesOf(outS, inS)}
	rec.Confidence = High
	rec.Commitment = noCommitment
	return rec
}

func evalIdleRDS(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if !running(r) {
		return nil
	}
	from, to := c.window(th["window_days"])
	s := findSeries(c.util(r.ARN), "AWS/RDS", "DatabaseConnections", "Maximum")
	days := c.daily(0, s, from, to)
	if float64(len(days)) < th["window_days"] {
		return nil
	}
	peak := maxOf(days)
	if peak > th["max_connections"] {
		return nil
	}
	rec := newRec(rule, r)
	rec.Current = r.MetaString("instance_class")
	rec.Savings = c.savings(r, rdsHourly(rec.Current, r.Metadata["multi_az"] == true)*HoursPerMonth, 1, "the instance's cost as inventoried; a final snapshot keeps costing after the deletion")
	rec.Summary = fmt.Sprintf("Delete idle database %s (%s): no connection in %d days", r.ID, rec.Current, len(days))
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "take a final snapshot when deleting; restore from it"
	rec.Evidence = Evidence{Test: fmt.Sprintf("maximum DatabaseConnections <= %g on each of the last %g days", th["max_connections"], th["window_days"]),
		Checks: []Check{check("most connections in a day", peak, "<=", th["max_connections"], "")}, Series: seriesOf(s),
		Limits: []Limit{{Metric: "DatabaseConnections", Stat: "Maximum", Value: th["max_connections"], Label: fmt.Sprintf("idle: <= %g", th["max_connections"])}}}
	rec.Confidence = High
	rec.Commitment = rdsCommitment(r)
	return rec
}

// hasAbortRule reads the bucket's lifecycle: metadata
// abort_incomplete_multipart_days (> 0), or lifecycle_rules as S3 returns
// them (an Enabled rule with AbortIncompleteMultipartUpload).
func hasAbortRule(r *inventory.Resource) bool {
	if r.MetaNumber("abort_incomplete_multipart_days") > 0 {
		return true
	}
	rules, _ := r.Metadata["lifecycle_rules"].([]any)
	for _, x := range rules {
		m, _ := x.(map[string]any)
		if m == nil || !strings.EqualFold(fmt.Sprint(m["Status"]), "Enabled") {
			continue
		}
		if a, ok := m["AbortIncompleteMultipartUpload"].(map[string]any); ok && a["DaysAfterInitiation"] != nil {
			return true
		}
	}
	return false
}

func evalS3Abort(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if hasAbortRule(r) {
		return nil
	}
	rec := newRec(rule, r)
	rec.Target = fmt.Sprintf("lifecycle rule: AbortIncompleteMultipartUpload after %g days", th["days_after_initiation"])
	rec.Savings = Savings{Basis: "before-discounts", Currency: "USD", CostSource: "none", CostLabel: "not measurable without S3 Storage Lens: incomplete uploads are not listed with the bucket's objects", Hours: HoursPerMonth,
		Note: "the stored parts of abandoned multipart uploads, billed as storage"}
	rec.Summary = fmt.Sprintf("Add a lifecycle rule to bucket %s that aborts incomplete multipart uploads after %g days", r.ID, th["days_after_initiation"])
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Low, false, true, "remove the lifecycle rule"
	rec.Evidence = Evidence{Test: "no enabled lifecycle rule with AbortIncompleteMultipartUpload", Checks: []Check{check("abort rules", 0, "=", 0, "")}}
	rec.Confidence = Low
	rec.Commitment = noCommitment
	return rec
}

func evalOffHours(c *evalCtx, rule *Rule, r *inventory.Resource, th Thresholds) *Recommendation {
	if !running(r) || r.Tags == nil {
		return nil
	}
	env := ""
	for k, v := range r.Tags {
		for _, want := range envTagKeys {
			if strings.EqualFold(k, want) && nonProduction[strings.ToLower(v)] {
				env = k + "=" + v
			}
		}
	}
	if env == "" {
		return nil
	}
	rec := newRec(rule, r)
	var list float64
	if typeOf(r) == typeRDS {
		rec.Current = r.MetaString("instance_class")
		list = rdsHourly(rec.Current, r.Metadata["multi_az"] == true) * HoursPerMonth
		rec.Commitment = rdsCommitment(r)
	} else {
		rec.Current = r.MetaString("instance_type")
		list = hourlyPrice(rec.Current) * HoursPerMonth
		rec.Commitment = computeCommitment(r)
	}
	on := th["on_hours_per_week"]
	rec.Target = fmt.Sprintf("run %g of 168 hours a week", on)
	rec.Savings = c.savings(r, list, 1-on/168, "compute only; storage keeps costing while it is stopped")
	rec.Summary = fmt.Sprintf("Schedule %s (%s) to run %g hours a week", r.ID, env, on)
	rec.Effort, rec.RestartNeeded, rec.RollbackPossible, rec.Rollback = Medium, true, true, "remove the schedule"
	rec.Evidence = Evidence{Test: fmt.Sprintf("tagged %s (non-production) and running around the clock", env), Checks: []Check{check("hours a week after the schedule", on, "<", 168, "hours")}}
	rec.Confidence = Medium
	return rec
}

const noCommitment = "Not eligible for Savings Plans or reservations: the saving is cash."

func computeCommitment(r *inventory.Resource) string {
	if r.Cost != nil && r.Cost.CoveredByCommitment {
		return "Covered by a Savings Plan or reservation: shrinking or stopping it frees commitment for other usage rather than cutting the bill, until other usage absorbs it (the after-discounts figure assumes it does); size new commitments after the change."
	}
	return "Not covered by a commitment: the saving is cash. Apply it before buying Savings Plans, so they are not sized on usage you remove."
}

func rdsCommitment(r *inventory.Resource) string {
	if r.Cost != nil && r.Cost.CoveredByCommitment {
		return "Covered by an RDS reservation: a smaller or deleted instance leaves reservation hours unused unless another instance of the family and region takes them (reservations are size-flexible within a family)."
	}
	return "Not covered by a reservation: the saving is cash. Apply it before buying RDS reservations."
}

func seriesOf(ss ...*inventory.Series) []*inventory.Series {
	var out []*inventory.Series
	for _, s := range ss {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

var ruleByName = func() map[string]Rule {
	m := map[string]Rule{}
	for _, r := range Rules() {
		m[r.Name] = r
	}
	return m
}()

// RuleNames lists the rules' names, sorted.
func RuleNames() []string {
	var out []string
	for n := range ruleByName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
