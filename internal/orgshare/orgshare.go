// Package orgshare is the hub's side of a commitment-sharing organization:
// crossbill's hub, as management account, invites a customer's account,
// tracks the invitation (AWS's handshake) and tells the customer what
// accepting means and how to leave. Accepting is the customer's action.
package orgshare

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// Handshake states, as crossbill shows them.
const (
	Open      = "open"
	Accepted  = "accepted"
	Declined  = "declined"
	Expired   = "expired"
	Cancelled = "cancelled"
)

// stateOf maps AWS's handshake states to crossbill's.
func stateOf(s orgtypes.HandshakeState) string {
	switch s {
	case orgtypes.HandshakeStateAccepted:
		return Accepted
	case orgtypes.HandshakeStateDeclined:
		return Declined
	case orgtypes.HandshakeStateExpired:
		return Expired
	case orgtypes.HandshakeStateCanceled:
		return Cancelled
	}
	return Open // REQUESTED, OPEN
}

// Invitation is a handshake with what the customer needs to decide.
type Invitation struct {
	store.OrgHandshake
	// Meaning says what accepting means, and how to accept and to leave.
	Meaning []string `json:"meaning"`
	// Accept is the customer's command (run in the invited account).
	Accept string `json:"accept_command"`
	// SCP is the policy the hub attaches to enrolled accounts.
	SCP string `json:"scp"`
}

func invitation(h store.OrgHandshake) Invitation {
	return Invitation{OrgHandshake: h, Meaning: manifest.SharingMeaning(), SCP: manifest.CommitmentSharingSCP(),
		Accept: "aws organizations accept-handshake --handshake-id " + h.ID}
}

// Invite invites account into the hub's organization with the hub's own
// credentials (hub: the management account's configuration) and records
// the handshake.
func Invite(ctx context.Context, st *store.Store, hub aws.Config, tenant crossbill.TenantID, account crossbill.AccountID, by store.AuditEntry) (Invitation, error) {
	const op = "org invite"
	if !account.Valid() {
		return Invitation{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not a 12-digit AWS account ID", account)
	}
	t, err := st.TenantByID(ctx, tenant)
	if err != nil {
		return Invitation{}, err
	}
	out, err := organizations.NewFromConfig(hub).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &orgtypes.HandshakeParty{Id: aws.String(string(account)), Type: orgtypes.HandshakePartyTypeAccount},
		Notes:  aws.String(fmt.Sprintf("crossbill commitment sharing for %s: Savings Plans and reservations bought by the hub are shared with this account. See the annex before accepting.", t.Name)),
	})
	if err != nil {
		return Invitation{}, awsclient.Classify(op, err)
	}
	hs := out.Handshake
	if hs == nil || aws.ToString(hs.Id) == "" {
		return Invitation{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "AWS Organizations answered without a handshake: list the organization's handshakes in the console and retry")
	}
	h, err := st.SaveHandshake(ctx, store.OrgHandshake{ID: aws.ToString(hs.Id), TenantID: tenant, AccountID: account, State: stateOf(hs.State),
		RequestedAt: aws.ToTime(hs.RequestedTimestamp), ExpiresAt: aws.ToTime(hs.ExpirationTimestamp)}, by)
	if err != nil {
		return Invitation{}, err
	}
	return invitation(h), nil
}

// Handshakes lists the tenant's invitations, reading the state of each
// open one from AWS first (a state change is an audit line).
func Handshakes(ctx context.Context, st *store.Store, hub aws.Config, tenant crossbill.TenantID, by store.AuditEntry) ([]Invitation, error) {
	const op = "org handshakes"
	hs, err := st.Handshakes(ctx, tenant)
	if err != nil {
		return nil, err
	}
	client := organizations.NewFromConfig(hub)
	out := make([]Invitation, 0, len(hs))
	for _, h := range hs {
		if h.State == Open {
			d, err := client.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String(h.ID)})
			if err != nil {
				return nil, awsclient.Classify(op, err)
			}
			if d.Handshake != nil {
				if s := stateOf(d.Handshake.State); s != h.State {
					if err := st.SetHandshakeState(ctx, tenant, h.ID, s, by); err != nil {
						return nil, err
					}
					h.State = s
				}
			}
		}
		out = append(out, invitation(h))
	}
	return out, nil
}

// Describe renders an invitation for people.
func Describe(inv Invitation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  account %s  %s  (invited %s, expires %s)\n", inv.ID, inv.AccountID, inv.State,
		inv.RequestedAt.Format("2006-01-02"), inv.ExpiresAt.Format("2006-01-02"))
	for _, m := range inv.Meaning {
		fmt.Fprintf(&b, "  - %s\n", strings.ReplaceAll(m, "h-...", inv.ID))
	}
	return b.String()
}
