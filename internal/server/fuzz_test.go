package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

// fuzzTargets are the JSON-taking endpoints fuzzed (feature endpoints add
// theirs as they are wired).
var fuzzTargets = []string{
	"/api/v1/tenants",
	"/api/v1/tenants/acme/tokens",
	"/api/v1/tenants/acme/connections",
	"/api/v1/tenants/acme/reviews?name=fuzz.json",
}

// FuzzJSONBodies sends arbitrary bodies to every JSON endpoint: the answer
// must be a well-formed JSON document and never a server error.
func FuzzJSONBodies(f *testing.F) {
	ctx := context.Background()
	st, err := store.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateTenant(ctx, "acme"); err != nil {
		f.Fatal(err)
	}
	_, op, err := st.CreateToken(ctx, "", "fuzz", store.ScopeAdmin)
	if err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Config{Store: st, RatePerSecond: -1})
	for i := range fuzzTargets {
		for _, seed := range []string{`{"name":"beta"}`, `{"scope":"read","name":"x"}`, `{"scope":"admin"}`, `{}`, `[]`, `null`, `{"name":1}`, `{"name":"a","name":"b"}`, "\x00", `{"scope":"read"}{"x":1}`,
			`{"hub_principal":"arn:aws:iam::111122223333:role/Hub","modules":["cost"]}`, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
			"Resources:\n  R:\n    Type: AWS::IAM::Role\n"} {
			f.Add(i, seed)
		}
	}
	f.Fuzz(func(t *testing.T, target int, body string) {
		if target < 0 || target >= len(fuzzTargets) {
			return
		}
		req := httptest.NewRequest("POST", fuzzTargets[target], strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+string(op))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", fuzzTargets[target], body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("POST %s %q: answer is not JSON: %q", fuzzTargets[target], body, rec.Body)
		}
		if rec.Code >= 400 && rec.Code != http.StatusConflict && rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge && rec.Code != http.StatusNotFound {
			t.Fatalf("POST %s %q: unexpected %d", fuzzTargets[target], body, rec.Code)
		}
	})
}
