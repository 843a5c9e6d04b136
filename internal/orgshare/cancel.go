package orgshare

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// handshake is one of the tenant's invitations; another tenant's is
// NotFound like a missing one.
func handshake(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id, op string) (store.OrgHandshake, error) {
	hs, err := st.Handshakes(ctx, tenant)
	if err != nil {
		return store.OrgHandshake{}, err
	}
	for _, h := range hs {
		if h.ID == id {
			return h, nil
		}
	}
	return store.OrgHandshake{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no invitation %q in this tenant: `crossbill org handshakes` lists them", id)
}

// Cancel withdraws an open invitation with the hub's credentials
// (CancelHandshake). Its state is read from AWS first, so an invitation
// the customer accepted or declined meanwhile is not "cancelled" in
// crossbill while AWS kept it; only an open one can be cancelled.
func Cancel(ctx context.Context, st *store.Store, hub aws.Config, tenant crossbill.TenantID, id string, by store.AuditEntry) (Invitation, error) {
	const op = "org cancel"
	h, err := handshake(ctx, st, tenant, id, op)
	if err != nil {
		return Invitation{}, err
	}
	client := organizations.NewFromConfig(hub)
	if h.State == Open {
		d, err := client.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String(id)})
		if err != nil {
			return Invitation{}, awsclient.Classify(op, err)
		}
		if d.Handshake != nil {
			if s := stateOf(d.Handshake.State); s != h.State {
				if err := st.SetHandshakeState(ctx, tenant, id, s, by); err != nil {
					return Invitation{}, err
				}
				h.State = s
			}
		}
	}
	if h.State != Open {
		return Invitation{}, crossbill.Errorf(crossbill.CodeConflict, op, "invitation %s is %s: only an open invitation can be cancelled%s", id, h.State, afterCancel(h))
	}
	out, err := client.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(id)})
	if err != nil {
		return Invitation{}, awsclient.Classify(op, err)
	}
	s := Cancelled
	if out.Handshake != nil && out.Handshake.State != "" {
		s = stateOf(out.Handshake.State)
	}
	if err := st.SetHandshakeState(ctx, tenant, id, s, by); err != nil {
		return Invitation{}, err
	}
	h.State = s
	return invitation(h), nil
}

// afterCancel says what to do instead, by state.
func afterCancel(h store.OrgHandshake) string {
	switch h.State {
	case Accepted:
		return fmt.Sprintf(" (account %s is a member now: it leaves through the %s role after notice, or the hub removes it with aws organizations remove-account-from-organization)", h.AccountID, manifest.OffboardingRoleName)
	case Declined, Expired:
		return fmt.Sprintf(" (nothing to withdraw: `crossbill org invite %s` invites the account again)", h.AccountID)
	}
	return ""
}
