package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/store"
)

// TestOrgSCPAttachCLI: `crossbill org scp attach` against moto's
// Organizations, with the hub's credentials from the environment (moto's
// default account is the organization's management account): the default
// dry run prints the three steps and changes nothing; --dry-run=false
// applies them; a second run has nothing to do, and the organization
// holds one sharing policy, attached once.
func TestOrgSCPAttachCLI(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Own(t, emulator.Options{})
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	org := organizations.NewFromConfig(root)
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	mustNoErr(t, err)
	m, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("customer"), Email: aws.String("c@example.com")})
	mustNoErr(t, err)
	member := aws.ToString(m.CreateAccountStatus.AccountId)
	setHubEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	s, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	ten, err := s.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	now := time.Now().UTC()
	_, err = s.SaveHandshake(ctx, store.OrgHandshake{ID: "h-0123456789abcdef0123456789abcdef", TenantID: ten.ID, AccountID: crossbill.AccountID(member), State: orgshare.Accepted,
		RequestedAt: now, ExpiresAt: now.AddDate(0, 0, 15)}, store.AuditEntry{Actor: "test"})
	mustNoErr(t, err)
	s.Close()

	args := []string{"org", "scp", "attach", member, "--tenant", "acme", "--endpoint-url", srv.URL}
	stdout, stderr, code := runCLI(t, dir, args...)
	if code != 0 || !strings.Contains(stdout, "3 step(s) planned (dry run: nothing changed)") || !strings.Contains(stdout, "attach crossbill-commitment-sharing to account "+member) {
		t.Fatalf("dry run: %d %s %s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, dir, append(args, "--dry-run=false", "--json")...)
	var done orgshare.SCPAttachment
	mustNoErr(t, json.Unmarshal([]byte(stdout), &done))
	if code != 0 || done.DryRun || len(done.Steps) != 3 || !done.Steps[2].Done || done.PolicyID == "" {
		t.Fatalf("apply: %d %s %+v", code, stderr, done)
	}
	stdout, _, code = runCLI(t, dir, append(args, "--dry-run=false")...)
	if code != 0 || !strings.Contains(stdout, "in place, nothing to do") {
		t.Fatalf("second run: %d %s", code, stdout)
	}
	ps, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(member), Filter: orgtypes.PolicyTypeServiceControlPolicy})
	mustNoErr(t, err)
	n := 0
	for _, p := range ps.Policies {
		if aws.ToString(p.Id) == done.PolicyID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the sharing SCP is attached %d times", n)
	}
}
