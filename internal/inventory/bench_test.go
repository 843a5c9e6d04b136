package inventory_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/inventory"
)

// BenchmarkSyncOrganization is the inventory of an organization of 50
// accounts (the management account and 49 verified members) in 3 regions
// against moto: in each account and region 2 instances, 2 volumes and 14
// days of CPU metrics. It reports the sync's wall time, the AWS calls per
// resource and the peak Go heap. Run:
//
//	go test ./internal/inventory -run XXX -bench SyncOrganization -benchtime 1x
func BenchmarkSyncOrganization(b *testing.B) {
	const accounts = 50
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	srv := emulator.Own(b, emulator.Options{})
	ctx := context.Background()
	root := must(srv.RootConfig(ctx))
	ids := make([]crossbill.AccountID, accounts)
	for i := range ids {
		ids[i] = crossbill.AccountID(fmt.Sprintf("4%011d", i+1))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		for _, region := range regions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				seedSmall(account{id: id, srv: srv, root: root}, region)
			}()
		}
	}
	wg.Wait()
	w := newWorld(b, srv, ids[0], ids[1:]...)
	opts := inventory.SyncOptions{Tenant: "acme", CollectOptions: inventory.CollectOptions{AWS: awsclient.MustFactory(w.hub), Regions: regions}}

	b.ResetTimer()
	for range b.N {
		w.rec.Reset()
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		res, err := inventory.Sync(ctx, w.st, w.conn, opts)
		wall := time.Since(start)
		close(stop)
		<-sampled
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Failures) != 0 || res.Accounts != accounts {
			b.Fatalf("accounts %d, failures %+v", res.Accounts, res.Failures)
		}
		calls := 0
		for _, op := range w.rec.Operations() {
			calls += op.Count
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(res.Resources), "resources")
		b.ReportMetric(float64(calls), "aws-calls")
		b.ReportMetric(float64(calls)/float64(res.Resources), "calls/resource")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	}
}

// seedSmall gives one account's region 2 instances, 2 volumes and CPU
// metrics.
func seedSmall(a account, region string) {
	ctx := context.Background()
	cfg := a.cfg(region)
	e := ec2.NewFromConfig(cfg)
	run := must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(2), MaxCount: aws.Int32(2)}))
	for range 2 {
		must(e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(20), VolumeType: ec2types.VolumeTypeGp2}))
	}
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) })
	day := time.Now().UTC().Truncate(24 * time.Hour)
	var data []cwtypes.MetricDatum
	for _, i := range run.Instances {
		for d := 1; d <= 14; d++ {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String("CPUUtilization"), Value: aws.Float64(float64(d)), Timestamp: aws.Time(day.Add(-time.Duration(d)*24*time.Hour + time.Hour)),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: i.InstanceId}}})
		}
	}
	must(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: data}))
}
