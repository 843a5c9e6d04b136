package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/cluster"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/pgtest"
	"github.com/crossbill/crossbill/internal/store"
)

// In cluster mode the cost and commitments commands run where the data
// were not loaded (another data directory, the same PostgreSQL) and read
// the shared store given by --cost-store (moto's S3): they answer what the
// loading replica's local store answers, and without the flag they read
// their own, empty, local store.
func TestCostStoreFlag(t *testing.T) {
	ctx := context.Background()
	moto := emulator.Shared(t)
	root, err := moto.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := root.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The hub credentials, from the environment as an operator's would be.
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("CROSSBILL_COST_STORE", "")
	const bucket = "crossbill-cli-costs"
	client := s3.NewFromConfig(root, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Database(t)
	loader, reader := t.TempDir(), t.TempDir()
	out, errOut, code := runCLI(t, loader, "--database", db, "tenant", "create", "acme", "--json")
	var tn struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &tn) != nil {
		t.Fatalf("tenant create: %d %s", code, errOut)
	}

	// The loading replica: ingest into its local store, publish.
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: t.TempDir(), Seed: 5, Accounts: 2, Months: 1, ResourcesPerAccount: 6,
		Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		staging, err := costs.Open(ctx, loader)
		if err != nil {
			t.Fatal(err)
		}
		defer staging.Close()
		meta, err := store.OpenDatabase(ctx, loader, db)
		if err != nil {
			t.Fatal(err)
		}
		defer meta.Close()
		c, err := cluster.New(cluster.Config{URL: "s3://" + bucket + "/costs", S3: client, Versions: meta, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Ingest(ctx, staging, ingest.Options{Source: filepath.Join(gen.Dir, gen.Prefix, gen.Export), Tenant: crossbill.TenantID(tn.ID)}); err != nil {
			t.Fatal(err)
		}
	}()

	shared := []string{"--cost-store", "s3://" + bucket + "/costs", "--cost-store-endpoint", moto.URL}
	for _, args := range [][]string{
		{"costs", "--tenant", "acme", "--group-by", "service", "--from", "2026-06", "--to", "2026-07", "--json"},
		{"costs", "periods", "--json"}, // no --tenant: the one with committed versions
		{"commitments", "coverage", "--tenant", "acme", "--json"},
	} {
		want, errOut, code := runCLI(t, loader, append([]string{"--database", db}, args...)...)
		if code != 0 {
			t.Fatalf("%v on the loading replica: %d %s", args, code, errOut)
		}
		got, errOut, code := runCLI(t, reader, append(append([]string{"--database", db}, args...), shared...)...)
		if code != 0 {
			t.Fatalf("%v --cost-store: %d %s", args, code, errOut)
		}
		if !sameJSON(t, got, want) {
			t.Errorf("%v --cost-store answers\n%s\nthe loading replica\n%s", args, got, want)
		}
		if local, _, _ := runCLI(t, reader, append([]string{"--database", db}, args...)...); sameJSON(t, local, want) {
			t.Errorf("%v without --cost-store answers like the loaded store: the test cannot tell the stores apart", args)
		}
	}
}

// sameJSON compares two JSON answers, numbers to 1e-9 relative: DuckDB's
// parallel sums differ in their last digits from run to run.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	return closeValues(x, y)
}

func closeValues(x, y any) bool {
	switch x := x.(type) {
	case float64:
		y, ok := y.(float64)
		return ok && math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !closeValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !closeValues(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(x, y)
}
