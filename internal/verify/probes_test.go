package verify

import (
	"testing"

	"github.com/crossbill/crossbill/internal/manifest"
)

// TestEveryManifestProbeHasAnExecutor keeps the manifest's probes and the
// verifier's calls in step, in both directions.
func TestEveryManifestProbeHasAnExecutor(t *testing.T) {
	t.Parallel()
	ex := executors()
	used := map[string]bool{}
	for _, p := range append(manifest.Probes(manifest.ValidModules()...), manifest.AthenaProbes()...) {
		if p.Skip != "" {
			continue
		}
		if _, ok := ex[p.Call]; !ok {
			t.Errorf("probe %s of module %s has no executor", p.Call, p.Module)
		}
		if _, ok := manifest.ActionForCall(p.Call); !ok {
			t.Errorf("probe %s is not declared in the manifest", p.Call)
		}
		used[p.Call] = true
	}
	for call := range ex {
		if used[call] {
			continue
		}
		// A probe of a pending action is skipped (the templates do not
		// grant it) until its feature lands; its executor waits.
		if p, ok := manifest.ActionForCall(call); ok {
			if _, pending := p.Pending(); pending {
				continue
			}
		}
		t.Errorf("executor %s matches no manifest probe", call)
	}
}
