package jit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Target kinds.
const (
	KindPermissionSet = "permission-set"
	KindGroup         = "iam-group"
)

// Principal types of a lease.
const (
	PrincipalICUser  = "USER"     // an Identity Center user (its user ID)
	PrincipalIAMUser = "IAM_USER" // an IAM user (its name)
)

// JITPath is the only IAM path whose groups crossbill changes.
const JITPath = "/crossbill-jit/"

// Target is what a lease grants.
type Target struct {
	Kind    string              `json:"kind"`
	Account crossbill.AccountID `json:"account"`
	// Permission set targets.
	PermissionSet     string `json:"permission_set,omitempty"` // ARN
	PermissionSetName string `json:"permission_set_name,omitempty"`
	Instance          string `json:"instance,omitempty"` // Identity Center instance ARN
	// IAM group targets.
	Group string `json:"group,omitempty"`
}

// Key names the target for reference counting and the reconciler.
func (t Target) Key() string {
	if t.Kind == KindGroup {
		return "group:" + string(t.Account) + ":" + t.Group
	}
	return "ps:" + string(t.Account) + ":" + t.PermissionSet
}

// String is the target for people.
func (t Target) String() string {
	if t.Kind == KindGroup {
		return fmt.Sprintf("IAM group %s in %s", t.Group, t.Account)
	}
	name := t.PermissionSetName
	if name == "" {
		name = t.PermissionSet
	}
	return fmt.Sprintf("permission set %s in %s", name, t.Account)
}

// Cloud is AWS as the lease engine and the reconciler see it: one
// implementation (cloud, below) over a connection's roles.
type Cloud interface {
	// Present reports whether principal holds the target.
	Present(ctx context.Context, t Target, principal string) (bool, error)
	// Holders lists the principals holding the target (Identity Center
	// users for a permission set, IAM user names for a group).
	Holders(ctx context.Context, t Target) ([]string, error)
	// Create starts the grant; an Identity Center request ID is returned
	// when the grant completes asynchronously.
	Create(ctx context.Context, t Target, principal string) (request string, err error)
	// Delete starts the revocation, likewise.
	Delete(ctx context.Context, t Target, principal string) (request string, err error)
	// Status polls an Identity Center request: done, or failed with the
	// reason.
	Status(ctx context.Context, t Target, request string, deletion bool) (done bool, err error)
}

// cloud reaches AWS through a connection's role: Identity Center through
// the connection's own role (the management or delegated administrator
// account), an IAM group through its account's member role.
type cloud struct {
	aws        *awsclient.Factory
	conn       store.Connection
	tenant     string
	region     string
	members    map[crossbill.AccountID]crossbill.RoleARN
	apiOptions []func(*middleware.Stack) error
}

func newCloud(f *awsclient.Factory, conn store.Connection, tenant, region string, members []store.Member, apiOptions []func(*middleware.Stack) error) *cloud {
	c := &cloud{aws: f, conn: conn, tenant: tenant, region: region, members: map[crossbill.AccountID]crossbill.RoleARN{}, apiOptions: apiOptions}
	for _, m := range members {
		if !m.Gone() && m.RoleARN != "" {
			c.members[m.AccountID] = m.RoleARN
		}
	}
	if c.region == "" {
		c.region = "us-east-1"
	}
	return c
}

func (c *cloud) config(account crossbill.AccountID) (aws.Config, error) {
	t := awsclient.Target{Tenant: c.tenant, Connection: c.conn.ID, RoleARN: c.conn.RoleARN, ExternalID: c.conn.ExternalID}
	if account != "" && account != c.conn.AccountID {
		role, ok := c.members[account]
		if !ok {
			return aws.Config{}, crossbill.Errorf(crossbill.CodeNotFound, "jit", "account %s is not a member account of connection %s: run `crossbill connect members --verify`", account, c.conn.ID)
		}
		t.RoleARN = role
	}
	cfg := c.aws.Config(t, c.region)
	cfg.APIOptions = append(cfg.APIOptions, c.apiOptions...)
	return cfg, nil
}

func (c *cloud) sso() (*ssoadmin.Client, error) {
	cfg, err := c.config("")
	if err != nil {
		return nil, err
	}
	return ssoadmin.NewFromConfig(cfg), nil
}

func (c *cloud) iam(account crossbill.AccountID) (*iam.Client, error) {
	cfg, err := c.config(account)
	if err != nil {
		return nil, err
	}
	return iam.NewFromConfig(cfg), nil
}

