package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// User is an IAM user the tests made, with its access key.
type User struct {
	ARN, KeyID, Secret string
}

// CreateUser makes an IAM user with one inline policy and an access key,
// with cfg's credentials (an administrator of the account).
func CreateUser(ctx context.Context, cfg aws.Config, name, policy string) (User, error) {
	c := iam.NewFromConfig(cfg)
	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		return User{}, err
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(name), PolicyDocument: aws.String(policy)}); err != nil {
		return User{}, err
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return User{}, err
	}
	return User{ARN: aws.ToString(u.User.Arn), KeyID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}, nil
}

// Policies the tests give their users.
const (
	// AdminPolicy allows everything.
	AdminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	// HubPolicy is crossbill's hub identity: it may only assume roles.
	HubPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*"}]}`
)

// EnforceIAM makes the server check every call's signature and policy from
// now on. Use it after a setup made with IAM unenforced (NoAuthActions set
// high): counting the setup's free calls breaks when the SDK retries one
// on a loaded machine.
func (s *Server) EnforceIAM(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset-auth", strings.NewReader("0"))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset-auth: %s", resp.Status)
	}
	return nil
}
