package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// TestCostViews: names are unique per tenant, another tenant's view is
// NotFound like a missing one, the bound holds, and delete deletes.
func TestCostViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t)
	acme, _ := s.CreateTenant(ctx, "acme")
	beta, _ := s.CreateTenant(ctx, "beta")
	q := json.RawMessage(`{"group_by":"service"}`)
	v, err := s.CreateCostView(ctx, store.CostView{TenantID: acme.ID, Name: "by service", Query: q, CreatedBy: "user:usr_1", Person: "ann@example.com"}, 3)
	if err != nil || v.ID == "" {
		t.Fatalf("create: %+v, %v", v, err)
	}
	if _, err := s.CreateCostView(ctx, store.CostView{TenantID: acme.ID, Name: "by service", Query: q, CreatedBy: "x"}, 3); crossbill.ErrorCode(err) != crossbill.CodeConflict {
		t.Fatalf("same name twice: %v", err)
	}
	if _, err := s.CreateCostView(ctx, store.CostView{TenantID: beta.ID, Name: "by service", Query: q, CreatedBy: "x"}, 3); err != nil {
		t.Fatalf("the same name in another tenant: %v", err)
	}
	if _, err := s.CostView(ctx, beta.ID, v.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("acme's view read as beta: %v", err)
	}
	for _, ref := range []string{v.ID, "by service"} {
		got, err := s.CostView(ctx, acme.ID, ref)
		if err != nil || got.ID != v.ID || string(got.Query) != string(q) || got.Person != "ann@example.com" || !got.CreatedAt.Equal(v.CreatedAt) {
			t.Fatalf("%s: %+v, %v", ref, got, err)
		}
	}
	if _, err := s.DeleteCostView(ctx, beta.ID, v.ID); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("beta deleted acme's view: %v", err)
	}
	for i := range 2 {
		if _, err := s.CreateCostView(ctx, store.CostView{TenantID: acme.ID, Name: fmt.Sprintf("v%d", i), Query: q, CreatedBy: "x"}, 3); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateCostView(ctx, store.CostView{TenantID: acme.ID, Name: "one too many", Query: q, CreatedBy: "x"}, 3); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("over the bound: %v", err)
	}
	vs, err := s.CostViews(ctx, acme.ID)
	if err != nil || len(vs) != 3 || vs[0].Name != "by service" || vs[1].Name != "v0" || vs[2].Name != "v1" {
		t.Fatalf("list: %+v, %v", vs, err)
	}
	if _, err := s.DeleteCostView(ctx, acme.ID, "by service"); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.CostViews(ctx, acme.ID); len(vs) != 2 {
		t.Fatalf("after delete: %+v", vs)
	}
	if vs, _ := s.CostViews(ctx, beta.ID); len(vs) != 1 {
		t.Fatalf("beta's views: %+v", vs)
	}
}
