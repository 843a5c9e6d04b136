package emulator_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bcmdataexports"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
)

// TestDataExportsStandIn: moto does not serve BCM Data Exports, so the
// launcher answers CreateExport/GetExport/ListExports itself. DeployStack
// creates the CUR stack's export through it (moto's CloudFormation cannot),
// resolved against the stack (bucket, prefix, name); the export is the
// deploying account's only; with IAM enforced, moto's checks apply: a
// caller without bcm-data-exports:ListExports is denied, a bad signature is
// refused.
func TestDataExportsStandIn(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := emulator.CreateUser(ctx, root, "hub", emulator.HubPolicy)
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	acct, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("other"), Email: aws.String("other@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(acct.CreateAccountStatus.AccountId)
	s, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + other + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	otherCfg, err := srv.Config(ctx, aws.ToString(s.Credentials.AccessKeyId), aws.ToString(s.Credentials.SecretAccessKey), aws.ToString(s.Credentials.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(otherCfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
		PolicyName: aws.String("admin"), PolicyDocument: aws.String(emulator.AdminPolicy)}); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnforceIAM(ctx); err != nil {
		t.Fatal(err)
	}
	adminCfg, err := srv.Config(ctx, admin.KeyID, admin.Secret, "")
	if err != nil {
		t.Fatal(err)
	}

	// The CUR stack grants the account role its reads: the role first.
	role, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: "ext-1234567890abcdef", HubPrincipal: hub.ARN, Modules: []manifest.Module{manifest.ModuleCUR}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.CreateStack(ctx, adminCfg, "crossbill", role, nil); err != nil {
		t.Fatal(err)
	}
	body, err := onboarding.CURTemplate(onboarding.CUROptions{})
	if err != nil {
		t.Fatal(err)
	}
	outputs, made, err := emulator.DeployStack(ctx, adminCfg, "crossbill-cur", body, map[string]string{"ExportName": "my-cur"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(made, ",") != "CurExport" || !strings.HasPrefix(outputs["ExportArn"], "arn:aws:bcm-data-exports:us-east-1:"+emulator.DefaultAccount+":export/my-cur-") {
		t.Fatalf("made %v outside CloudFormation, outputs %v", made, outputs)
	}

	c := bcmdataexports.NewFromConfig(adminCfg)
	list, err := c.ListExports(ctx, &bcmdataexports.ListExportsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Exports) != 1 || aws.ToString(list.Exports[0].ExportArn) != outputs["ExportArn"] || aws.ToString(list.Exports[0].ExportName) != "my-cur" {
		t.Fatalf("ListExports = %+v, want the stack's export", list.Exports)
	}
	got, err := c.GetExport(ctx, &bcmdataexports.GetExportInput{ExportArn: aws.String(outputs["ExportArn"])})
	if err != nil {
		t.Fatal(err)
	}
	d := got.Export.DestinationConfigurations.S3Destination
	if aws.ToString(d.S3Bucket) != outputs["BucketName"] || aws.ToString(d.S3Prefix) != outputs["Prefix"] ||
		!strings.Contains(aws.ToString(got.Export.DataQuery.QueryStatement), "FROM COST_AND_USAGE_REPORT") {
		t.Errorf("GetExport = %+v, want the stack's bucket %s, prefix %s and the CUR query", d, outputs["BucketName"], outputs["Prefix"])
	}
	_, err = c.GetExport(ctx, &bcmdataexports.GetExportInput{ExportArn: aws.String(outputs["ExportArn"] + "x")})
	if code(err) != "ResourceNotFoundException" {
		t.Errorf("GetExport of an unknown ARN: %v, want ResourceNotFoundException", err)
	}

	// Another account sees none of it.
	if l, err := bcmdataexports.NewFromConfig(otherCfg).ListExports(ctx, &bcmdataexports.ListExportsInput{}); err != nil || len(l.Exports) != 0 {
		t.Errorf("account %s lists %v (%v), want none", other, l, err)
	}
	// Authenticated and authorized as by AWS.
	hubCfg, err := srv.Config(ctx, hub.KeyID, hub.Secret, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bcmdataexports.NewFromConfig(hubCfg).ListExports(ctx, &bcmdataexports.ListExportsInput{}); code(err) != "AccessDeniedException" {
		t.Errorf("a caller without bcm-data-exports:ListExports: %v, want AccessDeniedException", err)
	}
	forged, err := srv.Config(ctx, admin.KeyID, "not-the-secret", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bcmdataexports.NewFromConfig(forged).ListExports(ctx, &bcmdataexports.ListExportsInput{}); code(err) == "" {
		t.Error("a bad signature was accepted")
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
