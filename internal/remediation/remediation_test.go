package remediation_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// account is moto's default account: the root configuration's resources
// live there, and the connection's role is in it.
const account = "123456789012"

// world is a tenant with a verified remediation connection to the
// emulated account, a requester and an approver.
type world struct {
	t         testing.TB
	ctx       context.Context
	st        *store.Store
	dir       string // the store's directory (a killed child process opens it too)
	env       remediation.Env
	rec       *awsclient.Recorder
	aws       aws.Config // the customer's own (setup) configuration, in region
	region    string
	tenant    crossbill.TenantID
	requester store.AuditEntry
	approver  store.AuditEntry
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// newWorld: each test works in a region of its own on the shared
// emulator, so counts (the percentage limit) see only its resources.
func newWorld(t testing.TB, region string) *world {
	t.Helper()
	ctx := context.Background()
	srv := emulator.Shared(t)
	root := must(srv.RootConfig(ctx))
	w := &world{t: t, ctx: ctx, rec: awsclient.NewRecorder(), region: region}
	hub := root.Copy()
	w.rec.Attach(&hub)
	w.aws = root.Copy()
	w.aws.Region = region
	w.dir = t.TempDir()
	w.st = must(store.Open(ctx, w.dir))
	t.Cleanup(func() { w.st.Close() })
	tenant := must(w.st.CreateTenant(ctx, "acme"))
	w.tenant = tenant.ID
	conn := must(w.st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-test-external-id-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleRemediation}}))
	must(storetest.Bind(ctx, w.st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+account+":role/CrossbillAccess")))
	w.env = remediation.Env{Store: w.st, AWS: awsclient.MustFactory(hub), TenantName: "acme"}
	w.requester = store.AuditEntry{Actor: "person:ann", PersonEmail: "ann@example.com"}
	w.approver = store.AuditEntry{Actor: "person:bob", PersonEmail: "bob@example.com"}
	t.Cleanup(func() {
		if u := w.rec.Undeclared(); len(u) != 0 {
			t.Errorf("calls the manifest does not declare: %v", u)
		}
	})
	return w
}

func allowed() map[string]string { return map[string]string{"crossbill-remediation": "allowed"} }

func ec2Tags(m map[string]string) []ec2types.Tag {
	var out []ec2types.Tag
	for k, v := range m {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// instance launches one instance with tags and returns its ID.
func (w *world) instance(tags map[string]string, typ string) string {
	w.t.Helper()
	out := must(ec2.NewFromConfig(w.aws).RunInstances(w.ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType:      ec2types.InstanceType(typ),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ec2Tags(tags)}}}))
	return aws.ToString(out.Instances[0].InstanceId)
}

func (w *world) instanceState(id string) (string, string) {
	out := must(ec2.NewFromConfig(w.aws).DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}))
	i := out.Reservations[0].Instances[0]
	return string(i.State.Name), string(i.InstanceType)
}

func (w *world) instanceARN(id string) string {
	return "arn:aws:ec2:" + w.region + ":" + account + ":instance/" + id
}

func (w *world) plan(limits *remediation.Limits, targets ...remediation.Target) remediation.Plan {
	w.t.Helper()
	p, err := remediation.NewPlan(w.ctx, w.env, remediation.Request{Tenant: w.tenant, Targets: targets, Limits: limits, By: w.requester})
	if err != nil {
		w.t.Fatalf("plan: %v", err)
	}
	return p
}

// approveAndRun has the approver approve p, then runs it as the requester.
func (w *world) approveAndRun(p remediation.Plan) remediation.Plan {
	w.t.Helper()
	if _, err := approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, true, "ok", w.approver); err != nil {
		w.t.Fatalf("approve: %v", err)
	}
	done, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester)
	if err != nil {
		w.t.Fatalf("run: %v", err)
	}
	if done.State != remediation.StateDone {
		w.t.Fatalf("plan %s, want done: %s", done.State, done.Reason)
	}
	return done
}

func target(a remediation.Action, arn string, params map[string]string) remediation.Target {
	return remediation.Target{Action: a, ARN: arn, Params: params}
}

