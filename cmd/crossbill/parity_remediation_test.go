package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

// TestParityRemediation: `remediate plan|show|list|run|undo --json` and the
// remediation routes give the same plans, refusals and outcomes for the
// same targets in moto (one use case each). Not parallel: the CLI reads
// the hub's key from the environment.
func TestParityRemediation(t *testing.T) {
	ctx := context.Background()
	srv := emulator.Shared(t)
	setHubEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	root, err := srv.RootConfig(ctx)
	mustNoErr(t, err)
	customer := root.Copy()
	customer.Region = "us-east-2"
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	tn, err := st.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: tn.ID, ExternalID: "cb-parity-external-id-0123456789", HubPrincipal: "arn:aws:iam::123456789012:user/hub",
		Modules: []manifest.Module{manifest.ModuleRemediation}})
	mustNoErr(t, err)
	_, err = storetest.Bind(ctx, st, c.ID, crossbill.RoleARN("arn:aws:iam::123456789012:role/CrossbillAccess"))
	mustNoErr(t, err)

	launch := func(tags map[string]string) string {
		var ts []ec2types.Tag
		for k, v := range tags {
			ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out, err := ec2.NewFromConfig(customer).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			InstanceType: ec2types.InstanceTypeT3Micro, TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ts}}})
		mustNoErr(t, err)
		return "arn:aws:ec2:us-east-2:123456789012:instance/" + aws.ToString(out.Instances[0].InstanceId)
	}
	cliTargets := []string{launch(map[string]string{"crossbill-remediation": "allowed"}), launch(map[string]string{"team": "web"})}
	apiTargets := []string{launch(map[string]string{"crossbill-remediation": "allowed"}), launch(map[string]string{"team": "web"})}
	state := func(arn string) string {
		out, err := ec2.NewFromConfig(customer).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{arn[strings.LastIndex(arn, "/")+1:]}})
		mustNoErr(t, err)
		return string(out.Reservations[0].Instances[0].State.Name)
	}

	hub := root.Copy()
	rec := awsclient.NewRecorder()
	rec.Attach(&hub)
	api := newAPI(t, dir, awsclient.MustFactory(hub), "")
	aws := []string{"--tenant", "acme", "--endpoint-url", srv.URL, "--json"}

	stdout, stderr, code := runCLI(t, dir, append([]string{"remediate", "plan", "--action", "stop-instance", "--arn", cliTargets[0], "--arn", cliTargets[1]}, aws...)...)
	if code != 0 {
		t.Fatalf("CLI plan: %d %s", code, stderr)
	}
	var cliPlan remediation.Plan
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliPlan))
	status, body := api.do(t, "POST", "/api/v1/tenants/acme/remediations", map[string]any{"targets": []map[string]string{
		{"action": "stop-instance", "arn": apiTargets[0]}, {"action": "stop-instance", "arn": apiTargets[1]}}})
	if status != http.StatusCreated {
		t.Fatalf("API plan: %d %s", status, body)
	}
	var apiPlan remediation.Plan
	mustNoErr(t, json.Unmarshal(body, &apiPlan))
	// Same decisions, with each side's own resource IDs.
	norm := func(p remediation.Plan, arns []string) string {
		b, _ := json.Marshal(p.Items)
		s := string(b)
		for i, a := range arns {
			id := a[strings.LastIndex(a, "/")+1:]
			s = strings.ReplaceAll(strings.ReplaceAll(s, a, "ARN"+string(rune('0'+i))), id, "ID"+string(rune('0'+i)))
		}
		return s
	}
	if norm(cliPlan, cliTargets) != norm(apiPlan, apiTargets) || cliPlan.State != remediation.StateAwaiting || apiPlan.State != cliPlan.State {
		t.Fatalf("plans differ\nCLI %s %s\nAPI %s %s", cliPlan.State, norm(cliPlan, cliTargets), apiPlan.State, norm(apiPlan, apiTargets))
	}
	if cliPlan.Items[0].Status != remediation.ItemReady || cliPlan.Items[1].Status != remediation.ItemRefused {
		t.Fatalf("CLI plan items: %+v", cliPlan.Items)
	}

	// Not approved: both refuse with the same words (exit 4, 409).
	_, cliErr, code := runCLI(t, dir, append([]string{"remediate", "run", cliPlan.ID}, aws...)...)
	status, body = api.do(t, "POST", "/api/v1/tenants/acme/remediations/"+apiPlan.ID+"/run", nil)
	if code != 4 || status != http.StatusConflict || !strings.Contains(cliErr, "waits for approval") || !strings.Contains(string(body), "waits for approval") {
		t.Fatalf("run before approval: CLI %d %s, API %d %s", code, cliErr, status, body)
	}

	// show and list answer the same stored plan.
	stdout, _, code = runCLI(t, dir, "remediate", "show", cliPlan.ID, "--tenant", "acme", "--json")
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/remediations/"+cliPlan.ID, nil)
	if code != 0 || status != 200 || !sameJSON(t, stdout, string(body)) {
		t.Errorf("show: CLI %d %s\nAPI %d %s", code, stdout, status, body)
	}
	stdout, _, code = runCLI(t, dir, "remediate", "list", "--tenant", "acme", "--json")
	status, body = api.do(t, "GET", "/api/v1/tenants/acme/remediations", nil)
	if code != 0 || status != 200 || !sameJSON(t, stdout, string(body)) || !strings.Contains(stdout, apiPlan.ID) {
		t.Errorf("list: CLI %d %s\nAPI %d %s", code, stdout, status, body)
	}

	// Approved by someone else: both run, then both undo.
	for _, p := range []remediation.Plan{cliPlan, apiPlan} {
		if _, err := approval.Decide(ctx, st, tn.ID, p.ApprovalID, true, "fine", store.AuditEntry{Actor: "user:bob", PersonEmail: "bob@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code = runCLI(t, dir, append([]string{"remediate", "run", cliPlan.ID}, aws...)...)
	status, body = api.do(t, "POST", "/api/v1/tenants/acme/remediations/"+apiPlan.ID+"/run", nil)
	var cliRan, apiRan remediation.Plan
	if code != 0 || status != 200 || json.Unmarshal([]byte(stdout), &cliRan) != nil || json.Unmarshal(body, &apiRan) != nil {
		t.Fatalf("run: CLI %d %s, API %d %s", code, stderr, status, body)
	}
	if cliRan.State != remediation.StateDone || apiRan.State != remediation.StateDone || state(cliTargets[0]) != "stopped" || state(apiTargets[0]) != "stopped" ||
		state(cliTargets[1]) != "running" || state(apiTargets[1]) != "running" {
		t.Fatalf("after run: %s %s", cliRan.State, apiRan.State)
	}
	_, stderr, code = runCLI(t, dir, append([]string{"remediate", "undo", cliPlan.ID}, aws...)...)
	status, body = api.do(t, "POST", "/api/v1/tenants/acme/remediations/"+apiPlan.ID+"/undo", nil)
	if code != 0 || status != 200 || state(cliTargets[0]) != "running" || state(apiTargets[0]) != "running" {
		t.Fatalf("undo: CLI %d %s, API %d %s", code, stderr, status, body)
	}
	if u := rec.Undeclared(); len(u) != 0 {
		t.Errorf("undeclared calls: %v", u)
	}
}
