package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/commitments/commitmentstest"
	"github.com/crossbill/crossbill/internal/store"
)

// commitmentsData returns a data directory whose cost store holds the
// commitments fixture for tenant acme (2026-01-01 to 2026-01-15).
func commitmentsData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, dir, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant create: %s", errOut)
	}
	src := commitmentstest.Export(t, t.TempDir())
	if _, errOut, code := runCLI(t, dir, "cur", "ingest", "--tenant", "acme", "--source", src); code != 0 {
		t.Fatalf("cur ingest: %s", errOut)
	}
	return dir
}

func TestCommitmentsCommands(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, dir, append([]string{"commitments"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: code %d, stderr %s", args, code, errOut)
		}
		return out
	}
	var rec recommendReport
	if err := json.Unmarshal([]byte(run("recommend", "--tenant", "acme", "--lookback", "14d", "--term", "1", "--ladder", "2", "--json")), &rec); err != nil {
		t.Fatal(err)
	}
	var rds *commitments.Recommendation
	for i, r := range rec.Recommendations {
		if r.Term != 1 || len(r.Ladder) != 2 {
			t.Errorf("term/ladder not applied: %+v", r)
		}
		if r.Type == commitments.OptionRDSRI && r.Payment == commitments.NoUpfront {
			rds = &rec.Recommendations[i]
		}
	}
	// Costs are filed under the tenant's ID, as the server files them.
	if rds == nil || rds.Count != 3 || rec.Window.Tenant != tenantID(t, dir, "acme") {
		t.Fatalf("recommend: %+v", rec)
	}
	if out := run("recommend", "--tenant", "acme", "--lookback", "14d", "--type", "rds_ri", "--payment", "all"); !strings.Contains(out, "RDS_RI") || !strings.Contains(out, "db.r6g.xlarge") {
		t.Errorf("recommend text: %s", out)
	}

	// Risk rank by default: nothing breaking even after a year or losing
	// money if usage drops 20%, the best downside first; --rank optimum
	// lists every option's exact optimum, the biggest expected saving first.
	var risk, opt recommendReport
	if err := json.Unmarshal([]byte(run("recommend", "--tenant", "acme", "--lookback", "14d", "--json")), &risk); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(run("recommend", "--tenant", "acme", "--lookback", "14d", "--rank", "optimum", "--json")), &opt); err != nil {
		t.Fatal(err)
	}
	late := 0
	for i, r := range opt.Recommendations {
		if r.BreakEvenMonth == 0 || r.BreakEvenMonth > commitments.DefaultMaxBreakEven {
			late++
		}
		if i > 0 && r.MonthlySavings > opt.Recommendations[i-1].MonthlySavings {
			t.Errorf("--rank optimum not by savings at row %d", i)
		}
	}
	if late == 0 || len(risk.Recommendations) == 0 || len(risk.Recommendations) > len(opt.Recommendations)-late {
		t.Fatalf("risk rank kept %d of %d (%d break even late)", len(risk.Recommendations), len(opt.Recommendations), late)
	}
	for i, r := range risk.Recommendations {
		if r.BreakEvenMonth == 0 || r.BreakEvenMonth > commitments.DefaultMaxBreakEven || r.Downside20 < 0 || r.Downside20 >= r.MonthlySavings ||
			(i > 0 && r.Downside20 > risk.Recommendations[i-1].Downside20) {
			t.Errorf("risk row %d: %+v", i, r)
		}
	}
	if out := run("recommend", "--tenant", "acme", "--lookback", "14d", "--max-break-even", "0", "--allow-loss"); !strings.Contains(out, "IF USAGE -20%") ||
		!strings.Contains(out, "no break-even limit") || strings.Count(out, "month ") < len(opt.Recommendations)-late {
		t.Errorf("recommend text without limits: %s", out)
	}

	var util struct{ Summary []commitments.Summary }
	if err := json.Unmarshal([]byte(run("utilization", "--tenant", "acme", "--lookback", "14d", "--by", "plan", "--json")), &util); err != nil || len(util.Summary) != 2 {
		t.Fatalf("utilization: %+v %v", util, err)
	}
	var cov []commitments.CoverageRow
	if err := json.Unmarshal([]byte(run("coverage", "--tenant", "acme", "--lookback", "14d", "--by-account", "--json")), &cov); err != nil || len(cov) == 0 {
		t.Fatalf("coverage: %v", err)
	}
	var inv inventoryReport
	if err := json.Unmarshal([]byte(run("inventory", "--tenant", "acme", "--json")), &inv); err != nil || len(inv.Commitments) != 2 || len(inv.Expiring) != 3 {
		t.Fatalf("inventory: %+v %v", inv, err)
	}
	var sim commitments.Recommendation
	if err := json.Unmarshal([]byte(run("simulate", "--tenant", "acme", "--lookback", "14d", "--type", "EC2_INSTANCE_SP", "--key", "m5/us-east-1", "--commitment", "0.5", "--json")), &sim); err != nil || sim.HourlyCommitment != 0.5 {
		t.Fatalf("simulate: %+v %v", sim, err)
	}
	var bt commitments.BacktestResult
	if err := json.Unmarshal([]byte(run("backtest", "--tenant", "acme", "--type", "EC2_INSTANCE_SP", "--lookback", "7d", "--test", "7d", "--json")), &bt); err != nil || bt.Efficiency < 0.99 {
		t.Fatalf("backtest: %+v %v", bt, err)
	}
	if out := run("backtest", "--tenant", "acme", "--type", "EC2_INSTANCE_SP", "--lookback", "7d", "--test", "7d"); !strings.Contains(out, "lookback optimum") {
		t.Errorf("backtest text: %s", out)
	}
}

func TestCommitmentsErrors(t *testing.T) {
	t.Parallel()
	dir := commitmentsData(t)
	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"months missing", []string{"recommend", "--tenant", "acme", "--lookback", "60d"}, 3, "crossbill cur ingest"},
		{"bad payment", []string{"recommend", "--tenant", "acme", "--payment", "some"}, 2, "--payment"},
		{"bad type", []string{"recommend", "--tenant", "acme", "--type", "SPOT"}, 2, "unknown type"},
		{"bad rank", []string{"recommend", "--tenant", "acme", "--rank", "best"}, 2, "rank"},
		{"bad lookback", []string{"coverage", "--tenant", "acme", "--lookback", "soon"}, 2, "--lookback"},
		{"two types", []string{"simulate", "--tenant", "acme", "--type", "COMPUTE_SP,EC2_INSTANCE_SP", "--commitment", "1"}, 2, "exactly one"},
		{"no commitment", []string{"simulate", "--tenant", "acme"}, 2, "--commitment"},
		{"bad granularity", []string{"utilization", "--tenant", "acme", "--granularity", "weekly"}, 2, "hourly or daily"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, dir, append([]string{"commitments"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.says) {
				t.Errorf("code %d, stderr %q; want %d mentioning %q", code, errOut, tt.code, tt.says)
			}
		})
	}
	// No cost store at all.
	_, errOut, code := runCLI(t, t.TempDir(), "commitments", "recommend")
	if code != 3 || !strings.Contains(errOut, "crossbill cur ingest") {
		t.Errorf("empty data dir: code %d, stderr %q", code, errOut)
	}
}

// tenantID is the store ID of the tenant called name.
func tenantID(t *testing.T, dir, name string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	mustNoErr(t, err)
	defer st.Close()
	tn, err := st.TenantByName(ctx, name)
	mustNoErr(t, err)
	return string(tn.ID)
}
