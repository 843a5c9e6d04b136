package remediation_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
)

// TestRemediationKillChild is the process TestRemediationKill kills: it
// runs the plan named by the environment on the store there, against
// moto, and stops (sleeping until killed) once the named step is
// recorded done.
func TestRemediationKillChild(t *testing.T) {
	env := os.Getenv("CROSSBILL_REMEDIATION_KILL")
	if env == "" {
		t.Skip("run by TestRemediationKill")
	}
	var a killArgs
	if err := json.Unmarshal([]byte(env), &a); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := (&emulator.Server{URL: a.Moto}).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	renv := remediation.Env{Store: st, AWS: awsclient.MustFactory(hub), TenantName: "acme", AfterStep: func(item, step int) error {
		if step == a.Step {
			fmt.Fprintf(os.Stdout, "AT %d.%d\n", item, step)
			time.Sleep(time.Hour) // killed here
		}
		return nil
	}}
	_, err = remediation.Run(ctx, renv, crossbill.TenantID(a.Tenant), a.Plan, store.AuditEntry{Actor: "person:ann", PersonEmail: "ann@example.com"})
	t.Fatalf("the run ended before the step it is killed at: %v", err)
}

type killArgs struct {
	Dir, Moto, Tenant, Plan string
	Step                    int
}

// TestRemediationKill kills (SIGKILL) a process running an approved plan
// right after a step of a multi-step destructive item is recorded (the
// volume's snapshot before its deletion; the stop of a resize), then
// resumes the plan in this process on the same store: after the
// ten-minute no-progress rule the remediation job finishes it, no step
// runs twice (one audit line per step, one snapshot), and the audit
// chain verifies.
func TestRemediationKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per kill point")
	}
	t.Run("delete-volume after the snapshot", func(t *testing.T) {
		w := newWorld(t, "ap-northeast-2")
		ec := ec2.NewFromConfig(w.aws)
		vol := must(ec.CreateVolume(w.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeGp2,
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: ec2Tags(allowed())}}}))
		volID := aws.ToString(vol.VolumeId)
		p := w.plan(nil, target(remediation.DeleteVolume, "arn:aws:ec2:ap-northeast-2:"+account+":volume/"+volID, nil))
		mid := w.killAt(t, p, 0)
		snapID := mid.Items[0].Steps[0].Output["snapshot_id"]
		if snapID == "" {
			t.Fatalf("no snapshot recorded before the kill: %+v", mid.Items[0].Steps)
		}
		if _, err := ec.DescribeVolumes(w.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volID}}); err != nil {
			t.Fatalf("the volume is gone before its step: %v", err)
		}
		done := w.resume(t, p, 2)
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
	})
	t.Run("resize after the stop", func(t *testing.T) {
		w := newWorld(t, "ap-southeast-2")
		id := w.instance(allowed(), "m5.large")
		p := w.plan(nil, target(remediation.ResizeInstance, w.instanceARN(id), map[string]string{"instance_type": "m7g.large"}))
		w.killAt(t, p, 0)
		if s, typ := w.instanceState(id); s != "stopped" || typ != "m5.large" {
			t.Fatalf("killed after the stop: %s %s", s, typ)
		}
		w.resume(t, p, 3)
		if s, typ := w.instanceState(id); s == "stopped" || typ != "m7g.large" {
			t.Errorf("after the resumed resize: %s %s", s, typ)
		}
	})
}

// killAt has p approved by another person, runs it in a child process,
// kills that at once after step (of the plan's first item) is recorded
// done, and returns the plan as the kill left it.
func (w *world) killAt(t *testing.T, p remediation.Plan, step int) remediation.Plan {
	t.Helper()
	if p.State != remediation.StateAwaiting || p.Items[0].Status != remediation.ItemReady {
		t.Fatalf("plan %s: %+v", p.State, p.Items[0])
	}
	must(approval.Decide(w.ctx, w.st, w.tenant, p.ApprovalID, true, "", w.approver))
	args, _ := json.Marshal(killArgs{Dir: w.dir, Moto: emulator.Shared(t).URL, Tenant: string(w.tenant), Plan: p.ID, Step: step})
	cmd := exec.Command(os.Args[0], "-test.run=^TestRemediationKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CROSSBILL_REMEDIATION_KILL="+string(args))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reached := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var lines []string
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "AT ") {
				reached <- ""
				return
			}
			lines = append(lines, sc.Text())
		}
		reached <- strings.Join(lines, "\n")
	}()
	select {
	case failed := <-reached:
		if failed != "" {
			t.Fatalf("the child ended before step %d:\n%s", step, failed)
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the child never reached step %d", step)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child was not killed: %v", err)
	}
	mid := must(remediation.Get(w.ctx, w.st, w.tenant, p.ID))
	if mid.State != remediation.StateRunning || mid.Items[0].Steps[step].Status != store.StepDone {
		t.Fatalf("after the kill: %s %+v", mid.State, mid.Items[0].Steps)
	}
	for j := step + 1; j < len(mid.Items[0].Steps); j++ {
		if mid.Items[0].Steps[j].Status != "" {
			t.Fatalf("step %d ran before the kill: %+v", j, mid.Items[0].Steps)
		}
	}
	return mid
}

// resume runs the plan as a restarted server would: at once it is refused
// (the dead run may still be at work), ten minutes on the remediation job
// resumes and finishes it. Each of the item's steps steps is recorded done
// once, and the audit chain verifies.
func (w *world) resume(t *testing.T, p remediation.Plan, steps int) remediation.Plan {
	t.Helper()
	if _, err := remediation.Run(w.ctx, w.env, w.tenant, p.ID, w.requester); crossbill.ErrorCode(err) != crossbill.CodeConflict || !strings.Contains(err.Error(), "resumes in") {
		t.Fatalf("resume at once: %v", err)
	}
	later := w.env
	later.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	due, err := remediation.RunDue(w.ctx, later, w.tenant, byARNConn(t, w))
	if err != nil || len(due.Ran) != 1 || due.Ran[0] != p.ID {
		t.Fatalf("remediation job: %+v %v", due, err)
	}
	done := must(remediation.Get(w.ctx, w.st, w.tenant, p.ID))
	if done.State != remediation.StateDone || done.Items[0].Status != remediation.ItemDone {
		t.Fatalf("resumed run: %s %s %+v", done.State, done.Reason, done.Items[0])
	}
	log := must(w.st.RemediationSteps(w.ctx, w.tenant, p.ID))
	if len(log) != steps {
		t.Fatalf("step log: %+v, want %d steps", log, steps)
	}
	for _, s := range log {
		if s.Status != store.StepDone {
			t.Errorf("step %d.%d %s: %s", s.Item, s.Step, s.Op, s.Status)
		}
	}
	// One audit line per step: a repeated step would add one.
	lines := map[string]int{}
	for _, e := range must(w.st.AuditLog(w.ctx, store.AuditRemediationStep, w.tenant)) {
		if e.Subject != p.ID {
			continue
		}
		var d struct{ Item, Step int }
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		lines[strconv.Itoa(d.Item)+"."+strconv.Itoa(d.Step)]++
	}
	if len(lines) != steps {
		t.Errorf("audit lines per step: %v, want %d steps", lines, steps)
	}
	for k, n := range lines {
		if n != 1 {
			t.Errorf("step %s has %d audit lines", k, n)
		}
	}
	if c := must(w.st.VerifyAudit(w.ctx)); !c.OK {
		t.Errorf("audit chain: %+v", c)
	}
	return done
}
