package purchase_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/savingsplans"
	sptypes "github.com/aws/aws-sdk-go-v2/service/savingsplans/types"
	"github.com/aws/smithy-go/middleware"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

// fakeAWS answers, in SDK middleware, what moto_server 5.2.1 does not
// serve: the whole Savings Plans API (offerings, CreateSavingsPlan,
// DeleteQueuedSavingsPlan, DescribeSavingsPlans) and EC2's
// PurchaseReservedInstancesOffering, DescribeReservedInstances,
// DeleteQueuedReservedInstances, CreateReservedInstancesListing and
// CancelReservedInstancesListing (moto raises NotImplementedError for
// each), and the RDS, ElastiCache, OpenSearch and Redshift reservation
// calls (fake_services_test.go). EC2's
// DescribeReservedInstancesOfferings goes to moto for real. It keeps the
// account's purchases, honours CreateSavingsPlan's client token as AWS
// does, and can "crash": buy, then lose the answer.
type fakeAWS struct {
	mu sync.Mutex
	// offerings are the Savings Plans offerings AWS sells.
	offerings []sptypes.SavingsPlanOffering
	creates   []savingsplans.CreateSavingsPlanInput
	byToken   map[string]string
	plans     map[string]*sptypes.SavingsPlan
	deleted   []string
	riBuys    []ec2.PurchaseReservedInstancesOfferingInput
	ris       []ec2types.ReservedInstances
	listings  map[string]ec2.CreateReservedInstancesListingInput // by client token
	listCalls int
	cancelled []string
	// svcCalls counts the purchase calls per operation of the RDS,
	// ElastiCache, OpenSearch and Redshift reservations; svcRes are the
	// reservations they bought.
	svcCalls  map[string]int
	svcRes    []svcReservation
	riDeleted []string
	// crash makes the next purchase succeed at AWS but fail on the way
	// back, like a connection cut after AWS committed it.
	crash bool
	// hideInventory keeps new commitments out of the describe answers, as
	// while AWS is still processing a purchase.
	hideInventory bool
}

func newFakeAWS() *fakeAWS {
	f := &fakeAWS{byToken: map[string]string{}, plans: map[string]*sptypes.SavingsPlan{}, listings: map[string]ec2.CreateReservedInstancesListingInput{}, svcCalls: map[string]int{}}
	for _, typ := range []sptypes.SavingsPlanType{sptypes.SavingsPlanTypeCompute, sptypes.SavingsPlanTypeEc2Instance} {
		for _, years := range []int64{1, 3} {
			for _, pay := range sptypes.SavingsPlanPaymentOption("").Values() {
				// AWS sells every combination; this fake leaves one out so
				// "not offered" can be tested: 3-year EC2 Instance No Upfront.
				if typ == sptypes.SavingsPlanTypeEc2Instance && years == 3 && pay == sptypes.SavingsPlanPaymentOptionNoUpfront {
					continue
				}
				f.offerings = append(f.offerings, sptypes.SavingsPlanOffering{
					OfferingId: aws.String(fmt.Sprintf("off-%s-%d-%s", typ, years, pay)), PlanType: typ, DurationSeconds: years * 365 * 24 * 3600,
					PaymentOption: pay, Currency: sptypes.CurrencyCodeUsd, Description: aws.String(fmt.Sprintf("%d year %s %s", years, pay, typ)),
				})
			}
		}
	}
	return f
}

var errCut = errors.New("read tcp: connection reset by peer")

