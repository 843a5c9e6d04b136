// Package storetest sets up store state for tests of other packages.
package storetest

import (
	"context"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Bind binds role to connection id the only way the store allows: by
// recording a verification that assumed it (and passed). The connection
// becomes verified. It returns the connection as stored.
func Bind(ctx context.Context, st *store.Store, id crossbill.ConnectionID, role crossbill.RoleARN) (store.Connection, error) {
	now := time.Now().UTC()
	_, err := st.SaveVerification(ctx, store.Verification{ConnectionID: id, RoleARN: role, Status: store.VerificationVerified, StartedAt: now, FinishedAt: now,
		Checks: []store.VerificationCheck{{Name: store.CheckAssumeRole, Status: store.CheckPass, StartedAt: now},
			{Name: store.CheckCallerIdentity, Status: store.CheckPass, StartedAt: now}}})
	if err != nil {
		return store.Connection{}, err
	}
	return st.ConnectionByID(ctx, id)
}
