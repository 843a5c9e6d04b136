package server

import (
	"net/http"

	"github.com/crossbill/crossbill/internal/verify"
)

// setBill registers or changes the connection's bill source explicitly
// (verification discovers it on its own when the CUR stack is deployed in
// the connection's account); SetBill queues a verified connection's
// ingestion.
func (s *Server) setBill(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	var in struct {
		Source string `json:"source"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	bill, err := verify.SetBill(r.Context(), s.store, c.TenantID, c.ID, in.Source)
	if err != nil {
		return err
	}
	if s.sched != nil {
		s.sched.Wake() // SetBill queued a verified connection's ingest
	}
	return ok(w, r, bill)
}
