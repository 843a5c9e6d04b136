package onboarding

import (
	"context"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/events"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// InitRequest is what `crossbill connect init` and POST .../connections
// ask for: the same fields, the same defaults, the same refusals.
type InitRequest struct {
	Tenant       crossbill.TenantID
	HubPrincipal string // ARN of crossbill's own IAM role or user
	// Modules named by the caller; none means manifest.DefaultModules.
	Modules []string
	// Evaluation asks for the read-only evaluation stack alone; it fixes
	// the modules, so naming modules with it is refused.
	Evaluation          bool
	Format              string // yaml (default) or json
	Region              string // of the role stacks; "" means us-east-1
	TemplateURLBase     string // where the files will be hosted, for quick-create links
	OrganizationalUnits []string
	// EventsEndpoint opts in to real-time events: crossbill's https URL of
	// POST /api/v1/events, which the events stack calls with a new key.
	EventsEndpoint string
}

// Plan is a validated connection not stored yet: its external ID and
// templates.
type Plan struct {
	Tenant       crossbill.TenantID
	ExternalID   crossbill.ExternalID
	HubPrincipal string
	Modules      []manifest.Module
	Evaluation   bool
	Files        []File
	// EventsKey is the new events key (with EventsEndpoint): shown once,
	// stored hashed by Save.
	EventsKey      string
	EventsEndpoint string
}

// Initialized is a stored connection and its templates.
type Initialized struct {
	Connection store.Connection
	Files      []File
	// Links maps a template kind to its console quick-create link (only
	// with a template URL base).
	Links map[string]string
	// EventsKey is the events stack's key (EventsApiKey parameter), shown
	// this once; only its hash is stored.
	EventsKey string
}

// ConnectionCreator is the store Init needs.
type ConnectionCreator interface {
	CreateConnection(ctx context.Context, nc store.NewConnection) (store.Connection, error)
	SetEventsKey(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, keyHash, endpoint string) error
}

// Init creates a connection: it validates the request, makes a new external
// ID and the templates, and stores the pending connection. Nothing is
// stored when any input is refused.
func Init(ctx context.Context, st ConnectionCreator, req InitRequest) (Initialized, error) {
	p, err := Prepare(req)
	if err != nil {
		return Initialized{}, err
	}
	return p.Save(ctx, st)
}

// Prepare is Init without the store: it validates req and generates the
// templates with a new external ID. The CLI writes the files between
// Prepare and Save, so that a directory it cannot write leaves no
// connection behind.
func Prepare(req InitRequest) (Plan, error) {
	const op = "connect init"
	if req.Tenant == "" {
		return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a tenant is required")
	}
	if req.HubPrincipal == "" {
		return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the hub principal is required: the ARN of crossbill's own IAM role or user")
	}
	mods, err := manifest.ParseModules(strings.Join(req.Modules, ","))
	if err != nil {
		return Plan{}, err
	}
	if req.Evaluation {
		if len(req.Modules) > 0 {
			return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the evaluation stack always grants %s: drop the modules", manifest.JoinModules(EvaluationModules()))
		}
		mods = EvaluationModules()
	}
	f, err := ParseFormat(req.Format)
	if err != nil {
		return Plan{}, err
	}
	ext, err := NewExternalID()
	if err != nil {
		return Plan{}, err
	}
	var eventsKey string
	if req.EventsEndpoint != "" {
		if req.Evaluation {
			return Plan{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the evaluation stack is read-only cost and commitments: add events to a production connection")
		}
		if eventsKey, err = events.NewKey(); err != nil {
			return Plan{}, err
		}
	}
	// Generate validates the principal and region before anything is stored.
	files, err := Generate(Request{ExternalID: ext, HubPrincipal: req.HubPrincipal, Modules: mods, Format: f, Evaluation: req.Evaluation,
		TemplateURLBase: req.TemplateURLBase, Region: req.Region, OrganizationalUnits: req.OrganizationalUnits, EventsEndpoint: req.EventsEndpoint})
	if err != nil {
		return Plan{}, err
	}
	return Plan{Tenant: req.Tenant, ExternalID: ext, HubPrincipal: req.HubPrincipal, Modules: mods, Evaluation: req.Evaluation, Files: files,
		EventsKey: eventsKey, EventsEndpoint: req.EventsEndpoint}, nil
}

// Save stores the planned connection.
func (p Plan) Save(ctx context.Context, st ConnectionCreator) (Initialized, error) {
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: p.Tenant, ExternalID: p.ExternalID, HubPrincipal: p.HubPrincipal, Modules: p.Modules, Evaluation: p.Evaluation})
	if err != nil {
		return Initialized{}, err
	}
	if p.EventsKey != "" {
		if err := st.SetEventsKey(ctx, c.TenantID, c.ID, events.HashKey(p.EventsKey), p.EventsEndpoint); err != nil {
			return Initialized{}, err
		}
	}
	out := Initialized{Connection: c, Files: p.Files, EventsKey: p.EventsKey}
	for _, f := range p.Files {
		if f.Link != "" {
			if out.Links == nil {
				out.Links = map[string]string{}
			}
			out.Links[f.Kind] = f.Link
		}
	}
	return out, nil
}
