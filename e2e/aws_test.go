package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costexplorer/cetest"
	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/verify"
)

// awsWorld is the AWS side of the browser test, in moto with IAM enforced:
// crossbill's hub user (it may only assume roles), and a customer's AWS
// Organization (the management account and two members) whose admin
// deploys crossbill's templates when the browser test asks, as a customer
// would after reading the external ID off the wizard.
type awsWorld struct {
	url                   string
	hubID, hubKey, hubARN string
	admin                 aws.Config   // the management account's administrator
	members               []string     // member account IDs
	memberAdmins          []aws.Config // administrators of the members the StackSet reaches
	payer                 aws.Config   // administrator of the account whose bill the test follows (the last member)
	costAdmin             aws.Config   // administrator of costAccount
	moto                  *emulator.Server
	volume                string // an unattached EBS volume in the management account
}

// costAccount is the day-zero Cost Explorer customer: a standalone account
// outside the organization (so the organization test's member count is
// unchanged) and in no other tenant's connection.
const costAccount = "333344445555"

// newAWSWorld builds the world; moto enforces IAM once it is built.
func newAWSWorld(ctx context.Context, t *testing.T) *awsWorld {
	t.Helper()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := srv.RootConfig(ctx)
	must(t, err)
	w := &awsWorld{url: srv.URL, moto: srv}
	hub, err := emulator.CreateUser(ctx, root, "crossbill-hub", emulator.HubPolicy)
	must(t, err)
	w.hubID, w.hubKey, w.hubARN = hub.KeyID, hub.Secret, hub.ARN
	admin, err := emulator.CreateUser(ctx, root, "admin", emulator.AdminPolicy)
	must(t, err)
	w.admin, err = srv.Config(ctx, admin.KeyID, admin.Secret, "")
	must(t, err)

	org := organizations.NewFromConfig(root)
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	must(t, err)
	for _, name := range []string{"prod", "sandbox"} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		must(t, err)
		w.members = append(w.members, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	// The members StackSet reaches prod only (sandbox's OU is not
	// targeted). Organizations made OrganizationAccountAccessRole there;
	// give it a policy and keep a session to deploy with.
	pa, err := w.orgAdmin(ctx, srv, root, w.members[0])
	must(t, err)
	w.memberAdmins = []aws.Config{pa}
	// The bill's account: the member the StackSet misses, so that its
	// role and CUR stack are the ones the bill test deploys.
	if w.payer, err = w.orgAdmin(ctx, srv, root, w.members[1]); err != nil {
		t.Fatal(err)
	}

	if w.costAdmin, err = standaloneAdmin(ctx, srv, root, costAccount); err != nil {
		t.Fatal(err)
	}

	// A volume nothing uses, in the management account: what the
	// Inventory page shows once the inventory job read the account.
	vol, err := ec2.NewFromConfig(w.admin).CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(100),
		VolumeType: ec2types.VolumeTypeGp2})
	must(t, err)
	w.volume = aws.ToString(vol.VolumeId)

	// From here on moto checks every call's signature and policy.
	must(t, srv.EnforceIAM(ctx))
	return w
}

// orgAdmin is an administrator session in a member account, through the
// role Organizations made there (given a policy first).
func (w *awsWorld) orgAdmin(ctx context.Context, srv *emulator.Server, root aws.Config, account string) (aws.Config, error) {
	role := "arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"
	s, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("setup")})
	if err != nil {
		return aws.Config{}, err
	}
	cfg, err := srv.Config(ctx, aws.ToString(s.Credentials.AccessKeyId), aws.ToString(s.Credentials.SecretAccessKey), aws.ToString(s.Credentials.SessionToken))
	if err != nil {
		return aws.Config{}, err
	}
	_, err = iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
		PolicyName: aws.String("admin"), PolicyDocument: aws.String(emulator.AdminPolicy)})
	return cfg, err
}

