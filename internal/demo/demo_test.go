package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/crossbill/crossbill/internal/store"
)

// TestSeedsMatchReviewFixtures keeps the embedded copies identical to the
// review tests' fixtures they were copied from.
func TestSeedsMatchReviewFixtures(t *testing.T) {
	t.Parallel()
	yaml, err := filepath.Glob("../review/testdata/seeds/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	json, err := filepath.Glob("../review/testdata/seeds/*.json")
	if err != nil {
		t.Fatal(err)
	}
	src := append(yaml, json...)
	if len(src) < 8 {
		t.Fatalf("only %d review fixtures", len(src))
	}
	for _, p := range src {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := seedFiles.ReadFile("seeds/" + filepath.Base(p))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: embedded copy differs or is missing (cp %s internal/demo/seeds/)", filepath.Base(p), p)
		}
	}
}

func TestPrepareReviewsSeedsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := Prepare(ctx, st, Options{DataDir: st.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := st.Reviews(ctx, rep.Tenant.ID)
	if err != nil || len(rs) < 8 {
		t.Fatalf("reviews: %d, %v", len(rs), err)
	}
	again, err := Prepare(ctx, st, Options{DataDir: st.Dir()})
	if err != nil || !again.Steps[0].Skipped {
		t.Fatalf("second run: %+v, %v", again, err)
	}
	if rs2, _ := st.Reviews(ctx, rep.Tenant.ID); len(rs2) != len(rs) {
		t.Fatalf("second run added reviews: %d then %d", len(rs), len(rs2))
	}
	if _, err := LoadCosts(ctx, st, Options{DataDir: st.Dir()}); err == nil {
		t.Fatal("LoadCosts without a cost store succeeded")
	}
}

// TestOperatorTokenReplacesThePreviousStarts: each start prints a token and
// revokes the last one, so restarts do not pile up never-expiring operator
// tokens nobody can see any more. Other operator tokens stay.
func TestOperatorTokenReplacesThePreviousStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, other, err := st.CreateToken(ctx, "", "ops", store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	first, err := OperatorToken(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	second, err := OperatorToken(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, first); err == nil {
		t.Error("the first start's token still works")
	}
	if _, err := st.Authenticate(ctx, second); err != nil {
		t.Errorf("the second start's token: %v", err)
	}
	if _, err := st.Authenticate(ctx, other); err != nil {
		t.Errorf("another operator token was revoked: %v", err)
	}
	toks, err := st.Tokens(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, tok := range toks {
		if tok.Name == TokenName && tok.RevokedAt == nil {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d live demo tokens, want 1", live)
	}
}
