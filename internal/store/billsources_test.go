package store_test

import (
	"context"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

func TestBillSources(t *testing.T) {
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
	got, err := s.SaveBillSource(ctx, store.BillSource{ConnectionID: "c1", TenantID: a.ID, AccountID: "123456789012", Bucket: "acme-bills", Path: "/cur/exp/"})
	if err != nil || got.Path != "cur/exp" {
		t.Fatalf("save: %+v, %v", got, err)
	}
	if _, err := s.BillSource(ctx, b.ID, "c1"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Fatalf("other tenant: %v", err)
	}
	for name, bad := range map[string]store.BillSource{
		"account": {ConnectionID: "c2", TenantID: a.ID, AccountID: "12345", Bucket: "acme-bills"},
		"bucket":  {ConnectionID: "c2", TenantID: a.ID, AccountID: "123456789012", Bucket: "Acme_Bills"},
		"path":    {ConnectionID: "c2", TenantID: a.ID, AccountID: "123456789012", Bucket: "acme-bills", Path: "a\nb"},
	} {
		if _, err := s.SaveBillSource(ctx, bad); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: code %q", name, crossbill.ErrorCode(err))
		}
	}
}
