package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/scheduler"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// JobMembers refreshes and verifies the member accounts of a verified
// connection with the org module, daily: accounts join and leave, and the
// members StackSet reaches new ones some minutes after they join.
const (
	JobMembers      = "members"
	membersInterval = 24 * time.Hour
)

// membersTimeout bounds a synchronous refresh and verification of an
// organization's members: at 8 at once and about a second per account,
// that is some two thousand accounts; larger organizations use the CLI.
const membersTimeout = 5 * time.Minute

// membersView is the stored member accounts of a connection and their
// counts, as GET answers and POST refreshes.
type membersView struct {
	ConnectionID string                `json:"connection_id"`
	Summary      verify.MembersSummary `json:"summary"`
	Members      []store.Member        `json:"members"`
}

// listMembers answers the member accounts recorded for the connection,
// without calling AWS.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	ms, err := s.store.Members(r.Context(), c.ID)
	if err != nil {
		return err
	}
	return ok(w, r, membersView{ConnectionID: string(c.ID), Summary: verify.Summarize(ms, c.AccountID), Members: ms})
}

type membersRequest struct {
	RoleName    string `json:"role_name"`
	Verify      *bool  `json:"verify"`
	Concurrency int    `json:"concurrency"`
	IncludePaid bool   `json:"include_paid"`
}

// refreshMembers lists the organization through the connection's role,
// stores its accounts and (unless verify is false) checks every member's
// role, synchronously within membersTimeout.
func (s *Server) refreshMembers(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionOf(r)
	if err != nil {
		return err
	}
	var in membersRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), membersTimeout)
	defer cancel()
	log := logger(ctx)
	res, err := verify.Members(ctx, s.store, c, verify.MembersOptions{
		Options: verify.Options{AWS: s.cfg.AWS, Tenant: tenantOf(r).Name, IncludePaid: in.IncludePaid,
			Progress: func(format string, args ...any) { log.Debug("members", "step", fmt.Sprintf(format, args...)) }},
		RoleName: in.RoleName, Verify: in.Verify == nil || *in.Verify, Concurrency: in.Concurrency,
	})
	if err != nil {
		return err
	}
	// Failed members are findings, not an error of the request: the answer
	// is 200 with every member's class and fix.
	return ok(w, r, res)
}

// runMembers lists the organization and verifies every member. The job
// fails (and is retried with backoff) when a member failed, so that an
// account the StackSet is still reaching is checked again soon; accounts
// owned by another tenant do not fail it (retrying changes nothing).
func (s *Server) runMembers(ctx context.Context, j store.Job, progress scheduler.Progress) error {
	c, t, err := s.jobConnection(ctx, j)
	if err != nil {
		return err
	}
	n := 0
	res, err := verify.Members(ctx, s.store, c, verify.MembersOptions{Options: verify.Options{AWS: s.cfg.AWS, Tenant: t.Name,
		Progress: func(format string, args ...any) {
			n++
			progress(min(0.95, float64(n)/float64(n+8)), fmt.Sprintf(format, args...))
		}}, Verify: true})
	if err != nil {
		return err
	}
	progress(1, res.Summary.String())
	if res.Summary.Failed > 0 {
		return res.Err()
	}
	return nil
}

// scheduleMembers gives a connection with the org module its daily members
// job, first run at runAt. Enqueueing is idempotent.
func (s *Server) scheduleMembers(ctx context.Context, c store.Connection, runAt time.Time) error {
	if s.sched == nil || !slices.Contains(c.Modules, manifest.ModuleOrg) {
		return nil
	}
	_, err := s.sched.Enqueue(ctx, store.JobSpec{TenantID: c.TenantID, ConnectionID: c.ID, Kind: JobMembers, RunAt: runAt, Interval: membersInterval})
	return err
}

// memberSchemas are the OpenAPI schemas of the members routes.
func memberSchemas() obj {
	summary := object([]string{"members", "verified"}, obj{
		"accounts": integer("accounts in the organization, the connection's own included"), "members": integer("accounts to check"),
		"verified": integer(""), "failed": integer(""), "pending": integer("not checked yet"), "skipped": integer("not ACTIVE"),
		"conflict": integer("owned by another tenant"), "gone": integer("no longer in the organization"),
		"unchecked": integer("could not be checked in this run for passing AWS faults (throttling, outages); their previous status is kept"),
	})
	member := object([]string{"account_id", "status"}, obj{
		"connection_id": str(""), "account_id": str(""), "name": str(""), "email": str(""), "state": str("ACTIVE, SUSPENDED, PENDING_CLOSURE..."),
		"joined_method": str("CREATED or INVITED"), "joined_at": timestamp(""), "role_arn": str("the role the members stack puts there"),
		"status":     obj{"type": "string", "enum": []string{"pending", "verified", "failed", "skipped", "conflict"}},
		"checked_at": timestamp(""), "duration_ms": integer(""), "class": failureClass(),
		"message": str(""), "fix": str("what the customer changes"), "first_seen": timestamp(""), "last_seen": timestamp(""),
		"gone_at": timestamp("set when the account left the organization; the record is kept"),
	})
	ids := obj{"type": "array", "items": obj{"type": "string"}}
	return obj{
		"MembersSummary": summary,
		"Member":         member,
		"MemberList": object([]string{"members", "summary"}, obj{
			"connection_id": str(""), "summary": ref("MembersSummary"), "members": arrayOf("Member"),
		}),
		"MembersRequest": object(nil, obj{
			"role_name": str("role name in member accounts (default CrossbillAccess)"), "verify": boolean("check every member's role (default true)"),
			"concurrency": integer("members checked at once, 1-64 (default 8)"), "include_paid": boolean("also run Cost Explorer probes ($0.01 each per member)"),
		}),
		"MembersResult": object([]string{"summary", "members"}, obj{
			"tenant": str(""), "connection_id": str(""), "organization_id": str(""), "management_account": str(""), "role_name": str(""),
			"verified": boolean("member roles were checked"), "summary": ref("MembersSummary"), "added": ids, "gone": ids, "unchecked": ids,
			"members": arrayOf("Member"), "started_at": timestamp(""), "duration_ms": integer(""),
		}),
	}
}
