package onboarding_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
)

const testPrincipal = "arn:aws:iam::111111111111:role/crossbill-hub"

// variants are the module combinations that change a template's shape.
func variants() map[string]onboarding.Request {
	all := manifest.ValidModules()
	return map[string]onboarding.Request{
		"default":    {Modules: manifest.DefaultModules()},
		"all":        {Modules: all},
		"cost":       {Modules: []manifest.Module{manifest.ModuleCost}},
		"cur-only":   {Modules: []manifest.Module{manifest.ModuleCUR}},
		"access":     {Modules: []manifest.Module{manifest.ModuleAccessRead, manifest.ModuleAccessJIT}},
		"remediate":  {Modules: []manifest.Module{manifest.ModuleInventory, manifest.ModuleRemediation}},
		"evaluation": {Evaluation: true},
		"ous":        {Modules: []manifest.Module{manifest.ModuleCost, manifest.ModuleInventory}, OrganizationalUnits: []string{"r-ab12", "ou-ab12-cdefgh34"}},
	}
}

func generate(tb testing.TB, r onboarding.Request, f onboarding.Format) []onboarding.File {
	tb.Helper()
	r.ExternalID = "cb-abcdefghijklmnopqrstuvwxyz234567"
	r.HubPrincipal = testPrincipal
	r.Format = f
	files, err := onboarding.Generate(r)
	if err != nil {
		tb.Fatalf("Generate(%+v): %v", r, err)
	}
	return files
}

// TestTemplatesPassCfnLint runs the real cfn-lint over every variant in
// both formats, in one invocation (cfn-lint takes seconds to start).
func TestTemplatesPassCfnLint(t *testing.T) {
	t.Parallel()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is not installed; every generated template must pass it. Install it with `pip install cfn-lint==1.51.0` (see scripts/setup.sh)")
	}
	dir := t.TempDir()
	var paths []string
	for name, r := range variants() {
		for _, f := range []onboarding.Format{onboarding.FormatYAML, onboarding.FormatJSON} {
			for _, file := range generate(t, r, f) {
				p := filepath.Join(dir, name+"-"+file.Name)
				if err := os.WriteFile(p, file.Body, 0o600); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
		}
	}
	// Regions: the role stacks anywhere, the CUR stack in us-east-1.
	cmd := exec.Command(lint, append([]string{"--regions", "us-east-1", "--format", "parseable", "--"}, paths...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running cfn-lint: %v", err)
	}
	t.Logf("cfn-lint checked %d templates", len(paths))
	if exit != nil {
		// cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 info.
		code := exit.ExitCode()
		if code&2 != 0 || code&1 != 0 {
			t.Fatalf("cfn-lint found errors (exit %d):\n%s", code, out.String())
		}
		if strings.TrimSpace(out.String()) != "" {
			t.Errorf("cfn-lint warnings (exit %d):\n%s", code, out.String())
		}
	}
}

func BenchmarkGenerateAll(b *testing.B) {
	r := onboarding.Request{Modules: manifest.ValidModules(), TemplateURLBase: "https://b.s3.amazonaws.com/x"}
	for b.Loop() {
		generate(b, r, onboarding.FormatYAML)
	}
}
