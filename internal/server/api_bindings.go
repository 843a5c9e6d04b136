package server

import (
	"net/http"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// bindingRoutes are the operator's view of which tenant holds which AWS
// account, and the way to free one (for the account's real owner, say).
// Tenant tokens never reach them: a tenant must not learn who else
// connected an account.
func (s *Server) bindingRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/api/v1/bindings", role: operator, handler: s.listBindings, tag: "bindings",
			summary: "Operator: AWS accounts bound to tenants, with their bound roles and when each was last assumed",
			query:   []param{q("tenant", "only this tenant's (ID or name)"), q("account", "only this account")}, resp: "BindingList"},
		{method: http.MethodPost, path: "/api/v1/bindings/{account}/release", role: operator, handler: s.releaseBinding, tag: "bindings",
			summary: "Operator: release an account from its tenant (its connections go back to pending); writes an audit line", body: "BindingRelease", resp: "Binding"},
	}
}

func bindingSchemas() obj {
	return obj{
		"Binding": object([]string{"account_id", "tenant_id", "roles"}, obj{
			"account_id": str(""), "tenant_id": str(""), "tenant": str("tenant name"),
			"roles": obj{"type": "array", "items": object([]string{"connection_id", "role_arn"}, obj{
				"connection_id": str(""), "role_arn": str(""), "status": str("connection status"),
				"assumed_at": timestamp("last verification that assumed the role with the connection's external ID; absent: none stored"),
			})},
			"member_of": obj{"type": "array", "items": obj{"type": "string"}, "description": "organization connections that verified the account as a member"},
		}),
		"BindingList":    arrayOf("Binding"),
		"BindingRelease": object([]string{"reason"}, obj{"reason": str("why, for the audit log")}),
	}
}

func (s *Server) listBindings(w http.ResponseWriter, r *http.Request) error {
	f := store.BindingFilter{AccountID: crossbill.AccountID(r.URL.Query().Get("account"))}
	if ref := r.URL.Query().Get("tenant"); ref != "" {
		t, err := s.store.TenantByID(r.Context(), crossbill.TenantID(ref))
		if crossbill.ErrorCode(err) == crossbill.CodeNotFound {
			t, err = s.store.TenantByName(r.Context(), ref)
		}
		if err != nil {
			return err
		}
		f.TenantID = t.ID
	}
	bs, err := s.store.Bindings(r.Context(), f)
	if err != nil {
		return err
	}
	return ok(w, r, bs)
}

type bindingRelease struct {
	Reason string `json:"reason"`
}

func (s *Server) releaseBinding(w http.ResponseWriter, r *http.Request) error {
	var in bindingRelease
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	b, err := s.store.ReleaseAccount(r.Context(), crossbill.AccountID(r.PathValue("account")), authOf(r).audit(), in.Reason)
	if err != nil {
		return err
	}
	logger(r.Context()).Info("binding released", "account", b.AccountID, "tenant", b.TenantName)
	return ok(w, r, b)
}
