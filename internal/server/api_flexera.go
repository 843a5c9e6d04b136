package server

import (
	"net/http"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// billConnect is Flexera Optima's onboarding call body (seed 004), field
// for field.
type billConnect struct {
	BillAccountID string `json:"aws_bill_account_id"`
	BucketName    string `json:"aws_bucket_name"`
	BucketPath    string `json:"aws_bucket_path"`
	RoleARN       string `json:"aws_sts_role_arn"`
}

// billConnectResponse says what the call did.
type billConnectResponse struct {
	Connection   connectionView       `json:"connection"`
	ExternalID   crossbill.ExternalID `json:"external_id"`
	Verification verify.Result        `json:"verification"`
	IngestJob    *store.Job           `json:"ingest_job,omitempty"`
	Message      string               `json:"message"`
}

// flexeraBillConnect registers a bill connection the way Flexera's
// POST /api/onboarding/orgs/{org_id}/bill_connects/aws/iam_role does: the
// role and its bill bucket are recorded, the role is verified, and the
// bill's ingestion is scheduled. {org_id} is the tenant.
//
// The role is bound to the tenant only if the verification assumes it with
// the connection's external ID; a failed one binds nothing.
//
// Unlike Flexera, crossbill does not use a customer-known value (the org
// ID) as the external ID: the role must trust the external ID of the
// tenant's pending connection (from POST .../connections or `crossbill
// connect init`). Without one, a connection is created and its new external
// ID is returned with the failed verification, which says what to fix.
func (s *Server) flexeraBillConnect(w http.ResponseWriter, r *http.Request) error {
	const op = "bill connect"
	var in billConnect
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	role, err := awsarn.ParseRole(in.RoleARN, awsarn.PartitionOf(s.hubRegion()))
	if err != nil {
		return err
	}
	bill := store.BillSource{TenantID: tenantOf(r).ID, AccountID: crossbill.AccountID(in.BillAccountID), Bucket: in.BucketName, Path: in.BucketPath}
	if err := store.ValidateBillSource(&bill); err != nil {
		return err
	}
	if role.Account != bill.AccountID {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "aws_sts_role_arn is in account %s but aws_bill_account_id is %s: the role must be in the account that owns the bill bucket", role.Account, bill.AccountID)
	}
	if bill.Path == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "aws_bucket_path is empty: give the export's folder (PREFIX/EXPORT, the one holding data/ and metadata/)")
	}
	c, err := s.billConnection(r, role.ARN())
	if err != nil {
		return err
	}
	bill.ConnectionID = c.ID
	if bill, err = s.store.SaveBillSource(r.Context(), bill); err != nil {
		return err
	}
	res, err := s.verify(r, c, string(role.ARN()), false)
	if err != nil {
		return err
	}
	if c, err = s.connectionByID(r, c.ID); err != nil {
		return err
	}
	out := billConnectResponse{Connection: connectionView{Connection: c, Bill: &bill}, ExternalID: c.ExternalID, Verification: res}
	if err := s.schedule(r, c.ID, res.Status == store.VerificationVerified); err != nil {
		return err
	}
	jobs, err := s.store.Jobs(r.Context(), c.TenantID, store.JobFilter{ConnectionID: c.ID, Kind: JobIngest, Limit: 1})
	if err != nil {
		return err
	}
	if len(jobs) > 0 {
		out.IngestJob = &jobs[0]
	}
	if res.Status == store.VerificationVerified {
		out.Message = "connection verified; bill ingestion scheduled"
	} else {
		out.Message = "connection registered but verification failed: " + res.Err().Error() +
			"; ingestion is scheduled and retries with backoff until the role works"
	}
	writeJSON(w, r, http.StatusCreated, out)
	return nil
}

// billConnection finds the tenant's connection for the role: the one
// already bound to it, else the tenant's newest pending one, else a new one
// (CUR module only) whose external ID the customer must put in the trust
// policy. A role another tenant connected is treated like any other: its
// verification fails as for a role that does not trust the connection's
// external ID, and nothing is bound (see verify.Connection).
func (s *Server) billConnection(r *http.Request, role crossbill.RoleARN) (store.Connection, error) {
	t := tenantOf(r).ID
	c, err := s.store.ConnectionByRoleARN(r.Context(), role)
	switch {
	case err == nil && c.TenantID == t:
		return c, nil
	case err == nil:
	case crossbill.ErrorCode(err) != crossbill.CodeNotFound:
		return store.Connection{}, err
	}
	c, err = s.store.PendingConnectionForTenant(r.Context(), t)
	if err == nil {
		return c, nil
	}
	if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		return store.Connection{}, err
	}
	if s.cfg.HubPrincipal == "" {
		return store.Connection{}, crossbill.Errorf(crossbill.CodeInvalid, "bill connect",
			"the tenant has no pending connection: create one first (POST %s/connections) and put its external ID in the role's trust policy", tenantBase(r))
	}
	done, err := onboarding.Init(r.Context(), s.store, onboarding.InitRequest{Tenant: t, HubPrincipal: s.cfg.HubPrincipal,
		Modules: []string{string(manifest.ModuleCUR)}, Region: s.hubRegion()})
	return done.Connection, err
}

// connectionByID reloads a connection of the request's tenant.
func (s *Server) connectionByID(r *http.Request, id crossbill.ConnectionID) (store.Connection, error) {
	return s.store.TenantConnection(r.Context(), tenantOf(r).ID, id)
}
