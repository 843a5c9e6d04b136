package optimize

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
)

var now = time.Date(2026, 3, 15, 6, 0, 0, 0, time.UTC)

// days builds a daily series of the last len(vals) days before now.
func days(ns, metric, stat string, vals ...float64) inventory.Series {
	s := inventory.Series{Namespace: ns, Metric: metric, Stat: stat, Period: 86400}
	start := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -len(vals))
	for i, v := range vals {
		s.Points = append(s.Points, inventory.Datapoint{At: start.AddDate(0, 0, i), Value: v})
	}
	return s
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// lowThen is n days of which the first low are at lowV and the rest at highV.
func lowThen(low int, lowV, highV float64, n int) []float64 {
	out := repeat(highV, n)
	for i := 0; i < low; i++ {
		out[i] = lowV
	}
	return out
}

func res(typ, id string, meta map[string]any) inventory.Resource {
	svc, t, _ := strings.Cut(typ, "/")
	return inventory.Resource{ARN: "arn:aws:" + svc + ":us-east-1:111122223333:" + t + "/" + id, AccountID: "111122223333", Region: "us-east-1",
		Service: svc, Type: t, ID: id, State: "running", Metadata: meta, Created: now.AddDate(-1, 0, 0)}
}

type ruleCase struct {
	name  string
	rule  string
	res   []inventory.Resource
	util  map[string]inventory.Utilization
	fires bool
	check func(t *testing.T, r Recommendation)
}

func util(r inventory.Resource, ss ...inventory.Series) map[string]inventory.Utilization {
	return map[string]inventory.Utilization{r.ARN: {ARN: r.ARN, Series: ss}}
}

func instance(id, typ string) inventory.Resource {
	return res("ec2/instance", id, map[string]any{"instance_type": typ})
}

func volume(id, vt string, size, iops float64, state string) inventory.Resource {
	r := res("ec2/volume", id, map[string]any{"volume_type": vt, "size_gb": size, "iops": iops})
	r.State = state
	return r
}

func idleUtil(r inventory.Resource, lowDays int) map[string]inventory.Utilization {
	return util(r, days("AWS/EC2", "CPUUtilization", "Average", lowThen(lowDays, 2, 45, 14)...),
		days("AWS/EC2", "NetworkIn", "Sum", repeat(1e6, 14)...), days("AWS/EC2", "NetworkOut", "Sum", repeat(2e6, 14)...))
}

func cpuMax(r inventory.Resource, peak float64) map[string]inventory.Utilization {
	v := repeat(peak/2, 14)
	v[9] = peak
	ns := "AWS/EC2"
	if r.Service == "rds" {
		ns = "AWS/RDS"
	}
	return util(r, days(ns, "CPUUtilization", "Maximum", v...))
}