func TestStopInstanceGuardsDryRunApprovalRunUndo(t *testing.T) {
	w := newWorld(t, "eu-west-1")
	ec := ec2.NewFromConfig(w.aws)
	ok := w.instance(allowed(), "t3.micro")
	untagged := w.instance(map[string]string{"team": "web"}, "t3.micro")
	protectedTag := w.instance(map[string]string{"crossbill-remediation": "allowed", "crossbill:protect": "yes"}, "t3.micro")
	terminationProtected := w.instance(allowed(), "t3.micro")
	var topics []string
	w.env.Notify = func(_ context.Context, n remediation.Notice) { topics = append(topics, n.Topic+" "+n.Plan.ID) }
	must(ec.ModifyInstanceAttribute(w.ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(terminationProtected),
		DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}))

	p := w.plan(nil, target(remediation.StopInstance, w.instanceARN(ok), nil), target(remediation.StopInstance, w.instanceARN(untagged), nil),
		target(remediation.StopInstance, w.instanceARN(protectedTag), nil), target(remediation.StopInstance, w.instanceARN(terminationProtected), nil))
	if p.State != remediation.StateAwaiting || p.ApprovalID == "" {
		t.Fatalf("plan state %s approval %q", p.State, p.ApprovalID)
	}
	it := p.Items
	if it[0].Status != remediation.ItemReady || !strings.Contains(it[0].DryRun, "DryRunOperation") || it[0].State != "running" {
		t.Errorf("tagged instance: %+v", it[0])
	}
	if it[1].Status != remediation.ItemRefused || !strings.Contains(it[1].Fix, "crossbill-remediation=allowed") || !strings.Contains(it[1].Fix, "aws ec2 create-tags --resources "+untagged) {
		t.Errorf("untagged instance: %+v", it[1])
	}
	if it[2].Status != remediation.ItemSkipped || !strings.Contains(it[2].Reason, "crossbill:protect") {
		t.Errorf("protected instance: %+v", it[2])
	}
	if it[3].Status != remediation.ItemSkipped || !strings.Contains(it[3].Reason, "termination protection") {
		t.Errorf("termination-protected instance: %+v", it[3])
	}
	if s, _ := w.instanceState(ok); s != "running" {
		t.Fatalf("the plan changed the instance: %s", s)
	}
	if w.rec.Count("ec2:StopInstances") != 1 { // the dry run's
		t.Errorf("StopInstances sent %d times by the plan, want the dry run's 1", w.rec.Count("ec2:StopInstances"))
	}

	// Not approved yet: nothing runs. The requester cannot approve.
	if _, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("run before approval: %v", err)
	}
	if _, err := approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, true, "mine", w.requester); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("requester approving: %v", err)
	}
	if s, _ := w.instanceState(ok); s != "running" {
		t.Fatalf("instance %s before approval", s)
	}
	done := w.approveAndRun(p)
	if s, _ := w.instanceState(ok); s != "stopped" {
		t.Errorf("after run: %s, want stopped", s)
	}
	for _, id := range []string{untagged, protectedTag, terminationProtected} {
		if s, _ := w.instanceState(id); s != "running" {
			t.Errorf("%s was touched: %s", id, s)
		}
	}
	if done.Items[0].Status != remediation.ItemDone || done.Items[0].Steps[0].Status != store.StepDone {
		t.Errorf("item after run: %+v", done.Items[0])
	}
	// Every step is in the hash-chained audit log.
	lines := must(w.st.AuditLog(w.ctx, store.AuditRemediationStep, w.tenant))
	if len(lines) != 1 || lines[0].Subject != p.ID {
		t.Errorf("audit step lines: %+v", lines)
	}
	if _, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Errorf("a done plan ran again: %v", err)
	}

	if want := []string{remediation.TopicAwaiting + " " + p.ID, remediation.TopicDone + " " + p.ID}; strings.Join(topics, ",") != strings.Join(want, ",") {
		t.Errorf("notices %v, want %v", topics, want)
	}
	undone := must(remediation.Undo(w.ctx, w.env, w.tenant, p.ID, w.requester))
	if s, _ := w.instanceState(ok); s != "running" || undone.State != remediation.StateUndone {
		t.Errorf("after undo: instance %s, plan %s", s, undone.State)
	}
}

func TestRunNeedsApprovalDenied(t *testing.T) {
	w := newWorld(t, "eu-west-2")
	id := w.instance(allowed(), "t3.micro")
	p := w.plan(nil, target(remediation.StopInstance, w.instanceARN(id), nil))
	must(approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, false, "not during the sale", w.approver))
	_, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester)
	if crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("run after a denial: %v", err)
	}
	if got := must(remediation.Get(w.ctx, w.st, w.tenant, p.ID)); got.State != remediation.StateDenied {
		t.Errorf("plan %s after denial", got.State)
	}
	if s, _ := w.instanceState(id); s != "running" {
		t.Errorf("denied plan stopped the instance: %s", s)
	}
	// Another tenant sees no such plan.
	other := must(w.st.CreateTenant(w.ctx, "globex"))
	if _, err := remediation.Get(w.ctx, w.st, other.ID, p.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("foreign tenant's plan: %v", err)
	}
}

