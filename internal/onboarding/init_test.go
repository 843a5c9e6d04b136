package onboarding_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/events"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
)

// TestInit: defaults, links and refusals of the one connection-creation use
// case, against a real store; a refused request stores nothing.
func TestInit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acme, err := st.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	const hub = "arn:aws:iam::111122223333:role/CrossbillHub"

	got, err := onboarding.Init(ctx, st, onboarding.InitRequest{Tenant: acme.ID, HubPrincipal: hub, TemplateURLBase: "https://example-bucket.s3.amazonaws.com/t"})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Connection
	if c.TenantID != acme.ID || c.Status != store.StatusPending || !strings.HasPrefix(string(c.ExternalID), "cb-") ||
		manifest.JoinModules(c.Modules) != manifest.JoinModules(manifest.DefaultModules()) {
		t.Fatalf("stored connection %+v", c)
	}
	if len(got.Files) == 0 || len(got.Links) != len(got.Files) {
		t.Fatalf("%d files, links %v: want one quick-create link per file", len(got.Files), got.Links)
	}

	for name, req := range map[string]onboarding.InitRequest{
		"evaluation with modules":        {Tenant: acme.ID, HubPrincipal: hub, Evaluation: true, Modules: []string{"org"}},
		"no hub principal":               {Tenant: acme.ID},
		"unknown module":                 {Tenant: acme.ID, HubPrincipal: hub, Modules: []string{"nosuch"}},
		"bad format":                     {Tenant: acme.ID, HubPrincipal: hub, Format: "xml"},
		"bad region":                     {Tenant: acme.ID, HubPrincipal: hub, Region: "mars-1"},
		"principal of another partition": {Tenant: acme.ID, HubPrincipal: "arn:aws-cn:iam::111122223333:role/Hub", Region: "us-east-1"},
	} {
		if _, err := onboarding.Init(ctx, st, req); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	all, err := st.ConnectionsByTenant(ctx, acme.ID)
	if err != nil || len(all) != 1 {
		t.Fatalf("%d connections after refusals (want the first only), %v", len(all), err)
	}

	ev, err := onboarding.Init(ctx, st, onboarding.InitRequest{Tenant: acme.ID, HubPrincipal: hub, Evaluation: true})
	if err != nil || manifest.JoinModules(ev.Connection.Modules) != "cost,commitments" || len(ev.Files) != 1 || !ev.Connection.Evaluation {
		t.Fatalf("evaluation: %+v, %v", ev, err)
	}
	// Stored as an evaluation connection, so its templates regenerate as
	// the evaluation stack.
	if back, err := st.TenantConnection(ctx, acme.ID, ev.Connection.ID); err != nil || !back.Evaluation {
		t.Fatalf("stored evaluation connection %+v, %v", back, err)
	}
}

// TestInitEvents: --events-endpoint adds the events stack and a key shown
// once and stored hashed only; the key then authenticates the events of
// the connection; a plain http endpoint is refused before anything is
// stored.
func TestInitEvents(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acme, _ := st.CreateTenant(ctx, "acme")
	const hub = "arn:aws:iam::111111111111:role/crossbill-hub"
	if _, err := onboarding.Init(ctx, st, onboarding.InitRequest{Tenant: acme.ID, HubPrincipal: hub, EventsEndpoint: "http://crossbill.example.com/api/v1/events"}); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("http endpoint: %v", err)
	}
	if cs, _ := st.ConnectionsByTenant(ctx, acme.ID); len(cs) != 0 {
		t.Fatalf("a refused init stored %d connections", len(cs))
	}
	got, err := onboarding.Init(ctx, st, onboarding.InitRequest{Tenant: acme.ID, HubPrincipal: hub, EventsEndpoint: "https://crossbill.example.com/api/v1/events"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range got.Files {
		kinds = append(kinds, f.Kind)
		if strings.Contains(string(f.Body), got.EventsKey) {
			t.Errorf("%s holds the events key", f.Name)
		}
	}
	if !slices.Contains(kinds, onboarding.KindEvents) || !strings.HasPrefix(got.EventsKey, events.KeyPrefix) {
		t.Fatalf("kinds %v, key %q", kinds, got.EventsKey)
	}
	c, err := st.ConnectionByEventsKey(ctx, events.HashKey(got.EventsKey))
	if err != nil || c.ID != got.Connection.ID {
		t.Fatalf("the key does not name the connection: %+v %v", c, err)
	}
	if ep, _ := st.EventsEndpoint(ctx, acme.ID, c.ID); ep != "https://crossbill.example.com/api/v1/events" {
		t.Fatalf("endpoint %q", ep)
	}
}
