package manifest_test

import (
	"testing"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/manifest"
)

// TestManifestAgainstCatalog checks every declared action against AWS's
// action catalog: the action exists and its access level is the one the
// manifest (and so the annex) tells the customer.
func TestManifestAgainstCatalog(t *testing.T) {
	t.Parallel()
	cat, err := iamdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range manifest.Validate(func(a string) bool { return !cat.IsUnknown(a) }) {
		t.Error(err)
	}
	for _, p := range append(manifest.All(), manifest.Hub()...) {
		a, ok := cat.Action(p.Action)
		if !ok {
			continue // reported by Validate above
		}
		if string(a.Level) != string(p.Level) {
			t.Errorf("%s %s: manifest says level %q, AWS's catalog says %q", p.Module, p.Action, p.Level, a.Level)
		}
	}
}

// TestNoResourceTypeWrites proves the writes the manifest grants on "*"
// still support no resource type in AWS's catalog: once AWS adds one, the
// grant must be scoped to it.
func TestNoResourceTypeWrites(t *testing.T) {
	t.Parallel()
	cat, err := iamdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range manifest.NoResourceTypeWrites() {
		act, ok := cat.Action(a)
		if !ok || len(act.Resources) != 0 {
			t.Errorf("%s: AWS's catalog now lists resource types %v: scope the grant and drop it from noResourceTypes", a, act.Resources)
		}
	}
}
