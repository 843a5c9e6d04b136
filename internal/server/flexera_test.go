package server_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

func TestMain(m *testing.M) {
	os.Exit(emulator.RunTests(m, pgtest.Stop))
}

// moto 5.2.1 does not serve BCM Data Exports, the cur module's
// verification probe: crossbill's emulator launcher answers it with its
// Data Exports stand-in (no stub here).

// TestFlexeraBillConnect makes Flexera Optima's onboarding call (seed 004)
// against a role and a CUR bucket in moto_server: the connection is
// registered with its bucket, verified (moto does not enforce IAM in this
// mode, so the confused-deputy checks fail, classified, as they must for a
// role anyone can assume), and an ingest job is scheduled; once the
// connection is verified the job loads the bill from S3 with the role's
// credentials and the costs API answers from it.
func TestFlexeraBillConnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{}) // its own: the customer's bucket and role names are fixed
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := root.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The customer's side: a CUR 2.0 export in a bucket, and a role.
	const bucket, prefix = "acme-flexera-bills", "billing"
	s3c := s3.NewFromConfig(root, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 3, Accounts: 1, Months: 1,
		Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
	if err != nil {
		t.Fatal(err)
	}
	root2 := filepath.Join(gen.Dir, gen.Prefix)
	emulator.UploadDir(t, ctx, s3c, bucket, prefix, root2)

	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: creds.AccessKeyID, Secret: creds.SecretAccessKey}}
		m.HubPrincipal = "arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub"
		m.VerifyWait = -1
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	_, readTok, adminTok := ts.tenantWithTokens(t, "acme")
	_, _, betaAdmin := ts.tenantWithTokens(t, "beta")

	// Step 1 of crossbill's flow: the tenant gets its external ID.
	var init struct {
		ExternalID string `json:"external_id"`
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", adminTok, map[string]any{"modules": []string{"cur"}}, &init); st != 201 || init.ExternalID == "" {
		t.Fatalf("connection init: %d %+v", st, init)
	}
	roleName := "FlexeraBillRole"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + emulator.DefaultAccount + `:user/crossbill-hub"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"` + init.ExternalID + `"}}}]}`
	role, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(roleName), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)

	path := "/api/onboarding/orgs/acme/bill_connects/aws/iam_role"
	body := map[string]string{"aws_bill_account_id": emulator.DefaultAccount, "aws_bucket_name": bucket, "aws_bucket_path": prefix + "/" + gen.Export, "aws_sts_role_arn": roleARN}
	for name, tc := range map[string]struct {
		token string
		body  any
		want  int
	}{
		"no token":          {"", body, 401},
		"read scope":        {readTok, body, 403},
		"other tenant":      {betaAdmin, body, 404},
		"seed's typo body":  {adminTok, `{"aws_bill_account_id": "", "aws_bucket_name": 1"","aws_bucket_path": "","aws_sts_role_arn": ""}`, 400},
		"account mismatch":  {adminTok, map[string]string{"aws_bill_account_id": "111111111111", "aws_bucket_name": bucket, "aws_bucket_path": "x", "aws_sts_role_arn": roleARN}, 400},
		"bad bucket":        {adminTok, map[string]string{"aws_bill_account_id": emulator.DefaultAccount, "aws_bucket_name": "Bad_Bucket", "aws_bucket_path": "x", "aws_sts_role_arn": roleARN}, 400},
		"unknown field":     {adminTok, map[string]string{"aws_bill_account_id": emulator.DefaultAccount, "aws_bucket": bucket}, 400},
		"malformed role":    {adminTok, map[string]string{"aws_bill_account_id": emulator.DefaultAccount, "aws_bucket_name": bucket, "aws_bucket_path": "x", "aws_sts_role_arn": "role/x"}, 400},
		"path without data": {adminTok, map[string]string{"aws_bill_account_id": emulator.DefaultAccount, "aws_bucket_name": bucket, "aws_bucket_path": "", "aws_sts_role_arn": roleARN}, 400},
	} {
		var e errJSON
		if st := ts.do(t, "POST", path, tc.token, tc.body, &e); st != tc.want {
			t.Errorf("%s: %d %q, want %d", name, st, e.Error, tc.want)
		}
	}

	var res struct {
		Connection struct {
			ID      string `json:"id"`
			RoleARN string `json:"role_arn"`
			Status  string `json:"status"`
			Bill    struct {
				Bucket, Path string
			} `json:"bill"`
		} `json:"connection"`
		ExternalID   string `json:"external_id"`
		Verification struct {
			Status string `json:"status"`
			Checks []struct {
				Name, Status, Class, Advice string
			} `json:"checks"`
		} `json:"verification"`
		IngestJob *struct {
			ID, Kind, Status string
		} `json:"ingest_job"`
		Message string `json:"message"`
	}
	if st := ts.do(t, "POST", path, adminTok, body, &res); st != 201 {
		t.Fatalf("bill connect: %d", st)
	}
	c := res.Connection
	if c.RoleARN != roleARN || c.Bill.Bucket != bucket || c.Bill.Path != prefix+"/"+gen.Export || res.ExternalID != init.ExternalID {
		t.Fatalf("connection not registered as asked: %+v (external ID %s)", c, res.ExternalID)
	}
	if len(res.Verification.Checks) < 3 {
		t.Fatalf("verification has %d checks: %+v", len(res.Verification.Checks), res.Verification)
	}
	for _, k := range res.Verification.Checks {
		if k.Name == "assume-role" && k.Status != "pass" {
			t.Errorf("assume-role with the right external ID: %+v", k)
		}
		if k.Status == "fail" && (k.Class == "" || k.Advice == "") {
			t.Errorf("failed check %s is not classified with advice: %+v", k.Name, k)
		}
	}
	if res.Verification.Status != "verified" && !strings.Contains(res.Message, "verification failed") {
		t.Errorf("message %q does not say the verification failed", res.Message)
	}
	if res.IngestJob == nil || res.IngestJob.Kind != "ingest" {
		t.Fatalf("no ingest job scheduled: %+v", res)
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/beta/connections/"+c.ID, betaAdmin, nil, nil); st != 404 {
		t.Fatalf("beta sees acme's connection: %d", st)
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/beta/connections/"+c.ID+"/verifications", betaAdmin, nil, nil); st != 404 {
		t.Fatalf("beta sees acme's verifications: %d", st)
	}

	// Once the role passes verification (here: marked by hand, since this
	// moto mode cannot deny the confused-deputy probes), the ingest job's
	// retry loads the bill from S3 through the role.
	if err := ts.Store().SetConnectionStatus(ctx, crossbill.ConnectionID(c.ID), store.StatusVerified); err != nil {
		t.Fatal(err)
	}
	var jobID string
	deadline := time.Now().Add(2 * time.Minute)
	for jobID == "" && time.Now().Before(deadline) {
		var jobs []struct {
			ID, Kind, Status string
		}
		if st := ts.do(t, "GET", "/api/v1/tenants/acme/jobs?kind=ingest&connection="+c.ID, readTok, nil, &jobs); st != 200 {
			t.Fatalf("jobs: %d", st)
		}
		for _, j := range jobs {
			if j.Status == "succeeded" {
				jobID = j.ID
			}
		}
		if jobID == "" {
			if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections/"+c.ID+"/ingest", adminTok, "{}", nil); st != 202 {
				t.Fatalf("ingest now: %d", st)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if jobID == "" {
		t.Fatal("the ingest job did not succeed")
	}
	var costs struct {
		Total float64 `json:"total"`
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/costs?from=2026-06-01&to=2026-07-01&group_by=service", readTok, nil, &costs); st != 200 || costs.Total <= 0 {
		t.Fatalf("costs after ingest: %d %+v", st, costs)
	}
	if want := gen.Months[0].AmortizedCost; costs.Total < want*0.99 || costs.Total > want*1.01 {
		t.Errorf("amortized total %.2f, generator wrote %.2f", costs.Total, want)
	}
	// An invoice's total through the API: a billing-period filter without
	// dates spans all of its days (issue 12).
	var invoice struct {
		Total  float64 `json:"total"`
		Totals []struct {
			Group string `json:"group"`
		} `json:"totals"`
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/costs?metric=unblended&filter=billing-period=2026-06&group_by=billing-period", readTok, nil, &invoice); st != 200 ||
		len(invoice.Totals) != 1 || invoice.Totals[0].Group != "2026-06" || math.Abs(invoice.Total-gen.Months[0].UnblendedCost) > 0.01 {
		t.Errorf("invoice 2026-06: %d %+v, want one group of %.2f", st, invoice, gen.Months[0].UnblendedCost)
	}
	var byParam struct {
		Total float64 `json:"total"`
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/costs?metric=unblended&billing_period=2026-06", readTok, nil, &byParam); st != 200 || math.Abs(byParam.Total-invoice.Total) > 0.005 { // two plans: DuckDB sums floats in parallel, in no fixed order
		t.Errorf("billing_period=2026-06: %d %+v, want %.2f", st, byParam, invoice.Total)
	}
	for _, q := range []string{"filter=billing-period=June", "billing_period=June"} {
		if st := ts.do(t, "GET", "/api/v1/tenants/acme/costs?"+q, readTok, nil, nil); st != 400 {
			t.Errorf("%s: %d, want 400", q, st)
		}
	}
	// The commitment views answer from the same data.
	for _, p := range []string{"/commitments", "/commitments/utilization", "/commitments/recommendations?terms=1&payments=NO_UPFRONT&lookback_days=14", "/costs/dimensions"} {
		var e errJSON
		if st := ts.do(t, "GET", "/api/v1/tenants/acme"+p, readTok, nil, &e); st != 200 {
			t.Errorf("GET %s: %d %s", p, st, e.Error)
		}
	}
	var sim struct {
		MonthlySavings float64 `json:"monthly_savings"`
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/simulate", readTok, map[string]any{"type": "COMPUTE_SP", "term_years": 1, "payment_option": "NO_UPFRONT", "hourly_commitment": 0.5, "lookback_days": 14}, &sim); st != 200 {
		t.Errorf("simulate: %d", st)
	}
	// With data to simulate on, 1e308 used to overflow the savings to -Inf:
	// a 200 with an empty body.
	var e errJSON
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/commitments/simulate", readTok, map[string]any{"type": "COMPUTE_SP", "term_years": 1, "payment_option": "NO_UPFRONT", "hourly_commitment": 1e308, "lookback_days": 14}, &e); st != 400 || e.Code != "invalid" {
		t.Errorf("simulate 1e308: %d %+v, want 400", st, e)
	}
	var other struct {
		Total float64 `json:"total"`
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/beta/costs?from=2026-06-01&to=2026-07-01", betaAdmin, nil, &other); st == 200 && other.Total != 0 {
		t.Fatalf("beta sees acme's costs: %+v", other)
	}
}