func TestRulesFireAndStaySilentJustInside(t *testing.T) {
	idle := instance("i-idle", "m5.xlarge")
	busy := instance("i-busy", "m5.xlarge")
	big := instance("i-big", "m5.4xlarge")
	stopped := instance("i-stopped", "m5.large")
	stopped.State = "stopped"
	stopped.Metadata["state_transition_reason"] = "User initiated (" + now.AddDate(0, 0, -31).Format("2006-01-02 15:04:05") + " GMT)"
	// As the inventory collector records it: EC2's StateTransitionReason.
	stoppedInv := instance("i-stopped-inv", "m5.large")
	stoppedInv.State = "stopped"
	stoppedInv.Metadata["state_reason"] = "User initiated (" + now.AddDate(0, 0, -45).Format("2006-01-02 15:04:05") + " GMT)"
	win := instance("i-win", "m5.large")
	win.Metadata["platform"] = "Windows with SQL Server Standard"
	recent := instance("i-recent", "m5.large")
	recent.State = "stopped"
	recent.Metadata["stopped_at"] = now.AddDate(0, 0, -29).Format(time.RFC3339)
	stoppedVol := volume("vol-root", "gp3", 100, 3000, "in-use")
	stoppedVol.Relations = []inventory.Relation{{Kind: "attached-to", Target: "i-stopped"}}
	stoppedIP := res("ec2/elastic-ip", "eipalloc-1", map[string]any{"instance_id": "i-stopped", "association_id": "eipassoc-1"})
	oldVol := volume("vol-old", "gp3", 50, 3000, "available")
	newVol := volume("vol-new", "gp3", 50, 3000, "available")
	newVol.Created = now.AddDate(0, 0, -6)
	io := volume("vol-io", "io1", 100, 10000, "in-use")
	ioBusy := volume("vol-io-busy", "io1", 100, 10000, "in-use")
	snapOld := res("ec2/snapshot", "snap-old", map[string]any{"size_gb": 100.0})
	snapOld.Created = now.AddDate(0, 0, -91)
	snapUsed := res("ec2/snapshot", "snap-used", map[string]any{"size_gb": 100.0})
	snapUsed.Created = now.AddDate(0, 0, -400)
	ami := res("ec2/image", "ami-1", map[string]any{"snapshot_ids": []any{"snap-used"}})
	snapYoung := res("ec2/snapshot", "snap-young", map[string]any{"size_gb": 100.0})
	snapYoung.Created = now.AddDate(0, 0, -89)
	eip := res("ec2/elastic-ip", "eipalloc-free", map[string]any{"public_ip": "203.0.113.7"})
	eipUsed := res("ec2/elastic-ip", "eipalloc-used", map[string]any{"association_id": "eipassoc-9"})
	alb := res("elasticloadbalancing/loadbalancer", "app/quiet/1", map[string]any{"lb_type": "application"})
	albBusy := res("elasticloadbalancing/loadbalancer", "app/busy/1", map[string]any{"type": "application"})
	albDead := res("elasticloadbalancing/loadbalancer", "app/dead/1", map[string]any{"lb_type": "application", "targets": 2, "healthy_targets": 0})
	albHealthy := res("elasticloadbalancing/loadbalancer", "app/healthy/1", map[string]any{"lb_type": "application", "targets": 2, "healthy_targets": 1})
	nat := res("ec2/natgateway", "nat-1", nil)
	nat.State = "available"
	natBusy := res("ec2/natgateway", "nat-2", nil)
	natBusy.State = "available"
	db := res("rds/db", "db-idle", map[string]any{"instance_class": "db.m5.large"})
	db.State = "available"
	dbUsed := res("rds/db", "db-used", map[string]any{"instance_class": "db.m5.large"})
	dbUsed.State = "available"
	dbBig := res("rds/db", "db-big", map[string]any{"instance_class": "db.r5.2xlarge"})
	dbBig.State = "available"
	bucket := res("s3/bucket", "logs", map[string]any{})
	bucketCounted := res("s3/bucket", "counted", map[string]any{"lifecycle_rules": 2, "abort_incomplete_multipart_days": 7})
	bucketOK := res("s3/bucket", "tidy", map[string]any{"lifecycle_rules": []any{map[string]any{"Status": "Enabled", "AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7.0}}}})
	dev := instance("i-dev", "m5.large")
	dev.Tags = map[string]string{"Environment": "dev"}
	prod := instance("i-prod", "m5.large")
	prod.Tags = map[string]string{"Environment": "production"}

	ioUtil := func(r inventory.Resource, peakIOPS float64) map[string]inventory.Utilization {
		rd := days("AWS/EBS", "VolumeReadOps", "Sum", repeat(peakIOPS*86400/4, 14)...)
		wr := days("AWS/EBS", "VolumeWriteOps", "Sum", repeat(peakIOPS*86400/4, 14)...)
		wr.Points[3].Value = peakIOPS * 86400 * 3 / 4
		return util(r, rd, wr)
	}
	reqs := func(r inventory.Resource, peak float64) map[string]inventory.Utilization {
		v := repeat(3, 7)
		v[2] = peak
		return util(r, days("AWS/ApplicationELB", "RequestCount", "Sum", v...))
	}
	natUtil := func(r inventory.Resource, peakBytes float64) map[string]inventory.Utilization {
		out := repeat(1000, 7)
		out[4] = peakBytes - 1000
		return util(r, days("AWS/NATGateway", "BytesOutToDestination", "Sum", out...), days("AWS/NATGateway", "BytesInFromDestination", "Sum", repeat(1000, 7)...))
	}
	conns := func(r inventory.Resource, peak float64) map[string]inventory.Utilization {
		v := repeat(0, 7)
		v[6] = peak
		return util(r, days("AWS/RDS", "DatabaseConnections", "Maximum", v...))
	}

	cases := []ruleCase{
		{name: "idle on 4 of 14 days", rule: "ec2-idle", res: []inventory.Resource{idle}, util: idleUtil(idle, 4), fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Action != ActionStop || r.Savings.Monthly != round2(0.192*730) || r.Savings.Basis != "before-discounts" || len(r.Evidence.Series) != 3 ||
				len(r.Evidence.Limits) != 1 || r.Evidence.Limits[0].Value != 10 || r.Evidence.Limits[0].Stat != "Average" {
				t.Errorf("idle: %+v", r)
			}
		}},
		{name: "idle on 3 of 14 days", rule: "ec2-idle", res: []inventory.Resource{busy}, util: idleUtil(busy, 3)},
		{name: "peak 40% on m5.4xlarge fits m5.2xlarge", rule: "ec2-rightsize", res: []inventory.Resource{big}, util: cpuMax(big, 40), fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Target != "m5.2xlarge" || r.Savings.Monthly != round2(0.768*730/2) || !r.RestartNeeded {
				t.Errorf("rightsize: %+v", r)
			}
		}},
		{name: "peak 19% on m5.4xlarge fits m5.xlarge", rule: "ec2-rightsize", res: []inventory.Resource{big}, util: cpuMax(big, 19.9), fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Target != "m5.xlarge" {
				t.Errorf("target %s, want m5.xlarge (two steps)", r.Target)
			}
		}},
		{name: "peak 40.1% stays", rule: "ec2-rightsize", res: []inventory.Resource{big}, util: cpuMax(big, 40.1)},
		{name: "m5 to m7g", rule: "ec2-graviton", res: []inventory.Resource{instance("i-x86", "m5.large")}, fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Target != "m7g.large" || r.Action != ActionMigrateToGraviton || !strings.Contains(r.Commitment, "Compute Savings Plan") {
				t.Errorf("graviton: %+v", r)
			}
		}},
		{name: "m6a saves under 10%", rule: "ec2-graviton", res: []inventory.Resource{instance("i-amd", "m6a.large")}},
		{name: "stopped 31 days", rule: "ec2-stopped", res: []inventory.Resource{stopped, stoppedVol, stoppedIP}, fires: true, check: func(t *testing.T, r Recommendation) {
			if want := round2(100*gp3PerGB + 3.65); r.Savings.Monthly != want {
				t.Errorf("stopped saves %v, want %v (its volume and address)", r.Savings.Monthly, want)
			}
		}},
		{name: "stopped 29 days", rule: "ec2-stopped", res: []inventory.Resource{recent}},
		{name: "stopped 45 days (state_reason)", rule: "ec2-stopped", res: []inventory.Resource{stoppedInv}, fires: true},
		{name: "Windows stays on x86", rule: "ec2-graviton", res: []inventory.Resource{win}},
		{name: "m4 is previous generation", rule: "ec2-previous-generation", res: []inventory.Resource{instance("i-m4", "m4.large")}, fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Target != "m5.large" || r.Action != ActionUpgrade {
				t.Errorf("prevgen: %+v", r)
			}
		}},
		{name: "m5 is current", rule: "ec2-previous-generation", res: []inventory.Resource{instance("i-m5", "m5.large")}},
		{name: "unattached a year", rule: "ebs-unattached", res: []inventory.Resource{oldVol}, fires: true},
		{name: "unattached 6 days", rule: "ebs-unattached", res: []inventory.Resource{newVol}},
		{name: "attached", rule: "ebs-unattached", res: []inventory.Resource{stoppedVol}},
		{name: "gp2", rule: "ebs-gp2-to-gp3", res: []inventory.Resource{volume("vol-gp2", "gp2", 1000, 0, "in-use")}, fires: true, check: func(t *testing.T, r Recommendation) {
			// 1000 GiB gp2: 3000 IOPS, 250 MiB/s; gp3 at 3000 IOPS and 250 MiB/s: 80 + 125*0.04 = 85 against 100.
			if r.Savings.Monthly != 15 || !strings.Contains(r.Target, "250 MiB/s") {
				t.Errorf("gp2: %+v", r)
			}
		}},
		{name: "gp3 already", rule: "ebs-gp2-to-gp3", res: []inventory.Resource{volume("vol-gp3", "gp3", 1000, 3000, "in-use")}},
		{name: "io1 peak 5000 of 10000", rule: "ebs-io-low-iops", res: []inventory.Resource{io}, util: ioUtil(io, 5000), fires: true, check: func(t *testing.T, r Recommendation) {
			if !strings.HasPrefix(r.Target, "gp3 100 GiB, 6000 IOPS") {
				t.Errorf("io1 target %q", r.Target)
			}
		}},
		{name: "io1 peak 5001 of 10000", rule: "ebs-io-low-iops", res: []inventory.Resource{ioBusy}, util: ioUtil(ioBusy, 5001)},
		{name: "snapshot 91 days", rule: "snapshot-old", res: []inventory.Resource{snapOld}, fires: true, check: func(t *testing.T, r Recommendation) {
			if r.RollbackPossible || r.Savings.Note == "" {
				t.Errorf("snapshot: %+v", r)
			}
		}},
		{name: "snapshot 89 days", rule: "snapshot-old", res: []inventory.Resource{snapYoung}},
		{name: "snapshot used by an AMI", rule: "snapshot-old", res: []inventory.Resource{snapUsed, ami}},
		{name: "free address", rule: "eip-unassociated", res: []inventory.Resource{eip}, fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Savings.Monthly != 3.65 {
				t.Errorf("eip saves %v", r.Savings.Monthly)
			}
		}},
		{name: "associated address", rule: "eip-unassociated", res: []inventory.Resource{eipUsed}},
		{name: "99 requests a day", rule: "elb-idle", res: []inventory.Resource{alb}, util: reqs(alb, 99), fires: true},
		{name: "100 requests one day", rule: "elb-idle", res: []inventory.Resource{albBusy}, util: reqs(albBusy, 100)},
		{name: "no healthy targets", rule: "elb-idle", res: []inventory.Resource{albDead}, fires: true},
		{name: "one healthy target, busy", rule: "elb-idle", res: []inventory.Resource{albHealthy}, util: reqs(albHealthy, 5000)},
		{name: "nat 1 MB a day", rule: "nat-idle", res: []inventory.Resource{nat}, util: natUtil(nat, 1e6), fires: true},
		{name: "nat 1 MB + 1 byte", rule: "nat-idle", res: []inventory.Resource{natBusy}, util: natUtil(natBusy, 1e6+1001)},
		{name: "db no connections", rule: "rds-idle", res: []inventory.Resource{db}, util: conns(db, 0), fires: true},
		{name: "db one connection", rule: "rds-idle", res: []inventory.Resource{dbUsed}, util: conns(dbUsed, 1)},
		{name: "db peak 40%", rule: "rds-rightsize", res: []inventory.Resource{dbBig}, util: cpuMax(dbBig, 40), fires: true, check: func(t *testing.T, r Recommendation) {
			if r.Target != "db.r5.xlarge" {
				t.Errorf("rds target %q", r.Target)
			}
		}},
		{name: "db peak 41%", rule: "rds-rightsize", res: []inventory.Resource{dbBig}, util: cpuMax(dbBig, 41)},
		{name: "bucket without abort rule", rule: "s3-abort-multipart", res: []inventory.Resource{bucket}, fires: true},
		{name: "bucket with abort rule", rule: "s3-abort-multipart", res: []inventory.Resource{bucketOK}},
		{name: "bucket with abort rule (inventory's counts)", rule: "s3-abort-multipart", res: []inventory.Resource{bucketCounted}},
		{name: "dev instance", rule: "off-hours", res: []inventory.Resource{dev}, fires: true, check: func(t *testing.T, r Recommendation) {
			if want := round2(0.096 * 730 * (1 - 60.0/168)); r.Savings.Monthly != want {
				t.Errorf("off-hours saves %v, want %v", r.Savings.Monthly, want)
			}
		}},
		{name: "production instance", rule: "off-hours", res: []inventory.Resource{prod}},
	}
	fired := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			set := Settings{tc.rule: DefaultSettings()[tc.rule]}
			recs := Run(append([]inventory.Resource{}, tc.res...), func(arn string) *inventory.Utilization {
				if u, ok := tc.util[arn]; ok {
					return &u
				}
				return nil
			}, set, now)
			if !tc.fires {
				if len(recs) != 0 {
					t.Fatalf("fired: %s (%s)", recs[0].Summary, recs[0].Evidence.Test)
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("%d recommendations, want 1", len(recs))
			}
			r := recs[0]
			fired[tc.rule] = true
			if r.Rule != tc.rule || r.ID != RecommendationID(tc.rule, tc.res[0].ARN) || r.ARN != tc.res[0].ARN || r.AccountID != "111122223333" {
				t.Errorf("identity: %+v", r)
			}
			if r.Effort == "" || r.Confidence == "" || r.Commitment == "" || r.Rollback == "" || r.Evidence.Test == "" || len(r.Evidence.Checks) == 0 || r.Summary == "" {
				t.Errorf("incomplete: %+v", r)
			}
			for _, c := range r.Evidence.Checks {
				if !c.Pass {
					t.Errorf("a failed check in the evidence of a fired rule: %+v", c)
				}
			}
			if r.Savings.Hours != 730 || r.Savings.CostLabel == "" {
				t.Errorf("savings: %+v", r.Savings)
			}
			if tc.check != nil {
				tc.check(t, *r)
			}
		})
	}
	for _, r := range Rules() {
		if !fired[r.Name] {
			t.Errorf("rule %s has no case where it fires", r.Name)
		}
	}
}

