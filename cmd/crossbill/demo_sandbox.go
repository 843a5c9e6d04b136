package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// demoSandboxJob connects the demo's sandbox organization in the
// background, so that the landing page (Connections) shows a verified
// connection and its member accounts.
const demoSandboxJob = "demo-sandbox"

// demoSandbox points the demo's hub at a sandbox (the emulator with a
// customer organization, as `crossbill sandbox` runs it), so that the
// wizard's "Verify now" works without AWS, and returns the runner of the
// job that connects the sandbox's organization. nil when the emulator is
// not installed (the demo then runs without AWS, saying why) or the hub is
// already pointed somewhere (--endpoint-url).
func demoSandbox(ctx context.Context, app *App, m *server.Main) (*sandbox, scheduler.Runner) {
	if m.Hub.EndpointURL != "" {
		return nil, nil
	}
	if err := emulator.Available(); err != nil {
		app.Progress("demo: no sandbox AWS (%v); verification in the wizard needs AWS credentials", err)
		return nil, nil
	}
	sb, err := startSandbox(ctx, 2)
	if err != nil {
		app.Progress("demo: no sandbox AWS: %v", err)
		return nil, nil
	}
	m.Hub = awsclient.HubOptions{EndpointURL: sb.srv.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: sb.hub.KeyID, Secret: sb.hub.Secret}}
	m.HubPrincipal = sb.hub.ARN
	return sb, func(ctx context.Context, j store.Job, progress scheduler.Progress) error {
		return sb.connect(ctx, m, j.TenantID, progress)
	}
}

// connect does what a customer and crossbill do for the sandbox's
// organization: a connection (org, inventory, access-read: modules whose
// probes the emulator serves), the role stack in the management account and the
// members stack's role in the first member account, then the verification
// and the members check, then an access sync, through the same use cases
// as the CLI and API.
func (sb *sandbox) connect(ctx context.Context, m *server.Main, tenant crossbill.TenantID, progress scheduler.Progress) error {
	st := m.Store()
	conns, err := st.ConnectionsByTenant(ctx, tenant)
	if err != nil {
		return err
	}
	mods := []manifest.Module{manifest.ModuleOrg, manifest.ModuleInventory, manifest.ModuleAccessRead}
	// A previous start's connection (the emulator lives in memory): its
	// roles are deployed again in this start's emulator, same external ID.
	i := slices.IndexFunc(conns, func(c store.Connection) bool { return c.HubPrincipal == sb.hub.ARN })
	var c store.Connection
	if i >= 0 {
		c = conns[i]
	} else {
		progress(0.1, "creating the sandbox organization's connection")
		init, err := onboarding.Init(ctx, st, onboarding.InitRequest{Tenant: tenant, HubPrincipal: sb.hub.ARN, Modules: []string{string(mods[0]), string(mods[1]), string(mods[2])}})
		if err != nil {
			return err
		}
		c = init.Connection
	}
	progress(0.3, "the customer deploys the role")
	admin, err := sb.srv.Config(ctx, sb.admin.KeyID, sb.admin.Secret, "")
	if err != nil {
		return err
	}
	outputs, err := deployRole(ctx, admin, "crossbill-access", c.ExternalID, sb.hub.ARN, mods)
	if err != nil {
		return err
	}
	if len(sb.memberAdmins) > 0 {
		if _, err := deployRole(ctx, sb.memberAdmins[0], "StackSet-crossbill-members", c.ExternalID, sb.hub.ARN, onboarding.MemberModules(mods)); err != nil {
			return err
		}
	}
	progress(0.6, "verifying the role")
	opts := verify.Options{AWS: m.AWS()}
	res, err := verify.Connection(ctx, st, verify.Request{Tenant: tenant, RoleARN: outputs["RoleArn"], Connection: c.ID, Actor: "demo"}, opts)
	if err != nil {
		return err
	}
	if res.Status != store.VerificationVerified {
		return fmt.Errorf("the sandbox connection did not verify: %v", res.Err())
	}
	if c, err = st.TenantConnection(ctx, tenant, c.ID); err != nil {
		return err
	}
	progress(0.7, "listing and verifying the member accounts")
	if _, err = verify.Members(ctx, st, c, verify.MembersOptions{Options: opts, Verify: true}); err != nil {
		return err
	}
	// The Access page then shows the sandbox's principals and findings
	// (parts the emulator does not serve are listed as unread). A
	// connection from an older demo without access-read is left as it is.
	if !slices.Contains(c.Modules, manifest.ModuleAccessRead) {
		return nil
	}
	progress(0.85, "reading the organization's identities and entitlements")
	t, err := st.TenantByID(ctx, tenant)
	if err != nil {
		return err
	}
	_, err = access.Sync(ctx, st, c, access.SyncOptions{Tenant: t.Name, CollectOptions: access.CollectOptions{AWS: m.AWS(), CredentialReportWait: 5 * time.Second}})
	return err
}

// deployRole creates crossbill's account role stack in the emulator.
func deployRole(ctx context.Context, cfg aws.Config, stack string, ext crossbill.ExternalID, hub string, mods []manifest.Module) (map[string]string, error) {
	body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: ext, HubPrincipal: hub, Modules: mods})
	if err != nil {
		return nil, err
	}
	return emulator.CreateStack(ctx, cfg, stack, body, map[string]string{"ExternalId": string(ext), "HubPrincipalArn": hub})
}
