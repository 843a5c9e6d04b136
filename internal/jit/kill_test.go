package jit_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/store"
)

// TestLeaseKillChild is the process TestLeaseKill kills: it runs the lease
// engine on the database named by the environment, against moto, and
// stops (sleeping until killed) at the step named there.
func TestLeaseKillChild(t *testing.T) {
	dir, endpoint, step := os.Getenv("CROSSBILL_JIT_KILL_DIR"), os.Getenv("CROSSBILL_JIT_KILL_MOTO"), os.Getenv("CROSSBILL_JIT_KILL_STEP")
	if dir == "" {
		t.Skip("run by TestLeaseKill")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithBaseEndpoint(endpoint),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")),
		awsconfig.WithSharedConfigFiles([]string{}), awsconfig.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	opts := jit.Options{AWS: awsclient.MustFactory(cfg), Fault: func(_ store.JITLease, s string) error {
		if s == step {
			fmt.Fprintf(os.Stdout, "AT %s\n", s)
			time.Sleep(time.Hour) // killed here
		}
		return nil
	}}
	for {
		if _, err := jit.Advance(ctx, st, opts, 1); err != nil {
			t.Log(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestLeaseKill kills (SIGKILL) a process running the lease engine at each
// step of a grant and of a revocation, then runs the engine in this
// process on the same database: the lease ends revoked, its assignment
// gone, and it was never assigned twice. This process's clock runs 31 s
// ahead, past the dead worker's claim on the lease (a restarted server
// waits for it).
func TestLeaseKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per step")
	}
	w := newWorld(t, 0)
	w.policy(t, nil)
	ctx := context.Background()
	for _, step := range jit.Steps() {
		t.Run(step, func(t *testing.T) {
			// Real time: the child has no fake clock. A revocation step
			// is reached two seconds after the grant; a grant step's
			// lease lasts long enough for this process to finish the
			// grant before moving its clock past the expiry.
			grantStep := strings.HasPrefix(step, "grant")
			d := 2 * time.Second
			if grantStep {
				d = 5 * time.Minute
			}
			opts := w.opts()
			opts.Now = time.Now
			l, err := jit.Request(ctx, w.st, jit.RequestInput{Tenant: w.tenant, TenantName: "acme", Policy: "oncall", Target: w.ops1(), Duration: jit.Duration(d), Reason: "kill " + step},
				person("ann@example.com"), opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := approval.Decide(ctx, w.st, w.tenant, l.ApprovalID, true, "", person("carl@example.com")); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseKillChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CROSSBILL_JIT_KILL_DIR="+w.dir, "CROSSBILL_JIT_KILL_MOTO="+w.srv.URL, "CROSSBILL_JIT_KILL_STEP="+step)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			reached := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "AT ") {
						reached <- true
						return
					}
				}
				reached <- false
			}()
			select {
			case ok := <-reached:
				if !ok {
					t.Fatal("the child ended before the step")
				}
			case <-time.After(90 * time.Second):
				t.Fatal("the child never reached the step")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			run := func(skew time.Duration, until string) {
				t.Helper()
				opts.Now = func() time.Time { return time.Now().Add(skew) }
				deadline := time.Now().Add(60 * time.Second)
				for {
					if _, err := jit.Advance(ctx, w.st, opts, 4); err != nil {
						t.Fatal(err)
					}
					got := w.lease(t, l.ID)
					if got.State == until {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("after the kill at %s: %s (%s), want %s", step, got.State, got.LastError, until)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			if grantStep {
				run(31*time.Second, jit.StateActive)
				if !w.assigned(t, w.members[0], w.ops, "ann@example.com") {
					t.Fatalf("killed at %s: active but not assigned", step)
				}
				run(6*time.Minute, jit.StateRevoked)
			} else {
				run(31*time.Second, jit.StateRevoked)
			}
			if w.assigned(t, w.members[0], w.ops, "ann@example.com") {
				t.Fatalf("killed at %s: still assigned", step)
			}
			trail, err := jit.Trail(ctx, w.st, w.tenant, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			granted := 0
			for _, e := range trail.Lines {
				if e.Action == store.AuditJITGranted {
					granted++
				}
			}
			if granted != 1 {
				t.Fatalf("killed at %s: %d grant lines", step, granted)
			}
		})
	}
}
