package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
)

// TestParityPurchases: the CLI and the API set and read the same
// guardrails, list and show the same plan, refuse a plan on a connection
// that cannot buy with the same message, and cancel a pending plan alike.
// Buying itself needs AWS and is tested in internal/purchase.
func TestParityPurchases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hub, "--modules", "commitments,commitments-purchase", "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("connect init: %d %s", code, stderr)
	}
	var conn initOut
	mustNoErr(t, json.Unmarshal([]byte(stdout), &conn))
	api := newAPI(t, dir, nil, "")

	// Guardrails.
	stdout, stderr, code = runCLI(t, dir, "commitments", "guardrails", "--tenant", "acme", "--max-upfront", "5000", "--min-utilization", "0.9", "--json")
	if code != 0 {
		t.Fatalf("CLI guardrails: %d %s", code, stderr)
	}
	var cliG, apiG purchase.Guardrails
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliG))
	st, body := api.do(t, "GET", "/api/v1/tenants/acme/commitments/guardrails", nil)
	mustNoErr(t, json.Unmarshal(body, &apiG))
	if st != 200 || cliG.MaxUpfront != 5000 || apiG.MaxUpfront != cliG.MaxUpfront || apiG.MinUtilization != 0.9 {
		t.Fatalf("guardrails: CLI %+v, API %d %+v", cliG, st, apiG)
	}
	_, cliBad, badCode := runCLI(t, dir, "commitments", "guardrails", "--tenant", "acme", "--min-utilization", "2")
	st, body = api.do(t, "PUT", "/api/v1/tenants/acme/commitments/guardrails", map[string]any{"min_expected_utilization": 2})
	if badCode != 2 || st != http.StatusBadRequest || !strings.Contains(cliBad, firstLine(errorText(t, body))) {
		t.Errorf("bad guardrail: CLI %d %s, API %d %s", badCode, cliBad, st, body)
	}

	// A plan on a connection not verified yet: the same refusal.
	_, cliRefusal, refCode := runCLI(t, dir, "commitments", "plan", "--tenant", "acme", "--connection", conn.ConnectionID, "--type", "ComputeSavingsPlans", "--hourly", "1")
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/commitments/plans", map[string]any{"connection": conn.ConnectionID, "type": "ComputeSavingsPlans", "term_years": 1, "payment_option": "No Upfront", "hourly_commitment": 1})
	if refCode != 2 || st != http.StatusBadRequest || !strings.Contains(cliRefusal, "verify it first") || !strings.Contains(cliRefusal, firstLine(errorText(t, body))) {
		t.Errorf("plan refusal: CLI %d %s, API %d %s", refCode, cliRefusal, st, body)
	}

	// One stored plan, listed and shown alike.
	ctx := context.Background()
	s, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer s.Close()
	ten, err := s.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	spec, _ := json.Marshal(purchase.Plan{Request: purchase.Request{Type: "ComputeSavingsPlans", TermYears: 1, Payment: "No Upfront", HourlyCommitment: 1, Tranches: 1},
		Offering: purchase.Offering{ID: "off-1"}, Ladder: []purchase.TranchePlan{{HourlyCommitment: 1}}})
	p, err := s.CreatePurchasePlan(ctx, store.PurchasePlan{TenantID: ten.ID, ConnectionID: crossbill.ConnectionID(conn.ConnectionID), Kind: purchase.KindPurchase,
		State: purchase.StatePending, Spec: spec, Tranches: []store.PurchaseTranche{{Due: time.Now(), State: purchase.TranchePlanned}}}, store.AuditEntry{Actor: "test"})
	mustNoErr(t, err)
	stdout, stderr, code = runCLI(t, dir, "commitments", "plans", "--tenant", "acme", "--json")
	var cliList, apiList []purchase.View
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliList))
	st, body = api.do(t, "GET", "/api/v1/tenants/acme/commitments/plans", nil)
	mustNoErr(t, json.Unmarshal(body, &apiList))
	if code != 0 || st != 200 || len(cliList) != 1 || len(apiList) != 1 || cliList[0].ID != p.ID || apiList[0].ID != p.ID || cliList[0].Plan.Offering.ID != apiList[0].Plan.Offering.ID {
		t.Fatalf("list: CLI %d %s %+v, API %d %+v", code, stderr, cliList, st, apiList)
	}
	stdout, _, _ = runCLI(t, dir, "commitments", "plans", p.ID, "--tenant", "acme", "--json")
	_, body = api.do(t, "GET", "/api/v1/tenants/acme/commitments/plans/"+p.ID, nil)
	var cliOne, apiOne purchase.View
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliOne))
	mustNoErr(t, json.Unmarshal(body, &apiOne))
	if a, c := mustJSON(t, apiOne), mustJSON(t, cliOne); a != c {
		t.Errorf("show differs:\nCLI %s\nAPI %s", c, a)
	}

	// A second plan approved in the shared inbox (approval.Decide): both
	// show it approved before execute has read the decision.
	p2, err := s.CreatePurchasePlan(ctx, store.PurchasePlan{TenantID: ten.ID, ConnectionID: crossbill.ConnectionID(conn.ConnectionID), Kind: purchase.KindPurchase,
		State: purchase.StatePending, Spec: spec, Tranches: []store.PurchaseTranche{{Due: time.Now(), State: purchase.TranchePlanned}}}, store.AuditEntry{Actor: "user:ann", PersonEmail: "ann@example.com"})
	mustNoErr(t, err)
	ap, err := approval.Open(ctx, s, approval.Request{Tenant: ten.ID, Kind: approval.KindPurchase, Subject: p2.ID, Summary: "buy", Detail: map[string]string{}},
		store.AuditEntry{Actor: "user:ann", PersonEmail: "ann@example.com"})
	mustNoErr(t, err)
	_, err = approval.Decide(ctx, s, ten.ID, ap.ID, true, "fine", store.AuditEntry{Actor: "user:bob", PersonEmail: "bob@example.com"})
	mustNoErr(t, err)
	stdout, _, _ = runCLI(t, dir, "commitments", "plans", p2.ID, "--tenant", "acme", "--json")
	_, body = api.do(t, "GET", "/api/v1/tenants/acme/commitments/plans/"+p2.ID, nil)
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliOne))
	mustNoErr(t, json.Unmarshal(body, &apiOne))
	if cliOne.State != purchase.StateApproved || apiOne.State != purchase.StateApproved {
		t.Errorf("approved in the inbox: CLI shows %s, API %s", cliOne.State, apiOne.State)
	}
	stdout, _, _ = runCLI(t, dir, "commitments", "plans", "--tenant", "acme", "--json")
	_, body = api.do(t, "GET", "/api/v1/tenants/acme/commitments/plans", nil)
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliList))
	mustNoErr(t, json.Unmarshal(body, &apiList))
	if a, c := mustJSON(t, apiList), mustJSON(t, cliList); a != c || !strings.Contains(a, `"state":"approved"`) {
		t.Errorf("list after the inbox's decision differs:\nCLI %s\nAPI %s", c, a)
	}

	// Cancelling it: the CLI, then the API on an already cancelled plan.
	stdout, stderr, code = runCLI(t, dir, "commitments", "cancel", p.ID, "--tenant", "acme", "--reason", "not needed", "--json")
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliOne))
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/commitments/plans/"+p.ID+"/cancel", map[string]string{"reason": "again"})
	if code != 0 || cliOne.State != purchase.StateCancelled || st != http.StatusConflict || !strings.Contains(string(body), "already cancelled") {
		t.Errorf("cancel: CLI %d %s %s, API %d %s", code, stderr, cliOne.State, st, body)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	mustNoErr(t, err)
	return string(b)
}