func (c *cloud) Holders(ctx context.Context, t Target) ([]string, error) {
	var out []string
	if t.Kind == KindGroup {
		client, err := c.iam(t.Account)
		if err != nil {
			return nil, err
		}
		p := iam.NewGetGroupPaginator(client, &iam.GetGroupInput{GroupName: aws.String(t.Group)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, awsclient.Classify("jit: reading group "+t.Group, err)
			}
			for _, u := range page.Users {
				out = append(out, aws.ToString(u.UserName))
			}
		}
		return out, nil
	}
	client, err := c.sso()
	if err != nil {
		return nil, err
	}
	p := ssoadmin.NewListAccountAssignmentsPaginator(client, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(t.Instance),
		AccountId: aws.String(string(t.Account)), PermissionSetArn: aws.String(t.PermissionSet)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsclient.Classify("jit: listing assignments of "+t.String(), err)
		}
		for _, a := range page.AccountAssignments {
			if a.PrincipalType == ssotypes.PrincipalTypeUser {
				out = append(out, aws.ToString(a.PrincipalId))
			}
		}
	}
	return out, nil
}

func (c *cloud) Present(ctx context.Context, t Target, principal string) (bool, error) {
	hs, err := c.Holders(ctx, t)
	if err != nil {
		return false, err
	}
	for _, h := range hs {
		if h == principal {
			return true, nil
		}
	}
	return false, nil
}

func (c *cloud) Create(ctx context.Context, t Target, principal string) (string, error) {
	if t.Kind == KindGroup {
		client, err := c.iam(t.Account)
		if err != nil {
			return "", err
		}
		_, err = client.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(t.Group), UserName: aws.String(principal)})
		return "", awsclient.Classify("jit: adding "+principal+" to "+t.Group, err)
	}
	client, err := c.sso()
	if err != nil {
		return "", err
	}
	out, err := client.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(t.Instance), PermissionSetArn: aws.String(t.PermissionSet),
		PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(principal), TargetId: aws.String(string(t.Account)), TargetType: ssotypes.TargetTypeAwsAccount})
	if err != nil {
		var conflict *ssotypes.ConflictException
		if errors.As(err, &conflict) {
			return "", nil // an operation on the same assignment is in flight: the next poll sees the result
		}
		return "", awsclient.Classify("jit: assigning "+t.String(), err)
	}
	return requestID(out.AccountAssignmentCreationStatus), nil
}

func (c *cloud) Delete(ctx context.Context, t Target, principal string) (string, error) {
	if t.Kind == KindGroup {
		client, err := c.iam(t.Account)
		if err != nil {
			return "", err
		}
		_, err = client.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String(t.Group), UserName: aws.String(principal)})
		var nf *iamtypes.NoSuchEntityException
		if errors.As(err, &nf) {
			return "", nil // already gone
		}
		return "", awsclient.Classify("jit: removing "+principal+" from "+t.Group, err)
	}
	client, err := c.sso()
	if err != nil {
		return "", err
	}
	out, err := client.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: aws.String(t.Instance), PermissionSetArn: aws.String(t.PermissionSet),
		PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(principal), TargetId: aws.String(string(t.Account)), TargetType: ssotypes.TargetTypeAwsAccount})
	if err != nil {
		var nf *ssotypes.ResourceNotFoundException
		var conflict *ssotypes.ConflictException
		if errors.As(err, &nf) || errors.As(err, &conflict) {
			return "", nil
		}
		return "", awsclient.Classify("jit: removing the assignment of "+t.String(), err)
	}
	return requestID(out.AccountAssignmentDeletionStatus), nil
}

func requestID(s *ssotypes.AccountAssignmentOperationStatus) string {
	// Even a request already SUCCEEDED is confirmed through its status:
	// one path for every answer.
	if s == nil {
		return ""
	}
	return aws.ToString(s.RequestId)
}

func (c *cloud) Status(ctx context.Context, t Target, request string, deletion bool) (bool, error) {
	client, err := c.sso()
	if err != nil {
		return false, err
	}
	var st *ssotypes.AccountAssignmentOperationStatus
	if deletion {
		out, err := client.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: aws.String(t.Instance),
			AccountAssignmentDeletionRequestId: aws.String(request)})
		if err != nil {
			return false, awsclient.Classify("jit: polling the revocation of "+t.String(), err)
		}
		st = out.AccountAssignmentDeletionStatus
	} else {
		out, err := client.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: aws.String(t.Instance),
			AccountAssignmentCreationRequestId: aws.String(request)})
		if err != nil {
			return false, awsclient.Classify("jit: polling the assignment of "+t.String(), err)
		}
		st = out.AccountAssignmentCreationStatus
	}
	if st == nil {
		return false, nil
	}
	switch st.Status {
	case ssotypes.StatusValuesSucceeded:
		return true, nil
	case ssotypes.StatusValuesFailed:
		return false, crossbill.Errorf(crossbill.CodeUnavailable, "jit", "Identity Center refused %s: %s", t, aws.ToString(st.FailureReason))
	}
	return false, nil
}

