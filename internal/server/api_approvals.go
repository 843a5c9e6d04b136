package server

import (
	"net/http"

	"github.com/crossbill/crossbill/internal/approval"
)

// approvalDecision is the body of an approve or deny.
type approvalDecision struct {
	Reason string `json:"reason,omitempty"`
}

// approvalRoutes are the shared approvals inbox: JIT grants, remediations
// and purchases are all decided here (or by their feature's own command,
// which calls the same approval.Decide).
func (s *Server) approvalRoutes() []route {
	one := tenantPath + "/approvals/{approval}"
	return []route{
		{method: http.MethodGet, path: tenantPath + "/approvals", role: viewer, tenantParam: "tenant", handler: s.listApprovals, tag: "approvals", summary: "The tenant's approvals (JIT grants, remediations, purchases), newest first",
			query: []param{q("kind", "access-grant, remediation or purchase"), q("state", "pending, approved, denied, expired or cancelled")}, resp: "ApprovalList"},
		{method: http.MethodGet, path: one, role: viewer, tenantParam: "tenant", handler: s.getApproval, tag: "approvals", summary: "One approval: the plan or dry run it approves and its decisions", resp: "Approval"},
		{method: http.MethodPost, path: one + "/approve", role: approver, tenantParam: "tenant", handler: s.decideApproval(true), tag: "approvals", summary: "Approve (never your own request; once per person)", body: "ApprovalDecision", resp: "Approval"},
		{method: http.MethodPost, path: one + "/deny", role: approver, tenantParam: "tenant", handler: s.decideApproval(false), tag: "approvals", summary: "Deny, with the reason the requester sees", body: "ApprovalDecision", resp: "Approval"},
	}
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) error {
	as, err := approval.List(r.Context(), s.store, tenantOf(r).ID, approval.Filter{Kind: r.URL.Query().Get("kind"), State: r.URL.Query().Get("state")})
	if err != nil {
		return err
	}
	return ok(w, r, as)
}

func (s *Server) getApproval(w http.ResponseWriter, r *http.Request) error {
	a, err := approval.Get(r.Context(), s.store, tenantOf(r).ID, r.PathValue("approval"))
	if err != nil {
		return err
	}
	return ok(w, r, a)
}

func (s *Server) decideApproval(approve bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in approvalDecision
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		a, err := approval.Decide(r.Context(), s.store, tenantOf(r).ID, r.PathValue("approval"), approve, in.Reason, authOf(r).audit())
		if err != nil {
			return err
		}
		return ok(w, r, a)
	}
}

func approvalSchemas() obj {
	enum := func(desc string, values []string) obj {
		return obj{"type": "string", "description": desc, "enum": values}
	}
	return obj{
		"Approval": object([]string{"id", "kind", "subject", "state", "required", "decisions"}, obj{"id": str("apr_..."), "tenant_id": str(""),
			"kind": enum("what the approved write does", approval.Kinds), "subject": str("the lease or plan it approves"), "summary": str(""),
			"detail": anyJSON("the plan or dry run the approver sees"), "state": enum("", approval.States), "required": integer("distinct approvals needed (2: two-person rule)"),
			"approvers":    obj{"type": "array", "items": obj{"type": "string"}, "description": "only these people may decide; empty: anyone with the approver role"},
			"requested_by": str("the requester's actor"), "requested_person": str("the requester's email"), "auto_approved": str("approved at once by policy: why"),
			"decisions": arrayOf("ApprovalDecisionRecord"), "created_at": timestamp(""), "expires_at": timestamp(""), "decided_at": timestamp("")}),
		"ApprovalDecisionRecord": object([]string{"by", "approve", "at"}, obj{"by": str("the actor"), "email": str(""), "approve": boolean(""), "reason": str(""), "at": timestamp("")}),
		"ApprovalList":           arrayOf("Approval"),
		"ApprovalDecision":       object(nil, obj{"reason": str("required to deny: what the requester should change")}),
	}
}
