package emulator_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/crossbill/crossbill/internal/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunTests(m)) }

func TestSharedServerAnswersSTS(t *testing.T) {
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != emulator.DefaultAccount {
		t.Fatalf("account = %s", aws.ToString(out.Account))
	}
}

// TestLauncherEnforcesExternalID checks the launcher's fix: with IAM
// enforced, AssumeRole without the external ID is denied (stock moto allows
// it), a wrong one is denied, the right one works, and an account-root
// principal matches a user of that account.
func TestLauncherEnforcesExternalID(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 4})
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	iamc := iam.NewFromConfig(root)
	// Call 1-4 are free: create a user with admin rights and its key.
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("hub")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("hub"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("hub")})
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"cb-right"}}}]}`
	role, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("target"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := srv.Config(ctx, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	if err != nil {
		t.Fatal(err)
	}
	hub.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))
	stsc := sts.NewFromConfig(hub)
	assume := func(ext *string) error {
		_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("t"), ExternalId: ext})
		return err
	}
	for name, ext := range map[string]*string{"missing": nil, "wrong": aws.String("cb-wrong")} {
		err := assume(ext)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("%s external ID: err = %v, want AccessDenied", name, err)
		}
	}
	if err := assume(aws.String("cb-right")); err != nil {
		t.Fatalf("right external ID denied: %v", err)
	}
}

// TestLauncherSignsS3KeysWithEquals checks the launcher's S3 fix: with IAM
// enforced, a key holding '=' (CUR 2.0's BILLING_PERIOD=YYYY-MM folders)
// is written, listed by a prefix that holds '=' and '/', and read back with
// the SDK's signature (stock moto refuses it: SignatureDoesNotMatch).
func TestLauncherSignsS3KeysWithEquals(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 3})
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy) // calls 1-3
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := srv.Config(ctx, admin.KeyID, admin.Secret, "")
	if err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	const bucket, key = "bills", "cur/exp/metadata/BILLING_PERIOD=2026-01/exp-Manifest.json"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("{}")}); err != nil {
		t.Fatalf("PutObject of a key with '=': %v", err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("cur/exp/metadata/BILLING_PERIOD=2026-01/")})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("ListObjectsV2 by a prefix with '=': %v, %+v", err, out)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("GetObject of a key with '=': %v", err)
	}
}
