package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bcmdataexports"
	bcmtypes "github.com/aws/aws-sdk-go-v2/service/bcmdataexports/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// TestVerifyDiscoversBill deploys the role stack and the CUR stack through
// moto's CloudFormation (IAM enforced), uploads a CUR 2.0 export where the
// stack's export delivers, and verifies through the API before Data Exports
// has created the export (no bill, a note), then lets the scheduler's
// verification find the export: it registers the bill source and the
// scheduler ingests it with no further call.
//
// moto 5.2.1 serves neither BCM Data Exports nor its CloudFormation type
// AWS::BCMDataExports::Export: the CUR stack is deployed without that one
// resource (bucket, bucket policy and the role's read policy are real), and
// the export is created later, as Data Exports would, through the Data
// Exports stand-in of crossbill's emulator launcher (no stub: verification
// calls ListExports / GetExport through the role, IAM enforced). The export
// is uploaded into the stack's bucket in the same, enforced moto: the role
// reads it through its read policy.
func TestVerifyDiscoversBill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	moto := emulator.Own(t, emulator.Options{NoAuthActions: 3})
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adminUser, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := moto.Config(ctx, adminUser.KeyID, adminUser.Secret, "")
	if err != nil {
		t.Fatal(err)
	}
	hub, err := emulator.CreateUser(ctx, admin, "crossbill-hub", emulator.HubPolicy)
	if err != nil {
		t.Fatal(err)
	}

	const prefix, export = "crossbill", verifyDefaultExport
	ts := startServer(t, func(m *server.Main) {
		m.Hub = awsclient.HubOptions{EndpointURL: moto.URL, Region: "us-east-1", AccessKey: &awsclient.AccessKey{ID: hub.KeyID, Secret: hub.Secret}}
		m.HubPrincipal = hub.ARN
		m.VerifyWait = 10 * time.Second
		m.Scheduler = scheduler.Options{Poll: 20 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	})
	tenant, readTok, adminTok := ts.tenantWithTokens(t, "acme")
	var conn struct {
		ID         string `json:"id"`
		ExternalID string `json:"external_id"`
	}
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections", adminTok, map[string]any{"modules": []string{"cur"}}, &conn); st != 201 || conn.ExternalID == "" {
		t.Fatalf("connection init: %d %+v", st, conn)
	}
	if conn.ID == "" {
		var list []struct{ ID string }
		ts.do(t, "GET", "/api/v1/tenants/acme/connections", readTok, nil, &list)
		if len(list) != 1 {
			t.Fatalf("connections: %+v", list)
		}
		conn.ID = list[0].ID
	}

	// The customer deploys both stacks.
	roleBody, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: crossbill.ExternalID(conn.ExternalID), HubPrincipal: hub.ARN, Modules: []manifest.Module{manifest.ModuleCUR}})
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := emulator.CreateStack(ctx, admin, "crossbill", roleBody, nil)
	if err != nil {
		t.Fatal(err)
	}
	roleARN := outputs["RoleArn"]
	curBody, err := onboarding.CURTemplate(onboarding.CUROptions{Format: onboarding.FormatJSON})
	if err != nil {
		t.Fatal(err)
	}
	if curBody, _, err = emulator.Deployable(curBody); err != nil { // the export comes later
		t.Fatal(err)
	}
	curOut, err := emulator.CreateStack(ctx, admin, "crossbill-cur", curBody, nil)
	if err != nil {
		t.Fatal(err)
	}
	bucket := curOut["BucketName"]
	if bucket == "" || curOut["Prefix"] != prefix {
		t.Fatalf("CUR stack outputs: %v", curOut)
	}

	// Data Exports delivers one billing period.
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Prefix: prefix, Export: export, Seed: 3, Accounts: 1, Months: 1,
		Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
	if err != nil {
		t.Fatal(err)
	}
	s3b := s3.NewFromConfig(admin, func(o *s3.Options) { o.UsePathStyle = true })
	emulator.UploadDir(t, ctx, s3b, bucket, prefix, filepath.Join(gen.Dir, gen.Prefix))

	var res struct {
		Status string `json:"status"`
		Checks []struct{ Name, Status, Message string }
		Bill   *struct {
			Source     string `json:"source"`
			Discovered bool   `json:"discovered"`
			Periods    int    `json:"periods"`
			Note       string `json:"note"`
		} `json:"bill"`
	}
	// Verified before Data Exports created the export: no bill yet, and
	// the verification says what to do.
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections/"+conn.ID+"/verify", adminTok, map[string]string{"role_arn": roleARN}, &res); st != 200 || res.Status != "verified" {
		t.Fatalf("verify: %d %+v", st, res)
	}
	if res.Bill == nil || res.Bill.Source != "" || !strings.Contains(res.Bill.Note, "no CUR 2.0 export found") {
		t.Fatalf("bill before the export exists: %+v", res.Bill)
	}
	// The export appears; the scheduler's next verification (made due
	// now) finds it, registers it and has it ingested.
	_, err = bcmdataexports.NewFromConfig(admin).CreateExport(ctx, &bcmdataexports.CreateExportInput{Export: &bcmtypes.Export{
		Name: aws.String(export), DataQuery: &bcmtypes.DataQuery{QueryStatement: aws.String(onboarding.CURQuery())},
		RefreshCadence: &bcmtypes.RefreshCadence{Frequency: bcmtypes.FrequencyOptionSynchronous},
		DestinationConfigurations: &bcmtypes.DestinationConfigurations{S3Destination: &bcmtypes.S3Destination{
			S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix), S3Region: aws.String("us-east-1"),
			S3OutputConfigurations: &bcmtypes.S3OutputConfigurations{OutputType: bcmtypes.S3OutputTypeCustom, Format: bcmtypes.FormatOptionParquet,
				Compression: bcmtypes.CompressionOptionParquet, Overwrite: bcmtypes.OverwriteOptionOverwriteReport}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Store().EnqueueJob(ctx, store.JobSpec{TenantID: crossbill.TenantID(tenant.ID), ConnectionID: crossbill.ConnectionID(conn.ID), Kind: "verify"}); err != nil {
		t.Fatal(err)
	}
	want := "s3://" + bucket + "/" + prefix + "/" + export

	// No further call: the scheduler's ingest job loads the bill.
	deadline := time.Now().Add(2 * time.Minute)
	var total float64
	for total == 0 && time.Now().Before(deadline) {
		var costs struct {
			Total float64 `json:"total"`
		}
		ts.do(t, "GET", "/api/v1/tenants/acme/costs?from=2026-06-01&to=2026-07-01", readTok, nil, &costs)
		total = costs.Total
		time.Sleep(100 * time.Millisecond)
	}
	if want := gen.Months[0].AmortizedCost; total < want*0.99 || total > want*1.01 {
		jobs, _ := ts.Store().Jobs(ctx, crossbill.TenantID(tenant.ID), store.JobFilter{})
		for _, j := range jobs {
			t.Logf("job %s %s attempts %d: %s", j.Kind, j.Status, j.Attempts, j.LastError)
		}
		t.Fatalf("amortized total after the scheduled ingest %.2f, generator wrote %.2f", total, want)
	}

	var detail struct {
		Bill struct{ Bucket, Path string } `json:"bill"`
	}
	if st := ts.do(t, "GET", "/api/v1/tenants/acme/connections/"+conn.ID, readTok, nil, &detail); st != 200 || "s3://"+detail.Bill.Bucket+"/"+detail.Bill.Path != want {
		t.Fatalf("connection's bill after the scheduled verify: %d %+v, want %s", st, detail, want)
	}
	// A verification through the API now keeps the registered source,
	// does not claim to have discovered it, and counts the delivery.
	if st := ts.do(t, "POST", "/api/v1/tenants/acme/connections/"+conn.ID+"/verify", adminTok, map[string]string{"role_arn": roleARN}, &res); st != 200 || res.Bill == nil || res.Bill.Discovered || res.Bill.Source != want || res.Bill.Periods != 1 {
		t.Fatalf("second verify: %d %+v", st, res.Bill)
	}

	// Set explicitly: the API route changes it; bad input is a 400.
	var e errJSON
	if st := ts.do(t, "PUT", "/api/v1/tenants/acme/connections/"+conn.ID+"/bill", adminTok, map[string]string{"source": "not-s3"}, &e); st != 400 {
		t.Fatalf("PUT bill bad source: %d %+v", st, e)
	}
	if st := ts.do(t, "PUT", "/api/v1/tenants/acme/connections/"+conn.ID+"/bill", readTok, map[string]string{"source": "s3://" + bucket + "/other/exp"}, nil); st != 403 {
		t.Fatalf("PUT bill with a read token: %d", st)
	}
	var set struct{ Bucket, Path string }
	if st := ts.do(t, "PUT", "/api/v1/tenants/acme/connections/"+conn.ID+"/bill", adminTok, map[string]string{"source": "s3://" + bucket + "/other/exp"}, &set); st != 200 || set.Path != "other/exp" {
		t.Fatalf("PUT bill: %d %+v", st, set)
	}
}

const verifyDefaultExport = "crossbill-cur2"
