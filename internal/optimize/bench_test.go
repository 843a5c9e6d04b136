package optimize

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/inventory"
)

// generated builds n resources of a realistic mix (instances, volumes,
// snapshots, addresses, load balancers, NAT gateways, databases, buckets)
// over 50 accounts, with 14 days of metrics. Metric series and metadata
// are drawn from small pools shared by many resources, so the input stays
// small and the figures measure the rules, not the generator.
func generated(n int) ([]inventory.Resource, map[string]*inventory.Utilization) {
	// Mostly current Graviton types (nothing to say), some x86, a few
	// previous-generation ones.
	types := []string{"m7g.large", "m7g.xlarge", "c7g.2xlarge", "r7g.large", "t4g.medium", "m7g.4xlarge", "m5.xlarge", "c5.2xlarge", "t3.medium", "m4.large"}
	cpuProfiles := make([]*inventory.Utilization, 64)
	for i := range cpuProfiles {
		lo := float64(i % 16) // profiles from idle to busy
		avg := days("AWS/EC2", "CPUUtilization", "Average", lowThen(i%8, lo, 30+lo, 14)...)
		mx := days("AWS/EC2", "CPUUtilization", "Maximum", lowThen(i%8, 2*lo, 20+3*lo, 14)...)
		cpuProfiles[i] = &inventory.Utilization{Series: []inventory.Series{avg, mx,
			days("AWS/EC2", "NetworkIn", "Sum", repeat(float64(i)*1e5, 14)...), days("AWS/EC2", "NetworkOut", "Sum", repeat(float64(i)*2e5, 14)...)}}
	}
	other := map[string]*inventory.Utilization{
		"ebs": {Series: []inventory.Series{days("AWS/EBS", "VolumeReadOps", "Sum", repeat(86400*200, 14)...), days("AWS/EBS", "VolumeWriteOps", "Sum", repeat(86400*300, 14)...)}},
		"elb": {Series: []inventory.Series{days("AWS/ApplicationELB", "RequestCount", "Sum", repeat(5000, 7)...)}},
		"nat": {Series: []inventory.Series{days("AWS/NATGateway", "BytesOutToDestination", "Sum", repeat(500, 7)...), days("AWS/NATGateway", "BytesInFromDestination", "Sum", repeat(500, 7)...)}},
		"rds": {Series: []inventory.Series{days("AWS/RDS", "DatabaseConnections", "Maximum", repeat(20, 7)...), days("AWS/RDS", "CPUUtilization", "Maximum", repeat(55, 14)...)}},
	}
	metaPool := map[string]map[string]any{}
	meta := func(k string, m map[string]any) map[string]any {
		if p, ok := metaPool[k]; ok {
			return p
		}
		metaPool[k] = m
		return m
	}
	dev := map[string]string{"Environment": "dev"}
	prod := map[string]string{"Environment": "production"}
	res := make([]inventory.Resource, n)
	util := make(map[string]*inventory.Utilization, n)
	for i := range res {
		acct := fmt.Sprintf("%012d", 100000000000+i%50)
		r := inventory.Resource{AccountID: crossbill.AccountID(acct), Region: "us-east-1", Created: now.AddDate(0, 0, -(i % 400)), State: "running"}
		var kind string
		switch m := i % 20; {
		case m < 8:
			kind, r.Service, r.Type = "instance", "ec2", "instance"
			t := types[i%len(types)]
			r.Metadata = meta("i"+t, map[string]any{"instance_type": t})
			if i%7 == 0 {
				r.Tags = dev
			} else {
				r.Tags = prod
			}
			util["arn:"+fmt.Sprint(i)] = cpuProfiles[(i/20)%len(cpuProfiles)]
		case m < 14:
			kind, r.Service, r.Type, r.State = "volume", "ec2", "volume", "in-use"
			vt := []string{"gp3", "gp3", "gp3", "gp3", "gp3", "gp3", "gp3", "gp2", "gp2", "io1"}[i%10]
			r.Metadata = meta("v"+vt, map[string]any{"volume_type": vt, "size_gb": 200.0, "iops": 4000.0})
			if i%50 == 3 {
				r.State = "available"
			} else {
				r.Relations = []inventory.Relation{{Kind: "attached-to", Target: fmt.Sprintf("i-%d", i-i%20)}}
			}
			util["arn:"+fmt.Sprint(i)] = other["ebs"]
		case m < 16:
			kind, r.Service, r.Type = "snapshot", "ec2", "snapshot"
			r.Metadata = meta("s", map[string]any{"size_gb": 100.0})
			if i%3 != 0 {
				r.Relations = []inventory.Relation{{Kind: "used-by", Target: "ami-1"}}
			}
		case m < 17:
			kind, r.Service, r.Type = "address", "ec2", "elastic-ip"
			r.Metadata = meta("a"+fmt.Sprint(i%5), map[string]any{"association_id": []string{"", "eipassoc-1", "eipassoc-2", "eipassoc-3", "eipassoc-4"}[i%5]})
		case m < 18:
			kind, r.Service, r.Type = "lb", "elasticloadbalancing", "loadbalancer"
			r.Metadata = meta("l", map[string]any{"type": "application"})
			util["arn:"+fmt.Sprint(i)] = other["elb"]
		case m < 19:
			kind, r.Service, r.Type, r.State = "db", "rds", "db", "available"
			r.Metadata = meta("d", map[string]any{"instance_class": "db.r5.2xlarge"})
			util["arn:"+fmt.Sprint(i)] = other["rds"]
		default:
			if i%40 == 19 {
				kind, r.Service, r.Type, r.State = "nat", "ec2", "natgateway", "available"
				util["arn:"+fmt.Sprint(i)] = other["nat"]
			} else {
				kind, r.Service, r.Type = "bucket", "s3", "bucket"
				r.Metadata = meta(fmt.Sprint("b", i%3 == 0), map[string]any{"abort_incomplete_multipart_days": float64(7 * (i % 3))})
			}
		}
		r.ID = fmt.Sprintf("%s-%d", kind, i)
		r.ARN = "arn:" + fmt.Sprint(i)
		res[i] = r
	}
	return res, util
}

