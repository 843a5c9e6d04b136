package server

import (
	"context"
	"net/http"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
)

// Saved views (named cost queries) and CSV exports: the analyst's routes.
// Each handler parses, calls the costs package's use case, renders.

type viewCreate struct {
	Name  string          `json:"name"`
	Query costs.ViewQuery `json:"query"`
}

func (s *Server) listViews(w http.ResponseWriter, r *http.Request) error {
	vs, err := costs.Views(r.Context(), s.store, tenantOf(r).ID)
	if err != nil {
		return err
	}
	return ok(w, r, vs)
}

func (s *Server) createView(w http.ResponseWriter, r *http.Request) error {
	var in viewCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := costs.SaveView(r.Context(), s.store, tenantOf(r).ID, in.Name, in.Query, authOf(r).audit())
	if err != nil {
		return err
	}
	return created(w, r, v)
}

func (s *Server) getView(w http.ResponseWriter, r *http.Request) error {
	v, err := costs.GetView(r.Context(), s.store, tenantOf(r).ID, r.PathValue("view"))
	if err != nil {
		return err
	}
	return ok(w, r, v)
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request) error {
	v, err := costs.DeleteView(r.Context(), s.store, tenantOf(r).ID, r.PathValue("view"))
	if err != nil {
		return err
	}
	return ok(w, r, v)
}

// exportCosts answers GET .../costs/export: the cost query of the
// parameters, as CSV.
func (s *Server) exportCosts(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	if f := v.Get("format"); f != "" && f != "csv" {
		return crossbill.Errorf(crossbill.CodeInvalid, "export", "format %q: exports are csv (for JSON, GET .../costs)", f)
	}
	v.Del("format")
	q, err := parseCostQuery(tenantOf(r).ID, v)
	if err != nil {
		return err
	}
	return s.exportCSV(w, r, q, "costs.csv")
}

// exportView answers GET .../costs/views/{view}/export.
func (s *Server) exportView(w http.ResponseWriter, r *http.Request) error {
	if f := r.URL.Query().Get("format"); f != "" && f != "csv" {
		return crossbill.Errorf(crossbill.CodeInvalid, "export", "format %q: exports are csv", f)
	}
	v, err := costs.GetView(r.Context(), s.store, tenantOf(r).ID, r.PathValue("view"))
	if err != nil {
		return err
	}
	q, err := s.engines().ViewQuery(r.Context(), tenantOf(r).ID, v.ID, s.cfg.MaxRows)
	if err != nil {
		return err
	}
	return s.exportCSV(w, r, q, v.ID+".csv")
}

// exportCSV answers q as CSV in the tenant's engine, cached as GET
// .../costs is (an Athena answer for the hour).
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request, q costs.Query, file string) error {
	q.MaxRows = s.cfg.MaxRows
	key, err := queryKey("export", q)
	if err != nil {
		return err
	}
	if key, err = s.engineKey(r.Context(), q.Tenant, key); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	return s.cachedBytes(w, r, key, "text/csv; charset=utf-8", func(ctx context.Context) ([]byte, error) {
		return s.engines().Export(ctx, q, s.localFor(r))
	})
}
