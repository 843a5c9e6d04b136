package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestJITRevokedAfterRestart: a lease whose expiry passed while the server
// was down (its Identity Center assignment still in moto) is revoked by
// the server's lease loop as it starts, within seconds; the reconciler job
// is scheduled for the connection, every minute.
func TestJITRevokedAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{})
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sso := ssoadmin.NewFromConfig(root)
	inst, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) == 0 {
		t.Fatalf("instances: %v", err)
	}
	instance, idStore := aws.ToString(inst.Instances[0].InstanceArn), inst.Instances[0].IdentityStoreId
	ps, err := sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: aws.String(instance), Name: aws.String("Ops"), SessionDuration: aws.String("PT1H")})
	if err != nil {
		t.Fatal(err)
	}
	user, err := identitystore.NewFromConfig(root).CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: idStore, UserName: aws.String("ann@example.com"),
		DisplayName: aws.String("Ann"), Name: &idstypes.Name{GivenName: aws.String("Ann"), FamilyName: aws.String("X")}})
	if err != nil {
		t.Fatal(err)
	}
	const member = "111122223333"
	assignment := func() int {
		out, err := sso.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(instance), AccountId: aws.String(member), PermissionSetArn: ps.PermissionSet.PermissionSetArn})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.AccountAssignments)
	}
	if _, err := sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(instance), PermissionSetArn: ps.PermissionSet.PermissionSetArn,
		PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: user.UserId, TargetId: aws.String(member), TargetType: ssotypes.TargetTypeAwsAccount}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-external-id-jit-0123456789", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleAccessRead, manifest.ModuleAccessJIT}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := storetest.Bind(ctx, st, c.ID, crossbill.RoleARN("arn:aws:iam::"+emulator.DefaultAccount+":role/CrossbillAccess"))
	if err != nil {
		t.Fatal(err)
	}
	target := jit.Target{Kind: jit.KindPermissionSet, Account: member, PermissionSet: aws.ToString(ps.PermissionSet.PermissionSetArn), Instance: instance}
	raw, _ := json.Marshal(target)
	granted := time.Now().UTC().Add(-2 * time.Hour)
	expired := granted.Add(time.Hour) // an hour ago: the server was down
	if err := st.CreateJITLease(ctx, store.JITLease{ID: "lease_restart", TenantID: tn.ID, ConnectionID: conn.ID, Policy: "oncall", Requester: "ann@example.com", Actor: "test",
		PrincipalType: jit.PrincipalICUser, PrincipalID: aws.ToString(user.UserId), PrincipalName: "ann@example.com", TargetKey: target.Key(), Target: raw, Reason: "restart",
		DurationS: 3600, State: jit.StateActive, RequestedAt: granted, DecideBy: granted, GrantedAt: &granted, ExpiresAt: &expired, NextAt: &expired},
		store.AuditEntry{Actor: "test", Action: store.AuditJITGranted}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()

	started := time.Now()
	ts := startServer(t, func(m *server.Main) {
		m.DataDir = dir
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
		m.HubPrincipal = "arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub"
		m.Scheduler = scheduler.Options{Poll: 50 * time.Millisecond}
	})
	for {
		l, err := ts.Store().JITLease(ctx, tn.ID, "lease_restart")
		if err != nil {
			t.Fatal(err)
		}
		if l.State == jit.StateRevoked {
			break
		}
		if time.Since(started) > 60*time.Second {
			t.Fatalf("lease still %s (%s) a minute after the start", l.State, l.LastError)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("revoked %s after the server started", time.Since(started).Round(time.Millisecond))
	if n := assignment(); n != 0 {
		t.Fatalf("%d assignment(s) left", n)
	}
	jobs, err := ts.Store().Jobs(ctx, tn.ID, store.JobFilter{ConnectionID: conn.ID, Kind: server.JobJITReconcile})
	if err != nil || len(jobs) == 0 || jobs[0].Interval != time.Minute {
		t.Fatalf("reconciler jobs: %+v %v", jobs, err)
	}
}
