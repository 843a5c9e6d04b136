package manifest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
)

// EnvCheckOps names the directory `make test` gave the whole suite as
// CROSSBILL_RECORD_OPS; only that step sets it.
const envCheckOps = "CROSSBILL_CHECK_OPS"

// TestEveryDeclaredActionIsCalled is the reverse of the recorder's
// undeclared check, over the whole suite: `make test` runs it after `go test
// ./...` logged every package's calls. Alone (one package's tests) it skips.
func TestEveryDeclaredActionIsCalled(t *testing.T) {
	dir := os.Getenv(envCheckOps)
	if dir == "" {
		t.Skip(envCheckOps + " is not set: `make test` sets it after the whole suite ran with CROSSBILL_RECORD_OPS")
	}
	ex, err := manifest.ReadExercised(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) == 0 {
		t.Fatalf("no AWS operation was logged in %s: run the suite with CROSSBILL_RECORD_OPS=%s and -count=1 (cached packages do not run)", dir, dir)
	}
	r := manifest.CheckUsage(ex)
	t.Logf("declared actions per module:\n%s", r.Summary())
	for _, p := range r.Problems() {
		t.Error(p)
	}
}

func perm(m manifest.Module, action string, calls ...string) manifest.Permission {
	return manifest.Permission{Module: m, Action: action, Level: manifest.LevelRead, Resource: "*", Calls: calls}
}

