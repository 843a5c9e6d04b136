package server_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// boughtStub answers, in SDK middleware, the EC2 reservation calls
// moto_server does not serve (NotImplementedError): the purchase, and the
// account's reservations, which show what was bought only once shown is
// set (AWS lists a new reservation some time after the purchase). The
// offering is read from moto for real.
type boughtStub struct {
	mu     sync.Mutex
	shown  bool
	bought []ec2types.ReservedInstances
}

func (s *boughtStub) show() { s.mu.Lock(); s.shown = true; s.mu.Unlock() }

func (s *boughtStub) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("purchasesJobStub",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch q := in.Parameters.(type) {
			case *ec2.PurchaseReservedInstancesOfferingInput:
				s.mu.Lock()
				defer s.mu.Unlock()
				id := "ri-job" + string(rune('0'+len(s.bought)))
				s.bought = append(s.bought, ec2types.ReservedInstances{ReservedInstancesId: aws.String(id), InstanceCount: q.InstanceCount, InstanceType: "m5.large",
					Duration: aws.Int64(365 * 24 * 3600), Start: aws.Time(time.Now()), State: ec2types.ReservedInstanceStateActive})
				return middleware.InitializeOutput{Result: &ec2.PurchaseReservedInstancesOfferingOutput{ReservedInstancesId: aws.String(id)}}, middleware.Metadata{}, nil
			case *ec2.DescribeReservedInstancesInput:
				s.mu.Lock()
				defer s.mu.Unlock()
				out := &ec2.DescribeReservedInstancesOutput{}
				if s.shown {
					out.ReservedInstances = s.bought
				}
				return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// TestPurchasesJobFinishesStartedPlans: a person executes an approved
// plan; its reservation is bought but not listed by AWS yet, so the plan
// stays executing and the server schedules its hourly purchases job. Once
// AWS lists the reservation, the job (not a person) marks the plan done,
// and buys nothing again.
func TestPurchasesJobFinishesStartedPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Shared(t)
	stub := &boughtStub{}
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
		m.HubAPIOptions = []func(*middleware.Stack) error{stub.middleware}
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond}
	})
	tenant, _, author := ts.tenantWithTokens(t, "acme")
	var other tokenJSON
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/tokens", ts.op, map[string]string{"scope": "admin", "name": "approver"}, &other); st != http.StatusCreated {
		t.Fatalf("approver token: %d", st)
	}
	c, err := ts.Store().CreateConnection(ctx, store.NewConnection{TenantID: crossbill.TenantID(tenant.ID), ExternalID: "cb-test-purchases-job-0123456789",
		HubPrincipal: "arn:aws:iam::123456789012:user/hub", Modules: []manifest.Module{manifest.ModuleCommitments, manifest.ModuleCommitmentsPurchase}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, ts.Store(), c.ID, "arn:aws:iam::123456789012:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	var v purchase.View
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/plans", author, map[string]any{"connection": c.ID, "type": "EC2", "term_years": 1,
		"payment_option": "No Upfront", "count": 2, "instance_type": "m5.large", "region": "us-east-1"}, &v); st != http.StatusCreated || v.Approval == nil {
		t.Fatalf("plan: %d %+v", st, v)
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/approvals/"+v.Approval.ID+"/approve", other.Token, map[string]string{}, nil); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/plans/"+v.ID+"/execute", author, nil, &v); st != http.StatusOK || v.State != purchase.StateExecuting {
		t.Fatalf("execute: %d %+v", st, v)
	}
	jobs, err := ts.Store().Jobs(ctx, crossbill.TenantID(tenant.ID), store.JobFilter{Kind: server.JobPurchases})
	if err != nil || len(jobs) != 1 || jobs[0].Status != store.JobQueued {
		t.Fatalf("the purchases job after execute: %+v, %v", jobs, err)
	}
	stub.show()
	// Bring the hourly run forward (a queued job is moved earlier, never
	// duplicated).
	if _, err := ts.Store().EnqueueJob(ctx, store.JobSpec{TenantID: crossbill.TenantID(tenant.ID), Kind: server.JobPurchases, Interval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var got purchase.View
		if st := ts.do(t, "GET", "/api/v1/tenants/acme/commitments/plans/"+v.ID, author, nil, &got); st != http.StatusOK {
			t.Fatalf("get: %d", st)
		}
		if got.State == purchase.StateDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish the plan: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	if len(stub.bought) != 1 {
		t.Fatalf("bought %d times, want once", len(stub.bought))
	}
}
