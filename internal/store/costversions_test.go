package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestCostVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateTenant(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	commit := func(src, version string, replaces ...string) {
		t.Helper()
		if err := s.CommitCostVersion(ctx, store.CostVersion{TenantID: a.ID, Source: src, Period: "2026-01", Version: version, Manifest: `{"v":"` + version + `"}`}, replaces); err != nil {
			t.Fatal(err)
		}
	}
	commit("s3://x/a", "v1")
	commit("s3://x/b", "v2")
	commit("s3://x/a", "v3")             // replaces v1
	commit("s3://x/c", "v4", "s3://x/b") // the same export through another source: v2 retired
	got, err := s.CostVersions(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != "v3" || got[1].Version != "v4" || got[1].Manifest != `{"v":"v4"}` {
		t.Fatalf("current versions: %+v", got)
	}
	if other, err := s.CostVersions(ctx, b.ID); err != nil || len(other) != 0 {
		t.Fatalf("another tenant sees %+v, %v", other, err)
	}
	retired, err := s.RetiredCostVersions(ctx, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(retired) != 2 || retired[0].Version != "v1" || retired[1].Version != "v2" {
		t.Fatalf("retired: %+v", retired)
	}
	if early, _ := s.RetiredCostVersions(ctx, time.Now().Add(-time.Hour)); len(early) != 0 {
		t.Fatalf("retired an hour ago: %+v", early)
	}
	if err := s.ForgetCostVersion(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if retired, _ := s.RetiredCostVersions(ctx, time.Now().Add(time.Minute)); len(retired) != 1 {
		t.Fatalf("after forget: %+v", retired)
	}
	// Named: current (v3, v4) and retired not forgotten (v2); v1 is gone.
	names, err := s.CostVersionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 || !names["v2"] || !names["v3"] || !names["v4"] || names["v1"] {
		t.Fatalf("version names: %v", names)
	}
}

// Concurrent commits of one key: one version stays current, every other
// one is retired (none lost, so their objects are collected).
func TestCostVersionsConcurrentCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.CommitCostVersion(ctx, store.CostVersion{TenantID: a.ID, Source: "s", Period: "2026-02", Version: string(rune('a' + i)), Manifest: "{}"}, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := s.CostVersions(ctx, a.ID)
	retired, _ := s.RetiredCostVersions(ctx, time.Now().Add(time.Minute))
	if len(cur) != 1 || len(retired) != n-1 {
		t.Fatalf("current %d, retired %d; want 1 and %d", len(cur), len(retired), n-1)
	}
}

// TestSwapCostVersion: a compare-and-swap commit applies only on the
// version it was built on; of two concurrent swaps from the same version,
// exactly one wins and the other is told (CodeConflict), changing nothing.
func TestSwapCostVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	a, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	v := func(version string) store.CostVersion {
		return store.CostVersion{TenantID: a.ID, Source: "cost-explorer", Period: "ce", Version: version, Manifest: "{}"}
	}
	if err := s.SwapCostVersion(ctx, v("v1"), "v0"); crossbill.ErrorCode(err) != crossbill.CodeConflict || !errors.Is(err, store.ErrCostVersionMoved) {
		t.Fatalf("swap from a version that was never current: %v", err)
	}
	if err := s.SwapCostVersion(ctx, v("v1"), ""); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"v2a", "v2b"} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.SwapCostVersion(ctx, v(name), "v1") }()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrCostVersionMoved):
			t.Fatalf("the losing swap: %v", err)
		}
	}
	got, err := s.CostVersions(ctx, a.ID)
	if err != nil || won != 1 || len(got) != 1 || (got[0].Version != "v2a" && got[0].Version != "v2b") {
		t.Fatalf("%d swaps won; current %+v, %v", won, got, err)
	}
	retired, err := s.RetiredCostVersions(ctx, time.Now().Add(time.Hour))
	if err != nil || len(retired) != 1 || retired[0].Version != "v1" {
		t.Fatalf("retired: %+v, %v (the loser's version must not be retired: it was never committed)", retired, err)
	}
}
