package onboarding_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/onboarding"
)

// TestEventsTemplateLint: the events stack passes cfn-lint in both
// formats, keeps the key a NoEcho parameter (never in the file) and
// refuses a non-https endpoint.
func TestEventsTemplateLint(t *testing.T) {
	t.Parallel()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is not installed (see scripts/setup.sh)")
	}
	dir := t.TempDir()
	var paths []string
	for _, f := range []onboarding.Format{onboarding.FormatYAML, onboarding.FormatJSON} {
		body, err := onboarding.EventsTemplate(onboarding.EventsOptions{Endpoint: "https://crossbill.example.com/api/v1/events", Format: f})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "NoEcho") || !strings.Contains(string(body), "X-Crossbill-Events-Key") {
			t.Fatalf("%s template: %s", f, body)
		}
		p := filepath.Join(dir, "events."+string(f))
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if out, err := exec.Command(lint, paths...).CombinedOutput(); err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
	if _, err := onboarding.EventsTemplate(onboarding.EventsOptions{Endpoint: "http://crossbill.example.com/x"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("http endpoint: %v", err)
	}
}
