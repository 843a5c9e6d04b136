package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/cur/ingest"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestCurIngestThroughConnection: the customer's bill bucket lives in their
// own account (222222222222) and moto refuses other accounts' buckets, so
// `cur ingest --connection` succeeds only by assuming the connection's role
// there, while the hub's own credentials (moto's default account) are
// refused. (IAM is not enforced: moto's S3 signature check rejects the Go
// SDK's requests when it is.) Not parallel: it sets the hub's credentials
// in the environment.
func TestCurIngestThroughConnection(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{IsolateS3Accounts: true})
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	const customer = "222222222222"
	roleARN := "arn:aws:iam::" + customer + ":role/CrossbillAccess"
	hubARN := "arn:aws:iam::" + emulator.DefaultAccount + ":user/crossbill-hub"
	const ext = "cb-test-ingest-through-role-0123456789"

	// The customer's export in a bucket of their account.
	setup, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + customer + ":role/Setup"),
		RoleSessionName: aws.String("setup")})
	mustNoErr(t, err)
	cust, err := srv.Config(ctx, aws.ToString(setup.Credentials.AccessKeyId), aws.ToString(setup.Credentials.SecretAccessKey), aws.ToString(setup.Credentials.SessionToken))
	mustNoErr(t, err)
	custS3 := s3.NewFromConfig(cust, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = custS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bills")})
	mustNoErr(t, err)
	local := t.TempDir()
	costtest.Export(t, local, "cur", "exp", "2026-01", "exec-1", cur.Columns(),
		[]costtest.Row{costRow("2026-01-05", "AmazonEC2", "42"), costRow("2026-01-06", "AmazonS3", "8")})
	emulator.UploadDir(t, ctx, custS3, "bills", "", local)

	// crossbill's side: tenant acme with a verified connection to the role,
	// and a pending one.
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	acme, err := st.CreateTenant(ctx, "acme")
	mustNoErr(t, err)
	_, err = st.CreateTenant(ctx, "beta")
	mustNoErr(t, err)
	conn, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: ext,
		HubPrincipal: hubARN, Modules: []manifest.Module{manifest.ModuleCUR}})
	mustNoErr(t, err)
	_, err = storetest.Bind(ctx, st, conn.ID, crossbill.RoleARN(roleARN))
	mustNoErr(t, err)
	now := time.Now().UTC()
	_, err = st.SaveVerification(ctx, store.Verification{ConnectionID: conn.ID, RoleARN: crossbill.RoleARN(roleARN),
		Status: store.VerificationVerified, StartedAt: now, FinishedAt: now})
	mustNoErr(t, err)
	pending, err := st.CreateConnection(ctx, store.NewConnection{TenantID: acme.ID, ExternalID: "cb-test-pending-0123456789",
		HubPrincipal: hubARN, Modules: []manifest.Module{manifest.ModuleCUR}})
	mustNoErr(t, err)
	mustNoErr(t, st.Close())

	setHubEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	base := []string{"cur", "ingest", "--tenant", "acme", "--source", "s3://bills/cur/exp", "--endpoint-url", srv.URL}

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"hub credentials alone are denied", nil, 5, "denied"},
		{"unknown connection", []string{"--connection", "nope"}, 3, "no connection"},
		{"connection of another tenant", []string{"--tenant", "beta", "--connection", string(conn.ID)}, 3, "no connection"},
		{"connection not verified", []string{"--connection", string(pending.ID)}, 2, "connect verify"},
		{"connection with a local directory", []string{"--connection", string(conn.ID), "--source", local}, 2, "local directory"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, dir, append(append([]string{}, base...), tt.args...)...)
		if code != tt.code || !strings.Contains(strings.ToLower(stderr), tt.msg) {
			t.Errorf("%s: code %d, stderr %q; want %d mentioning %q", tt.name, code, stderr, tt.code, tt.msg)
		}
	}

	out, stderr, code := runCLI(t, dir, append(base, "--connection", string(conn.ID), "--json")...)
	var res ingest.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Periods) != 1 || res.Periods[0].Status != ingest.StatusLoaded || res.Periods[0].Rows != 2 {
		t.Fatalf("ingest through the connection: code %d, out %q, stderr %q", code, out, stderr)
	}
	// What the CLI loaded is filed under the tenant, where the server reads it.
	out, _, code = runCLI(t, dir, "costs", "--tenant", "acme", "--metric", "unblended", "--granularity", "monthly", "--json")
	if code != 0 || !strings.Contains(out, `"total": 50`) {
		t.Errorf("costs of acme after the ingest: code %d, out %s", code, out)
	}
}
