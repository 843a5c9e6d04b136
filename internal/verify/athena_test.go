package verify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestVerifyAthenaOption: the CUR stack's Athena option is probed only for
// the connection the tenant's cost queries run in Athena through. With IAM
// enforced, the probe fails while the role lacks the option's actions,
// then while the Glue table is missing, and passes once the customer's
// administrator has created it; each failure says to deploy the option.
// moto's CloudFormation cannot create Glue resources, so the administrator
// does what the stack would; and moto authorizes Glue calls against
// resource "*" (it knows no Glue ARNs), so the option's actions are
// granted on "*" here (the template test checks the real scoping).
func TestVerifyAthenaOption(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const probe = "probe:cur:glue:GetTable"
	opts := verify.Options{AWS: awsclient.MustFactory(w.hubConfig(t))}
	mods := []manifest.Module{manifest.ModuleCUR}
	ext := newExternalID(t)
	conn := w.newConnection(t, ext, mods)
	role := w.deployRole(t, "crossbill-athena", onboarding.DefaultRoleName, ext, mods)
	run := func() verify.Result {
		t.Helper()
		res, err := verify.Connection(ctx, w.st, verify.Request{Tenant: w.tenant.ID, RoleARN: string(role)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	find := func(res verify.Result) (store.VerificationCheck, bool) {
		for _, c := range res.Checks {
			if c.Name == probe {
				return c, true
			}
		}
		return store.VerificationCheck{}, false
	}
	if c, ok := find(run()); ok {
		t.Fatalf("the Athena option is probed while the tenant's engine is local: %+v", c)
	}
	if _, err := w.st.SetCostEngine(ctx, store.CostEngine{TenantID: w.tenant.ID, Engine: store.EngineAthena, ConnectionID: conn.ID,
		Table: manifest.AthenaDatabase + "." + manifest.AthenaTable, WorkGroup: manifest.AthenaWorkGroup}); err != nil {
		t.Fatal(err)
	}
	failed := func(what string, class awsclient.Class) {
		t.Helper()
		c, ok := find(run())
		if !ok || c.Status != store.CheckFail || c.Class != string(class) || !strings.HasPrefix(c.Advice, verify.AthenaAdvice) {
			t.Fatalf("%s: %+v (found %v)", what, c, ok)
		}
	}
	failed("without the option's permissions", awsclient.ClassNoIdentityPolicy)

	// The customer turns the option on.
	var statements []any
	for _, p := range manifest.CURAthena() {
		statements = append(statements, map[string]any{"Effect": "Allow", "Action": p.Action, "Resource": "*"})
	}
	doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		t.Fatal(err)
	}
	roleName := role[strings.LastIndex(string(role), "/")+1:]
	must(t, call(iam.NewFromConfig(w.customer).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(string(roleName)),
		PolicyName: aws.String("athena"), PolicyDocument: aws.String(string(doc))})))
	admin := w.customer.Copy()
	admin.Region = "us-east-1"
	g := glue.NewFromConfig(admin)
	failed("without the Glue table", awsclient.ClassNotFound)
	must(t, call(g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(manifest.AthenaDatabase)}})))
	must(t, call(g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(manifest.AthenaDatabase),
		TableInput: &gluetypes.TableInput{Name: aws.String(manifest.AthenaTable), TableType: aws.String("EXTERNAL_TABLE")}})))
	if c, ok := find(run()); !ok || c.Status != store.CheckPass {
		t.Fatalf("with the option on: %+v (found %v)", c, ok)
	}
	if undeclared := w.rec.Undeclared(); len(undeclared) > 0 {
		t.Fatalf("undeclared calls: %v", undeclared)
	}
}