func TestResizeStopModifyStartAndUndo(t *testing.T) {
	w := newWorld(t, "eu-west-3")
	id := w.instance(allowed(), "m5.large")
	p := w.plan(nil, target(remediation.ResizeInstance, w.instanceARN(id), map[string]string{"instance_type": "m7g.large"}))
	var ops []string
	for _, s := range p.Items[0].Steps {
		ops = append(ops, s.Op)
	}
	if strings.Join(ops, ",") != "ec2:StopInstances,ec2:ModifyInstanceAttribute,ec2:StartInstances" || !strings.Contains(p.Items[0].DryRun, "DryRunOperation") {
		t.Fatalf("resize plan: %v, dry run %q", ops, p.Items[0].DryRun)
	}
	w.approveAndRun(p)
	if s, typ := w.instanceState(id); typ != "m7g.large" || s == "stopped" {
		t.Errorf("after resize: %s %s", s, typ)
	}
	must(remediation.Undo(w.ctx, w.env, w.tenant, p.ID, w.requester))
	if _, typ := w.instanceState(id); typ != "m5.large" {
		t.Errorf("after undo: %s", typ)
	}
	// Missing parameter: refused with what to pass.
	p2 := w.plan(nil, target(remediation.ResizeInstance, w.instanceARN(id), nil))
	if p2.State != remediation.StateEmpty || !strings.Contains(p2.Items[0].Fix, "instance_type=") {
		t.Errorf("resize without a type: %s %+v", p2.State, p2.Items[0])
	}
}

// TestCrashMidPlanResumes: the process "dies" right after the volume's
// snapshot step is recorded; the next run deletes the volume without
// taking a second snapshot.
func TestCrashMidPlanResumes(t *testing.T) {
	w := newWorld(t, "eu-central-1")
	ec := ec2.NewFromConfig(w.aws)
	vol := must(ec.CreateVolume(w.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("eu-central-1a"), Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeGp2,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: ec2Tags(allowed())}}}))
	volID := aws.ToString(vol.VolumeId)
	p := w.plan(nil, target(remediation.DeleteVolume, "arn:aws:ec2:eu-central-1:"+account+":volume/"+volID, nil))
	if p.Items[0].Status != remediation.ItemReady || !strings.Contains(p.Items[0].DryRun, "ec2:CreateSnapshot: DryRunOperation") ||
		!strings.Contains(p.Items[0].DryRun, "ec2:DeleteVolume: DryRunOperation") {
		t.Fatalf("delete-volume plan: %+v", p.Items[0])
	}
	must(approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, true, "", w.approver))
	crash := errors.New("killed")
	crashing := w.env
	crashing.AfterStep = func(item, step int) error {
		if step == 0 {
			return crash
		}
		return nil
	}
	if _, err := remediation.Run(w.ctx, crashing, w.tenant, p.ID, w.requester); !errors.Is(err, crash) {
		t.Fatalf("crashing run: %v", err)
	}
	mid := must(remediation.Get(w.ctx, w.st, w.tenant, p.ID))
	if mid.State != remediation.StateRunning || mid.Items[0].Steps[0].Status != store.StepDone || mid.Items[0].Steps[1].Status != "" {
		t.Fatalf("after the crash: %s %+v", mid.State, mid.Items[0].Steps)
	}
	snapID := mid.Items[0].Steps[0].Output["snapshot_id"]
	if _, err := ec.DescribeVolumes(w.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volID}}); err != nil {
		t.Fatalf("the volume is gone before its step: %v", err)
	}
	// Right after the crash the plan may still be another run's: refused.
	if _, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester); crossbill.ErrorCode(err) != crossbill.CodeConflict || !strings.Contains(err.Error(), "resumes in") {
		t.Fatalf("resume at once: %v", err)
	}
	// Ten minutes without progress: the run died; the job resumes it.
	later := w.env
	later.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	due, err := remediation.RunDue(w.ctx, later, w.tenant, byARNConn(t, w))
	if err != nil || len(due.Ran) != 1 || due.Ran[0] != p.ID {
		t.Fatalf("remediation job: %+v %v", due, err)
	}
	done := must(remediation.Get(w.ctx, w.st, w.tenant, p.ID))
	if done.State != remediation.StateDone {
		t.Fatalf("resumed run: %s %s", done.State, done.Reason)
	}
	if n := w.rec.Count("ec2:CreateSnapshot"); n != 2 { // the dry run's and one real
		t.Errorf("CreateSnapshot sent %d times, want 2 (dry run + once)", n)
	}
	snaps := must(ec.DescribeSnapshots(w.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{volID}}}}))
	if len(snaps.Snapshots) != 1 || aws.ToString(snaps.Snapshots[0].SnapshotId) != snapID {
		t.Errorf("snapshots of the volume: %d, want exactly %s", len(snaps.Snapshots), snapID)
	}
	if _, err := ec.DescribeVolumes(w.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volID}}); err == nil {
		t.Error("the volume still exists")
	}
	if !strings.Contains(done.Items[0].Restore, snapID) {
		t.Errorf("restore note %q does not name the snapshot", done.Items[0].Restore)
	}
	steps := must(w.st.RemediationSteps(w.ctx, w.tenant, p.ID))
	if len(steps) != 2 || steps[0].Status != store.StepDone || steps[1].Status != store.StepDone {
		t.Errorf("step log: %+v", steps)
	}
	if _, err := remediation.Undo(w.ctx, w.env, w.tenant, p.ID, w.requester); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Errorf("undo of a deleted volume: %v", err)
	}
}

