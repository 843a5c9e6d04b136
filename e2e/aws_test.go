package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
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
}

// newAWSWorld builds the world; moto enforces IAM once it is built.
func newAWSWorld(ctx context.Context, t *testing.T) *awsWorld {
	t.Helper()
	srv := emulator.Own(t, emulator.Options{NoAuthActions: 1 << 20})
	root, err := srv.RootConfig(ctx)
	must(t, err)
	w := &awsWorld{url: srv.URL}
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
	prod := "arn:aws:iam::" + w.members[0] + ":role/OrganizationAccountAccessRole"
	s, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(prod), RoleSessionName: aws.String("setup")})
	must(t, err)
	pa, err := srv.Config(ctx, aws.ToString(s.Credentials.AccessKeyId), aws.ToString(s.Credentials.SecretAccessKey), aws.ToString(s.Credentials.SessionToken))
	must(t, err)
	_, err = iam.NewFromConfig(pa).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
		PolicyName: aws.String("admin"), PolicyDocument: aws.String(emulator.AdminPolicy)})
	must(t, err)
	w.memberAdmins = []aws.Config{pa}

	// From here on moto checks every call's signature and policy.
	must(t, srv.EnforceIAM(ctx))
	return w
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
