package orgshare_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/store"
)

// STUBBED: moto_server serves neither DescribeHandshake nor
// CancelHandshake; both are answered in SDK middleware with AWS's shapes.
// An open invitation is cancelled (CancelHandshake with its ID, state
// cancelled, an audit line); a cancelled, accepted, declined or expired
// one is refused with what to do instead and no call to cancel; one the
// customer accepted since the last read is refused too (its state is
// read from AWS first); another tenant's is NotFound.
func TestCancelHandshake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten, _ := st.CreateTenant(ctx, "acme")
	other, _ := st.CreateTenant(ctx, "beta")
	hub, err := emulator.Shared(t).RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := awsclient.NewRecorder()
	rec.Attach(&hub)
	remote := map[string]orgtypes.HandshakeState{}
	var cancelled []string
	hub.APIOptions = append(hub.APIOptions, stubFor(func(op string, in any) any {
		switch op {
		case "DescribeHandshake":
			id := aws.ToString(in.(*organizations.DescribeHandshakeInput).HandshakeId)
			return &organizations.DescribeHandshakeOutput{Handshake: &orgtypes.Handshake{Id: aws.String(id), State: remote[id]}}
		case "CancelHandshake":
			id := aws.ToString(in.(*organizations.CancelHandshakeInput).HandshakeId)
			cancelled = append(cancelled, id)
			remote[id] = orgtypes.HandshakeStateCanceled
			return &organizations.CancelHandshakeOutput{Handshake: &orgtypes.Handshake{Id: aws.String(id), State: orgtypes.HandshakeStateCanceled}}
		}
		return nil
	}))
	const open, later = "h-0000000000000000000000000000000a", "h-0000000000000000000000000000000b"
	accepted(t, st, ten.ID, "210987654321", open, orgshare.Open)
	accepted(t, st, ten.ID, "210987654322", later, orgshare.Open)
	accepted(t, st, ten.ID, "210987654323", "h-0000000000000000000000000000000c", orgshare.Declined)
	accepted(t, st, ten.ID, "210987654324", "h-0000000000000000000000000000000d", orgshare.Expired)
	remote[open], remote[later] = orgtypes.HandshakeStateOpen, orgtypes.HandshakeStateAccepted
	by := store.AuditEntry{Actor: "cli:ops"}

	if _, err := orgshare.Cancel(ctx, st, hub, other.ID, open, by); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("another tenant's invitation: %v", err)
	}
	inv, err := orgshare.Cancel(ctx, st, hub, ten.ID, open, by)
	if err != nil || inv.State != orgshare.Cancelled || strings.Join(cancelled, ",") != open {
		t.Fatalf("cancel: %+v, %v; cancelled %v", inv, err, cancelled)
	}
	hs, _ := st.Handshakes(ctx, ten.ID)
	for _, h := range hs {
		if h.ID == open && h.State != orgshare.Cancelled {
			t.Errorf("stored state %s", h.State)
		}
	}
	for id, want := range map[string]string{open: "is cancelled", later: "is a member now", "h-0000000000000000000000000000000c": "invites the account again",
		"h-0000000000000000000000000000000d": "is expired"} {
		_, err := orgshare.Cancel(ctx, st, hub, ten.ID, id, by)
		if crossbill.ErrorCode(err) != crossbill.CodeConflict || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a conflict saying %q", id, err, want)
		}
	}
	if len(cancelled) != 1 {
		t.Errorf("CancelHandshake called for a closed invitation: %v", cancelled)
	}
	lines, _ := st.AuditLog(ctx, "", ten.ID)
	var acts []string
	for _, l := range lines {
		acts = append(acts, l.Action+" "+l.Subject)
	}
	if j := strings.Join(acts, ";"); !strings.Contains(j, "org.handshake.cancelled "+open) || !strings.Contains(j, "org.handshake.accepted "+later) {
		t.Errorf("audit lines %v", acts)
	}
	if u := rec.Undeclared(); len(u) > 0 {
		t.Errorf("undeclared calls %v", u)
	}
}
