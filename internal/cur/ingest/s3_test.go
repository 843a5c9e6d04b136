package ingest_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
)

// TestIngestFromS3 uploads a generated export to moto_server's S3 (under
// another prefix than the manifests name, as when an export is copied) and
// ingests it through the S3 API: the generator's totals, the same data as
// from the directory, then nothing to do.
func TestIngestFromS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "crossbill-cur-ingest-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	gen := generate(t)
	emulator.UploadDir(t, ctx, client, bucket, "billing", filepath.Join(gen.Dir, gen.Prefix))
	s3Store, dirStore := openStore(t), openStore(t)
	src := "s3://" + bucket + "/billing/" + gen.Export
	// The ingest's own calls are recorded: each must be declared in the
	// permission manifest, or the customer's role would refuse it.
	ingestCfg := cfg.Copy()
	rec := awsclient.NewRecorder()
	rec.Attach(&ingestCfg)
	res, err := ingest.Ingest(ctx, s3Store, ingest.Options{Source: src, Tenant: "acme", AWS: ingestCfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Operations()) == 0 {
		t.Fatal("the recorder saw no S3 call")
	}
	if undeclared := rec.Undeclared(); len(undeclared) > 0 {
		t.Errorf("ingest called operations the permission manifest does not declare: %v", undeclared)
	}
	if got := statuses(res); got != "2026-01=loaded 2026-02=loaded" {
		t.Fatalf("S3 ingest: %s", got)
	}
	if _, err := ingest.Ingest(ctx, dirStore, ingest.Options{Source: filepath.Join(gen.Dir, gen.Prefix, gen.Export), Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range gen.Months {
		a, b := periodTotal(t, s3Store, "acme", m.Period), periodTotal(t, dirStore, "acme", m.Period)
		if math.Abs(a-m.UnblendedCost) > 0.01 || math.Abs(a-b) > 1e-6 {
			t.Errorf("%s: S3 total %v, directory total %v, generator %v", m.Period, a, b, m.UnblendedCost)
		}
	}
	res, err = ingest.Ingest(ctx, s3Store, ingest.Options{Source: src, Tenant: "acme", AWS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "2026-01=unchanged 2026-02=unchanged" {
		t.Fatalf("second S3 ingest: %s", got)
	}

	_, err = ingest.Ingest(ctx, s3Store, ingest.Options{Source: "s3://no-such-bucket-crossbill/x/y", Tenant: "acme", AWS: cfg})
	if code := crossbill.ErrorCode(err); code != crossbill.CodeNotFound {
		t.Errorf("missing bucket: %v (code %q), want not_found", err, code)
	}
}

// TestIngestFromS3RetriesBrokenDownloads: downloads cut off mid-body (the
// SDK hands the body to crossbill, so it cannot retry them) and throttled
// listings are retried by the ingest, which then loads every period; when
// the downloads keep failing, the run fails with exit 6 and loads no
// period by halves.
func TestIngestFromS3RetriesBrokenDownloads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := emulator.Shared(t)
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(root, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "crossbill-cur-faults-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	gen := generate(t)
	emulator.UploadDir(t, ctx, client, bucket, "billing", filepath.Join(gen.Dir, gen.Prefix))
	src := "s3://" + bucket + "/billing/" + gen.Export

	proxy, err := emulator.StartFaultProxy(srv.URL, 7,
		emulator.Rule{Service: "s3", Operation: "ListObjectsV2", Fault: emulator.FaultThrottle, Times: 3},
		emulator.Rule{Service: "s3", Operation: "GetObject", Fault: emulator.FaultCut, Rate: 0.5, Times: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	cfg, err := awsclient.HubConfig(ctx, awsclient.HubOptions{EndpointURL: proxy.URL, Region: "us-east-1",
		AccessKey: &awsclient.AccessKey{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	res, err := ingest.Ingest(ctx, st, ingest.Options{Source: src, Tenant: "acme", AWS: cfg})
	if err != nil {
		t.Fatalf("ingest through %v: %v", proxy.Injected(), err)
	}
	if got := statuses(res); got != "2026-01=loaded 2026-02=loaded" {
		t.Fatalf("ingest: %s", got)
	}
	if cut := proxy.Injected()["s3:GetObject:cut"]; cut == 0 {
		t.Fatalf("no download was cut: %v", proxy.Injected())
	}
	for _, m := range gen.Months {
		if a := periodTotal(t, st, "acme", m.Period); math.Abs(a-m.UnblendedCost) > 0.01 {
			t.Errorf("%s: total %v, generator %v", m.Period, a, m.UnblendedCost)
		}
	}

	// Every data file download cut: the run fails, retryable, and nothing
	// is half loaded.
	proxy.SetRules(7, emulator.Rule{Service: "s3", Operation: "GetObject", Fault: emulator.FaultCut})
	fresh := openStore(t)
	_, err = ingest.Ingest(ctx, fresh, ingest.Options{Source: src, Tenant: "acme", AWS: cfg})
	if crossbill.ExitCode(err) != 6 {
		t.Fatalf("always-cut downloads: exit %d, want 6: %v", crossbill.ExitCode(err), err)
	}
	if n := proxy.Requests()["s3:GetObject"]; n < 4 {
		t.Fatalf("the download was tried %d times, want the ingest's retries", n)
	}
	for _, m := range gen.Months {
		if a := periodTotal(t, fresh, "acme", m.Period); a != 0 {
			t.Errorf("%s half loaded: total %v", m.Period, a)
		}
	}
}

// TestIngestFOCUSFilesFromS3: plain FOCUS files under an S3 prefix (moto)
// are ingested with --format focus through the S3 calls the permission
// manifest declares, with the totals of the raw file.
func TestIngestFOCUSFilesFromS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "crossbill-focus-files-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	emulator.UploadDir(t, ctx, client, bucket, "exports/azure", filepath.Join("testdata", "focus"))
	s := openStore(t)
	rec := awsclient.NewRecorder()
	ingestCfg := cfg.Copy()
	rec.Attach(&ingestCfg)
	res, err := ingest.Ingest(ctx, s, ingest.Options{Source: "s3://" + bucket + "/exports/azure", Tenant: "acme", AWS: ingestCfg, Format: ingest.FormatFOCUSFiles})
	if err != nil {
		t.Fatal(err)
	}
	if undeclared := rec.Undeclared(); len(undeclared) > 0 {
		t.Errorf("undeclared operations: %v", undeclared)
	}
	if got := statuses(res); got != "2024-09=loaded 2024-10=loaded" {
		t.Fatalf("FOCUS files from S3: %s", got)
	}
	// Both fixtures (Azure and OCI) are under the prefix.
	raw := "SELECT left(BillingPeriodStart, 7), sum(BilledCost::DOUBLE) FROM read_csv(['testdata/focus/azure-focus-2024.csv', 'testdata/focus/oci-focus-2024-10.csv'], all_varchar = true, union_by_name = true) GROUP BY 1"
	for p, want := range independent(t, raw) {
		if got := storeTotals(t, s, "acme", "unblended", "", p)["total"]; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %v from S3, %v in the raw files", p, got, want)
		}
	}
}