// standaloneAdmin is an administrator session in an account outside the
// organization. moto's AssumeRole lets any role ARN switch accounts (the
// role need not exist); the session then creates its own role with an
// admin policy, so that it still passes once IAM is enforced.
func standaloneAdmin(ctx context.Context, srv *emulator.Server, root aws.Config, account string) (aws.Config, error) {
	role := "arn:aws:iam::" + account + ":role/setup"
	s, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("setup")})
	if err != nil {
		return aws.Config{}, err
	}
	cfg, err := srv.Config(ctx, aws.ToString(s.Credentials.AccessKeyId), aws.ToString(s.Credentials.SecretAccessKey), aws.ToString(s.Credentials.SessionToken))
	if err != nil {
		return aws.Config{}, err
	}
	c := iam.NewFromConfig(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("setup"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		return aws.Config{}, err
	}
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("setup"), PolicyName: aws.String("admin"), PolicyDocument: aws.String(emulator.AdminPolicy)})
	return cfg, err
}

// costDeployer serves POST /deploy-cost {"external_id"}: costAccount's
// administrator deploys the account role stack with the cost module only,
// and Cost Explorer gets 12 months of daily cost for that account: moto's
// Cost Explorer tracks no cost and answers GetCostAndUsage with results
// queued per account (one per grouping the load asks for: account and
// service, account and region, service and usage type). moto serves no
// GetTags, GetCostForecast or GetDimensionValues: the load reports those
// as not read and goes on. It answers the RoleArn and the days' total.
func (w *awsWorld) costDeployer(t *testing.T) string {
	return serveDeploy(t, "/deploy-cost", func(ctx context.Context, ext crossbill.ExternalID) (any, error) {
		return w.deployCost(ctx, ext)
	})
}

type costDeployed struct {
	RoleARN string  `json:"role_arn"`
	From    string  `json:"from"`
	To      string  `json:"to"`
	Total   float64 `json:"total"`
}

func (w *awsWorld) deployCost(ctx context.Context, ext crossbill.ExternalID) (costDeployed, error) {
	role, err := deploy(ctx, w.costAdmin, "crossbill-access", w.hubARN, ext, []manifest.Module{manifest.ModuleCost})
	if err != nil {
		return costDeployed{}, err
	}
	// The first load reads 12 months: from the first day of the month 11
	// months back up to today.
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, 1-today.Day()).AddDate(0, -11, 0)
	const daily = 4.25
	ec2 := "Amazon Elastic Compute Cloud - Compute"
	g := func(a, b string) cetest.Group { return cetest.Group{Keys: [2]string{a, b}, Cost: daily} }
	if err := w.moto.QueueCostAndUsage(ctx, costAccount,
		cetest.Daily(from, today, "", g(costAccount, ec2)),
		cetest.Daily(from, today, "", g(costAccount, "us-east-1")),
		cetest.Daily(from, today, "", g(ec2, "USE1-BoxUsage:m5.large"))); err != nil {
		return costDeployed{}, err
	}
	days := int(today.Sub(from).Hours() / 24)
	return costDeployed{RoleARN: role, From: from.Format(time.DateOnly), To: today.Format(time.DateOnly), Total: daily * float64(days)}, nil
}

// billDeployer serves POST /deploy-bill {"external_id"}: the bill
// account's administrator deploys the account role stack (cur module) and
// the CUR stack, as `crossbill sandbox deploy` does (moto's CloudFormation
// cannot create the Data Exports export: it is created after the stack
// through the emulator's Data Exports stand-in, moto serving no Data
// Exports), and AWS delivers one billing period of a small CUR 2.0 export
// into the stack's bucket. It answers the RoleArn, the export's s3://
// source (which verify must discover by itself) and its amortized total.
func (w *awsWorld) billDeployer(t *testing.T) string {
	return serveDeploy(t, "/deploy-bill", func(ctx context.Context, ext crossbill.ExternalID) (any, error) {
		return w.deployBill(ctx, t.TempDir(), ext)
	})
}