func TestBlastRadiusBlocksTheRun(t *testing.T) {
	w := newWorld(t, "ap-southeast-1")
	var targets []remediation.Target
	for range 3 {
		targets = append(targets, target(remediation.StopInstance, w.instanceARN(w.instance(allowed(), "t3.micro")), nil))
	}
	p := w.plan(&remediation.Limits{MaxResources: 2}, targets...)
	if p.State != remediation.StateBlocked || p.ApprovalID != "" || !strings.Contains(p.Reason, "more than the limit of 2") {
		t.Fatalf("count limit: %s %q", p.State, p.Reason)
	}
	if _, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("run of a blocked plan: %v", err)
	}
	// 2 of the region's 3 instances is 67%, over a 50% limit.
	p = w.plan(&remediation.Limits{MaxResources: 10, MaxPercent: 50}, targets[:2]...)
	if p.State != remediation.StateBlocked || !strings.Contains(p.Reason, "2 of the 3 instances") {
		t.Fatalf("percent limit: %s %q", p.State, p.Reason)
	}
	if w.rec.Count("ec2:StopInstances") != 0 {
		t.Errorf("a blocked plan sent StopInstances (even as a dry run) %d times", w.rec.Count("ec2:StopInstances"))
	}
	for _, tg := range targets {
		id := tg.ARN[strings.LastIndex(tg.ARN, "/")+1:]
		if s, _ := w.instanceState(id); s != "running" {
			t.Errorf("%s: %s", id, s)
		}
	}
}

