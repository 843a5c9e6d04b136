package verify_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestAccountBoundElsewhereDuringVerify: another tenant binds the account
// while acme's verification of a role that trusts acme is running. The
// binding is decided when the result is stored, so acme gets nothing bound
// and, instead of its real (successful) checks, the answer of a role that
// does not trust its external ID; the refusal is in the audit log.
func TestAccountBoundElsewhereDuringVerify(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mods := []manifest.Module{manifest.ModuleInventory}
	ext := newExternalID(t)
	conn := w.newConnection(t, ext, mods)
	role := w.deployRole(t, "crossbill-acme", onboarding.DefaultRoleName, ext, mods)

	rival, err := w.st.CreateTenant(ctx, "rival")
	must(t, err)
	rc, err := w.st.CreateConnection(ctx, store.NewConnection{TenantID: rival.ID, ExternalID: newExternalID(t), HubPrincipal: w.hubARN, Modules: mods})
	must(t, err)
	var once sync.Once
	var bindErr error
	opts := verify.Options{AWS: awsclient.MustFactory(w.hubConfig(t)), PropagationWait: -1, Progress: func(format string, args ...any) {
		// Once the role was assumed, before the result is stored.
		if strings.Contains(format, "refuses crossbill") {
			once.Do(func() {
				_, bindErr = storetest.Bind(ctx, w.st, rc.ID, crossbill.RoleARN("arn:aws:iam::"+customerAccount+":role/Rival"))
			})
		}
	}}
	res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role), Actor: "test"}, opts)
	must(t, err)
	must(t, bindErr)
	a := check(t, res, verify.CheckAssumeRole)
	if res.Status != store.VerificationFailed || a.Status != store.CheckFail || a.Class != string(awsclient.ClassRoleTrust) || !strings.Contains(a.Advice, "operator") {
		t.Fatalf("status %s, assume-role %+v: want the failure of a role that does not trust the external ID", res.Status, a)
	}
	if c := check(t, res, "probe:inventory:ec2:DescribeVolumes"); c.Status != store.CheckSkip {
		t.Errorf("probe shown as run: %+v", c)
	}
	got, err := w.st.ConnectionByID(ctx, conn.ID)
	if err != nil || got.RoleARN != "" || got.Status != store.StatusFailed {
		t.Fatalf("acme's connection: %+v, %v", got, err)
	}
	latest, err := w.st.LatestVerification(ctx, conn.ID)
	if err != nil || latest.ID != res.VerificationID || latest.Status != store.VerificationFailed || latest.Assumed() {
		t.Fatalf("stored verification %+v, %v: want the failed answer, not the real run", latest, err)
	}
	log, err := w.st.AuditLog(ctx, store.AuditBindingRefused, w.tenant.ID)
	if err != nil || len(log) != 1 || log[0].Actor != "test" || log[0].Subject != string(role) {
		t.Fatalf("audit: %+v, %v", log, err)
	}
	if bs, _ := w.st.Bindings(ctx, store.BindingFilter{TenantID: w.tenant.ID}); len(bs) != 0 {
		t.Fatalf("acme holds %+v", bs)
	}
}
