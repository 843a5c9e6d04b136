package server

import (
	"encoding/json"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/review"
)

// createReview reviews the uploaded template or policy (the raw request
// body; ?name= names it) and keeps the result for the tenant.
func (s *Server) createReview(w http.ResponseWriter, r *http.Request) error {
	const op = "review"
	name := path.Base(strings.TrimSpace(r.URL.Query().Get("name")))
	if name == "" || name == "." || name == "/" {
		name = "upload"
	}
	if len(name) > 200 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "name is %d characters long; use at most 200", len(name))
	}
	if err := crossbill.CheckText(op, "name", name); err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err // a MaxBytesError becomes 413
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "empty upload: send a CloudFormation template (YAML or JSON) or an IAM policy as the request body")
	}
	rep, err := review.Template(r.Context(), name, data, review.Options{})
	if err != nil {
		return err
	}
	result, err := json.Marshal(rep)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "encoding the report: %w", err)
	}
	rv, err := s.store.SaveReview(r.Context(), tenantOf(r).ID, name, string(data), result)
	if err != nil {
		return err
	}
	return created(w, r, rv)
}
