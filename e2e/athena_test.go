package e2e

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	cbathena "github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// athenaCustomer is the customer account whose Athena answers.
const athenaCustomer = "222222222222"

// athenaScanned is what every query scanned (moto reports 0): 25 MB.
const athenaScanned = 25 << 20

// scannedStub sets the bytes a succeeded query scanned in
// GetQueryExecution's statistics, in SDK middleware.
func scannedStub(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("e2eAthenaScanned", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		if x, ok := out.Result.(*athena.GetQueryExecutionOutput); ok && err == nil && x.QueryExecution != nil &&
			x.QueryExecution.Status != nil && x.QueryExecution.Status.State == types.QueryExecutionStateSucceeded {
			if x.QueryExecution.Statistics == nil {
				x.QueryExecution.Statistics = &types.QueryExecutionStatistics{}
			}
			x.QueryExecution.Statistics.DataScannedInBytes = aws.Int64(athenaScanned)
		}
		return out, md, err
	}), middleware.After)
}

// TestBrowserAthena runs athena.test.js: for a tenant whose cost engine
// is Athena, the Cost explorer says its billing periods and its answer
// came from Amazon Athena and what each cost, the engine and this month's
// Athena spend; the Commitments page shows the note of the answers'
// Crossbill-Cost-Source header (they run in Athena).
//
// STUBBED: moto's Athena executes no SQL, so the rows of the page's
// queries (the billing periods, the cost query, the tag keys) are queued in moto for the
// customer's account, reaching crossbill through the connection's role
// (the SQL's results are tested with DuckDB in internal/costs/athena); the
// bytes scanned (moto reports 0) are set by scannedStub. The server runs in
// this process so that the stub reaches its AWS calls; the connection is
// seeded as verified.
func TestBrowserAthena(t *testing.T) {
	chromium, node, bin, ctx := browserTools(t)
	srv := emulator.Own(t, emulator.Options{})
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	// The customer's administrator creates the CUR stack's workgroup
	// (set-up, not crossbill's call).
	root, err := srv.RootConfig(ctx)
	must(t, err)
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + athenaCustomer + ":role/admin"), RoleSessionName: aws.String("setup")})
	must(t, err)
	admin := root.Copy()
	admin.Region = cbathena.Region
	admin.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	_, err = athena.NewFromConfig(admin).CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String(manifest.AthenaWorkGroup)})
	must(t, err)

	dir := t.TempDir()
	seedAthena(ctx, t, dir)
	periods := emulator.AthenaResult{Columns: [][2]string{{"billing_period", "varchar"}, {"line_items", "bigint"}},
		Rows: [][]string{{"billing_period", "line_items"}, {"2026-01", "1200"}, {"2026-02", "1100"}}}
	costRows := emulator.AthenaResult{Columns: [][2]string{{"period", "timestamp"}, {"grp", "varchar"}, {"value", "double"}},
		Rows: [][]string{{"period", "grp", "value"}, {"2026-01-01 00:00:00.000", "AmazonEC2", "120.5"}, {"2026-01-02 00:00:00.000", "AmazonS3", "30.25"},
			{"2026-02-01 00:00:00.000", "AmazonEC2", "99"}}}
	tagKeys := emulator.AthenaResult{Columns: [][2]string{{"value", "varchar"}}, Rows: [][]string{{"value"}, {"app"}, {"team"}}}
	// In the page's order: the listing, the query, the tag keys' listing
	// (its periods, then the keys).
	must(t, srv.QueueAthenaResults(ctx, athenaCustomer, cbathena.Region, periods, costRows, periods, tagKeys))

	m := &server.Main{Addr: "127.0.0.1:0", DataDir: dir, NoBootstrap: true, Logger: slog.New(slog.DiscardHandler),
		Hub: awsclient.HubOptions{EndpointURL: srv.URL}, HubAPIOptions: []func(*middleware.Stack) error{scannedStub}}
	must(t, m.Run(ctx))
	t.Cleanup(func() { m.Close() }) //nolint:errcheck // test teardown

	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "athena.test.js")
	cmd.Env = append(os.Environ(), "CROSSBILL_BIN="+bin, "CROSSBILL_CHROMIUM="+chromium, "CROSSBILL_E2E_URL="+m.URL(), "CROSSBILL_E2E_DATA_ATHENA="+dir)
	b, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", b)
	if err != nil {
		t.Fatalf("browser Athena test failed: %v (screenshots in e2e/screenshots/)", err)
	}
}

// seedAthena makes tenant acme whose cost engine is Athena through a
// verified cur connection to the customer's role.
func seedAthena(ctx context.Context, t *testing.T, dir string) {
	t.Helper()
	st, err := store.Open(ctx, dir)
	must(t, err)
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme")
	must(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-e2e-athena-external-id-012345", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleCUR}})
	must(t, err)
	_, err = storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN("arn:aws:iam::"+athenaCustomer+":role/CrossbillAccess"))
	must(t, err)
	_, err = cbathena.SetEngine(ctx, st, cbathena.EngineRequest{Tenant: tn.ID, Connection: conn.ID, Engine: store.EngineAthena})
	must(t, err)
}
