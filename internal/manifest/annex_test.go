package manifest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/manifest -run Annex -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run with -update and review the diff.\n--- got:\n%s", path, got)
	}
}

func TestAnnexGolden(t *testing.T) {
	t.Parallel()
	for name, mods := range map[string][]manifest.Module{
		"default":  manifest.DefaultModules(),
		"all":      manifest.ValidModules(),
		"org-only": {manifest.ModuleOrg},
	} {
		a := manifest.BuildAnnex(mods, costexplorer.AnnexSchedule())
		golden(t, "annex-"+name+".golden.md", []byte(a.Markdown()))
		js, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "annex-"+name+".golden.json", append(js, '\n'))
	}
}

func hasClaim(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestAnnexDerivesClaims(t *testing.T) {
	t.Parallel()
	sched := costexplorer.AnnexSchedule()
	ro := manifest.BuildAnnex(manifest.DefaultModules(), sched)
	if !hasClaim(ro.CannotDo, "read-only") || !hasClaim(ro.CannotDo, "other than the CUR export") || !hasClaim(ro.CannotDo, "IAM users, roles") || !hasClaim(ro.CannotDo, "secrets") {
		t.Errorf("read-only modules: cannot-do %q", ro.CannotDo)
	}
	// access-jit's writes are pending; remediation's are granted, each on
	// tagged resources only, and the annex says so. Without
	// commitments-purchase, it still claims no commit spend.
	var noPurchase []manifest.Module
	for _, m := range manifest.ValidModules() {
		if m != manifest.ModuleCommitmentsPurchase {
			noPurchase = append(noPurchase, m)
		}
	}
	all := manifest.BuildAnnex(noPurchase, sched)
	if hasClaim(all.CannotDo, "read-only") || !hasClaim(all.CannotDo, "other than those tagged crossbill-remediation=allowed") || !hasClaim(all.CannotDo, "Change IAM group membership") || !hasClaim(all.CannotDo, "commit spend") {
		t.Errorf("only remediation's tagged writes are granted, yet the annex says: %q", all.CannotDo)
	}
	// commitments-purchase grants purchases: the annex no longer claims
	// read-only nor "no commit spend", but still claims the rest.
	buy := manifest.BuildAnnex([]manifest.Module{manifest.ModuleCommitments, manifest.ModuleCommitmentsPurchase}, sched)
	if hasClaim(buy.CannotDo, "read-only") || hasClaim(buy.CannotDo, "commit spend") || !hasClaim(buy.CannotDo, "other than those tagged") || !hasClaim(buy.CannotDo, "IAM users, roles") {
		t.Errorf("commitments-purchase: cannot-do %q", buy.CannotDo)
	}
	// Once granted, the writes break the read-only claims.
	writes := manifest.CannotDo(manifest.ByModule(manifest.ValidModules()...), manifest.ValidModules())
	if hasClaim(writes, "read-only") || hasClaim(writes, "Change IAM group membership") {
		t.Errorf("with writes granted the annex still claims read-only: %q", writes)
	}
	if !hasClaim(writes, "other than those tagged crossbill-remediation=allowed") || !hasClaim(writes, "IAM users, roles") {
		t.Errorf("all modules with writes: cannot-do %q", writes)
	}
	org := manifest.BuildAnnex([]manifest.Module{manifest.ModuleOrg}, sched)
	if !hasClaim(org.CannotDo, "Read the content of any S3 object.") || org.Cost.MonthlyUSD != 0 {
		t.Errorf("org only: %q, cost %v", org.CannotDo, org.Cost.MonthlyUSD)
	}
	// The cost estimate follows the real schedule: 3 groupings + 5 tag
	// keys + GetTags + GetCostForecast a day is $3.00 a month; 10 more
	// daily requests add $3 without a cap, and the default budget ($4.00)
	// caps them.
	costOnly := []manifest.Module{manifest.ModuleCost}
	base := manifest.BuildAnnex(costOnly, sched).Cost.MonthlyUSD
	if base != 3.00 {
		t.Errorf("Cost Explorer estimate %v, want 3.00 (10 requests a day)", base)
	}
	more := costexplorer.AnnexSchedule()
	more.CostExplorerDaily["ce:GetCostAndUsage"] += 10
	if capped := manifest.BuildAnnex(costOnly, more).Cost.MonthlyUSD; capped != 4.00 {
		t.Errorf("over the budget the estimate is %v, want the budget's 4.00", capped)
	}
	more.CostExplorerMonthlyBudget = 0
	// Requests of a pending action are never made, so they add nothing.
	for _, p := range manifest.PendingOf(manifest.ModuleCost) {
		more.CostExplorerDaily[p.Action] += 10
	}
	if d := manifest.BuildAnnex(costOnly, more).Cost.MonthlyUSD - base; d < 2.99 || d > 3.01 {
		t.Errorf("10 more daily Cost Explorer requests changed the uncapped estimate by %v, want 3.00", d)
	}
	for _, c := range all.Compliance {
		if strings.Contains(strings.ToLower(c.Supports), "certified") {
			t.Errorf("compliance mapping claims certification: %+v", c)
		}
	}
	if !strings.Contains(all.Note, "not certified") {
		t.Error("compliance note must say crossbill is not certified")
	}
}

func BenchmarkAnnexMarkdown(b *testing.B) {
	for b.Loop() {
		_ = manifest.BuildAnnex(manifest.ValidModules(), costexplorer.AnnexSchedule()).Markdown()
	}
}
