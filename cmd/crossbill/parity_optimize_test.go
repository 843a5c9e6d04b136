package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
)

// TestParityOptimize: `crossbill optimize --json`, `--format csv`,
// `optimize show`, `optimize rules` and `rules set` answer what GET
// .../optimize/recommendations, .../export, .../{id}, .../rules and PUT
// .../rules/{rule} answer on the same evaluation, and refuse the same bad
// filter.
func TestParityOptimize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant: %s", stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	t.Cleanup(func() { st.Close() })
	tn, err := st.TenantByName(ctx, "acme")
	mustNoErr(t, err)
	old := time.Now().AddDate(0, -2, 0)
	res := []inventory.Resource{
		{ARN: "arn:aws:ec2:eu-west-1:111122223333:volume/vol-0a1", AccountID: "111122223333", Region: "eu-west-1", Service: "ec2", Type: "volume", ID: "vol-0a1", State: "available", Created: old,
			Metadata: map[string]any{"volume_type": "gp2", "size_gb": 500.0}, Cost: &inventory.Cost{MonthlyAmortized: 50, MonthlyOnDemand: 50, Currency: "USD", Source: inventory.CostFromCUR}},
		{ARN: "arn:aws:ec2:eu-west-1:444455556666:elastic-ip/eipalloc-1", AccountID: "444455556666", Region: "eu-west-1", Service: "ec2", Type: "elastic-ip", ID: "eipalloc-1"},
	}
	mustNoErr(t, inventory.Save(ctx, st, tn.ID, res, nil))
	_, err = optimize.Evaluate(ctx, st, tn.ID, optimize.InventoryStore{Store: st})
	mustNoErr(t, err)

	api := newAPI(t, dir, nil, "")
	same := func(what, cli string, status int, body []byte) {
		t.Helper()
		if status != 200 {
			t.Fatalf("%s: API %d %s", what, status, body)
		}
		var a, c any
		mustNoErr(t, json.Unmarshal([]byte(cli), &c))
		mustNoErr(t, json.Unmarshal(body, &a))
		ab, _ := json.Marshal(a)
		cb, _ := json.Marshal(c)
		if string(ab) != string(cb) {
			t.Errorf("%s differs:\nCLI %s\nAPI %s", what, cb, ab)
		}
	}
	cli := func(args ...string) string {
		t.Helper()
		out, stderr, code := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, stderr)
		}
		return out
	}

	out := cli("optimize", "--tenant", "acme", "--json")
	var l optimize.Listing
	mustNoErr(t, json.Unmarshal([]byte(out), &l))
	// gp2 unattached: delete (50) and gp3 (10); the address: 3.65.
	if len(l.Recommendations) != 3 || l.Summary.Total != 53.65 || l.Recommendations[0].Savings.Basis != "after-discounts" {
		t.Fatalf("CLI listing: %s", out)
	}
	st1, body := api.do(t, "GET", "/api/v1/tenants/acme/optimize/recommendations", nil)
	same("listing", out, st1, body)
	out = cli("optimize", "--tenant", "acme", "--account", "444455556666", "--json")
	st1, body = api.do(t, "GET", "/api/v1/tenants/acme/optimize/recommendations?account=444455556666", nil)
	same("listing by account", out, st1, body)

	csvOut := cli("optimize", "--tenant", "acme", "--format", "csv", "--rule", "ebs-gp2-to-gp3")
	st1, body = api.do(t, "GET", "/api/v1/tenants/acme/optimize/recommendations/export?rule=ebs-gp2-to-gp3", nil)
	if st1 != 200 || string(body) != csvOut || strings.Count(csvOut, "\n") != 2 {
		t.Errorf("CSV: API %d\n%s\nCLI\n%s", st1, body, csvOut)
	}

	id := l.Recommendations[0].ID
	out = cli("optimize", "show", id, "--tenant", "acme", "--json")
	st1, body = api.do(t, "GET", "/api/v1/tenants/acme/optimize/recommendations/"+id, nil)
	same("show", out, st1, body)

	_, cliBad, code := runCLI(t, dir, "optimize", "--tenant", "acme", "--rule", "nope")
	st1, body = api.do(t, "GET", "/api/v1/tenants/acme/optimize/recommendations?rule=nope", nil)
	if code != 2 || st1 != http.StatusBadRequest || !strings.Contains(cliBad, firstLine(errorText(t, body))) {
		t.Errorf("bad rule: CLI %d %s, API %d %s", code, cliBad, st1, body)
	}

	out = cli("optimize", "rules", "set", "ec2-idle", "min_low_days=3", "--tenant", "acme", "--json")
	st1, body = api.do(t, "PUT", "/api/v1/tenants/acme/optimize/rules/ec2-idle", map[string]any{"values": map[string]float64{"min_low_days": 3}})
	same("rules set", out, st1, body)
	out = cli("optimize", "rules", "--tenant", "acme", "--json")
	st1, body = api.do(t, "GET", "/api/v1/tenants/acme/optimize/rules", nil)
	same("rules", out, st1, body)
	if !strings.Contains(out, `"min_low_days": 3`) {
		t.Errorf("rules after set: %s", out)
	}

	// Both evaluate the inventory store: the same resources, the same answer.
	out = cli("optimize", "evaluate", "--tenant", "acme", "--json")
	st1, body = api.do(t, "POST", "/api/v1/tenants/acme/optimize/evaluate", nil)
	var ce, ae optimize.Evaluation
	mustNoErr(t, json.Unmarshal([]byte(out), &ce))
	mustNoErr(t, json.Unmarshal(body, &ae))
	if st1 != 200 || ce.Resources != 2 || ae.Resources != 2 || ce.Summary.Total != ae.Summary.Total || ce.Summary.Count != 3 {
		t.Errorf("evaluate: CLI %+v, API %d %+v", ce, st1, ae)
	}
}