// serveDeploy serves POST {"external_id"} at path: deploy runs one request
// at a time (the emulated customer is one administrator) and its answer is
// the JSON reply.
func serveDeploy(t *testing.T, path string, deploy func(context.Context, crossbill.ExternalID) (any, error)) string {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var in struct {
			ExternalID string `json:"external_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ExternalID == "" {
			http.Error(rw, "want {external_id}", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		out, err := deploy(r.Context(), crossbill.ExternalID(in.ExternalID))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(rw).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + path
}

type billDeployed struct {
	RoleARN   string  `json:"role_arn"`
	Source    string  `json:"source"`
	Amortized float64 `json:"amortized"`
}

func (w *awsWorld) deployBill(ctx context.Context, dir string, ext crossbill.ExternalID) (billDeployed, error) {
	role, err := deploy(ctx, w.payer, "crossbill-access", w.hubARN, ext, []manifest.Module{manifest.ModuleCUR})
	if err != nil {
		return billDeployed{}, err
	}
	body, err := onboarding.CURTemplate(onboarding.CUROptions{})
	if err != nil {
		return billDeployed{}, err
	}
	out, _, err := emulator.DeployStack(ctx, w.payer, "crossbill-cur", body, nil)
	if err != nil {
		return billDeployed{}, err
	}
	bucket, prefix := out["BucketName"], out["Prefix"]
	// Last month, so that the Costs page's default range (the latest
	// month with data) shows it.
	start := time.Now().UTC().AddDate(0, -1, 0)
	gen, err := cur.Generate(ctx, cur.GenerateOptions{Dir: dir, Prefix: prefix, Export: verify.DefaultExportName, Seed: 11, Accounts: 1, Months: 1,
		Start: time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC), ResourcesPerAccount: 4})
	if err != nil {
		return billDeployed{}, err
	}
	if err := emulator.Upload(ctx, s3.NewFromConfig(w.payer, func(o *s3.Options) { o.UsePathStyle = true }), bucket, prefix, filepath.Join(gen.Dir, gen.Prefix)); err != nil {
		return billDeployed{}, err
	}
	return billDeployed{RoleARN: role, Source: "s3://" + bucket + "/" + prefix + "/" + verify.DefaultExportName, Amortized: gen.Months[0].AmortizedCost}, nil
}

// deployer serves POST /deploy {"external_id", "modules"}: the customer's
// admin deploys the account role stack in the management account and the
// members stack's role where the StackSet reaches, and answers the
// RoleArn output. It stands in for the customer's console, which the
// browser test cannot drive.
func (w *awsWorld) deployer(t *testing.T) string {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var in struct {
			ExternalID string   `json:"external_id"`
			Modules    []string `json:"modules"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ExternalID == "" {
			http.Error(rw, "want {external_id, modules}", http.StatusBadRequest)
			return
		}
		mods, err := manifest.ParseModules(strings.Join(in.Modules, ","))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		ext := crossbill.ExternalID(in.ExternalID)
		role, err := deploy(r.Context(), w.admin, "crossbill-access", w.hubARN, ext, mods)
		for _, a := range w.memberAdmins {
			if err == nil {
				_, err = deploy(r.Context(), a, "StackSet-crossbill-members", w.hubARN, ext, onboarding.MemberModules(mods))
			}
		}
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(rw).Encode(map[string]string{"role_arn": role})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/deploy"
}

// deploy creates crossbill's account role stack with cfg and returns its
// RoleArn output.
func deploy(ctx context.Context, cfg aws.Config, stack, hub string, ext crossbill.ExternalID, mods []manifest.Module) (string, error) {
	body, err := onboarding.AccountRoleTemplate(onboarding.RoleOptions{ExternalID: ext, HubPrincipal: hub, Modules: mods})
	if err != nil {
		return "", err
	}
	out, err := emulator.CreateStack(ctx, cfg, stack, body, map[string]string{"ExternalId": string(ext), "HubPrincipalArn": hub})
	return out["RoleArn"], err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