func TestSavingsFromTheCUR(t *testing.T) {
	// Covered by a Savings Plan: amortized 60, on demand 140 a month.
	r := instance("i-cov", "m5.2xlarge")
	r.Cost = &inventory.Cost{MonthlyAmortized: 60, MonthlyOnDemand: 140, Currency: "USD", Source: inventory.CostFromCUR, CoveredByCommitment: true}
	recs := Run([]inventory.Resource{r}, func(string) *inventory.Utilization { u := cpuMax(r, 30)[r.ARN]; return &u }, Settings{"ec2-rightsize": DefaultSettings()["ec2-rightsize"]}, now)
	if len(recs) != 1 {
		t.Fatalf("%d recommendations", len(recs))
	}
	s := recs[0].Savings
	// 30% peak on 8 vCPUs fits 4 (60% < 80%) but not 2 (120%): half the cost.
	if recs[0].Target != "m5.xlarge" || s.Monthly != 30 || s.AfterDiscounts != 30 || s.BeforeDiscounts != 70 || s.Basis != "after-discounts" || s.CostSource != "cur" || s.CurrentMonthly != 60 {
		t.Errorf("savings %+v target %s", s, recs[0].Target)
	}
	if !strings.Contains(recs[0].Commitment, "frees commitment") {
		t.Errorf("commitment interaction: %s", recs[0].Commitment)
	}
}

