package awsclient_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
)

// TestOpsLogFeedsTheManifestCheck: with CROSSBILL_RECORD_OPS set, every call
// made through a factory (hub or customer role) or a Recorder's
// configuration lands in this process's file, with how it was answered and
// whose credentials signed it; the manifest's reader reads it back.
func TestOpsLogFeedsTheManifestCheck(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(awsclient.EnvRecordOps, dir) // not parallel: the variable is the process's
	ctx := context.Background()
	root, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := awsclient.MustFactory(root)
	for i := 0; i < 2; i++ { // the second call adds no line
		if _, err := sts.NewFromConfig(f.Hub()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	// With IAM unenforced moto lets the AssumeRole through.
	role := f.Config(target("conn-ops", "crossbill"), "us-east-1")
	if _, err := ec2.NewFromConfig(role).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); err != nil {
		t.Fatal(err)
	}
	// A test's own configuration, with a stub for what moto cannot serve.
	own, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	awsclient.NewRecorder().Attach(&own)
	own.APIOptions = append(own.APIOptions, emulator.Stub("Pricing", "DescribeServices", &pricing.DescribeServicesOutput{}, nil))
	if _, err := pricing.NewFromConfig(own).DescribeServices(ctx, &pricing.DescribeServicesInput{}); err != nil {
		t.Fatal(err)
	}

	files, _ := filepath.Glob(filepath.Join(dir, "ops-*.tsv"))
	if len(files) != 1 {
		t.Fatalf("files %v, want one for this process", files)
	}
	raw, _ := os.ReadFile(files[0])
	ex, err := manifest.ReadExercised(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]manifest.Outcomes{
		"sts:GetCallerIdentity":    {Sent: true, HubOnly: true},
		"sts:AssumeRole":           {Sent: true, HubOnly: true},
		"ec2:DescribeVolumes":      {Sent: true},
		"pricing:DescribeServices": {Stubbed: true},
	}
	for call, o := range want {
		if ex[call] != o {
			t.Errorf("%s: %+v, want %+v\n%s", call, ex[call], o, raw)
		}
	}
	if len(ex) != len(want) {
		t.Errorf("logged %v, want %v", ex, want)
	}
}