func TestMarkForOpThenUnmarkWhenCompliant(t *testing.T) {
	w := newWorld(t, "ap-northeast-1")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	w.env.Now = func() time.Time { return now }
	ec := ec2.NewFromConfig(w.aws)
	idle, other, untagged := w.instance(allowed(), "t3.micro"), w.instance(allowed(), "t3.micro"), w.instance(map[string]string{"team": "web"}, "t3.micro")
	res := must(remediation.Mark(w.ctx, w.env, remediation.MarkRequest{Tenant: w.tenant, Days: 4, By: w.requester, Targets: []remediation.Target{
		target(remediation.StopInstance, w.instanceARN(idle), nil), target(remediation.StopInstance, w.instanceARN(other), nil),
		target(remediation.StopInstance, w.instanceARN(untagged), nil)}}))
	if res[0].Status != remediation.MarkMarked || res[0].Due != "2026-12-07" || res[2].Status != remediation.ItemRefused {
		t.Fatalf("mark: %+v", res)
	}
	tagOf := func(id string) string {
		out := must(ec.DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}))
		for _, tg := range out.Reservations[0].Instances[0].Tags {
			if aws.ToString(tg.Key) == remediation.MarkTag {
				return aws.ToString(tg.Value)
			}
		}
		return ""
	}
	if got := tagOf(idle); got != "stop-instance@2026-12-07" {
		t.Fatalf("mark tag %q", got)
	}
	if tagOf(untagged) != "" {
		t.Error("an untagged instance was marked")
	}
	// Someone stops the idle instance: it is compliant, its mark goes;
	// the other stays marked.
	must(ec.StopInstances(w.ctx, &ec2.StopInstancesInput{InstanceIds: []string{idle}}))
	out := must(remediation.Unmark(w.ctx, w.env, w.tenant, "", nil, w.requester))
	byARN := map[string]remediation.MarkResult{}
	for _, r := range out {
		byARN[r.ARN] = r
	}
	if r := byARN[w.instanceARN(idle)]; r.Status != remediation.MarkUnmarked || !strings.Contains(r.Reason, "compliant") {
		t.Errorf("idle after stop: %+v", r)
	}
	if r := byARN[w.instanceARN(other)]; r.Status != remediation.MarkKept {
		t.Errorf("other: %+v", r)
	}
	if tagOf(idle) != "" || tagOf(other) == "" {
		t.Errorf("tags after unmark: idle %q other %q", tagOf(idle), tagOf(other))
	}
	marks := must(w.st.RemediationMarks(w.ctx, w.tenant, byARNConn(t, w)))
	if len(marks) != 1 || marks[0].ARN != w.instanceARN(other) {
		t.Errorf("marks left: %+v", marks)
	}
	// No recommendation names the other any more: unmarked too.
	out = must(remediation.Unmark(w.ctx, w.env, w.tenant, "", []remediation.Target{}, w.requester))
	if len(out) != 1 || out[0].Status != remediation.MarkUnmarked || tagOf(other) != "" {
		t.Errorf("unmark with no recommendation: %+v", out)
	}
	if n := len(must(w.st.AuditLog(w.ctx, store.AuditRemediationUnmk, w.tenant))); n != 2 {
		t.Errorf("%d unmark audit lines, want 2", n)
	}
}

func byARNConn(t *testing.T, w *world) crossbill.ConnectionID {
	t.Helper()
	conns := must(w.st.ConnectionsByTenant(w.ctx, w.tenant))
	return conns[0].ID
}

func TestPlanDetailIsTheApproversView(t *testing.T) {
	w := newWorld(t, "sa-east-1")
	id := w.instance(allowed(), "t3.micro")
	p := w.plan(nil, target(remediation.StopInstance, w.instanceARN(id), nil))
	a := must(approval.Get(w.ctx, w.st, w.tenant, p.ApprovalID))
	var shown remediation.Plan
	if err := json.Unmarshal(a.Detail, &shown); err != nil || shown.ID != p.ID || len(shown.Items) != 1 || shown.Items[0].DryRun == "" {
		t.Errorf("approval detail: %v %+v", err, shown)
	}
	if a.Kind != approval.KindRemediation || a.Subject != p.ID || a.RequestedPerson == "" {
		t.Errorf("approval: %+v", a)
	}
}

func (w *world) startInstance(id string) {
	must(ec2.NewFromConfig(w.aws).StartInstances(w.ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}))
}

func (w *world) stopInstance(id string) {
	must(ec2.NewFromConfig(w.aws).StopInstances(w.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
}

// TestChangedSinceApprovalIsLeftAlone: the resource gained the protect tag
// after the plan was approved; the run re-reads it and leaves it alone.
func TestChangedSinceApprovalIsLeftAlone(t *testing.T) {
	w := newWorld(t, "eu-west-2")
	id := w.instance(allowed(), "t3.micro")
	p := w.plan(nil, target(remediation.StopInstance, w.instanceARN(id), nil))
	must(approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, true, "ok", w.approver))
	must(ec2.NewFromConfig(w.aws).CreateTags(w.ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags(map[string]string{"crossbill:protect": "payroll"})}))
	done := must(remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester))
	if done.Items[0].Status != remediation.ItemStaleSkip || !strings.Contains(done.Items[0].Reason, "crossbill:protect") || !strings.Contains(done.Items[0].Reason, "plan again") {
		t.Errorf("item: %+v", done.Items[0])
	}
	if s, _ := w.instanceState(id); s != "running" {
		t.Errorf("a protected instance was stopped: %s", s)
	}
	if w.rec.Count("ec2:StopInstances") != 1 { // the dry run's only
		t.Errorf("StopInstances sent %d times", w.rec.Count("ec2:StopInstances"))
	}
}