// BenchmarkRun1M evaluates every rule over 1 million generated resources
// (target: under 10 s and 1 GB). Reported: s/op, peak-heap-MB (the
// largest heap seen during the run, input included), input-MB (the
// generated inventory alone) and recommendations.
func BenchmarkRun1M(b *testing.B) {
	benchRun(b, 1_000_000)
}

func BenchmarkRun100k(b *testing.B) {
	benchRun(b, 100_000)
}

func benchRun(b *testing.B, n int) {
	res, util := generated(n)
	get := func(arn string) *inventory.Utilization { return util[arn] }
	set := DefaultSettings()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	input := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	cpu0 := cpuTime()
	b.ResetTimer()
	var recs int
	for i := 0; i < b.N; i++ {
		recs = len(Run(res, get, set, now))
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(input)/(1<<20), "input-MB")
	b.ReportMetric(float64(recs), "recommendations")
}

// cpuTime is the process's user and system CPU time: on a shared, loaded
// machine it says more than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestRunSplitsWorkWithoutChangingTheAnswer: the workers' answer is the
// one-worker answer (run under -race, it also proves they share only
// reads).
func TestRunSplitsWorkWithoutChangingTheAnswer(t *testing.T) {
	res, util := generated(24000)
	get := func(arn string) *inventory.Utilization { return util[arn] }
	prev := runtime.GOMAXPROCS(2)
	par := Run(res, get, DefaultSettings(), now)
	runtime.GOMAXPROCS(1)
	ser := Run(res, get, DefaultSettings(), now)
	runtime.GOMAXPROCS(prev)
	if len(par) != len(ser) || len(par) == 0 {
		t.Fatalf("%d recommendations with 2 workers, %d with 1", len(par), len(ser))
	}
	for i := range par {
		if par[i].ID != ser[i].ID || par[i].Savings != ser[i].Savings {
			t.Fatalf("recommendation %d differs: %s against %s", i, par[i].ID, ser[i].ID)
		}
	}
}
