package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// Job kinds and their periods.
const (
	JobVerify      = "verify"
	JobIngest      = verify.IngestJob
	verifyInterval = 24 * time.Hour
	ingestInterval = verify.IngestInterval
	// retryVerifyAfter is when a connection whose verification failed (or
	// could not check) is verified again, unless Config.VerifyRetry says.
	retryVerifyAfter = 5 * time.Minute
)

// verifyRetry is how soon a failed or inconclusive verification is redone.
func (s *Server) verifyRetry() time.Duration {
	if s.cfg.VerifyRetry > 0 {
		return s.cfg.VerifyRetry
	}
	return retryVerifyAfter
}

// hubRegion is the hub's region: the default of the role stacks.
func (s *Server) hubRegion() string { return s.cfg.AWS.Hub().Region }

// connectionOf loads the connection named in the path, if it is the
// tenant's; another tenant's is NotFound exactly as a missing one is.
func (s *Server) connectionOf(r *http.Request) (store.Connection, error) {
	return s.connectionByID(r, crossbill.ConnectionID(r.PathValue("connection")))
}

// connectionView is a connection with its bill bucket, if one is registered.
type connectionView struct {
	store.Connection
	Bill *store.BillSource `json:"bill,omitempty"`
}

func (s *Server) view(r *http.Request, c store.Connection) (connectionView, error) {
	v := connectionView{Connection: c}
	b, err := s.store.BillSource(r.Context(), c.TenantID, c.ID)
	switch crossbill.ErrorCode(err) {
	case "":
		v.Bill = &b
	case crossbill.CodeNotFound:
	default:
		return v, err
	}
	return v, nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.store.ConnectionsByTenant(r.Context(), tenantOf(r).ID)
	if err != nil {
		return err
	}
	out := make([]connectionView, 0, len(cs))
	for _, c := range cs {
		v, err := s.view(r, c)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return ok(w, r, out)
}

type connectionInit struct {
	HubPrincipal string   `json:"hub_principal"`
	Modules      []string `json:"modules"`
	Region       string   `json:"region"`
	Format       string   `json:"format"`
	Evaluation   bool     `json:"evaluation"`
	// EventsEndpoint opts in to the real-time events stack.
	EventsEndpoint string `json:"events_endpoint"`
}

// templateInfo describes one template of a connection.
type templateInfo struct {
	onboarding.File
	Download string `json:"download"`
}

type initResponse struct {
	Connection connectionView       `json:"connection"`
	ExternalID crossbill.ExternalID `json:"external_id"`
	Templates  []templateInfo       `json:"templates"`
	Links      map[string]string    `json:"links,omitempty"`
	EventsKey  string               `json:"events_key,omitempty"`
}

// templates regenerates a connection's templates: they are a pure function
// of its external ID, hub principal and modules.
func (s *Server) templates(r *http.Request, c store.Connection, format, region string) ([]onboarding.File, error) {
	f, err := onboarding.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = s.hubRegion()
	}
	ep, err := s.store.EventsEndpoint(r.Context(), c.TenantID, c.ID)
	if err != nil {
		return nil, err
	}
	return onboarding.Generate(onboarding.Request{
		ExternalID: c.ExternalID, HubPrincipal: c.HubPrincipal, Modules: c.Modules, Format: f, Evaluation: c.Evaluation,
		TemplateURLBase: s.cfg.TemplateURLBase, Region: region, EventsEndpoint: ep,
	})
}

func templateInfos(base string, c store.Connection, files []onboarding.File) []templateInfo {
	out := make([]templateInfo, 0, len(files))
	for _, f := range files {
		out = append(out, templateInfo{File: f, Download: base + "/connections/" + string(c.ID) + "/templates/" + f.Name})
	}
	return out
}

func tenantBase(r *http.Request) string { return "/api/v1/tenants/" + tenantOf(r).Name }

// createConnection is `connect init` over HTTP: a new external ID, a
// pending connection and its templates.
func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	var in connectionInit
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.HubPrincipal == "" {
		in.HubPrincipal = s.cfg.HubPrincipal
	}
	if in.HubPrincipal == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "connect init", "hub_principal is required (the ARN of crossbill's own IAM role or user; serve --hub-principal sets a default)")
	}
	if in.Region == "" {
		in.Region = s.hubRegion()
	}
	done, err := onboarding.Init(r.Context(), s.store, onboarding.InitRequest{Tenant: tenantOf(r).ID, HubPrincipal: in.HubPrincipal,
		Modules: in.Modules, Evaluation: in.Evaluation, Format: in.Format, Region: in.Region, TemplateURLBase: s.cfg.TemplateURLBase, EventsEndpoint: in.EventsEndpoint})
	if err != nil {
		return err
	}
	c := done.Connection
	res := initResponse{Connection: connectionView{Connection: c}, ExternalID: c.ExternalID, Templates: templateInfos(tenantBase(r), c, done.Files), Links: done.Links, EventsKey: done.EventsKey}
	return created(w, r, res)
}