func (f *fakeAWS) handle(op string, in any) (any, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case "savingsplans:DescribeSavingsPlansOfferings":
		q := in.(*savingsplans.DescribeSavingsPlansOfferingsInput)
		out := &savingsplans.DescribeSavingsPlansOfferingsOutput{}
		for _, o := range f.offerings {
			if contains(q.PlanTypes, o.PlanType) && contains(q.Durations, o.DurationSeconds) && contains(q.PaymentOptions, o.PaymentOption) {
				out.SearchResults = append(out.SearchResults, o)
			}
		}
		return out, true, nil
	case "savingsplans:CreateSavingsPlan":
		q := in.(*savingsplans.CreateSavingsPlanInput)
		f.creates = append(f.creates, *q)
		id, seen := f.byToken[aws.ToString(q.ClientToken)]
		if !seen {
			id = fmt.Sprintf("sp-%d", len(f.byToken)+1)
			f.byToken[aws.ToString(q.ClientToken)] = id
			state := sptypes.SavingsPlanStateActive
			if q.PurchaseTime != nil {
				state = sptypes.SavingsPlanStateQueued
			}
			f.plans[id] = &sptypes.SavingsPlan{SavingsPlanId: aws.String(id), State: state, Commitment: q.Commitment}
		}
		if f.crash {
			f.crash = false
			return nil, true, errCut
		}
		return &savingsplans.CreateSavingsPlanOutput{SavingsPlanId: aws.String(id)}, true, nil
	case "savingsplans:DescribeSavingsPlans":
		q := in.(*savingsplans.DescribeSavingsPlansInput)
		out := &savingsplans.DescribeSavingsPlansOutput{}
		for _, id := range q.SavingsPlanIds {
			if p, ok := f.plans[id]; ok && !f.hideInventory {
				out.SavingsPlans = append(out.SavingsPlans, *p)
			}
		}
		return out, true, nil
	case "savingsplans:DeleteQueuedSavingsPlan":
		id := aws.ToString(in.(*savingsplans.DeleteQueuedSavingsPlanInput).SavingsPlanId)
		p, ok := f.plans[id]
		if !ok || p.State != sptypes.SavingsPlanStateQueued {
			return nil, true, errors.New("ValidationException: only a queued Savings Plan can be deleted")
		}
		p.State = sptypes.SavingsPlanStateQueuedDeleted
		f.deleted = append(f.deleted, id)
		return &savingsplans.DeleteQueuedSavingsPlanOutput{}, true, nil
	case "ec2:PurchaseReservedInstancesOffering":
		q := in.(*ec2.PurchaseReservedInstancesOfferingInput)
		f.riBuys = append(f.riBuys, *q)
		id := fmt.Sprintf("ri-%d", len(f.ris)+1)
		state, start := ec2types.ReservedInstanceStateActive, time.Now()
		if q.PurchaseTime != nil {
			state, start = ec2types.ReservedInstanceStateQueued, *q.PurchaseTime
		}
		f.ris = append(f.ris, ec2types.ReservedInstances{ReservedInstancesId: aws.String(id), InstanceCount: q.InstanceCount,
			InstanceType: "t3.small", Duration: aws.Int64(365 * 24 * 3600), Start: aws.Time(start), State: state})
		if f.crash {
			f.crash = false
			return nil, true, errCut
		}
		return &ec2.PurchaseReservedInstancesOfferingOutput{ReservedInstancesId: aws.String(id)}, true, nil
	case "ec2:CreateReservedInstancesListing":
		q := in.(*ec2.CreateReservedInstancesListingInput)
		f.listCalls++
		f.listings[aws.ToString(q.ClientToken)] = *q
		out := &ec2.CreateReservedInstancesListingOutput{ReservedInstancesListings: []ec2types.ReservedInstancesListing{{
			ReservedInstancesListingId: aws.String("listing-" + aws.ToString(q.ClientToken)), ClientToken: q.ClientToken, Status: ec2types.ListingStatusActive}}}
		if f.crash {
			f.crash = false
			return nil, true, errCut
		}
		return out, true, nil
	case "ec2:CancelReservedInstancesListing":
		f.cancelled = append(f.cancelled, aws.ToString(in.(*ec2.CancelReservedInstancesListingInput).ReservedInstancesListingId))
		return &ec2.CancelReservedInstancesListingOutput{}, true, nil
	case "ec2:DeleteQueuedReservedInstances":
		out := &ec2.DeleteQueuedReservedInstancesOutput{}
		for _, id := range in.(*ec2.DeleteQueuedReservedInstancesInput).ReservedInstancesIds {
			for i := range f.ris {
				if aws.ToString(f.ris[i].ReservedInstancesId) != id {
					continue
				}
				if f.ris[i].State != ec2types.ReservedInstanceStateQueued {
					out.FailedQueuedPurchaseDeletions = append(out.FailedQueuedPurchaseDeletions, ec2types.FailedQueuedPurchaseDeletion{ReservedInstancesId: aws.String(id),
						Error: &ec2types.DeleteQueuedReservedInstancesError{Code: ec2types.DeleteQueuedReservedInstancesErrorCodeReservedInstancesNotInQueuedState, Message: aws.String("not queued")}})
					continue
				}
				f.ris[i].State = ec2types.ReservedInstanceStateQueuedDeleted
				f.riDeleted = append(f.riDeleted, id)
				out.SuccessfulQueuedPurchaseDeletions = append(out.SuccessfulQueuedPurchaseDeletions, ec2types.SuccessfulQueuedPurchaseDeletion{ReservedInstancesId: aws.String(id)})
			}
		}
		return out, true, nil
	case "ec2:DescribeReservedInstances":
		q := in.(*ec2.DescribeReservedInstancesInput)
		out := &ec2.DescribeReservedInstancesOutput{}
		for _, r := range f.ris {
			if len(q.ReservedInstancesIds) == 0 || contains(q.ReservedInstancesIds, aws.ToString(r.ReservedInstancesId)) {
				out.ReservedInstances = append(out.ReservedInstances, r)
			}
		}
		return out, true, nil
	}
	if out, ok, err := f.handleServices(op, in); ok {
		return out, ok, err
	}
	return nil, false, nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (f *fakeAWS) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("purchaseFake",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsclient.Call(middleware.GetServiceID(ctx), middleware.GetOperationName(ctx))
			out, ok, err := f.handle(op, in.Parameters)
			if !ok {
				return next.HandleInitialize(ctx, in)
			}
			return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, err
		}), middleware.After)
}