func TestThresholdsChangeTheOutcome(t *testing.T) {
	idle := instance("i-idle", "m5.xlarge")
	u := idleUtil(idle, 3)[idle.ARN]
	set := Settings{"ec2-idle": DefaultSettings()["ec2-idle"]}
	get := func(string) *inventory.Utilization { return &u }
	if n := len(Run([]inventory.Resource{idle}, get, set, now)); n != 0 {
		t.Fatalf("3 low days fired with min_low_days 4")
	}
	set["ec2-idle"]["min_low_days"] = 3
	if n := len(Run([]inventory.Resource{idle}, get, set, now)); n != 1 {
		t.Fatalf("3 low days did not fire with min_low_days 3")
	}
	set["ec2-idle"]["min_monthly_savings"] = 1000
	if n := len(Run([]inventory.Resource{idle}, get, set, now)); n != 0 {
		t.Fatalf("min_monthly_savings 1000 kept a %v saving", 0.192*730)
	}
	set["ec2-idle"]["min_monthly_savings"] = 0
	set["ec2-idle"]["enabled"] = 0
	if n := len(Run([]inventory.Resource{idle}, get, set, now)); n != 0 {
		t.Fatalf("a disabled rule fired")
	}
}

func TestSummaryCountsAResourceOnce(t *testing.T) {
	recs := []*Recommendation{
		{Rule: "ec2-idle", ARN: "a", AccountID: "1", Action: ActionStop, Savings: Savings{Monthly: 100}},
		{Rule: "ec2-rightsize", ARN: "a", AccountID: "1", Action: ActionRightsize, Savings: Savings{Monthly: 50}},
		{Rule: "eip-unassociated", ARN: "b", AccountID: "2", Action: ActionDelete, Savings: Savings{Monthly: 3.65}},
	}
	s := Summarize(recs)
	if s.Total != 103.65 || s.Count != 3 || len(s.ByRule) != 3 || s.ByRule[0].Key != "ec2-idle" || s.ByAccount[0].Monthly != 100 || s.ByAccount[1].Monthly != 3.65 {
		t.Errorf("summary %+v", s)
	}
}