// scopeCheck refuses a target outside the access-jit module's scope, with
// the reason: a permission set must carry the tag crossbill-jit=allowed, a
// group must be under /crossbill-jit/. It also fills the target's names.
func (c *cloud) scopeCheck(ctx context.Context, t *Target) error {
	const op = "jit request"
	if t.Kind == KindGroup {
		client, err := c.iam(t.Account)
		if err != nil {
			return err
		}
		out, err := client.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(t.Group), MaxItems: aws.Int32(1)})
		var nf *iamtypes.NoSuchEntityException
		if errors.As(err, &nf) {
			return crossbill.Errorf(crossbill.CodeNotFound, op, "no IAM group %s in account %s", t.Group, t.Account)
		}
		if err != nil {
			return awsclient.Classify("jit: reading group "+t.Group, err)
		}
		if path := aws.ToString(out.Group.Path); !strings.HasPrefix(path, JITPath) {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "IAM group %s is under the path %s, outside crossbill's scope: only groups under %s can be granted (the access-jit role may change no other group)", t.Group, path, JITPath)
		}
		return nil
	}
	client, err := c.sso()
	if err != nil {
		return err
	}
	p := ssoadmin.NewListTagsForResourcePaginator(client, &ssoadmin.ListTagsForResourceInput{InstanceArn: aws.String(t.Instance), ResourceArn: aws.String(t.PermissionSet)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var nf *ssotypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return crossbill.Errorf(crossbill.CodeNotFound, op, "no permission set %s in Identity Center", t.PermissionSet)
		}
		if err != nil {
			return awsclient.Classify("jit: reading the tags of "+t.String(), err)
		}
		for _, tag := range page.Tags {
			if aws.ToString(tag.Key) == manifest.JITTagKey && aws.ToString(tag.Value) == "allowed" {
				return nil
			}
		}
	}
	return crossbill.Errorf(crossbill.CodeInvalid, op, "%s is not tagged %s=allowed, outside crossbill's scope: the customer tags the permission sets that may be granted just in time (the access-jit role may assign no other)", t, manifest.JITTagKey)
}

// principal maps a person to whom the target's grant goes: their
// Identity Center user (user name = email, then the email's local part)
// or IAM user (likewise) in the group's account.
func (c *cloud) principal(ctx context.Context, t Target, identityStore, email string) (id, name string, err error) {
	const op = "jit request"
	candidates := []string{email}
	if local, _, ok := strings.Cut(email, "@"); ok && local != "" {
		candidates = append(candidates, local)
	}
	if t.Kind == KindGroup {
		client, err := c.iam(t.Account)
		if err != nil {
			return "", "", err
		}
		for _, n := range candidates {
			out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(n)})
			var nf *iamtypes.NoSuchEntityException
			if errors.As(err, &nf) {
				continue
			}
			if err != nil {
				return "", "", awsclient.Classify("jit: looking up IAM user "+n, err)
			}
			return aws.ToString(out.User.UserName), aws.ToString(out.User.UserName), nil
		}
		return "", "", crossbill.Errorf(crossbill.CodeNotFound, op, "no IAM user named %s in account %s: the requester needs an IAM user named after their email (or its local part) to join a group", strings.Join(candidates, " or "), t.Account)
	}
	cfg, err := c.config("")
	if err != nil {
		return "", "", err
	}
	ids := identitystore.NewFromConfig(cfg)
	// The user name is the email (or its local part), or the email is
	// the user's.
	lookups := []struct{ path, value string }{{"userName", email}, {"emails.value", email}}
	if len(candidates) > 1 {
		lookups = append(lookups, struct{ path, value string }{"userName", candidates[1]})
	}
	for _, l := range lookups {
		out, err := ids.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(identityStore),
			AlternateIdentifier: &idstypes.AlternateIdentifierMemberUniqueAttribute{Value: idstypes.UniqueAttribute{AttributePath: aws.String(l.path), AttributeValue: document.NewLazyDocument(l.value)}}})
		var nf *idstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return "", "", awsclient.Classify("jit: looking up Identity Center user "+l.value, err)
		}
		return aws.ToString(out.UserId), l.value, nil
	}
	return "", "", crossbill.Errorf(crossbill.CodeNotFound, op, "no Identity Center user named %s: the requester needs an Identity Center user whose user name is their email (or its local part)", strings.Join(candidates, " or "))
}
