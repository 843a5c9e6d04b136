package onboarding_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/review"
)

// TestOwnTemplatesPassReview runs crossbill's own access review over every
// template crossbill generates, as a customer's security reviewer would:
// no high or critical finding, and every write action the roles hold is
// declared in the manifest with a reason. The one high finding allowed is
// the review's rating of the opt-in commitments-purchase module: it is
// "commit spend", which the customer must see, and every template that
// holds the module gets it.
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
			purchase := slices.Contains(tc.req.Modules, manifest.ModuleCommitmentsPurchase)
			for _, f := range files {
				rep, err := review.Template(context.Background(), f.Name, f.Body, review.Options{})
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				commitSpend := false
				for _, fd := range rep.Findings {
					if fd.ID == "cost/commit-spend" {
						commitSpend = true
						continue
					}
					if fd.Severity.Rank() >= review.SeverityHigh.Rank() {
						t.Errorf("%s: %s finding %q on %v", f.Name, fd.Severity, fd.Title, fd.Actions)
					}
				}
				canSpend := slices.ContainsFunc(rep.Summary.Can, func(c string) bool { return strings.HasPrefix(c, "commit spend") })
				if purchase && strings.Contains(f.Name, "role") && (!commitSpend || !canSpend) {
					t.Errorf("%s: commitments-purchase is not rated commit spend (finding %v, summary can %q)", f.Name, commitSpend, rep.Summary.Can)
				}
				if !purchase && (commitSpend || canSpend) {
					t.Errorf("%s: commit spend without commitments-purchase", f.Name)
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
