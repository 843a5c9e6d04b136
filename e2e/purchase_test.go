package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// reservationsStub answers, in SDK middleware, the EC2 reservation calls
// moto_server does not serve (it raises NotImplementedError):
// PurchaseReservedInstancesOffering, and DescribeReservedInstances so the
// bought reservation shows in the account's inventory. The offering the
// plan names is read from moto for real (DescribeReservedInstancesOfferings).
type reservationsStub struct {
	mu     sync.Mutex
	bought []ec2types.ReservedInstances
}

func (s *reservationsStub) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("e2eReservations",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if middleware.GetServiceID(ctx) != "EC2" {
				return next.HandleInitialize(ctx, in)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			switch q := in.Parameters.(type) {
			case *ec2.PurchaseReservedInstancesOfferingInput:
				id := fmt.Sprintf("ri-e2e%04d", len(s.bought)+1)
				s.bought = append(s.bought, ec2types.ReservedInstances{ReservedInstancesId: aws.String(id), InstanceCount: q.InstanceCount, InstanceType: "t3.small",
					Duration: aws.Int64(365 * 24 * 3600), Start: aws.Time(time.Now()), State: ec2types.ReservedInstanceStateActive})
				return middleware.InitializeOutput{Result: &ec2.PurchaseReservedInstancesOfferingOutput{ReservedInstancesId: aws.String(id)}}, middleware.Metadata{}, nil
			case *ec2.DescribeReservedInstancesInput:
				return middleware.InitializeOutput{Result: &ec2.DescribeReservedInstancesOutput{ReservedInstances: s.bought}}, middleware.Metadata{}, nil
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// TestBrowserPurchase runs purchase.test.js: an analyst writes a purchase
// plan in the Purchase plans section of the Commitments page and sees its
// offering, costs and downside, without a way to approve it; an approver
// approves it in the Approvals inbox; an admin executes it and the plan
// shows done with its tranche and reservation.
//
// STUBBED: the purchase and the reservations inventory (see
// reservationsStub); the offering comes from moto. The server runs in
// this process so that the stubs reach its AWS calls; the tenant's
// connection is seeded as verified (TestBrowser covers onboarding).
func TestBrowserPurchase(t *testing.T) {
	chromium, node, bin, ctx := browserTools(t)
	srv := emulator.Own(t, emulator.Options{})
	root, err := srv.RootConfig(ctx)
	must(t, err)
	id, err := sts.NewFromConfig(root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err)
	account := aws.ToString(id.Account)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}

	dir := t.TempDir()
	conn := seedPurchase(ctx, t, dir, account)
	stub := &reservationsStub{}
	m := &server.Main{Addr: "127.0.0.1:0", DataDir: dir, NoBootstrap: true, Logger: slog.New(slog.DiscardHandler),
		Hub: awsclient.HubOptions{EndpointURL: srv.URL}, HubAPIOptions: []func(*middleware.Stack) error{stub.middleware}}
	must(t, m.Run(ctx))
	t.Cleanup(func() { m.Close() }) //nolint:errcheck // test teardown

	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "purchase.test.js")
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium, "CROSSBILL_E2E_URL="+m.URL(),
		"CROSSBILL_E2E_DATA_PURCHASE="+dir, "CROSSBILL_E2E_CONNECTION="+string(conn))
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser purchase test failed: %v (screenshots in e2e/screenshots/)", err)
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	if len(stub.bought) != 1 || aws.ToInt32(stub.bought[0].InstanceCount) != 2 {
		t.Fatalf("reservations bought: %+v, want one purchase of 2", stub.bought)
	}
}

// seedPurchase makes tenant acme with a verified connection carrying
// commitments-purchase in account.
func seedPurchase(ctx context.Context, t *testing.T, dir, account string) crossbill.ConnectionID {
	t.Helper()
	st, err := store.Open(ctx, dir)
	must(t, err)
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme")
	must(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-e2e-external-id-9876543210", HubPrincipal: "arn:aws:iam::" + account + ":user/hub",
		Modules: []manifest.Module{manifest.ModuleCommitments, manifest.ModuleCommitmentsPurchase}})
	must(t, err)
	_, err = storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+account+":role/CrossbillAccess"))
	must(t, err)
	return conn.ID
}
