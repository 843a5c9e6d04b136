package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// requireExternalID refuses, as AWS does, an AssumeRole of roleARN without
// ext. moto checks trust policies only with IAM enforced, and with IAM
// enforced its S3 refuses the Go SDK's signatures: this test needs S3, so
// the trust policy's external ID condition is stubbed here.
func requireExternalID(roleARN, ext string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test-require-external-id",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if a, ok := in.Parameters.(*sts.AssumeRoleInput); ok && aws.ToString(a.RoleArn) == roleARN && aws.ToString(a.ExternalId) != ext {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "AccessDenied",
						Message: "User: arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub is not authorized to perform: sts:AssumeRole on resource: " + roleARN}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// TestTransientFailureRecoversInServe: a connection that an earlier
// release stored as failed because AWS throttled its verification, with a
// registered bill bucket. In serve, with 30% of every call to AWS
// throttled or failing (seeded), its ingest job does not spend its attempts
// on the failed status: it has the connection verified again at once,
// which passes through the faults, and the bill is then ingested, all
// within a minute instead of the next day.
func TestTransientFailureRecoversInServe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{})
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := root.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const bucket, prefix = "acme-faulty-bills", "billing"
	s3c := s3.NewFromConfig(root, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 5, Accounts: 1, Months: 1,
		Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
	if err != nil {
		t.Fatal(err)
	}
	emulator.UploadDir(t, ctx, s3c, bucket, prefix, filepath.Join(gen.Dir, gen.Prefix))
	role, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("CrossbillAccess"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + emulator.DefaultAccount + `:root"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)

	// 30% of all calls: two thirds throttled, one third HTTP 500.
	proxy, err := emulator.StartFaultProxy(moto.URL, 30,
		emulator.Rule{Fault: emulator.FaultThrottle, Rate: 0.2}, emulator.Rule{Fault: emulator.Fault500, Rate: 0.125})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)

	var ext string
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: proxy.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: creds.AccessKeyID, Secret: creds.SecretAccessKey}}
		// BCM Data Exports (the cur module's probe) is answered by the
		// emulator launcher's stand-in: moto does not serve it.
		m.HubAPIOptions = []func(*middleware.Stack) error{func(s *middleware.Stack) error { return requireExternalID(roleARN, ext)(s) }}
		m.HubPrincipal = "arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub"
		m.VerifyWait = -1
		m.VerifyRetry = 200 * time.Millisecond
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	_, readTok, adminTok := ts.tenantWithTokens(t, "acme")
	var created struct {
		Connection struct{ ID string }
		ExternalID string `json:"external_id"`
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", adminTok, map[string]any{"modules": []string{"cur"}}, &created); st != 201 {
		t.Fatalf("init: %d", st)
	}
	ext = created.ExternalID
	id := crossbill.ConnectionID(created.Connection.ID)

	// What an earlier release stored: verified once, then failed because
	// every attempt of AssumeRole was throttled.
	st := ts.Store()
	c, err := storetest.Bind(ctx, st, id, crossbill.RoleARN(roleARN))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveBillSource(ctx, store.BillSource{ConnectionID: id, TenantID: c.TenantID, AccountID: emulator.DefaultAccount, Bucket: bucket, Path: prefix + "/" + gen.Export}); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Hour)
	for _, v := range []store.Verification{
		{Status: store.VerificationVerified},
		{Status: store.VerificationFailed, Checks: []store.VerificationCheck{{Name: "assume-role", Status: store.CheckFail, Class: string(awsclient.ClassThrottled), Message: "STS AssumeRole: Throttling: Rate exceeded", StartedAt: then}}},
	} {
		v.ConnectionID, v.RoleARN, v.StartedAt, v.FinishedAt = id, crossbill.RoleARN(roleARN), then, then
		if _, err := st.SaveVerification(ctx, v); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	var job struct{ ID string }
	if code := ts.do(t, "POST", "/api/v1/tenants/acme/connections/"+string(id)+"/ingest", adminTok, "{}", &job); code != 202 {
		t.Fatalf("ingest now: %d", code)
	}
	var got struct {
		ID, Status string
		Attempts   int
	}
	for time.Since(start) < 2*time.Minute {
		if code := ts.do(t, "GET", "/api/v1/tenants/acme/jobs/"+job.ID, readTok, nil, &got); code != 200 {
			t.Fatalf("job: %d", code)
		}
		if got.Status == "succeeded" || got.Status == "failed" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if got.Status != "succeeded" {
		t.Fatalf("ingest job %+v after %s (faults %v)", got, elapsed, proxy.Injected())
	}
	conn, err := st.ConnectionByID(ctx, id)
	if err != nil || conn.Status != store.StatusVerified {
		t.Fatalf("connection %s, %v; want verified again", conn.Status, err)
	}
	var costs struct {
		Total float64 `json:"total"`
	}
	if code := ts.do(t, "GET", "/api/v1/tenants/acme/costs?from=2026-06-01&to=2026-07-01&group_by=service", readTok, nil, &costs); code != 200 {
		t.Fatalf("costs: %d", code)
	}
	if want := gen.Months[0].AmortizedCost; costs.Total < want*0.99 || costs.Total > want*1.01 {
		t.Errorf("amortized total %.2f, generator wrote %.2f", costs.Total, want)
	}
	if proxy.InjectedTotal() == 0 {
		t.Fatal("no fault was injected")
	}
	t.Logf("failed connection verified again and its bill ingested in %s through %d injected faults (ingest attempts %d)", elapsed.Round(time.Millisecond), proxy.InjectedTotal(), got.Attempts)
}