type connectionDetail struct {
	Connection   connectionView      `json:"connection"`
	Verification *store.Verification `json:"verification,omitempty"`
	Templates    []templateInfo      `json:"templates"`
	Bill         *store.BillSource   `json:"bill,omitempty"`
	Jobs         []store.Job         `json:"jobs"`
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	d := connectionDetail{Connection: v, Bill: v.Bill}
	if latest, err := s.store.LatestVerification(r.Context(), c.ID); err == nil {
		d.Verification = &latest
	} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		return err
	}
	files, err := s.templates(r, c, "yaml", "")
	if err != nil {
		return err
	}
	d.Templates = templateInfos(tenantBase(r), c, files)
	if d.Jobs, err = s.store.Jobs(r.Context(), c.TenantID, store.JobFilter{ConnectionID: c.ID, Limit: 20}); err != nil {
		return err
	}
	return ok(w, r, d)
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	name := r.PathValue("file")
	format := "yaml"
	if strings.HasSuffix(name, ".json") {
		format = "json"
	}
	files, err := s.templates(r, c, format, r.URL.Query().Get("region"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Name == name {
			ct := "application/yaml"
			if format == "json" {
				ct = "application/json"
			}
			w.Header().Set("Content-Type", ct+"; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
			if _, err := w.Write(f.Body); err != nil {
				logger(r.Context()).Debug("writing template", "err", err)
			}
			return nil
		}
	}
	return crossbill.Errorf(crossbill.CodeNotFound, "template", "connection %s has no template %q; GET the connection to list them", c.ID, name)
}

type verifyRequest struct {
	RoleARN     string `json:"role_arn"`
	IncludePaid bool   `json:"include_paid"`
}

// verifyConnection verifies now and answers with every check; a verified
// connection gets its periodic verify (and, with a bill bucket, ingest)
// scheduled.
func (s *Server) verifyConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	var in verifyRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.RoleARN == "" {
		if in.RoleARN, err = s.roleToVerify(r.Context(), c); err != nil {
			return err
		}
	}
	if in.RoleARN == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "connect verify", "role_arn is required: the RoleArn output of the customer's stack")
	}
	res, err := s.verify(r, c, in.RoleARN, in.IncludePaid)
	if err != nil {
		return err
	}
	if err := s.schedule(r, c.ID, res.Status == store.VerificationVerified); err != nil {
		return err
	}
	if res.Status == store.VerificationVerified {
		// An organization's management account: list and verify its
		// members now, then daily.
		if err := s.scheduleMembers(r.Context(), c, s.now()); err != nil {
			return err
		}
		// Access governance: the first sync now, then daily.
		if err := s.scheduleAccess(r.Context(), c, s.now()); err != nil {
			return err
		}
		// Just-in-time access: the lease and reconciler jobs.
		if err := s.scheduleJIT(r.Context(), c); err != nil {
			return err
		}
		// Remediation: approved plans run within a minute.
		if err := s.scheduleRemediation(r.Context(), c.TenantID, c.ID); err != nil {
			return err
		}
		// Inventory: the first sync now, then daily.
		if err := s.scheduleInventory(r.Context(), c, s.now()); err != nil {
			return err
		}
		// Commitment renewals: their 90/60/30-day alerts, daily.
		if err := s.scheduleRenewals(r.Context(), c, s.now()); err != nil {
			return err
		}
	}
	return ok(w, r, res)
}

// verify runs a verification of c with the hub's credentials and stores it.
func (s *Server) verify(r *http.Request, c store.Connection, role string, paid bool) (verify.Result, error) {
	t := tenantOf(r)
	log := logger(r.Context())
	return verify.Connection(r.Context(), s.store, verify.Request{Tenant: t.ID, RoleARN: role, Connection: c.ID, Actor: authOf(r).audit().Actor}, verify.Options{
		AWS: s.cfg.AWS, IncludePaid: paid, PropagationWait: s.cfg.VerifyWait,
		Progress: func(format string, args ...any) { log.Debug("verify", "step", fmt.Sprintf(format, args...)) },
	})
}

// roleToVerify is the connection's bound role, else the role of its latest
// verification attempt (a failed attempt binds nothing), else "".
func (s *Server) roleToVerify(ctx context.Context, c store.Connection) (string, error) {
	if c.RoleARN != "" {
		return string(c.RoleARN), nil
	}
	v, err := s.store.LatestVerification(ctx, c.ID)
	switch crossbill.ErrorCode(err) {
	case "":
		return string(v.RoleARN), nil
	case crossbill.CodeNotFound:
		return "", nil
	}
	return "", err
}

// schedule makes sure a connection has its periodic jobs: verify always,
// ingest when a bill bucket is registered. After a failed verification the
// verify job runs in a few minutes (the customer is likely fixing the
// role) and retries with backoff; after a good one, in a day.
func (s *Server) schedule(r *http.Request, id crossbill.ConnectionID, verified bool) error {
	if s.sched == nil {
		return nil
	}
	t := tenantOf(r).ID
	next := s.now().Add(verifyInterval)
	if !verified {
		next = s.now().Add(s.verifyRetry())
	}
	if _, err := s.sched.Enqueue(r.Context(), store.JobSpec{TenantID: t, ConnectionID: id, Kind: JobVerify, RunAt: next, Interval: verifyInterval}); err != nil {
		return err
	}
	if _, err := s.store.BillSource(r.Context(), t, id); err == nil {
		if _, err := s.sched.Enqueue(r.Context(), store.JobSpec{TenantID: t, ConnectionID: id, Kind: JobIngest, Interval: ingestInterval}); err != nil {
			return err
		}
	} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		return err
	}
	if verified {
		c, err := s.store.TenantConnection(r.Context(), t, id)
		if err != nil {
			return err
		}
		return s.scheduleCostExplorer(r.Context(), c)
	}
	return nil
}

func (s *Server) listVerifications(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	vs, err := s.store.Verifications(r.Context(), c.ID, 50)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []store.Verification{}
	}
	return ok(w, r, vs)
}

// ingestNow queues an ingest of the connection's bill bucket.
func (s *Server) ingestNow(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	if _, err := s.store.BillSource(r.Context(), c.TenantID, c.ID); err != nil {
		return err
	}
	if s.sched == nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, "ingest", "no scheduler in this server")
	}
	j, err := s.sched.Enqueue(r.Context(), store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobIngest, Interval: ingestInterval})
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusAccepted, j)
	return nil
}
