package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAnalystSavesViewsAndExports: people signed in through the IdP. An
// analyst saves a view (named after them) and exports costs and the view
// as CSV; a viewer reads the views but gets 403 on export, save and
// delete.
func TestAnalystSavesViewsAndExports(t *testing.T) {
	t.Parallel()
	p := startWithIdP(t, "")
	ts := p.ts
	acme, _, _ := ts.tenantWithTokens(t, "acme")
	ingestTwoServices(t, ts, acme.ID)
	base := ts.URL()
	signedIn := func(sub, email, group string) (*browser, string) {
		b := newBrowser(t)
		if end := p.signIn(t, b, sub, email, group); end != base+"/" {
			t.Fatalf("%s: sign-in ended at %s", email, end)
		}
		var me meJSON
		if st := b.call(t, base, "GET", "/api/v1/me", "", nil, &me); st != 200 || me.CSRF == "" {
			t.Fatalf("%s: me %d", email, st)
		}
		return b, me.CSRF
	}
	ana, anaCSRF := signedIn("sub-ana", "ana@example.com", "acme-analysts")
	vic, vicCSRF := signedIn("sub-vic", "vic@example.com", "acme-viewers")

	views := "/api/v1/tenants/acme/costs/views"
	body := map[string]any{"name": "EC2 by region", "query": map[string]any{"group_by": "service", "filters": []string{"service=AmazonEC2"}, "granularity": "monthly"}}
	if st := vic.call(t, base, "POST", views, vicCSRF, body, nil); st != 403 {
		t.Fatalf("viewer saved a view: %d", st)
	}
	var v struct {
		ID, Name, Person string
		Query            struct {
			GroupBy string `json:"group_by"`
		}
	}
	if st := ana.call(t, base, "POST", views, anaCSRF, body, &v); st != 201 || v.Name != "EC2 by region" || v.Person != "ana@example.com" || v.Query.GroupBy != "service" {
		t.Fatalf("analyst's view: %d %+v", st, v)
	}
	if st := ana.call(t, base, "POST", views, anaCSRF, body, nil); st != 409 {
		t.Fatalf("same name again: %d", st)
	}
	bad := map[string]any{"name": "bad", "query": map[string]any{"group_by": "nonsense"}}
	if st := ana.call(t, base, "POST", views, anaCSRF, bad, nil); st != 400 {
		t.Fatalf("a view of a query GET .../costs refuses: %d", st)
	}
	var list []struct{ ID, Name string }
	if st := vic.call(t, base, "GET", views, "", nil, &list); st != 200 || len(list) != 1 || list[0].ID != v.ID {
		t.Fatalf("viewer lists views: %d %+v", st, list)
	}
	if st := vic.call(t, base, "GET", views+"/EC2%20by%20region", "", nil, nil); st != 200 {
		t.Fatalf("viewer opens the view by name: %d", st)
	}

	export := func(b *browser, path string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(data)
	}
	for _, path := range []string{"/api/v1/tenants/acme/costs/export?format=csv&group_by=service", views + "/" + v.ID + "/export"} {
		if st, ctype, data := export(ana, path); st != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(data, "period,group,amortized\n") || !strings.Contains(data, "AmazonEC2") {
			t.Errorf("analyst exports %s: %d %s %q", path, st, ctype, data)
		}
		if st, _, _ := export(vic, path); st != 403 {
			t.Errorf("viewer exports %s: %d, want 403", path, st)
		}
	}
	if st, _, _ := export(ana, "/api/v1/tenants/acme/costs/export?format=xlsx"); st != 400 {
		t.Errorf("export format=xlsx: %d", st)
	}

	if st := vic.call(t, base, "DELETE", views+"/"+v.ID, vicCSRF, nil, nil); st != 403 {
		t.Fatalf("viewer deleted a view: %d", st)
	}
	if st := ana.call(t, base, "DELETE", views+"/"+v.ID, anaCSRF, nil, nil); st != 200 {
		t.Fatalf("analyst deletes the view: %d", st)
	}
	if st := vic.call(t, base, "GET", views+"/"+v.ID, "", nil, nil); st != 404 {
		t.Fatalf("deleted view: %d", st)
	}
}
