package purchase

import (
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/approval"
)

// A stored pending plan shows its approval's outcome; any other stored
// state is shown as stored.
func TestShownState(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ap := func(state string, expires time.Time) *approval.Approval {
		return &approval.Approval{State: state, ExpiresAt: expires}
	}
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	for _, tc := range []struct {
		stored string
		ap     *approval.Approval
		want   string
	}{
		{StatePending, nil, StatePending},
		{StatePending, ap(approval.Pending, later), StatePending},
		{StatePending, ap(approval.Pending, earlier), StateExpired},
		{StatePending, ap(approval.Approved, earlier), StateApproved},
		{StatePending, ap(approval.Denied, later), StateDenied},
		{StatePending, ap(approval.Expired, earlier), StateExpired},
		{StatePending, ap(approval.Cancelled, later), StateCancelled},
		{StateExecuting, ap(approval.Approved, later), StateExecuting},
		{StateCancelled, ap(approval.Approved, later), StateCancelled},
	} {
		if got := shownState(tc.stored, tc.ap, now); got != tc.want {
			t.Errorf("stored %s, approval %+v: shown %s, want %s", tc.stored, tc.ap, got, tc.want)
		}
	}
}