func (f *fakeAWS) purchases() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byToken) + len(f.ris) + len(f.svcRes)
}

// fixture is a tenant with a verified connection that has the
// commitments-purchase module, and its account behind moto and the fake.
type fixture struct {
	st     *store.Store
	tenant crossbill.TenantID
	conn   crossbill.ConnectionID
	acct   purchase.Account
	aws    *fakeAWS
	rec    *awsclient.Recorder
	ann    store.AuditEntry // the author
	bob    store.AuditEntry // an approver
}

func newFixture(t *testing.T, modules ...manifest.Module) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ten, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if modules == nil {
		modules = []manifest.Module{manifest.ModuleCommitments, manifest.ModuleCommitmentsPurchase}
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: ten.ID, ExternalID: "cb-0123456789abcdef0123456789abcdef",
		HubPrincipal: "arn:aws:iam::111122223333:role/crossbill-hub", Modules: modules})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Bind(ctx, st, c.ID, "arn:aws:iam::123456789012:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	cfg, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryMaxAttempts = 1
	fx := &fixture{st: st, tenant: ten.ID, conn: c.ID, aws: newFakeAWS(), rec: awsclient.NewRecorder(),
		ann: store.AuditEntry{Actor: "user:usr_ann", PersonEmail: "ann@example.com"},
		bob: store.AuditEntry{Actor: "user:usr_bob", PersonEmail: "bob@example.com"}}
	fx.rec.Attach(&cfg)
	cfg.APIOptions = append(cfg.APIOptions, fx.aws.option)
	fx.acct = purchase.Account{Config: func(region string) aws.Config {
		c := cfg.Copy()
		if region != "" {
			c.Region = region
		}
		return c
	}}
	t.Cleanup(func() {
		if u := fx.rec.Undeclared(); len(u) > 0 {
			t.Errorf("calls the permission manifest does not declare: %v", u)
		}
	})
	return fx
}

// withUsage gives the account the tenant's usage: the commitments
// fixture's CUR (two weeks of January 2026: m5.large and Lambda on
// demand, 3 db.r6g.xlarge on demand in us-east-1) in an in-memory
// DuckDB, read by purchase.ReadUsage over 30 days as the CLI and the API
// read the cost store.
func (fx *fixture) withUsage(t *testing.T) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := commitmentstest.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	fx.acct.Usage = func(ctx context.Context, gross bool) (purchase.TenantUsage, error) {
		// The CLI's and the API's 30-day lookback, longer than the
		// fixture's two weeks: ReadUsage starts at the first hour of data.
		w := commitmentstest.Window()
		w.Start, w.Gross = w.End.AddDate(0, 0, -30), gross
		return purchase.ReadUsage(ctx, commitments.DB(db), w, commitments.RateSources{})
	}
}

// open is the account opener Cancel takes.
func (fx *fixture) open() (purchase.Account, error) { return fx.acct, nil }

// approved drafts req as ann and has bob approve it.
func (fx *fixture) approved(t *testing.T, req purchase.Request) purchase.View {
	t.Helper()
	ctx := context.Background()
	req.Tenant, req.Connection = fx.tenant, fx.conn
	v, err := purchase.Draft(ctx, fx.st, fx.acct, req, fx.ann)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = purchase.Approve(ctx, fx.st, fx.tenant, v.ID, true, "within budget", fx.bob); err != nil {
		t.Fatal(err)
	}
	return v
}
