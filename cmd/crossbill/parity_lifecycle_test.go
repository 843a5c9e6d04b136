package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/store"
)

// TestParityRenewalsAndSales: `commitments renewals` and GET
// .../commitments/renewals answer the same renewals from the same CUR (the
// fixture's Savings Plan and RDS reservation, as of a day before they
// end), and turning one into a plan on a connection that cannot buy is
// refused alike; `commitments sell` and GET .../commitments/sales list
// the same (no EC2 reservation in the fixture), and a listing plan for a
// reservation without one is refused alike.
func TestParityRenewalsAndSales(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	stdout, stderr, code := runCLI(t, dir, "connect", "init", "--tenant", "acme", "--principal", hub, "--modules", "commitments,commitments-purchase", "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("connect init: %d %s", code, stderr)
	}
	var conn initOut
	mustNoErr(t, json.Unmarshal([]byte(stdout), &conn))

	stdout, stderr, code = runCLI(t, dir, "commitments", "renewals", "--tenant", "acme", "--as-of", "2026-01-15", "--lookback", "14d", "--connection", conn.ConnectionID, "--json")
	if code != 0 {
		t.Fatalf("CLI renewals: %d %s", code, stderr)
	}
	var cliRen purchase.RenewalsReport
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliRen))
	if len(cliRen.Renewals) != 2 {
		t.Fatalf("CLI renewals: %+v, want the Savings Plan and the RDS reservation", cliRen)
	}
	sp := cliRen.Renewals[0]
	if sp.Commitment.ARN != commitmentstest.SPARN || sp.Alert != 30 || sp.Plan == nil || sp.Plan.HourlyCommitment != 0.9 || string(sp.Plan.Connection) != conn.ConnectionID {
		t.Errorf("the Savings Plan's renewal: %+v %+v (want the 30-day alert and $0.90/h: its used part)", sp, sp.Plan)
	}
	_, cliPlanErr, planCode := runCLI(t, dir, "commitments", "renewals", "--tenant", "acme", "--as-of", "2026-01-15", "--lookback", "14d",
		"--plan", sp.Commitment.ID, "--connection", conn.ConnectionID)
	stdout, stderr, code = runCLI(t, dir, "commitments", "sell", "--tenant", "acme", "--lookback", "14d", "--json")
	if code != 0 {
		t.Fatalf("CLI sell: %d %s", code, stderr)
	}
	var cliSales purchase.SalesReport
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliSales))
	_, cliSellErr, sellCode := runCLI(t, dir, "commitments", "sell", "--tenant", "acme", "--lookback", "14d", "--plan", "ri-none", "--connection", conn.ConnectionID)

	// The API, once the CLI runs are done (DuckDB's one-process lock).
	api := newCostAPI(t, dir)
	st, body := api.do(t, "GET", "/api/v1/tenants/acme/commitments/renewals?as_of=2026-01-15&lookback_days=14&connection="+conn.ConnectionID, nil)
	var apiRen purchase.RenewalsReport
	mustNoErr(t, json.Unmarshal(body, &apiRen))
	if a, c := mustJSON(t, apiRen), mustJSON(t, cliRen); st != 200 || a != c {
		t.Errorf("renewals differ (%d):\nCLI %s\nAPI %s", st, c, a)
	}
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/commitments/renewals/"+url.PathEscape(sp.Commitment.ID)+"/plan?as_of=2026-01-15&lookback_days=14",
		map[string]string{"connection": conn.ConnectionID})
	if planCode != 2 || st != http.StatusBadRequest || !strings.Contains(cliPlanErr, "verify it first") || !strings.Contains(cliPlanErr, firstLine(errorText(t, body))) {
		t.Errorf("renewal plan refusal: CLI %d %s, API %d %s", planCode, cliPlanErr, st, body)
	}
	st, body = api.do(t, "GET", "/api/v1/tenants/acme/commitments/sales?lookback_days=14", nil)
	var apiSales purchase.SalesReport
	mustNoErr(t, json.Unmarshal(body, &apiSales))
	if a, c := mustJSON(t, apiSales), mustJSON(t, cliSales); st != 200 || a != c {
		t.Errorf("sales differ (%d):\nCLI %s\nAPI %s", st, c, a)
	}
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/commitments/sales?lookback_days=14", map[string]string{"reservation": "ri-none", "connection": conn.ConnectionID})
	if sellCode != 3 || st != http.StatusNotFound || !strings.Contains(cliSellErr, "has no listing plan") || !strings.Contains(cliSellErr, firstLine(errorText(t, body))) {
		t.Errorf("sale plan refusal: CLI %d %s, API %d %s", sellCode, cliSellErr, st, body)
	}
}

// TestParityOrg: `org handshakes` and GET .../org/handshakes list the same
// invitations; cancelling a declined one and attaching the SCP to an
// account that did not join are refused alike, before any AWS call.
// (Inviting, cancelling and attaching for real are tested in
// internal/orgshare, against stubs and moto.)
func TestParityOrg(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, e, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatal(e)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	ten, err := s.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	const id = "h-0123456789abcdef0123456789abcdef"
	now := time.Now().UTC().Truncate(time.Second)
	_, err = s.SaveHandshake(ctx, store.OrgHandshake{ID: id, TenantID: ten.ID, AccountID: "210987654321", State: orgshare.Declined, RequestedAt: now, ExpiresAt: now.AddDate(0, 0, 15)},
		store.AuditEntry{Actor: "test"})
	mustNoErr(t, err)
	s.Close()
	api := newAPI(t, dir, nil, "")

	stdout, stderr, code := runCLI(t, dir, "org", "handshakes", "--tenant", "acme", "--json")
	var cliList, apiList []orgshare.Invitation
	mustNoErr(t, json.Unmarshal([]byte(stdout), &cliList))
	st, body := api.do(t, "GET", "/api/v1/tenants/acme/org/handshakes", nil)
	mustNoErr(t, json.Unmarshal(body, &apiList))
	if a, c := mustJSON(t, apiList), mustJSON(t, cliList); code != 0 || st != 200 || len(cliList) != 1 || a != c {
		t.Errorf("handshakes: CLI %d %s %s, API %d %s", code, stderr, c, st, a)
	}
	_, cliErr, cliCode := runCLI(t, dir, "org", "cancel", id, "--tenant", "acme")
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/org/handshakes/"+id+"/cancel", nil)
	if cliCode != 4 || st != http.StatusConflict || !strings.Contains(cliErr, "is declined") || !strings.Contains(cliErr, firstLine(errorText(t, body))) {
		t.Errorf("cancel a declined invitation: CLI %d %s, API %d %s", cliCode, cliErr, st, body)
	}
	_, cliErr, cliCode = runCLI(t, dir, "org", "scp", "attach", "210987654321", "--tenant", "acme")
	st, body = api.do(t, "POST", "/api/v1/tenants/acme/org/scp/attach", map[string]string{"account_id": "210987654321"})
	if cliCode != 4 || st != http.StatusConflict || !strings.Contains(cliErr, "has not joined") || !strings.Contains(cliErr, firstLine(errorText(t, body))) {
		t.Errorf("SCP on an account that did not join: CLI %d %s, API %d %s", cliCode, cliErr, st, body)
	}
}
