package onboarding_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/review"
)

// TestOwnTemplatesPassReview runs crossbill's own access review over every
// template crossbill generates, as a customer's security reviewer would:
// no high or critical finding, and every write action the roles hold is
// declared in the manifest with a reason.
func TestOwnTemplatesPassReview(t *testing.T) {
	t.Parallel()
	declared := map[string]manifest.Permission{}
	for _, p := range append(manifest.All(), manifest.CURAthena()...) {
		declared[strings.ToLower(p.Action)] = p
	}
	cases := []struct {
		name string
		req  onboarding.Request
	}{
		{"all modules", onboarding.Request{Modules: manifest.ValidModules()}},
		{"read-only modules", onboarding.Request{Modules: []manifest.Module{manifest.ModuleCost, manifest.ModuleCUR, manifest.ModuleCommitments, manifest.ModuleInventory, manifest.ModuleOrg}}},
		{"evaluation", onboarding.Request{Evaluation: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.req.ExternalID = "cb-0123456789abcdef0123456789abcdef"
			tc.req.HubPrincipal = "arn:aws:iam::111122223333:role/crossbill-hub"
			files, err := onboarding.Generate(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				rep, err := review.Template(context.Background(), f.Name, f.Body, review.Options{})
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				for _, fd := range rep.Findings {
					if fd.Severity.Rank() >= review.SeverityHigh.Rank() {
						t.Errorf("%s: %s finding %q on %v", f.Name, fd.Severity, fd.Title, fd.Actions)
					}
				}
				for _, id := range rep.Identities {
					for _, w := range id.Writes {
						p, ok := declared[strings.ToLower(w)]
						if !ok || p.Why == "" {
							t.Errorf("%s: %s %s holds write %s that the manifest does not explain", f.Name, id.Kind, id.Name, w)
						}
					}
				}
			}
		})
	}
}
