package optimize_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// motoAccount returns the emulator's root config and an admin config
// inside the emulated customer account acct (us-east-1).
func motoAccount(t *testing.T, acct string) (root, cfg aws.Config) {
	srv := emulator.Shared(t)
	ctx := context.Background()
	root = must(srv.RootConfig(ctx))
	creds := must(sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/admin"), RoleSessionName: aws.String("setup")})).Credentials
	cfg = must(srv.Config(ctx, aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken)))
	cfg.Region = "us-east-1"
	return root, cfg
}

// syncInventory creates a tenant with an inventory connection to acct and
// syncs it through the connection's role with the real collectors.
func syncInventory(t *testing.T, root aws.Config, acct string) (*store.Store, store.Tenant) {
	ctx := context.Background()
	st := must(store.Open(ctx, t.TempDir()))
	t.Cleanup(func() { st.Close() })
	tenant := must(st.CreateTenant(ctx, "acme"))
	conn := must(st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test-external-id-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleInventory}}))
	conn = must(storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+acct+":role/CrossbillAccess")))
	_, err := inventory.Sync(ctx, st, conn, inventory.SyncOptions{Tenant: "acme",
		CollectOptions: inventory.CollectOptions{AWS: awsclient.MustFactory(root), Regions: []string{"us-east-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return st, tenant
}

// putDaily seeds one back-dated point a day for the 13 whole days before
// today (an hour past midnight UTC), for one metric of one resource.
func putDaily(t *testing.T, cfg aws.Config, namespace, dimName, dimValue, metric string, value float64) {
	day := time.Now().UTC().Truncate(24 * time.Hour)
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) })
	var data []cwtypes.MetricDatum
	for d := 1; d <= 13; d++ {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String(metric), Value: aws.Float64(value), Timestamp: aws.Time(day.Add(-time.Duration(d)*24*time.Hour + time.Hour)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String(dimName), Value: aws.String(dimValue)}}})
	}
	must(cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(namespace), MetricData: data}))
}

// byRule indexes recommendations by rule and resource ID.
func byRule(recs []*optimize.Recommendation) map[string]map[string]*optimize.Recommendation {
	got := map[string]map[string]*optimize.Recommendation{}
	for _, r := range recs {
		if got[r.Rule] == nil {
			got[r.Rule] = map[string]*optimize.Recommendation{}
		}
		got[r.Rule][r.ResourceID] = r
	}
	return got
}

// TestEvaluateAfterSyncAgainstMoto: resources created in the emulated
// customer account (an idle and a busy instance, an unattached and an
// attached volume, a free and an associated Elastic IP), with back-dated
// CloudWatch metrics, are synced by the inventory collectors through the
// connection's role and evaluated from the inventory store: each rule
// fires on the resource that should and stays silent on its neighbour.
func TestEvaluateAfterSyncAgainstMoto(t *testing.T) {
	ctx := context.Background()
	const acct = "344444444444"
	root, cfg := motoAccount(t, acct)

	e := ec2.NewFromConfig(cfg)
	run := func(typ ec2types.InstanceType) ec2types.Instance {
		out := must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: typ, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))
		return out.Instances[0]
	}
	idle, busy := run(ec2types.InstanceTypeM7gLarge), run(ec2types.InstanceTypeM7gLarge)
	orphan := must(e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(200), VolumeType: ec2types.VolumeTypeGp3}))
	data := must(e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: busy.Placement.AvailabilityZone, Size: aws.Int32(50), VolumeType: ec2types.VolumeTypeGp3}))
	must(e.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: data.VolumeId, InstanceId: busy.InstanceId, Device: aws.String("/dev/sdf")}))
	free := must(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	used := must(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	must(e.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: used.AllocationId, InstanceId: busy.InstanceId}))

	// 13 back-dated days: the idle instance at 2% CPU and 1 MB of traffic
	// a day, the busy one at 45% and 500 MB.
	for id, v := range map[string][2]float64{aws.ToString(idle.InstanceId): {2, 5e5}, aws.ToString(busy.InstanceId): {45, 2.5e8}} {
		putDaily(t, cfg, "AWS/EC2", "InstanceId", id, "CPUUtilization", v[0])
		putDaily(t, cfg, "AWS/EC2", "InstanceId", id, "NetworkIn", v[1])
		putDaily(t, cfg, "AWS/EC2", "InstanceId", id, "NetworkOut", v[1])
	}

	st, tenant := syncInventory(t, root, acct)
	// The volume was created a moment ago: the tenant reports unattached
	// volumes at once (the default waits 7 days).
	if _, err := optimize.SetThresholds(ctx, st, tenant.ID, "ebs-unattached", map[string]float64{"min_age_days": 0}, false, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	e2, err := optimize.Evaluate(ctx, st, tenant.ID, optimize.InventoryStore{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	l := must(optimize.List(ctx, st, tenant.ID, optimize.Filter{}))
	got := byRule(l.Recommendations)
	for _, c := range []struct {
		rule, fires, silent string
	}{
		{"ec2-idle", aws.ToString(idle.InstanceId), aws.ToString(busy.InstanceId)},
		{"ebs-unattached", aws.ToString(orphan.VolumeId), aws.ToString(data.VolumeId)},
		{"eip-unassociated", aws.ToString(free.AllocationId), aws.ToString(used.AllocationId)},
	} {
		r := got[c.rule][c.fires]
		if r == nil {
			t.Errorf("%s did not fire on %s: %v", c.rule, c.fires, got[c.rule])
			continue
		}
		if got[c.rule][c.silent] != nil {
			t.Errorf("%s fired on %s", c.rule, c.silent)
		}
		if r.Savings.Monthly <= 0 || r.Savings.CostLabel == "" || r.AccountID != acct {
			t.Errorf("%s on %s: %+v", c.rule, c.fires, r)
		}
	}
	if r := got["ec2-idle"][aws.ToString(idle.InstanceId)]; r != nil && (len(r.Evidence.Series) < 3 || len(r.Evidence.Series[0].Points) < 13) {
		t.Errorf("the idle instance's evidence lacks its CloudWatch series: %+v", r.Evidence)
	}
	t.Logf("evaluated %d resources: %d recommendations", e2.Resources, e2.Summary.Count)
}