func TestPrices(t *testing.T) {
	for typ, want := range map[string]float64{"m5.large": 0.096, "m5.24xlarge": 4.608, "t3.micro": 0.0104, "m7g.xlarge": 0.1632, "x9.large": 0, "m5.nano": 0} {
		if got := hourlyPrice(typ); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %v, want %v", typ, got, want)
		}
	}
	if i, m := gp2Performance(100); i != 300 || m != 128 {
		t.Errorf("gp2 100 GiB: %v IOPS %v MiB/s", i, m)
	}
	if i, m := gp2Performance(6000); i != 16000 || m != 250 {
		t.Errorf("gp2 6000 GiB: %v IOPS %v MiB/s", i, m)
	}
	if got := rdsHourly("db.r5.2xlarge", true); got != 2*0.25*4 {
		t.Errorf("db.r5.2xlarge multi-AZ: %v", got)
	}
}

func TestIDsAreStable(t *testing.T) {
	a, b := RecommendationID("ec2-idle", "arn:a"), RecommendationID("ec2-idle", "arn:"+"a")
	if a != b || len(a) != 24 || a == RecommendationID("ec2-rightsize", "arn:a") || a == RecommendationID("ec2-idle", "arn:b") {
		t.Fatal("IDs are not stable per rule and resource")
	}
}

// FuzzStoppedSince: EC2's StateTransitionReason is free text; reading a
// stop time from it never panics, and a time it finds is the one written.
func FuzzStoppedSince(f *testing.F) {
	for _, s := range []string{"User initiated (2024-05-01 10:00:00 GMT)", "User initiated", "(", ")(", "Server.ScheduledStop (2023-01-01 00:00:00 UTC)", "x (2024-13-40 99:00:00 GMT)", ""} {
		f.Add(s, "")
	}
	f.Add("", "2024-05-01T10:00:00Z")
	f.Fuzz(func(t *testing.T, reason, stoppedAt string) {
		r := inventory.Resource{Metadata: map[string]any{"state_transition_reason": reason, "stopped_at": stoppedAt}}
		at, ok := stoppedSince(&r)
		if ok && at.IsZero() {
			t.Fatalf("%q / %q: found a zero time", reason, stoppedAt)
		}
		if ok && stoppedAt == "" && !strings.Contains(reason, at.Format("2006-01-02 15:04:05")) {
			t.Fatalf("%q: found %s, which it does not say", reason, at)
		}
	})
}
