package costs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/store"
)

// TestSaveViewChecks: a view's name and query are checked before it is
// stored (tenant text, and the query as GET .../costs reads it), and the
// person who saved it is recorded.
func TestSaveViewChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acme, _ := st.CreateTenant(ctx, "acme")
	by := store.AuditEntry{Actor: "user:usr_1", PersonSubject: "sub-1", PersonEmail: "ann@example.com"}
	for name, tc := range map[string]struct {
		name string
		q    costs.ViewQuery
		want string
	}{
		"bidi in the name":       {"safe\u202eweiv", costs.ViewQuery{}, "name"},
		"escape in a filter":     {"ok", costs.ViewQuery{Filters: []string{"service=\x1b[31mEC2"}}, "query"},
		"empty name":             {"  ", costs.ViewQuery{}, "1 to 100"},
		"long name":              {strings.Repeat("n", 101), costs.ViewQuery{}, "1 to 100"},
		"an ID's prefix":         {"cv_x", costs.ViewQuery{}, "cv_"},
		"unknown dimension":      {"ok", costs.ViewQuery{GroupBy: "colour"}, "colour"},
		"top beyond the maximum": {"ok", costs.ViewQuery{Top: 5000}, "top 5000"},
	} {
		if _, err := costs.SaveView(ctx, st, acme.ID, tc.name, tc.q, by); crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want invalid mentioning %q", name, err, tc.want)
		}
	}
	if vs, _ := costs.Views(ctx, st, acme.ID); len(vs) != 0 {
		t.Fatalf("refused views were stored: %+v", vs)
	}
	q := costs.ViewQuery{GroupBy: "tag:team", Filters: []string{"service=AmazonEC2"}, Granularity: "monthly", Top: 5}
	v, err := costs.SaveView(ctx, st, acme.ID, " EC2 by team ", q, by)
	if err != nil || v.Name != "EC2 by team" || v.Person != "ann@example.com" || v.CreatedBy != "user:usr_1" {
		t.Fatalf("save: %+v, %v", v, err)
	}
	got, err := costs.GetView(ctx, st, acme.ID, "EC2 by team")
	if err != nil || got.Query.GroupBy != "tag:team" || got.Query.Top != 5 || len(got.Query.Filters) != 1 {
		t.Fatalf("get: %+v, %v", got, err)
	}
}
