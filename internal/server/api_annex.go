package server

import (
	"io"
	"net/http"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/manifest"
)

// annex answers the customer-facing annex for the chosen modules, as
// Markdown (default) or JSON.
func (s *Server) annex(w http.ResponseWriter, r *http.Request) error {
	mods, err := manifest.ParseModules(r.URL.Query().Get("modules"))
	if err != nil {
		return err
	}
	a := manifest.BuildAnnex(mods, costexplorer.AnnexSchedule())
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		return ok(w, r, a)
	case "", "md", "markdown":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		if _, err := io.WriteString(w, a.Markdown()); err != nil {
			logger(r.Context()).Debug("writing annex", "err", err)
		}
		return nil
	default:
		return crossbill.Errorf(crossbill.CodeInvalid, "annex", "format %q: use md or json", f)
	}
}

type moduleInfo struct {
	Name        manifest.Module `json:"name"`
	Description string          `json:"description"`
	ReadOnly    bool            `json:"read_only"`
	// Preview says why the module grants little or nothing yet ("" when a
	// feature uses it).
	Preview string `json:"preview,omitempty"`
	Default bool   `json:"default"`
}

type onboardingInfo struct {
	Modules      []moduleInfo `json:"modules"`
	HubPrincipal string       `json:"hub_principal,omitempty"`
	Region       string       `json:"region"`
	HubProblem   string       `json:"hub_problem,omitempty"`
}

// onboardingModules lists the modules a connection can enable and the
// server's defaults for the wizard.
func (s *Server) onboardingModules(w http.ResponseWriter, r *http.Request) error {
	a := manifest.BuildAnnex(manifest.ValidModules(), costexplorer.AnnexSchedule())
	def := map[manifest.Module]bool{}
	for _, m := range manifest.DefaultModules() {
		def[m] = true
	}
	out := onboardingInfo{HubPrincipal: s.cfg.HubPrincipal, Region: s.hubRegion(), HubProblem: s.cfg.HubProblem}
	if out.Region == "" {
		out.Region = "us-east-1"
	}
	for _, m := range a.Modules {
		out.Modules = append(out.Modules, moduleInfo{Name: m.Module, Description: m.Summary, ReadOnly: m.ReadOnly, Default: def[m.Module], Preview: m.Preview})
	}
	return ok(w, r, out)
}
