package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bcmdataexports"
	bcmtypes "github.com/aws/aws-sdk-go-v2/service/bcmdataexports/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// exportsAnswer answers ListExports with exports and GetExport with the
// export of the ARN asked: moto does not serve BCM Data Exports, and no
// request leaves the process (the endpoint is closed).
func exportsAnswer(exports ...bcmtypes.Export) aws.Config {
	var refs []bcmtypes.ExportReference
	for _, e := range exports {
		refs = append(refs, bcmtypes.ExportReference{ExportArn: e.ExportArn, ExportName: e.Name})
	}
	get := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test-get-export",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if middleware.GetOperationName(ctx) != "GetExport" {
					return next.HandleInitialize(ctx, in)
				}
				arn := aws.ToString(in.Parameters.(*bcmdataexports.GetExportInput).ExportArn)
				for _, e := range exports {
					if aws.ToString(e.ExportArn) == arn {
						e := e
						return middleware.InitializeOutput{Result: &bcmdataexports.GetExportOutput{Export: &e}}, middleware.Metadata{}, nil
					}
				}
				return middleware.InitializeOutput{}, middleware.Metadata{}, &bcmtypes.ResourceNotFoundException{Message: aws.String("no such export")}
			}), middleware.After)
	}
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", ""),
		APIOptions:  []func(*middleware.Stack) error{emulator.Stub("BCM Data Exports", "ListExports", &bcmdataexports.ListExportsOutput{Exports: refs}, nil), get}}
}

func export(name, query, bucket, prefix string) bcmtypes.Export {
	return bcmtypes.Export{Name: aws.String(name), ExportArn: aws.String("arn:aws:bcm-data-exports:us-east-1:111122223333:export/" + name),
		DataQuery:                 &bcmtypes.DataQuery{QueryStatement: aws.String(query)},
		DestinationConfigurations: &bcmtypes.DestinationConfigurations{S3Destination: &bcmtypes.S3Destination{S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix)}}}
}

func TestFindExport(t *testing.T) {
	const cur2 = "SELECT line_item_usage_account_id FROM COST_AND_USAGE_REPORT"
	focus := export("focus", "SELECT x FROM FOCUS_1_0_AWS", "b-focus", "f")
	for name, tc := range map[string]struct {
		exports  []bcmtypes.Export
		want     string // bucket/path, or "" with a note containing note
		wantNote string
	}{
		"none":                 {nil, "", "no CUR 2.0 export found"},
		"only FOCUS":           {[]bcmtypes.Export{focus}, "", "no CUR 2.0 export found"},
		"one, beside FOCUS":    {[]bcmtypes.Export{focus, export("mine", cur2, "bills", "/cur/")}, "bills/cur/mine", ""},
		"no prefix":            {[]bcmtypes.Export{export("mine", cur2, "bills", "")}, "bills/mine", ""},
		"several, the stack's": {[]bcmtypes.Export{export("a", cur2, "b1", "p"), export(DefaultExportName, cur2, "b2", "crossbill")}, "b2/crossbill/" + DefaultExportName, ""},
		"several, ambiguous":   {[]bcmtypes.Export{export("a", cur2, "b1", "p"), export("b", cur2, "b2", "p")}, "", "2 CUR 2.0 exports found (a, b)"},
	} {
		got, note := findExport(context.Background(), exportsAnswer(tc.exports...))
		switch {
		case tc.want == "" && (got != nil || !strings.Contains(note, tc.wantNote)):
			t.Errorf("%s: got %+v, note %q; want none with %q", name, got, note, tc.wantNote)
		case tc.want != "" && (got == nil || got.Bucket+"/"+got.Path != tc.want):
			t.Errorf("%s: got %+v (%s), want %s", name, got, note, tc.want)
		}
	}
}

func TestBillString(t *testing.T) {
	for _, tc := range []struct {
		b    Bill
		want string
	}{
		{Bill{Source: "s3://b/p/e"}, "bill: s3://b/p/e, first delivery expected within 24 h"},
		{Bill{Source: "s3://b/p/e", Periods: 3}, "bill: s3://b/p/e, delivered, 3 period(s)"},
		{Bill{Note: "no CUR 2.0 export found"}, "bill: no CUR 2.0 export found"},
	} {
		if got := tc.b.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.b, got, tc.want)
		}
	}
}

// TestDiscoveredBillQueuesIngest: the bill that verification discovers
// (from the CLI as from the server) gets its ingest queued in the store,
// due now, so a running server's scheduler runs it without a restart
// (issue 11). STS, Data Exports and S3 are stubbed: no request leaves the
// process.
func TestDiscoveredBillQueuesIngest(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tenant, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tenant.ID, ExternalID: "cb-ext", HubPrincipal: "arn:aws:iam::111111111111:role/hub",
		Modules: []manifest.Module{manifest.ModuleCUR}})
	if err != nil {
		t.Fatal(err)
	}
	if conn, err = storetest.Bind(ctx, st, conn.ID, "arn:aws:iam::222222222222:role/CrossbillAccess"); err != nil {
		t.Fatal(err)
	}
	hub := exportsAnswer(export(DefaultExportName, "SELECT * FROM COST_AND_USAGE_REPORT", "bills", "cur"))
	hub.APIOptions = append(hub.APIOptions,
		emulator.Stub("STS", "AssumeRole", &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{AccessKeyId: aws.String("ASIAEXAMPLE"),
			SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"), Expiration: aws.Time(time.Now().Add(time.Hour))}}, nil),
		emulator.Stub("S3", "ListObjectsV2", &s3.ListObjectsV2Output{}, nil))
	bill, err := discoverBill(ctx, st, conn, Options{AWS: awsclient.MustFactory(hub), Tenant: "acme"})
	if err != nil || bill == nil || !bill.Discovered || bill.Source != "s3://bills/cur/"+DefaultExportName {
		t.Fatalf("discoverBill = %+v, %v", bill, err)
	}
	jobs, err := st.Jobs(ctx, tenant.ID, store.JobFilter{ConnectionID: conn.ID, Kind: IngestJob})
	if err != nil || len(jobs) != 1 || jobs[0].Status != store.JobQueued || jobs[0].NextRunAt.After(time.Now()) {
		t.Fatalf("ingest jobs after discovery: %+v, %v; want one queued, due now", jobs, err)
	}
}