func TestCheckUsage(t *testing.T) {
	t.Parallel()
	perms := []manifest.Permission{
		perm(manifest.ModuleCUR, "s3:ListBucket", "s3:ListObjectsV2"),
		perm(manifest.ModuleCUR, "s3:GetObject"),
		perm(manifest.ModuleCUR, "s3:GetBucketLocation"),
		perm(manifest.ModuleInventory, "s3:GetBucketLocation"),
		perm(manifest.ModuleInventory, "ec2:DescribeVolumes"),
		perm(manifest.ModuleOrg, "organizations:ListRoots"),
	}
	pending := []manifest.PendingAction{
		{Module: manifest.ModuleInventory, Action: "s3:GetBucketLocation", Issue: "#16", Feature: "inventory"},
		{Module: manifest.ModuleInventory, Action: "ec2:DescribeVolumes", Issue: "#16", Feature: "inventory"},
		{Module: manifest.ModuleOrg, Action: "organizations:ListRoots", Issue: "#14", Feature: "OU tree"},
	}
	ex := manifest.Exercised{
		"s3:ListObjectsV2":        {Sent: true},                // needs s3:ListBucket
		"s3:GetBucketLocation":    {Stubbed: true},             // cur grants it: inventory's pending one is not "used"
		"organizations:ListRoots": {Sent: true, HubOnly: true}, // pending, yet called
	}
	r := manifest.CheckUsageWith(perms, pending, ex)
	// s3:GetObject is granted and never called: the one unused action.
	if len(r.Unused) != 1 || r.Unused[0].Action != "s3:GetObject" || r.Unused[0].Module != manifest.ModuleCUR {
		t.Errorf("unused %+v, want cur s3:GetObject", r.Unused)
	}
	// The pending ec2:DescribeVolumes passes; organizations:ListRoots is
	// pending and called: reported so the entry leaves the list.
	if len(r.PendingUsed) != 1 || r.PendingUsed[0].Action != "organizations:ListRoots" || r.PendingUsed[0].Issue != "#14" {
		t.Errorf("pending but used %+v", r.PendingUsed)
	}
	probs := strings.Join(r.Problems(), "\n")
	for _, want := range []string{"s3:GetObject (module cur) is declared but no test calls it", "pending.go", "organizations:ListRoots (module org) is pending for #14"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
	if strings.Contains(probs, "DescribeVolumes") || strings.Contains(probs, "GetBucketLocation") {
		t.Errorf("a pending, uncalled action (or one another module grants) is reported:\n%s", probs)
	}
	sum := r.Summary()
	for _, want := range []string{"cur                 3         2            1       0", "inventory           2         1            1       2", "note: organizations:ListRoots"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}

	// Everything called, nothing pending left uncalled: no problem.
	ex["s3:GetObject"] = manifest.Outcomes{Sent: true}
	delete(ex, "organizations:ListRoots")
	if p := manifest.CheckUsageWith(perms, pending, ex).Problems(); len(p) != 0 {
		t.Errorf("problems %v, want none", p)
	}
}

// TestReadExercised merges the files of several processes and refuses a
// line it does not understand.
func TestReadExercised(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ops-1-verify.test.tsv", "ec2:DescribeVolumes\tstubbed\trole\nce:GetCostAndUsage\tsent\thub\n")
	write("ops-2-server.test.tsv", "ec2:DescribeVolumes\tsent\ttest\nce:GetCostAndUsage\tsent\thub\n")
	write("other.txt", "not read\n")
	ex, err := manifest.ReadExercised(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex["ec2:DescribeVolumes"] != (manifest.Outcomes{Sent: true, Stubbed: true}) || ex["ce:GetCostAndUsage"] != (manifest.Outcomes{Sent: true, HubOnly: true}) {
		t.Errorf("exercised %+v", ex)
	}
	write("ops-3-bad.test.tsv", "ec2:DescribeVolumes sent\n")
	if _, err := manifest.ReadExercised(dir); err == nil || !strings.Contains(err.Error(), "ops-3-bad.test.tsv:1") {
		t.Errorf("malformed line: %v", err)
	}
}

var issuePattern = regexp.MustCompile(`^#[0-9]+$`)

// TestPendingList: every entry names a declared action of its module, once,
// with its issue and feature; the templates' permissions leave it out, the
// verifier never probes it, and no feature claims it.
func TestPendingList(t *testing.T) {
	t.Parallel()
	declared := map[[2]string]bool{}
	for _, p := range manifest.All() {
		declared[[2]string{string(p.Module), p.Action}] = true
	}
	seen := map[[2]string]bool{}
	pendingAction := map[string]bool{}
	for _, p := range manifest.PendingActions() {
		k := [2]string{string(p.Module), p.Action}
		if !declared[k] {
			t.Errorf("pending %s %s is not declared in that module", p.Module, p.Action)
		}
		if seen[k] {
			t.Errorf("pending %s %s listed twice", p.Module, p.Action)
		}
		seen[k] = true
		if !issuePattern.MatchString(p.Issue) || p.Feature == "" {
			t.Errorf("pending %s %s: issue %q, feature %q; both are required", p.Module, p.Action, p.Issue, p.Feature)
		}
		pendingAction[p.Action] = true
	}
	granted := map[string]bool{}
	for _, m := range manifest.ValidModules() {
		for _, p := range manifest.Granted(m) {
			if _, pend := p.Pending(); pend {
				t.Errorf("Granted(%s) holds pending %s", m, p.Action)
			}
			granted[p.Action] = true
		}
		for _, pr := range manifest.Probes(m) {
			if pr.Call == "" {
				continue
			}
			if q, ok := manifest.ActionForCall(pr.Call); ok {
				if _, pend := (manifest.Permission{Module: m, Action: q.Action}).Pending(); pend {
					t.Errorf("module %s probes %s, which its template does not grant", m, pr.Call)
				}
			}
		}
	}
	// The CUR stack's Athena option grants its actions (only when on).
	for _, p := range manifest.CURAthena() {
		granted[p.Action] = true
	}
	for _, f := range manifest.Features() {
		for _, a := range f.Actions {
			if !granted[a] {
				t.Errorf("feature %q uses %s, which no template grants (pending or undeclared)", f.Name, a)
			}
		}
	}
}

// TestEveryGrantedActionHasAFeature: the annex names, for each granted
// action, the features (or the verification probe) that use it.
func TestEveryGrantedActionHasAFeature(t *testing.T) {
	t.Parallel()
	a := manifest.BuildAnnex(manifest.ValidModules(), manifest.DefaultSchedule())
	for _, m := range a.Modules {
		for _, x := range m.Actions {
			if len(x.UsedBy) == 0 {
				t.Errorf("%s %s is granted but no feature in features.go uses it, and no probe: name the feature, or list it in pending.go", m.Module, x.Action)
			}
		}
	}
}
