package inventory_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/inventory"
)

// curCosts stands in for the cost store: the CUR names one instance.
type curCosts map[string]costs.ResourceCost

func (c curCosts) ResourceCosts(context.Context, crossbill.TenantID) (map[string]costs.ResourceCost, error) {
	return c, nil
}

// denyIn refuses one operation in one region as an SCP would, while deny
// is set: moto enforces no SCPs, and this package's shared emulator runs
// without IAM enforcement.
func denyIn(region, service, operation string, deny *atomic.Bool) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("deny-"+region+service+operation,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if deny.Load() && awsmiddleware.GetRegion(ctx) == region && middleware.GetServiceID(ctx) == service && middleware.GetOperationName(ctx) == operation {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "AccessDeniedException",
						Message: "User: arn:aws:sts::311111111111:assumed-role/CrossbillAccess/x is not authorized to perform: lambda:ListFunctions with an explicit deny in a service control policy"}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

func byARN(rs []inventory.Resource) map[string]inventory.Resource {
	m := map[string]inventory.Resource{}
	for _, r := range rs {
		m[r.ARN] = r
	}
	return m
}

func hasRelation(r inventory.Resource, kind, target string) bool {
	return slices.Contains(r.Relations, inventory.Relation{Kind: kind, Target: target})
}

func TestSyncOrganization(t *testing.T) {
	srv := emulator.Shared(t)
	ctx := context.Background()
	root := must(srv.RootConfig(ctx))
	mgmt := account{id: "311111111111", srv: srv, root: root}
	member := account{id: "322222222222", srv: srv, root: root}
	east := populate(t, mgmt, "us-east-1", true)
	west := populate(t, mgmt, "eu-west-1", true)
	mem := populate(t, member, "us-east-1", false)
	buckets(t, mgmt, "acme-311")
	w := newWorld(t, srv, mgmt.id, member.id)

	var deny atomic.Bool
	opts := inventory.SyncOptions{Tenant: "acme", Costs: curCosts{east["web"]: {MonthlyAmortized: 5.5, MonthlyOnDemand: 7.6, Currency: "USD", Covered: true}},
		CollectOptions: inventory.CollectOptions{AWS: awsclient.MustFactory(w.hub), RegionConcurrency: 8,
			// Narrowed to keep the test short (moto enables every region);
			// the region that does not exist shows they are discovered.
			Regions:    []string{"us-east-1", "eu-west-1", "xx-nowhere-1"},
			APIOptions: []func(*middleware.Stack) error{denyIn("eu-west-1", "Lambda", "ListFunctions", &deny)}}}
	res, err := inventory.Sync(ctx, w.st, w.conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	if u := w.rec.Undeclared(); len(u) != 0 {
		t.Fatalf("calls not in the permission manifest: %v", u)
	}
	if len(res.Failures) != 0 {
		t.Fatalf("failures: %+v", res.Failures)
	}
	// Regions are discovered, not given.
	if !slices.Equal(res.Regions, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("regions = %v", res.Regions)
	}
	if res.Accounts != 2 {
		t.Errorf("accounts = %d", res.Accounts)
	}
	all := must(inventory.Resources(ctx, w.st, w.conn.TenantID, inventory.Filter{}))
	got := byARN(all)
	arn := func(a account, region, res string) string {
		return "arn:aws:ec2:" + region + ":" + string(a.id) + ":" + res
	}
	get := func(arn string) inventory.Resource {
		t.Helper()
		r, ok := got[arn]
		if !ok {
			t.Fatalf("no resource %s", arn)
		}
		return r
	}
	webARN := arn(mgmt, "us-east-1", "instance/"+east["web"])
	web := get(webARN)
	if web.State != "running" || web.Tags["env"] != "prod" || web.Name != "web" || web.MetaString("instance_type") != "t3.micro" || web.MetaNumber("vcpus") != 2 ||
		web.AccountID != mgmt.id || web.Region != "us-east-1" || !strings.Contains(web.Console, east["web"]) {
		t.Errorf("web instance = %+v", web)
	}
	if web.Cost == nil || web.Cost.Source != inventory.CostFromCUR || web.Cost.MonthlyAmortized != 5.5 || !web.Cost.CoveredByCommitment {
		t.Errorf("web cost = %+v, want the CUR's", web.Cost)
	}
	if b := get(arn(mgmt, "us-east-1", "instance/"+east["batch"])); b.State != "stopped" || b.Cost == nil || b.Cost.MonthlyAmortized != 0 || b.Cost.Source != inventory.CostFromPriceList {
		t.Errorf("stopped instance = %+v cost %+v", b, b.Cost)
	}
	if v := get(arn(mgmt, "us-east-1", "volume/"+east["data-volume"])); !hasRelation(v, "attached-to", webARN) || v.MetaString("volume_type") != "io1" || v.MetaNumber("iops") != 1000 {
		t.Errorf("data volume = %+v", v)
	}
	orphan := get(arn(mgmt, "us-east-1", "volume/"+east["orphan-volume"]))
	if len(orphan.Relations) != 0 || orphan.State != "available" || orphan.Cost == nil || orphan.Cost.Source != inventory.CostFromPriceList || orphan.Cost.MonthlyAmortized != 10 {
		t.Errorf("orphan volume = %+v cost %+v", orphan, orphan.Cost)
	}
	if s := get(arn(mgmt, "us-east-1", "snapshot/"+east["orphan-snapshot"])); len(s.Relations) != 0 {
		t.Errorf("orphan snapshot relations = %+v", s.Relations)
	}
	if s := get(arn(mgmt, "us-east-1", "snapshot/"+east["template-snapshot"])); !hasRelation(s, "used-by", arn(mgmt, "us-east-1", "launch-template/"+east["template"])) {
		t.Errorf("template snapshot relations = %+v", s.Relations)
	}
	imageARN := "arn:aws:ec2:us-east-1::image/" + east["image"]
	get(imageARN)
	usedByImage := 0
	for _, r := range all {
		if r.Type == "snapshot" && hasRelation(r, "used-by", imageARN) {
			usedByImage++
		}
	}
	if usedByImage == 0 {
		t.Error("no snapshot is used by the AMI")
	}
	// Only the account's own snapshots (moto also answers OwnerIds=self
	// with the ~1,000 behind Amazon's public AMIs).
	if snaps := must(inventory.Resources(ctx, w.st, w.conn.TenantID, inventory.Filter{Account: mgmt.id, Region: "us-east-1", Type: "snapshot"})); len(snaps) > 5 {
		t.Errorf("%d snapshots in the management account's us-east-1, want its own 2 and the AMI's", len(snaps))
	}
	if e := get(arn(mgmt, "us-east-1", "elastic-ip/"+east["idle-eip"])); e.State != "unassociated" || len(e.Relations) != 0 {
		t.Errorf("idle EIP = %+v", e)
	}
	used := get(arn(mgmt, "us-east-1", "elastic-ip/"+east["used-eip"]))
	if used.State != "associated" || !hasRelation(used, "associated-with", webARN) || !slices.ContainsFunc(used.Relations, func(r inventory.Relation) bool {
		return r.Kind == "associated-with" && strings.Contains(r.Target, ":network-interface/eni-")
	}) {
		t.Errorf("associated EIP = %+v", used)
	}
	nat := get(arn(mgmt, "us-east-1", "natgateway/"+east["nat"]))
	alb := get(east["alb"])
	if alb.MetaNumber("targets") != 1 || alb.MetaString("lb_type") != "application" || alb.Tags["env"] != "prod" || !hasRelation(alb, "routes-to", webARN) {
		t.Errorf("ALB = %+v", alb)
	}
	if c := get("arn:aws:elasticloadbalancing:us-east-1:" + string(mgmt.id) + ":loadbalancer/legacy"); c.MetaString("lb_type") != "classic" || c.MetaNumber("targets") != 1 ||
		!hasRelation(c, "routes-to", webARN) || c.MetaNumber("healthy_targets") != 1 {
		t.Errorf("classic ELB = %+v", c)
	}
	var asg inventory.Resource
	for _, r := range all {
		if r.Type == "autoScalingGroup" && r.Region == "us-east-1" && r.AccountID == mgmt.id {
			asg = r
		}
	}
	members := 0
	for _, r := range all {
		if r.Type == "instance" && asg.ARN != "" && hasRelation(r, "member-of", asg.ARN) {
			members++
		}
	}
	if asg.Name != "workers" || members != 1 {
		t.Errorf("ASG %+v has %d member instances", asg, members)
	}
	rdsARN := "arn:aws:rds:us-east-1:" + string(mgmt.id) + ":db:orders"
	if d := get(rdsARN); d.MetaString("instance_class") != "db.t3.micro" || d.MetaString("engine") != "postgres" {
		t.Errorf("RDS = %+v", d)
	}
	get("arn:aws:lambda:eu-west-1:" + string(mgmt.id) + ":function:resize")
	get("arn:aws:dynamodb:us-east-1:" + string(mgmt.id) + ":table/sessions")
	get("arn:aws:ecs:us-east-1:" + string(mgmt.id) + ":cluster/apps")
	if svc := get("arn:aws:ecs:us-east-1:" + string(mgmt.id) + ":service/apps/api"); svc.MetaNumber("desired_count") != 2 ||
		!hasRelation(svc, "member-of", "arn:aws:ecs:us-east-1:"+string(mgmt.id)+":cluster/apps") {
		t.Errorf("ECS service = %+v", svc)
	}
	if c := get("arn:aws:elasticache:us-east-1:" + string(mgmt.id) + ":cluster:sessions"); c.MetaString("node_type") != "cache.t3.micro" {
		t.Errorf("cache cluster = %+v", c)
	}
	if c := get("arn:aws:redshift:us-east-1:" + string(mgmt.id) + ":cluster:warehouse"); c.MetaString("node_type") != "ra3.xlplus" || c.MetaNumber("nodes") != 2 {
		t.Errorf("Redshift cluster = %+v", c)
	}
	if d := get("arn:aws:es:us-east-1:" + string(mgmt.id) + ":domain/search"); d.MetaString("instance_type") != "r6g.large.search" || d.MetaNumber("instances") != 2 {
		t.Errorf("OpenSearch domain = %+v", d)
	}
	k8s := get("arn:aws:eks:us-east-1:" + string(mgmt.id) + ":cluster/k8s")
	if k8s.MetaString("version") != "1.29" {
		t.Errorf("EKS cluster = %+v", k8s)
	}
	ng := 0
	for _, r := range all {
		if r.Service == "eks" && r.Type == "nodegroup" && hasRelation(r, "member-of", k8s.ARN) {
			ng++
		}
	}
	if ng != 1 {
		t.Errorf("%d node groups of %s, want 1", ng, k8s.ARN)
	}
	if b := get("arn:aws:s3:::acme-311-logs"); b.MetaNumber("abort_incomplete_multipart_days") != 7 || b.AccountID != mgmt.id {
		t.Errorf("logs bucket = %+v", b)
	}
	if b := get("arn:aws:s3:::acme-311-raw"); b.Tags["team"] != "data" || b.MetaNumber("lifecycle_rules") != 0 || b.Metadata["abort_incomplete_multipart_days"] != nil {
		t.Errorf("raw bucket = %+v", b)
	}
	get(arn(member, "us-east-1", "volume/"+mem["orphan-volume"]))
	get(arn(mgmt, "eu-west-1", "instance/"+west["web"]))

	// Utilization: 13 daily points, as put.
	d := must(inventory.Show(ctx, w.st, w.conn.TenantID, webARN))
	if d.Utilization == nil {
		t.Fatal("web has no utilization")
	}
	if s := d.Utilization.Get("CPUUtilization", "Average"); s == nil || len(s.Points) != 13 || s.Points[0].Value != 42 {
		t.Errorf("web CPU = %+v", s)
	}
	us := must(inventory.UtilizationOf(ctx, w.st, w.conn.TenantID, []string{orphan.ARN, nat.ARN, rdsARN, alb.ARN}))
	for a, metric := range map[string]string{orphan.ARN: "VolumeReadOps", nat.ARN: "BytesOutToDestination", rdsARN: "DatabaseConnections", alb.ARN: "RequestCount"} {
		u, ok := us[a]
		if !ok || len(u.Series) == 0 || u.Series[0].Metric != metric || len(u.Series[0].Points) != 13 {
			t.Errorf("utilization of %s = %+v", a, u)
		}
	}

	// Second sync: the orphan volume is gone, and Lambda is denied in
	// eu-west-1: a partial failure there, the rest read, the function
	// read before kept.
	must(ec2.NewFromConfig(mgmt.cfg("us-east-1")).DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(east["orphan-volume"])}))
	deny.Store(true)
	res, err = inventory.Sync(ctx, w.st, w.conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The "SCP" denies it in both accounts.
	if len(res.Failures) != 2 {
		t.Fatalf("failures = %+v", res.Failures)
	}
	for i, f := range res.Failures {
		if f.Region != "eu-west-1" || f.Service != "lambda" || f.Account != []crossbill.AccountID{mgmt.id, member.id}[i] || !awsclient.Class(f.Class).Denied() || f.Fix == "" {
			t.Errorf("failure %+v", f)
		}
	}
	got = byARN(must(inventory.Resources(ctx, w.st, w.conn.TenantID, inventory.Filter{})))
	if _, ok := got[orphan.ARN]; ok {
		t.Error("the deleted volume is still in the inventory")
	}
	if fn, ok := got["arn:aws:lambda:eu-west-1:"+string(mgmt.id)+":function:resize"]; !ok || !fn.Fetched.Before(got[webARN].Fetched) && !fn.Fetched.Equal(got[webARN].Fetched) {
		t.Errorf("the eu-west-1 function (its read denied) = %+v, want kept from the first sync", fn)
	}
	syncs := must(inventory.Syncs(ctx, w.st, w.conn.TenantID))
	if len(syncs) != 1 || len(syncs[0].Failures) != 2 || syncs[0].Accounts != 2 || syncs[0].Regions != 2 {
		t.Errorf("syncs = %+v", syncs)
	}
	// Filters.
	vols := must(inventory.Resources(ctx, w.st, w.conn.TenantID, inventory.Filter{Account: member.id, Service: "ec2", Type: "volume"}))
	if len(vols) == 0 || slices.ContainsFunc(vols, func(r inventory.Resource) bool { return r.AccountID != member.id || r.Type != "volume" }) {
		t.Errorf("member volumes = %+v", vols)
	}
}
