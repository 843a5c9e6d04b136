package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/crossbill/crossbill"
)

// PendingLogin is a sign-in started at an identity provider. The store
// holds it for every replica; what it keeps is opaque to it (internal/signin
// hashes the state and seals the nonce and PKCE verifier).
type PendingLogin struct {
	StateHash   string
	Provider    string
	BrowserHash string
	Sealed      string
	ExpiresAt   time.Time
}

// StartLogin records a started sign-in, after dropping the expired ones;
// with max or more sign-ins in progress it is Throttled.
func (s *Store) StartLogin(ctx context.Context, p PendingLogin, max int) error {
	const op = "sign in"
	if _, err := s.db.ExecContext(ctx, `DELETE FROM pending_logins WHERE expires_at < ?`, formatStamp(s.now())); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	// The count and the insert are one statement: a burst of sign-ins
	// cannot each see room for itself.
	res, err := s.db.ExecContext(ctx, `INSERT INTO pending_logins(state_hash, provider, browser_hash, sealed, expires_at)
		SELECT ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM pending_logins) < ?`,
		p.StateHash, p.Provider, p.BrowserHash, p.Sealed, formatStamp(p.ExpiresAt), max)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return crossbill.Errorf(crossbill.CodeThrottled, op, "too many sign-ins in progress; retry in a few minutes")
	}
	return nil
}

// TakeLogin removes and returns the sign-in started with the state whose
// hash is given. Removal and read are one statement, so of two callbacks
// with the same state (on one replica or two) only one gets it; the other
// is NotFound, as is an unknown state.
func (s *Store) TakeLogin(ctx context.Context, stateHash string) (PendingLogin, error) {
	const op = "sign in"
	p := PendingLogin{StateHash: stateHash}
	var expires string
	err := s.db.QueryRowContext(ctx, `DELETE FROM pending_logins WHERE state_hash = ? RETURNING provider, browser_hash, sealed, expires_at`,
		stateHash).Scan(&p.Provider, &p.BrowserHash, &p.Sealed, &expires)
	if err == sql.ErrNoRows {
		return PendingLogin{}, crossbill.Errorf(crossbill.CodeNotFound, op, "unknown or already used sign-in state: start again from the sign-in page")
	}
	if err != nil {
		return PendingLogin{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if p.ExpiresAt, err = time.Parse(time.RFC3339Nano, expires); err != nil {
		return PendingLogin{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return p, nil
}
